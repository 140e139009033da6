"""tests/doubles/seerr.py with Plex: the sign-in through plex.tv, the Plex Media Server connection and its libraries,
as Seerr 3.1.0 does them (the double cites the lines)."""

from __future__ import annotations

import subprocess
import sys
import threading

import httpx
import pytest

from tests.doubles.plex import PlexDouble, PlexTvDouble
from tests.doubles.seerr import JELLYFIN, NOT_CONFIGURED, PLEX, SeerrDouble

KEY = "seerr000key0123456789abcdef01234"
API = "/api/v1"


@pytest.fixture
def apps(tmp_path):
    """plex.tv, a Plex Media Server it claimed (Movies, Shows, a photo library and a movie library without an agent),
    and a new Seerr that asks that plex.tv about accounts."""
    plex_tv = PlexTvDouble(account_token="acct-token", email="Owner@Example.com")
    tv_server = plex_tv.serve()
    pms = PlexDouble(claimed=True, plex_tv=plex_tv, paths_exist=[str(tmp_path)])
    pms_server = pms.serve()
    for name, kind, agent in (("Movies", "movie", None), ("Shows", "show", None), ("Photos", "photo", None),
                              ("Home videos", "movie", "com.plexapp.agents.none")):
        params = {"name": name, "type": kind, "location": str(tmp_path)}
        if agent:
            params["agent"] = agent
        assert httpx.post(pms_server.url + "/library/sections", params=params,
                          headers={"X-Plex-Token": "acct-token"}).status_code == 200
    seerr = SeerrDouble(api_key=KEY, plex_tv_url=tv_server.url)
    seerr_server = seerr.serve()
    yield plex_tv, pms_server, seerr_server
    stops = [threading.Thread(target=server.stop) for server in (seerr_server, pms_server, tv_server)]
    for stop in stops:      # each waits up to half a second for its server's loop: all at once
        stop.start()
    for stop in stops:
        stop.join()
    seerr.assert_contract()


def sign_in(seerr, token="acct-token"):
    return httpx.post(seerr.url + API + "/auth/plex", json={"authToken": token})


def as_admin(response):
    return {"Cookie": response.headers["Set-Cookie"].split(";")[0]}


def connect(seerr, pms, headers, **body):
    return httpx.post(seerr.url + API + "/settings/plex", headers=headers,
                      json=dict({"ip": "127.0.0.1", "port": pms.port, "useSsl": False}, **body))


def libraries(seerr, headers, **params):
    return httpx.get(seerr.url + API + "/settings/plex/library", headers=headers, params=params)


def test_the_first_plex_sign_in_makes_the_owner_and_chooses_plex(apps):
    plex_tv, dummy, seerr = apps
    assert httpx.get(seerr.url + API + "/settings/main", headers={"X-Api-Key": KEY}).status_code == 403   # no user 1
    assert httpx.get(seerr.url + API + "/settings/public").json()["mediaServerType"] == NOT_CONFIGURED
    resp = sign_in(seerr)
    assert resp.status_code == 200 and resp.json()["id"] == 1 and resp.json()["plexUsername"] == "arrkestra"
    assert ("GET", "/users/account.json") in plex_tv.log
    admin = seerr.app.plex_users[0]
    assert (admin["plexToken"], admin["email"]) == ("acct-token", "Owner@Example.com")
    assert httpx.get(seerr.url + API + "/settings/public").json()["mediaServerType"] == PLEX
    assert httpx.get(seerr.url + API + "/settings/main", headers=as_admin(resp)).json()["mediaServerType"] == PLEX
    assert httpx.get(seerr.url + API + "/settings/main", headers={"X-Api-Key": KEY}).status_code == 200
    assert seerr.app.writes() == [("POST", API + "/auth/plex")]
    seerr.app.reset_log()
    again = sign_in(seerr)      # the same account again: matched by its plex.tv id, nothing changes
    assert again.status_code == 200 and again.json()["id"] == 1 and seerr.app.writes() == []


def test_a_token_plex_tv_refuses_or_an_unreachable_plex_tv(apps):
    dummy, dummy2, seerr = apps
    wrong = sign_in(seerr, "not-a-token")
    assert (wrong.status_code, wrong.json()["message"]) == (500, "Unable to authenticate.")
    with SeerrDouble(api_key=KEY).serve() as real_plex_tv:      # https://plex.tv: not reachable from here
        resp = sign_in(real_plex_tv)
        assert (resp.status_code, resp.json()["message"]) == (500, "Unable to authenticate.")
    assert seerr.app.plex_users == [] and seerr.app.media_server_type == NOT_CONFIGURED


