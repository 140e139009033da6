"""bazarr_connection against the Bazarr double."""

from __future__ import annotations

import pytest

from tests.doubles.bazarr import BazarrDouble
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration
KEY = "bazarr00key0123456789abcdef01234"
RADARR_KEY = "radarr00key0123456789abcdef0123"


@pytest.fixture
def bazarr():
    app = BazarrDouble(api_key=KEY)
    server = app.serve()
    app.url = server.url
    yield app
    server.stop()


def task(app, **options):
    return {"name": "link", "arrkestra.homelab.bazarr_connection": dict({"url": app.url, "api_key": KEY}, **options)}


def test_connection_lifecycle(tmp_path, bazarr):
    playbook = Playbook(tmp_path)
    wanted = task(bazarr, kind="radarr", host="radarr.media.svc.cluster.local", port=7878, app_api_key=RADARR_KEY)
    check = playbook.run([wanted], check=True, diff=True)["link"]
    assert check["changed"] and not bazarr.settings["general"]["use_radarr"]
    assert RADARR_KEY not in str(check) and check["diff"]["after"]["api_key"] == "<hidden>"
    first = playbook.run([wanted])["link"]
    assert first["changed"] and sorted(first["changes"]) == ["api_key", "enabled", "host"]
    assert bazarr.settings["general"]["use_radarr"] and bazarr.settings["radarr"]["apikey"] == RADARR_KEY
    assert bazarr.settings["radarr"]["ip"] == "radarr.media.svc.cluster.local"
    assert not bazarr.settings["general"]["use_sonarr"]
    bazarr.reset_log()
    assert not playbook.run([wanted])["link"]["changed"] and bazarr.writes() == []

    wanted["arrkestra.homelab.bazarr_connection"]["port"] = 7879
    moved = playbook.run([wanted])["link"]
    assert moved["changes"] == ["port"] and bazarr.settings["radarr"]["port"] == 7879

    off = task(bazarr, kind="radarr", state="absent")
    assert playbook.run([off])["link"]["changed"] and not bazarr.settings["general"]["use_radarr"]
    assert not playbook.run([off])["link"]["changed"]
    assert bazarr.settings["radarr"]["ip"] == "radarr.media.svc.cluster.local"   # kept for the user


def test_clear_errors(tmp_path, bazarr):
    results = Playbook(tmp_path).run([
        dict(task(bazarr, kind="radarr", api_key="wrong"), name="wrong key", ignore_errors=True),
        dict(task(bazarr, kind="lidarr"), name="bad kind", ignore_errors=True),
        dict(task(bazarr, kind="sonarr", url="http://127.0.0.1:9", retries=0), name="down", ignore_errors=True),
    ])
    assert "Bazarr refused the request GET /api/system/settings as unauthorized (401)" in results["wrong key"]["msg"]
    assert "value of kind must be one of: radarr, sonarr" in results["bad kind"]["msg"]
    assert "Cannot connect to Bazarr at http://127.0.0.1:9" in results["down"]["msg"]


def test_links_set_both_connections_reading_the_settings_once(tmp_path, bazarr):
    """bazarr_links: Radarr and Sonarr in one run; a re-run reads Bazarr's settings once and writes nothing."""
    playbook = Playbook(tmp_path)
    links = {"name": "links", "arrkestra.homelab.bazarr_links": {"url": bazarr.url, "api_key": KEY, "connections": [
        {"kind": "radarr", "host": "radarr.media.svc.cluster.local", "port": 7878, "app_api_key": RADARR_KEY},
        {"kind": "sonarr", "host": "sonarr.media.svc.cluster.local", "port": 8989, "app_api_key": RADARR_KEY}]}}
    first = playbook.run([links])["links"]
    assert first["changed"] and RADARR_KEY not in str(first)
    assert bazarr.settings["general"]["use_radarr"] and bazarr.settings["general"]["use_sonarr"]
    bazarr.reset_log()
    again = playbook.run([links])["links"]
    assert not again["changed"] and bazarr.writes() == [] and again["requests"] == 1
