"""sabnzbd_category against the SABnzbd double."""

from __future__ import annotations

import pytest

from tests.doubles.sabnzbd import SabnzbdDouble
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration
KEY = "sabnzbd0key0123456789abcdef01234"


@pytest.fixture
def sabnzbd():
    app = SabnzbdDouble(api_key=KEY)
    server = app.serve()
    app.url = server.url
    yield app
    server.stop()


def task(app, **options):
    return {"name": "cat", "arrkestra.homelab.sabnzbd_category": dict({"url": app.url, "api_key": KEY}, **options)}


def names(app):
    return dict((c["name"], c) for c in app.categories)


def test_category_lifecycle(tmp_path, sabnzbd):
    playbook = Playbook(tmp_path)
    sabnzbd.categories.append({"name": "manual", "order": 1, "pp": "", "script": "None", "dir": "x", "newzbin": "",
                               "priority": 0})
    wanted = task(sabnzbd, name="Radarr", dir="/data/usenet/radarr/")
    assert playbook.run([wanted], check=True)["cat"]["changed"] and "radarr" not in names(sabnzbd)
    first = playbook.run([wanted], diff=True)["cat"]
    assert first["changed"] and first["category"]["dir"] == "/data/usenet/radarr"
    assert names(sabnzbd)["radarr"]["dir"] == "/data/usenet/radarr"
    sabnzbd.reset_log()
    assert not playbook.run([wanted])["cat"]["changed"] and sabnzbd.writes() == []

    changed = playbook.run([task(sabnzbd, name="radarr", priority="high", pp="delete")])["cat"]
    assert changed["changed"] and sorted(changed["changes"]) == ["pp", "priority"]
    assert names(sabnzbd)["radarr"]["priority"] == 1 and names(sabnzbd)["radarr"]["dir"] == "/data/usenet/radarr"

    gone = task(sabnzbd, name="radarr", state="absent")
    assert playbook.run([gone])["cat"]["changed"] and not playbook.run([gone])["cat"]["changed"]
    assert set(names(sabnzbd)) == {"*", "manual"}


def test_clear_errors(tmp_path, sabnzbd):
    results = Playbook(tmp_path).run([
        dict(task(sabnzbd, name="x", api_key="wrong"), name="wrong key", ignore_errors=True),
        dict(task(sabnzbd, name="*"), name="default", ignore_errors=True),
        dict(task(sabnzbd, name="x", url="http://127.0.0.1:9", retries=0), name="down", ignore_errors=True),
        {"name": "no key", "ignore_errors": True, "arrkestra.homelab.sabnzbd_category": {"url": sabnzbd.url, "name": "x"}},
    ])
    assert "SABnzbd refused mode=get_config: API Key Incorrect" in results["wrong key"]["msg"]
    assert "Config > General > Security" in results["wrong key"]["msg"]
    assert "cannot be managed by name" in results["default"]["msg"]
    assert "Cannot connect to SABnzbd at http://127.0.0.1:9" in results["down"]["msg"]
    assert "`api_key` is required" in results["no key"]["msg"]
    assert "wrong" not in str(results["wrong key"].get("invocation", ""))
