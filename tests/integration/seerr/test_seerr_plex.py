"""seerr_setup and seerr_links with Plex, against the Seerr double, which asks a plex.tv double for the account and a
Plex Media Server double (claimed by that account) for its machine id and libraries, for real."""

from __future__ import annotations

import threading

import httpx
import pytest

from ansible_collections.arrkestra.homelab.plugins.module_utils._http import ApiError
from ansible_collections.arrkestra.homelab.plugins.module_utils.seerr import check_setup
from tests.doubles.plex import PlexDouble, PlexTvDouble
from tests.doubles.seerr import JELLYFIN, PLEX, SeerrDouble
from tests.doubles.servarr import ServarrDouble
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration
SEERR_KEY = "seerr000key0123456789abcdef01234"
RADARR_KEY = "0123456789abcdef0123456789abcdef"
TOKEN = "plex-account-token-1"
API = "/api/v1"


@pytest.fixture
def stack(tmp_path):
    """plex.tv; Plex claimed by its account, with Movies, Shows and Music; a new Seerr that asks that plex.tv; Radarr."""
    plex_tv = PlexTvDouble(account_token=TOKEN, email="owner@media.home.arpa")
    plex_tv_server = plex_tv.serve()
    plex = PlexDouble(claimed=True, plex_tv=plex_tv, paths_exist=[str(tmp_path)])
    seerr = SeerrDouble(api_key=SEERR_KEY, plex_tv_url=plex_tv_server.url)
    radarr = ServarrDouble("radarr", api_key=RADARR_KEY)
    servers = [plex_tv_server] + [app.serve() for app in (plex, seerr, radarr)]
    for app, server in zip((plex_tv, plex, seerr, radarr), servers):
        app.url, app.port = server.url, server.port
    for name, kind in (("Movies", "movie"), ("Shows", "show"), ("Music", "artist")):
        assert httpx.post(plex.url + "/library/sections", params={"name": name, "type": kind, "location": str(tmp_path)},
                          headers={"X-Plex-Token": TOKEN}).status_code == 200
    (tmp_path / "movies").mkdir()
    radarr.store["rootfolder"] = {1: {"id": 1, "path": str(tmp_path / "movies")}}
    yield plex_tv, plex, seerr, radarr
    stops = [threading.Thread(target=server.stop) for server in servers]
    for stop in stops:
        stop.start()
    for stop in stops:
        stop.join()
    seerr.assert_contract()
    radarr.assert_contract()


def setup_args(plex, **extra):
    return dict({"media_server": "plex", "plex_hostname": "127.0.0.1", "plex_port": plex.port, "plex_token": TOKEN,
                 "libraries": ["Movies"]}, **extra)


def setup(name, seerr, plex, **extra):
    return {"name": name, "arrkestra.homelab.seerr_setup": dict(setup_args(plex, **extra), url=seerr.url)}


def enabled(seerr):
    return sorted(l["name"] for l in seerr.plex["libraries"] if l["enabled"])


def sign_ins(seerr):
    return seerr.log.count(("POST", API + "/auth/plex"))


def test_plex_setup_once_then_nothing(tmp_path, stack):
    """A new Seerr: check mode reads only the public settings; the run signs in with the plex.tv account, connects
    Plex, enables the library, finishes; re-runs (with the key: no sign-in) write nothing."""
    plex_tv, plex, seerr, dummy = stack
    playbook = Playbook(tmp_path)
    results = playbook.run([
        dict(setup("check", seerr, plex), check_mode=True, diff=True),
        setup("first", seerr, plex),
        setup("again", seerr, plex, api_key=SEERR_KEY),
        setup("without key", seerr, plex),
        setup("more", seerr, plex, api_key=SEERR_KEY, libraries=["Movies", "Shows"]),
    ])
    check = results["check"]
    assert check["changed"] and check["changes"] == ["initialized", "server", "libraries"]
    assert check["diff"]["before"] == {"media_server": "plex", "initialized": False, "libraries": [], "server": None}
    assert check["diff"]["after"]["server"] == {"hostname": "127.0.0.1", "port": plex.port, "use_ssl": False}
    first = results["first"]
    assert first["changed"] and first["api_key"] == SEERR_KEY
    assert first["setup"] == {"media_server": "plex", "initialized": True, "libraries": ["Movies"],
                              "server": {"hostname": "127.0.0.1", "port": plex.port, "use_ssl": False}}
    assert seerr.initialized and seerr.media_server_type == PLEX
    assert seerr.plex["machineId"] == plex.machine_identifier and seerr.plex["name"] == "plex"
    assert [l["name"] for l in seerr.plex["libraries"]] == ["Movies", "Shows"]     # Music is not a Seerr library
    assert seerr.plex_users[0]["email"] == "owner@media.home.arpa"                # the owner, from plex.tv
    assert not results["again"]["changed"] and not results["without key"]["changed"]
    assert results["without key"]["api_key"] == SEERR_KEY
    assert results["more"]["changes"] == ["libraries"] and enabled(seerr) == ["Movies", "Shows"]
    # What changed Seerr over the five runs: the first run's steps in Seerr's order, then the library added (known
    # from the first sync: no sync again); the check and the re-runs wrote nothing.
    assert seerr.writes() == [("POST", API + "/auth/plex"), ("POST", API + "/settings/plex"),
                              ("GET", API + "/settings/plex/library?sync"),
                              ("GET", API + "/settings/plex/library?enable"), ("POST", API + "/settings/initialize"),
                              ("GET", API + "/settings/plex/library?enable")]
    assert sign_ins(seerr) == 2                      # the first run and the one without the key; never in check mode
    assert plex_tv.log.count(("GET", "/users/account.json")) == 2
    assert TOKEN not in str(results)


