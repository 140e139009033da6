"""tests/doubles/plex.py: the Plex Media Server and plex.tv doubles behave as the research describes them."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from xml.etree import ElementTree

import httpx
import pytest

from tests.doubles.plex import PMS_VERSION, PlexDouble, PlexTvDouble, to_json, to_xml

JSON = {"Accept": "application/json"}
CLIENT = {"X-Plex-Client-Identifier": "arrkestra-test", "X-Plex-Product": "arrkestra"}


@pytest.fixture
def plex_tv():
    with PlexTvDouble(account_token="acct-token").serve() as server:
        yield server


@pytest.fixture
def pms(plex_tv):
    with PlexDouble(plex_tv=plex_tv.app).serve() as server:
        yield server


def xml(resp):
    assert resp.headers["Content-Type"].startswith("text/xml"), resp.headers["Content-Type"]
    return ElementTree.fromstring(resp.text)


def claim(pms, plex_tv):
    token = httpx.get(plex_tv.url + "/api/claim/token.json", headers={"X-Plex-Token": "acct-token"}).json()["token"]
    return httpx.post(pms.url + "/myplex/claim", params={"token": token}, headers=CLIENT)


# -- writers ---------------------------------------------------------------------------------------------------------
def test_one_element_two_forms():
    element = ("MediaContainer", {"size": 1, "claimed": True, "skip": None},
               [("Directory", {"key": "1"}, [("Location", {"id": 1, "path": "/m"}, [])])])
    assert to_json(element) == {"MediaContainer": {"size": 1, "claimed": True, "skip": None,
                                                   "Directory": [{"key": "1", "Location": [{"id": 1, "path": "/m"}]}]}}
    root = ElementTree.fromstring(to_xml(element))
    assert root.attrib == {"size": "1", "claimed": "1"}
    assert root.find("Directory/Location").get("path") == "/m"


# -- plex.tv PIN sign-in -------------------------------------------------------------------------------------------------
def test_pin_create_poll_link(plex_tv):
    resp = httpx.post(plex_tv.url + "/api/v2/pins", params={"strong": "true"}, headers=dict(CLIENT, **JSON))
    assert resp.status_code == 201
    pin = resp.json()
    assert pin["authToken"] is None and pin["expiresIn"] == 900 and pin["clientIdentifier"] == "arrkestra-test"
    assert len(pin["code"]) > 4
    poll = httpx.get(plex_tv.url + "/api/v2/pins/%d" % pin["id"], headers=dict(CLIENT, **JSON))
    assert poll.status_code == 200 and poll.json()["authToken"] is None
    other = httpx.get(plex_tv.url + "/api/v2/pins/%d" % pin["id"],
                      headers=dict(JSON, **{"X-Plex-Client-Identifier": "someone-else"}))
    assert other.status_code == 404
    plex_tv.app.link_pin(pin["code"], "new-token")
    linked = httpx.get(plex_tv.url + "/api/v2/pins/%d" % pin["id"], headers=dict(CLIENT, **JSON)).json()
    assert linked["authToken"] == "new-token" and linked["newRegistration"] is False
    user = httpx.get(plex_tv.url + "/api/v2/user", headers=dict(JSON, **{"X-Plex-Token": "new-token"}))
    assert user.status_code == 200 and user.json()["username"] == "arrkestra"
    account = httpx.get(plex_tv.url + "/users/account.json", params={"X-Plex-Token": "new-token"})
    assert account.json()["user"]["authToken"] == "acct-token"
    assert httpx.get(plex_tv.url + "/api/v2/ping", headers=dict(JSON, **{"X-Plex-Token": "new-token"})).json() == \
        {"pong": True}


def test_pin_plain_xml_and_client_identifier_required(plex_tv):
    assert httpx.post(plex_tv.url + "/api/v2/pins").status_code == 400
    resp = httpx.post(plex_tv.url + "/api/v2/pins", headers=CLIENT)
    assert resp.status_code == 201
    pin = xml(resp)
    assert pin.tag == "pin" and len(pin.get("code")) == 4 and pin.get("authToken") is None
    plex_tv.app.expire_pins()
    assert httpx.get(plex_tv.url + "/api/v2/pins/" + pin.get("id"), headers=CLIENT).status_code == 404
    with pytest.raises(KeyError):
        plex_tv.app.link_pin(pin.get("code"))


def test_pin_linked_from_a_signed_in_device(plex_tv):
    pin = httpx.post(plex_tv.url + "/api/v2/pins", headers=dict(CLIENT, **JSON)).json()
    assert httpx.put(plex_tv.url + "/api/v2/pins/link", data={"code": pin["code"]}).status_code == 401
    resp = httpx.put(plex_tv.url + "/api/v2/pins/link", data={"code": pin["code"]}, headers={"X-Plex-Token": "acct-token"})
    assert resp.status_code == 204
    token = httpx.get(plex_tv.url + "/api/v2/pins/%d" % pin["id"], headers=dict(CLIENT, **JSON)).json()["authToken"]
    assert token and httpx.get(plex_tv.url + "/api/v2/user", headers={"X-Plex-Token": token}).status_code == 200


def test_plex_tv_needs_a_token(plex_tv):
    for path in ("/api/v2/user", "/users/account.json", "/api/v2/ping", "/api/claim/token.json", "/api/resources",
                 "/api/users"):
        assert httpx.get(plex_tv.url + path).status_code == 401, path
        assert httpx.get(plex_tv.url + path, headers={"X-Plex-Token": "wrong"}).status_code == 401, path
    users = xml(httpx.get(plex_tv.url + "/api/users", headers={"X-Plex-Token": "acct-token"}))
    assert users.get("size") == "0" and list(users) == []
    token = xml(httpx.get(plex_tv.url + "/api/claim/token", headers={"X-Plex-Token": "acct-token"})).get("token")
    assert token.startswith("claim-")


# -- claim -------------------------------------------------------------------------------------------------------------
def test_claim_flow(pms, plex_tv):
    identity = httpx.get(pms.url + "/identity", headers=JSON).json()["MediaContainer"]
    assert identity["claimed"] is False and identity["version"] == PMS_VERSION
    assert len(identity["machineIdentifier"]) == 40
    root = xml(httpx.get(pms.url + "/"))
    assert root.get("myPlexSigninState") == "none" and root.get("friendlyName") == "plex"
    resp = claim(pms, plex_tv)
    assert resp.status_code == 200
    account = xml(resp)
    assert account.get("signInState") == "ok" and account.get("authToken") == "acct-token"
    assert httpx.get(pms.url + "/identity", headers=JSON).json()["MediaContainer"]["claimed"] is True
    assert xml(httpx.get(pms.url + "/identity")).get("claimed") == "1"
    root = httpx.get(pms.url + "/", headers=dict(JSON, **{"X-Plex-Token": "acct-token"})).json()["MediaContainer"]
    assert root["myPlexSigninState"] == "ok" and root["myPlexUsername"] == "arrkestra" and root["myPlex"] is True
    assert xml(httpx.get(pms.url + "/myplex/account", headers={"X-Plex-Token": "acct-token"})).get("signInState") == "ok"
    devices = xml(httpx.get(plex_tv.url + "/api/resources", headers={"X-Plex-Token": "acct-token"})).findall("Device")
    assert [d.get("clientIdentifier") for d in devices] == [identity["machineIdentifier"]]
    assert devices[0].get("provides") == "server" and devices[0].find("Connection").get("local") == "1"


def test_claim_token_single_use_and_expiry(pms, plex_tv):
    token = plex_tv.app.mint_claim()
    assert plex_tv.app.exchange_claim(token) is not None
    assert httpx.post(pms.url + "/myplex/claim", params={"token": token}).status_code == 400  # used already
    assert pms.app.claimed is False
    stale = plex_tv.app.mint_claim()
    plex_tv.app.expire_claims()
    assert httpx.post(pms.url + "/myplex/claim", params={"token": stale}).status_code == 400
    assert httpx.post(pms.url + "/myplex/claim").status_code == 400
    assert httpx.get(pms.url + "/identity", headers=JSON).json()["MediaContainer"]["claimed"] is False


def test_claim_without_plex_tv_is_refused():
    with PlexDouble().serve() as server:
        assert httpx.post(server.url + "/myplex/claim", params={"token": "claim-x"}).status_code == 400


def test_claim_exchange_over_http(plex_tv):
    """The server reaches plex.tv by URL (a process), as the image's entrypoint does with /api/claim/exchange."""
    with PlexDouble(plex_tv=plex_tv.url).serve() as server:
        token = plex_tv.app.mint_claim()
        assert httpx.post(server.url + "/myplex/claim", params={"token": token}).status_code == 200
        assert server.app.owner_token == "acct-token"


