"""seerr_setup and seerr_service against the Seerr double, which talks to Jellyfin and Radarr doubles for real."""

from __future__ import annotations

import pytest

from tests.doubles.jellyfin import JellyfinDouble
from tests.doubles.seerr import SeerrDouble
from tests.doubles.servarr import ServarrDouble
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration
SEERR_KEY = "seerr000key0123456789abcdef01234"
RADARR_KEY = "0123456789abcdef0123456789abcdef"
PASSWORD = "jellyfin-admin-pw-1"


@pytest.fixture
def stack(tmp_path):
    jellyfin, seerr, radarr = JellyfinDouble(), SeerrDouble(api_key=SEERR_KEY), ServarrDouble("radarr", api_key=RADARR_KEY)
    servers = [app.serve() for app in (jellyfin, seerr, radarr)]
    for app, server in zip((jellyfin, seerr, radarr), servers):
        app.url, app.port = server.url, server.port
    jellyfin.complete_as("admin", PASSWORD)
    for name, kind in (("Movies", "movies"), ("Shows", "tvshows"), ("Music", "music")):
        (tmp_path / name).mkdir()
        jellyfin.folders.append({"Name": name, "Locations": [str(tmp_path / name)], "CollectionType": kind,
                                 "LibraryOptions": {}, "ItemId": "%032x" % len(jellyfin.folders), "RefreshStatus": "Idle"})
    for path in ("movies", "movies-4k"):
        (tmp_path / path).mkdir()
    radarr.store["rootfolder"] = {1: {"id": 1, "path": str(tmp_path / "movies")},
                                  2: {"id": 2, "path": str(tmp_path / "movies-4k")}}
    yield jellyfin, seerr, radarr
    for server in servers:
        server.stop()
    for app in (jellyfin, seerr, radarr):
        app.assert_contract()


def setup(jellyfin, seerr, **extra):
    return {"name": "setup", "arrkestra.homelab.seerr_setup": dict({
        "url": seerr.url, "jellyfin_hostname": "127.0.0.1", "jellyfin_port": jellyfin.port,
        "jellyfin_username": "admin", "jellyfin_password": PASSWORD, "email": "admin@media.home.arpa",
        "libraries": ["Movies"]}, **extra)}


def test_setup_once_then_only_the_libraries(tmp_path, stack):
    jellyfin, seerr, radarr = stack
    playbook = Playbook(tmp_path)
    check = playbook.run([setup(jellyfin, seerr)], check=True)["setup"]
    assert check["changed"] and not seerr.initialized and seerr.writes() == []
    first = playbook.run([setup(jellyfin, seerr)])["setup"]
    assert first["changed"] and seerr.initialized and first["api_key"] == SEERR_KEY
    assert [l["name"] for l in seerr.libraries if l["enabled"]] == ["Movies"]
    assert "Music" not in [l["name"] for l in seerr.libraries]     # Seerr lists movie and show libraries only
    seerr.reset_log()
    again = playbook.run([setup(jellyfin, seerr, api_key=SEERR_KEY)])["setup"]
    assert not again["changed"] and seerr.writes() == []   # (the key it was given comes back censored by no_log)
    # Seerr's GET /settings/jellyfin/library saves and disables what it is not told to enable: never read through it.
    assert [l["name"] for l in seerr.libraries if l["enabled"]] == ["Movies"]
    check_again = playbook.run([setup(jellyfin, seerr, api_key=SEERR_KEY, libraries=["Movies", "Shows"])],
                               check=True)["setup"]
    assert check_again["changes"] == ["libraries"] and seerr.writes() == []
    assert [l["name"] for l in seerr.libraries if l["enabled"]] == ["Movies"]
    without_key = playbook.run([setup(jellyfin, seerr)])["setup"]     # signs in to read the key, changes nothing
    assert not without_key["changed"] and without_key["api_key"] == SEERR_KEY and seerr.writes() == []
    more = playbook.run([setup(jellyfin, seerr, api_key=SEERR_KEY, libraries=["Movies", "Shows"])])["setup"]
    assert more["changes"] == ["libraries"]
    assert sorted(l["name"] for l in seerr.libraries if l["enabled"]) == ["Movies", "Shows"]
    assert [w for w in seerr.writes() if "library" in w[1]] == [("GET", "/api/v1/settings/jellyfin/library?enable")]
    assert PASSWORD not in str(more)


def test_a_new_jellyfin_library_keeps_the_enabled_ones(tmp_path, stack):
    jellyfin, seerr, dummy = stack
    playbook = Playbook(tmp_path)
    playbook.run([setup(jellyfin, seerr, libraries=["Movies", "Shows"])])
    (tmp_path / "Kids").mkdir()
    jellyfin.folders.append({"Name": "Kids", "Locations": [str(tmp_path / "Kids")], "CollectionType": "movies",
                             "LibraryOptions": {}, "ItemId": "%032x" % 99, "RefreshStatus": "Idle"})
    seerr.reset_log()
    kids = playbook.run([setup(jellyfin, seerr, api_key=SEERR_KEY, libraries=["Kids"])])["setup"]
    assert kids["changes"] == ["libraries"]
    assert sorted(l["name"] for l in seerr.libraries if l["enabled"]) == ["Kids", "Movies", "Shows"]
    assert seerr.writes() == [("GET", "/api/v1/settings/jellyfin/library?sync?enable"),
                              ("GET", "/api/v1/settings/jellyfin/library?enable")]
    seerr.reset_log()
    assert not playbook.run([setup(jellyfin, seerr, api_key=SEERR_KEY, libraries=["Kids"])])["setup"]["changed"]
    assert seerr.writes() == []