def test_plex_errors_say_what_to_fix(tmp_path, stack):
    plex_tv, plex, seerr, dummy = stack
    # A Seerr set up with Jellyfin already, and a Plex one whose sign-in with the media server is turned off.
    jellyfin_seerr = SeerrDouble(api_key=SEERR_KEY, plex_tv_url=plex_tv.url)
    jellyfin_seerr.media_server_type = JELLYFIN
    no_login = SeerrDouble(api_key=SEERR_KEY, plex_tv_url=plex_tv.url)
    no_login.media_server_type, no_login.media_server_login, no_login.initialized = PLEX, False, True
    others = [jellyfin_seerr.serve(), no_login.serve()]
    for app, server in zip((jellyfin_seerr, no_login), others):
        app.url = server.url
    try:
        results = Playbook(tmp_path).run([dict(task, ignore_errors=True) for task in (
            setup("wrong token", seerr, plex, plex_token="not-a-plex-token"),
            setup("jellyfin seerr", jellyfin_seerr, plex),
            setup("login off", no_login, plex),
            setup("first", seerr, plex),
            setup("no library", seerr, plex, api_key=SEERR_KEY, libraries=["Films"]),
            setup("unreachable", seerr, plex, api_key=SEERR_KEY, plex_port=9),
            setup("reachable again", seerr, plex, api_key=SEERR_KEY),
        )])
    finally:
        for server in others:
            server.stop()
    assert "Seerr could not sign in with the plex.tv token (500: Unable to authenticate.)" in results["wrong token"]["msg"]
    assert "plex_signin" in results["wrong token"]["msg"]
    assert "Seerr is set up with Jellyfin, not Plex" in results["jellyfin seerr"]["msg"]
    assert jellyfin_seerr.log == [("GET", API + "/settings/public")]            # found out before any sign-in
    assert "Seerr refused the sign-in with Plex (500: Plex login is disabled)" in results["login off"]["msg"]
    assert "Give `api_key`" in results["login off"]["msg"]
    assert results["first"]["changed"]
    assert "Plex has no movie or show library named Films (it has: Movies, Shows)" in results["no library"]["msg"]
    assert "Seerr cannot reach Plex at http://127.0.0.1:9 (500: Unable to connect to Plex.)" in results["unreachable"]["msg"]
    assert "reachable from Seerr" in results["unreachable"]["msg"]
    # Seerr kept the failed address in memory (settings/index.ts:127): the next run with the right one connects again.
    assert results["reachable again"]["changes"] == ["server"] and seerr.plex["port"] == plex.port
    assert TOKEN not in str(results)


def test_the_options_say_the_media_server():
    """Which server a setup is for, and what it then needs, before any request (both modules check the same way)."""
    assert check_setup({"plex_hostname": "plex", "plex_token": "t", "email": "e"}) == "plex"   # the wiring adds email
    assert check_setup({"jellyfin_hostname": "j", "jellyfin_username": "u", "jellyfin_password": "p",
                        "email": "e"}) == "jellyfin"
    with pytest.raises(ApiError, match="Seerr set up with Plex needs plex_hostname, plex_token; missing: plex_token"):
        check_setup({"media_server": "plex", "plex_hostname": "plex"})
    with pytest.raises(ApiError, match="needs jellyfin_hostname, jellyfin_username, jellyfin_password, email; "
                                       "missing: jellyfin_hostname, jellyfin_username, jellyfin_password, email"):
        check_setup({"libraries": ["Movies"]})
    with pytest.raises(ApiError, match="jellyfin_hostname is for Jellyfin, not Plex"):
        check_setup({"plex_hostname": "plex", "plex_token": "t", "jellyfin_hostname": "jellyfin"})
    with pytest.raises(ApiError, match="plex_token is for Plex, not Jellyfin"):
        check_setup({"media_server": "jellyfin", "jellyfin_hostname": "j", "jellyfin_username": "u",
                     "jellyfin_password": "p", "email": "e", "plex_token": "t"})


def test_links_set_up_with_plex_and_add_the_servers_in_one_run(tmp_path, stack):
    """seerr_links as the wiring runs it for a Plex stack, with Seerr's key: in check mode only the setup is looked at;
    then the setup (the item as the wiring derives it, e-mail included) and Radarr; a re-run sends no write and no
    sign-in."""
    dummy, plex, seerr, radarr = stack
    task = {"name": "links", "arrkestra.homelab.seerr_links": {
        "url": seerr.url, "api_key": SEERR_KEY,
        "setup": setup_args(plex, libraries=["Movies", "Shows"], email="admin@media.home.arpa"),
        "services": [{"kind": "radarr", "name": "radarr", "hostname": "127.0.0.1", "port": radarr.port,
                      "app_api_key": RADARR_KEY, "root_folder": str(tmp_path / "movies"), "is_default": True}]}}
    again = dict(task, name="again")
    results = Playbook(tmp_path).run([dict(task, name="check", check_mode=True), task, again])
    # Check mode on the new Seerr: its key opens nothing before the first sign-in, so the servers wait.
    assert results["check"]["setup"]["changed"] and results["check"]["services"] == []
    assert results["check"]["writes"] == 0
    first = results["links"]
    assert first["changed"] and first["setup"]["changes"] == ["initialized", "server", "libraries"]
    assert seerr.initialized and enabled(seerr) == ["Movies", "Shows"]
    assert [s["name"] for s in seerr.services["radarr"]] == ["radarr"]
    assert not results["again"]["changed"] and results["again"]["writes"] == 0
    assert sign_ins(seerr) == 1
    assert TOKEN not in str(results)