def test_from_env_like_the_entrypoint():
    tv = PlexTvDouble(account_token="t")
    env = {"PLEX_CLAIM_TOKEN": tv.mint_claim(), "PLEX_ADVERTISE_URL": "https://plex.example.com:443",
           "PLEX_NO_AUTH_NETWORKS": "10.42.0.0/16", "PLEX_PREFERENCE_1": "AcceptedEULA=1",
           "PLEX_PREFERENCE_2": "FriendlyName=Home"}
    double = PlexDouble.from_env(env, plex_tv=tv)
    assert double.claimed and double.owner_token == "t"
    assert double.pref("customConnections") == "https://plex.example.com:443"
    assert double.pref("allowedNetworks") == "10.42.0.0/16"
    assert double.pref("TranscoderTempDirectory") == "/transcode"
    assert double.pref("AcceptedEULA") is True and double.friendly_name() == "Home"


# -- auth ------------------------------------------------------------------------------------------------------------
def test_auth_after_claim(pms, plex_tv):
    assert httpx.get(pms.url + "/:/prefs").status_code == 200     # unclaimed, local: no token needed
    assert claim(pms, plex_tv).status_code == 200
    for path in ("/", "/:/prefs", "/library/sections", "/myplex/account"):
        assert httpx.get(pms.url + path).status_code == 401, path
        assert httpx.get(pms.url + path, headers={"X-Plex-Token": "wrong"}).status_code == 401, path
        assert httpx.get(pms.url + path, headers={"X-Plex-Token": "acct-token"}).status_code == 200, path
    assert httpx.get(pms.url + "/library/sections", params={"X-Plex-Token": "acct-token"}).status_code == 200
    assert httpx.get(pms.url + "/identity").status_code == 200
    assert httpx.put(pms.url + "/:/prefs", params={"allowedNetworks": "10.42.0.0/16"},
                     headers={"X-Plex-Token": "acct-token"}).status_code == 200
    assert httpx.get(pms.url + "/:/prefs").status_code == 200     # a client in allowedNetworks
    pms.app.client_address = "192.168.1.5"
    assert httpx.get(pms.url + "/:/prefs").status_code == 401
    pms.app.client_address = "10.42.3.4"
    assert httpx.get(pms.url + "/:/prefs").status_code == 200