def test_plex_login_is_disabled_once_another_server_or_no_sign_in(apps):
    plex_tv, dummy, seerr = apps
    seerr.app.media_server_type = JELLYFIN
    resp = sign_in(seerr)
    assert (resp.status_code, resp.json()) == (500, {"error": "Plex login is disabled"})
    assert ("GET", "/users/account.json") not in plex_tv.log      # refused before plex.tv is asked
    seerr.app.media_server_type = NOT_CONFIGURED
    assert sign_in(seerr).status_code == 200
    jellyfin = httpx.post(seerr.url + API + "/auth/jellyfin", json={"username": "admin", "password": "pw"})
    assert (jellyfin.status_code, jellyfin.json()) == (500, {"error": "Jellyfin login is disabled"})
    seerr.app.media_server_login = False
    assert sign_in(seerr).json() == {"error": "Plex login is disabled"}


def test_another_account_without_access_is_denied(apps):
    plex_tv, pms, seerr = apps
    admin = as_admin(sign_in(seerr))
    assert connect(seerr, pms, admin).status_code == 200
    plex_tv.account_id, plex_tv.email = 999, "friend@example.com"    # another account, sharing nothing
    resp = sign_in(seerr)
    assert (resp.status_code, resp.json()["message"]) == (403, "Access denied.")
    assert ("GET", "/api/users") in plex_tv.log       # Seerr asked plex.tv whom the owner shares the server with


def test_the_connection_asks_plex_with_the_owner_token(apps):
    dummy, pms, seerr = apps
    admin = as_admin(sign_in(seerr))
    resp = connect(seerr, pms, admin, webAppUrl="https://app.plex.tv/desktop")
    assert resp.status_code == 200
    settings = resp.json()
    assert settings["machineId"] == pms.app.machine_identifier and settings["name"] == "plex"
    assert (settings["ip"], settings["port"], settings["useSsl"]) == ("127.0.0.1", pms.port, False)
    assert ("GET", "/") in pms.app.log
    assert httpx.get(seerr.url + API + "/settings/plex", headers={"X-Api-Key": KEY}).json() == settings
    assert seerr.app.writes()[-1] == ("POST", API + "/settings/plex")


def test_a_plex_seerr_cannot_reach(apps):
    dummy, pms, seerr = apps
    admin = as_admin(sign_in(seerr))
    resp = connect(seerr, pms, admin, port=9)
    assert (resp.status_code, resp.json()["message"]) == (500, "Unable to connect to Plex.")
    assert "machineId" not in seerr.app.plex and seerr.app.writes() == [("POST", API + "/auth/plex")]
    assert seerr.app.plex["port"] == 9      # laid over the settings in memory before the check (index.ts:127)
    pms.app.owner_token = "someone-else"     # Plex refuses the owner's token: no machine id either
    assert connect(seerr, pms, admin).status_code == 500


def test_library_sync_and_enable_save_on_every_get(apps):
    dummy, pms, seerr = apps
    admin = as_admin(sign_in(seerr))
    connect(seerr, pms, admin)
    seerr.app.reset_log()
    synced = libraries(seerr, admin, sync="true").json()
    # movie and show libraries with a metadata agent, by section key; none enabled yet
    assert [(l["id"], l["name"], l["type"], l["enabled"]) for l in synced] == [
        ("1", "Movies", "movie", False), ("2", "Shows", "show", False)]
    assert ("GET", "/library/sections") in pms.app.log
    assert [l["enabled"] for l in libraries(seerr, admin, sync="true", enable="1").json()] == [True, False]
    kept = libraries(seerr, admin, sync="true", enable="1,2").json()      # a sync keeps what is enabled
    assert [l["enabled"] for l in kept] == [True, True]
    assert [l["enabled"] for l in libraries(seerr, admin).json()] == [False, False]   # no `enable`: all disabled
    assert seerr.app.writes() == [("GET", API + "/settings/plex/library?sync"),
                                  ("GET", API + "/settings/plex/library?sync?enable"),
                                  ("GET", API + "/settings/plex/library?sync?enable"),
                                  ("GET", API + "/settings/plex/library")]
    assert [l["enabled"] for l in httpx.get(seerr.url + API + "/settings/plex", headers=admin).json()["libraries"]] \
        == [False, False]


def test_a_sync_plex_refuses_keeps_no_library(apps):
    dummy, pms, seerr = apps
    admin = as_admin(sign_in(seerr))
    connect(seerr, pms, admin)
    libraries(seerr, admin, sync="true", enable="1")
    pms.app.owner_token = "someone-else"
    assert libraries(seerr, admin, sync="true", enable="1").json() == []     # plexapi.ts:164-171


def test_the_cli_takes_the_plex_tv_url():
    out = subprocess.run([sys.executable, "-m", "tests.doubles.seerr", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--plex-tv-url" in out