def service(seerr, radarr, tmp_path, **extra):
    return {"name": "svc", "arrkestra.homelab.seerr_service": dict({
        "url": seerr.url, "api_key": SEERR_KEY, "kind": "radarr", "name": "radarr-4k", "hostname": "127.0.0.1",
        "port": radarr.port, "app_api_key": RADARR_KEY, "quality_profile": "Ultra-HD",
        "root_folder": str(tmp_path / "movies-4k"), "is_4k": True, "is_default": True}, **extra)}


def test_service_lifecycle_never_duplicates(tmp_path, stack):
    jellyfin, seerr, radarr = stack
    playbook = Playbook(tmp_path)
    playbook.run([setup(jellyfin, seerr)])
    seerr.services["radarr"].append({"id": 0, "name": "By hand", "hostname": "elsewhere", "port": 7878, "apiKey": "k",
                                     "useSsl": False, "activeProfileId": 1, "activeProfileName": "Any",
                                     "activeDirectory": "/x", "is4k": False, "isDefault": True,
                                     "minimumAvailability": "released"})
    seerr.next_id["radarr"] = 1
    task = service(seerr, radarr, tmp_path)
    check = playbook.run([task], check=True, diff=True)["svc"]
    assert check["changed"] and len(seerr.services["radarr"]) == 1 and RADARR_KEY not in str(check)
    first = playbook.run([task])["svc"]
    assert first["changed"]
    made = seerr.services["radarr"][1]
    assert (made["activeProfileId"], made["activeDirectory"], made["is4k"]) == (5, str(tmp_path / "movies-4k"), True)
    seerr.reset_log()
    radarr.reset_log()
    again = playbook.run([task])["svc"]
    assert not again["changed"] and seerr.writes() == [] and len(seerr.services["radarr"]) == 2
    assert radarr.log == []      # nothing to resolve: Seerr did not even test Radarr

    changed = playbook.run([service(seerr, radarr, tmp_path, quality_profile="hd-1080p")])["svc"]
    assert changed["changes"] == ["activeProfileId", "activeProfileName"]
    renamed_host = playbook.run([service(seerr, radarr, tmp_path, name="Radarr 4K")])["svc"]   # found by host and port
    assert renamed_host["changes"] == ["activeProfileId", "activeProfileName", "name"]
    assert len(seerr.services["radarr"]) == 2

    gone = service(seerr, radarr, tmp_path, name="Radarr 4K", state="absent")
    assert playbook.run([gone])["svc"]["changed"] and not playbook.run([gone])["svc"]["changed"]
    assert [s["name"] for s in seerr.services["radarr"]] == ["By hand"]


def test_clear_errors(tmp_path, stack):
    jellyfin, seerr, radarr = stack
    playbook = Playbook(tmp_path)
    wrong = playbook.run([dict(setup(jellyfin, seerr, jellyfin_password="nope"), ignore_errors=True)])["setup"]
    assert "Seerr could not sign in to Jellyfin as 'admin' (401): wrong user name or password" in wrong["msg"]
    playbook.run([setup(jellyfin, seerr)])
    results = playbook.run([
        dict(setup(jellyfin, seerr, libraries=["Films"]), name="no library", ignore_errors=True),
        dict(service(seerr, radarr, tmp_path, quality_profile="8K"), name="no profile", ignore_errors=True),
        dict(service(seerr, radarr, tmp_path, root_folder="/nowhere"), name="no folder", ignore_errors=True),
        dict(service(seerr, radarr, tmp_path, port=9), name="unreachable radarr", ignore_errors=True),
        dict(service(seerr, radarr, tmp_path, api_key="bad"), name="wrong seerr key", ignore_errors=True),
    ])
    assert "Jellyfin has no movie or show library named Films (it has: Movies, Shows)" in results["no library"]["msg"]
    assert "Radarr has no quality profile '8K' (it has: Any, HD-1080p, Ultra-HD)" in results["no profile"]["msg"]
    assert "Radarr has no root folder '/nowhere'" in results["no folder"]["msg"]
    assert "Seerr cannot reach Radarr at 127.0.0.1:9" in results["unreachable radarr"]["msg"]
    assert "reachable from Seerr" in results["unreachable radarr"]["msg"]
    assert "Seerr forbids GET /api/v1/settings/radarr (403)" in results["wrong seerr key"]["msg"]


def test_links_set_up_and_add_the_servers_in_one_run(tmp_path, stack):
    """seerr_links: a new Seerr set up with Jellyfin and given its Radarr in one run, with the key the setup read;
    without a key, check mode leaves the servers for the real run; a re-run reads and writes nothing more."""
    jellyfin, seerr, radarr = stack
    playbook = Playbook(tmp_path)
    args = setup(jellyfin, seerr)["arrkestra.homelab.seerr_setup"]
    svc = service(seerr, radarr, tmp_path)["arrkestra.homelab.seerr_service"]
    task = {"name": "links", "arrkestra.homelab.seerr_links": {
        "url": seerr.url, "setup": dict((k, v) for k, v in args.items() if k != "url"),
        "services": [dict((k, v) for k, v in svc.items() if k not in ("url", "api_key"))]}}
    check = playbook.run([task], check=True)["links"]
    assert check["setup"]["changed"] and check["services"] == [] and seerr.writes() == []
    first = playbook.run([task])["links"]
    assert first["changed"] and seerr.initialized and first["api_key"] == SEERR_KEY
    assert [s["name"] for s in seerr.services["radarr"]] == ["radarr-4k"]
    seerr.reset_log()
    task["arrkestra.homelab.seerr_links"]["api_key"] = SEERR_KEY
    again = playbook.run([task])["links"]
    assert not again["changed"] and seerr.writes() == [] and again["writes"] == 0
    assert [path for method, path in seerr.log].count("/api/v1/settings/radarr") == 1