def test_claimed_server_takes_any_token_of_its_account(pms, plex_tv):
    """A token of a PIN sign-in opens the server its account claimed; a token of another account does not."""
    pin = httpx.post(plex_tv.url + "/api/v2/pins", headers=dict(CLIENT, **JSON)).json()
    plex_tv.app.link_pin(pin["code"], "pin-token")
    assert claim(pms, plex_tv).status_code == 200
    assert httpx.get(pms.url + "/", headers={"X-Plex-Token": "pin-token"}).status_code == 200
    assert httpx.get(pms.url + "/", headers={"X-Plex-Token": "acct-token"}).status_code == 200
    with PlexDouble(claimed=True, owner_token="another-account", plex_tv=plex_tv.app).serve() as other:
        assert httpx.get(other.url + "/", headers={"X-Plex-Token": "pin-token"}).status_code == 401
        assert httpx.get(other.url + "/", headers={"X-Plex-Token": "another-account"}).status_code == 200


def test_auth_remote_and_allowed_networks_while_unclaimed():
    with PlexDouble(client_is_local=False).serve() as server:
        assert httpx.get(server.url + "/").status_code == 401
        assert httpx.get(server.url + "/identity").status_code == 200
    with PlexDouble(prefs={"allowedNetworks": "10.0.0.0/8"}, client_address="192.168.0.2").serve() as server:
        assert httpx.get(server.url + "/").status_code == 401
        server.app.client_address = "127.0.0.1"                    # localhost stays allowed while signed out
        assert httpx.get(server.url + "/").status_code == 200
    with PlexDouble(claimed=True, owner_token="o").serve() as server:
        assert httpx.get(server.url + "/").status_code == 401
        assert httpx.get(server.url + "/", headers={"X-Plex-Token": "o"}).status_code == 200


# -- preferences -----------------------------------------------------------------------------------------------------------
def test_prefs_json_and_xml(pms):
    settings = httpx.get(pms.url + "/:/prefs", headers=JSON).json()["MediaContainer"]["Setting"]
    by_id = dict((s["id"], s) for s in settings)
    for sid in ("AcceptedEULA", "FriendlyName", "allowedNetworks", "customConnections", "ManualPortMappingMode",
                "ManualPortMappingPort", "secureConnections", "TranscoderTempDirectory", "PublishServerOnPlexOnlineKey"):
        assert sid in by_id, sid
    assert by_id["AcceptedEULA"]["value"] is False and by_id["AcceptedEULA"]["hidden"] is True
    assert by_id["ManualPortMappingPort"]["default"] == 32400 and by_id["ManualPortMappingPort"]["type"] == "int"
    assert httpx.put(pms.url + "/:/prefs", params={"AcceptedEULA": "true", "FriendlyName": "Home",
                                                   "ManualPortMappingPort": "443", "ManualPortMappingMode": "1"}
                     ).status_code == 200
    by_id = dict((s["id"], s) for s in httpx.get(pms.url + "/:/prefs", headers=JSON).json()["MediaContainer"]["Setting"])
    assert (by_id["AcceptedEULA"]["value"], by_id["FriendlyName"]["value"], by_id["ManualPortMappingPort"]["value"],
            by_id["ManualPortMappingMode"]["value"]) == (True, "Home", 443, True)
    root = xml(httpx.get(pms.url + "/:/prefs"))
    eula = root.find("Setting[@id='AcceptedEULA']")
    assert (eula.get("value"), eula.get("default"), eula.get("hidden"), eula.get("type")) == ("true", "false", "1", "bool")
    assert root.find("Setting[@id='ManualPortMappingPort']").get("value") == "443"
    assert pms.app.pref_writes == [{"AcceptedEULA": True, "FriendlyName": "Home", "ManualPortMappingPort": 443,
                                    "ManualPortMappingMode": True}]
    assert xml(httpx.get(pms.url + "/")).get("friendlyName") == "Home"


def test_unknown_or_mistyped_pref_refused(pms):
    for params in ({"NoSuchPref": "1"}, {"acceptedEULA": "1"}, {"ManualPortMappingPort": "many"},
                   {"AcceptedEULA": "maybe"}, {"FriendlyName": "Kept", "NoSuchPref": "1"}):
        assert httpx.put(pms.url + "/:/prefs", params=params).status_code == 400, params
    assert pms.app.pref("FriendlyName") == "" and pms.app.pref_writes == []


# -- libraries -----------------------------------------------------------------------------------------------------------
def test_library_create_list_edit_delete(pms, tmp_path):
    movies, more = tmp_path / "movies", tmp_path / "more"
    movies.mkdir()
    more.mkdir()
    resp = httpx.post(pms.url + "/library/sections", params=[
        ("name", "Movies"), ("type", "movie"), ("agent", "tv.plex.agents.movie"), ("scanner", "Plex Movie"),
        ("language", "en-US"), ("location", str(movies)), ("location", str(more))])
    assert resp.status_code == 200
    listed = httpx.get(pms.url + "/library/sections", headers=JSON).json()["MediaContainer"]["Directory"]
    assert len(listed) == 1
    section = listed[0]
    assert (section["key"], section["title"], section["type"], section["agent"], section["scanner"],
            section["language"]) == ("1", "Movies", "movie", "tv.plex.agents.movie", "Plex Movie", "en-US")
    assert [loc["path"] for loc in section["Location"]] == [str(movies), str(more)]
    directory = xml(httpx.get(pms.url + "/library/sections")).find("Directory")
    assert directory.get("key") == "1" and len(directory.findall("Location")) == 2

    assert httpx.put(pms.url + "/library/sections/1", params={"agent": "tv.plex.agents.movie",
                                                              "location": str(more)}).status_code == 200
    assert [loc["path"] for loc in pms.app.section("Movies")["Location"]] == [str(more)]
    assert httpx.put(pms.url + "/library/sections/1", params={"location": str(movies)}).status_code == 400  # no agent
    assert httpx.put(pms.url + "/library/sections/9", params={"agent": "x"}).status_code == 404

    assert httpx.get(pms.url + "/library/sections/1/refresh", params={"path": str(more)}).status_code == 200
    assert httpx.get(pms.url + "/library/sections/all/refresh").status_code == 200
    assert pms.app.refreshes == [("1", str(more), False), ("all", None, False)]

    assert httpx.delete(pms.url + "/library/sections/1").status_code == 200
    assert httpx.delete(pms.url + "/library/sections/1").status_code == 404
    assert httpx.get(pms.url + "/library/sections", headers=JSON).json()["MediaContainer"]["size"] == 0


def test_library_missing_path_refused(pms, tmp_path):
    resp = httpx.post(pms.url + "/library/sections", params={"name": "TV", "type": "show",
                                                             "location": str(tmp_path / "absent")})
    assert resp.status_code == 400
    assert httpx.post(pms.url + "/library/sections", params={"name": "TV", "type": "show"}).status_code == 400
    assert httpx.post(pms.url + "/library/sections", params={"name": "X", "type": "book",
                                                             "location": str(tmp_path)}).status_code == 400
    assert pms.app.sections == []


def test_known_paths_and_browse(tmp_path):
    with PlexDouble(paths_exist={"/data/media/movies", "/data/media/tv"}).serve() as server:
        key = base64.b64encode(b"/data/media").decode()
        folders = xml(httpx.get(server.url + "/services/browse/" + key, params={"includeFiles": "0"})).findall("Path")
        assert [f.get("path") for f in folders] == ["/data/media/movies", "/data/media/tv"]
        assert httpx.post(server.url + "/library/sections", params={"name": "TV", "type": "show",
                                                                    "location": "/data/media/tv"}).status_code == 200
        assert server.app.section("TV")["agent"] == "tv.plex.agents.series"     # the modern default pair
        assert httpx.post(server.url + "/library/sections", params={"name": "M", "type": "movie",
                                                                    "location": str(tmp_path)}).status_code == 400


# -- log -----------------------------------------------------------------------------------------------------------------
def test_writes_exclude_reads(pms, tmp_path):
    httpx.get(pms.url + "/identity")
    httpx.get(pms.url + "/:/prefs")
    httpx.get(pms.url + "/library/sections")
    assert pms.app.writes() == []
    httpx.put(pms.url + "/:/prefs", params={"FriendlyName": "Home"})
    httpx.post(pms.url + "/library/sections", params={"name": "M", "type": "movie", "location": str(tmp_path)})
    httpx.delete(pms.url + "/library/sections/1")
    assert pms.app.writes() == [("PUT", "/:/prefs"), ("POST", "/library/sections"), ("DELETE", "/library/sections/1")]
    pms.app.reset_log()
    assert pms.app.writes() == [] and pms.app.log == []


def test_runs_as_a_process():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    proc = subprocess.Popen([sys.executable, "-m", "tests.doubles.plex", "--port", "0"], stdout=subprocess.PIPE,
                            text=True, cwd=root)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/identity", headers=JSON).json()["MediaContainer"]["claimed"] is False
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
