"""sabnzbd_category against the SABnzbd double."""

from __future__ import annotations

import socket

import httpx
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
    assert "SABnzbd refused mode=get_config (403): API Key Incorrect" in results["wrong key"]["msg"]
    assert "Config > General > Security" in results["wrong key"]["msg"]
    assert "cannot be managed by name" in results["default"]["msg"]
    assert "Cannot connect to SABnzbd at http://127.0.0.1:9" in results["down"]["msg"]
    assert "`api_key` is required" in results["no key"]["msg"]
    assert "wrong" not in str(results["wrong key"].get("invocation", ""))


def _loopback_name():
    name = socket.gethostname()
    try:
        return name if all(i[4][0].startswith("127.") for i in socket.getaddrinfo(name, None, socket.AF_INET)) else None
    except OSError:
        return None


def test_host_check_as_sabnzbd_4_5(tmp_path):
    """A Host that is not an IP, localhost, *.local or in host_whitelist gets 403 before the key is even looked at."""
    app = SabnzbdDouble(api_key=KEY, host_whitelist=["sabnzbd", "sabnzbd.media.svc"])
    with app.serve() as server:
        def status(host, **params):
            resp = httpx.get(server.url + "/api", params=dict({"mode": "get_config", "apikey": KEY, "output": "json"},
                                                              **params), headers={"Host": host})
            return resp.status_code, resp.text
        assert status("SABnzbd.media.svc:8080")[0] == 200         # port cut off, case ignored
        assert status("sabnzbd.media.svc.cluster.local")[0] == 200   # ends in .local: the cluster domain passes
        assert status("sabnzbd.media.home.arpa")[0] == 403
        assert status("sabnzbd.media.home.arpa", mode="version")[0] == 403   # even without a key
        assert status("nas.local")[0] == 200 and status("10.43.0.7:8080")[0] == 200 and status("[::1]:8080")[0] == 200
        assert status("sabnzbd.home.arpa", apikey="wrong")[1].startswith("Access denied - Hostname verification")
        assert status("127.0.0.1", apikey="wrong") == (403, "API Key Incorrect")
        assert status("127.0.0.1", apikey="") == (403, "API Key Required")
    with SabnzbdDouble(api_key=KEY, host_whitelist=["sabnzbd"], username="u", password="p").serve() as server:
        assert httpx.get(server.url + "/api", params={"mode": "version"}, headers={"Host": "any.name"}).status_code == 200


@pytest.mark.skipif(_loopback_name() is None, reason="this machine's name does not resolve to loopback")
def test_module_explains_the_host_check(tmp_path):
    name = _loopback_name()
    refusing = SabnzbdDouble(api_key=KEY, host_whitelist=["sabnzbd"])
    allowing = SabnzbdDouble(api_key=KEY, host_whitelist=["sabnzbd", name])
    with refusing.serve() as no, allowing.serve() as yes:
        results = Playbook(tmp_path).run([
            dict(task(no, name="radarr", url="http://%s:%d" % (name, no.port)), name="refused", ignore_errors=True),
            dict(task(yes, name="radarr", url="http://%s:%d" % (name, yes.port)), name="allowed"),
        ])
    assert "SABnzbd refused mode=get_config (403): Access denied - Hostname verification failed" in results["refused"]["msg"]
    assert "host_whitelist" in results["refused"]["msg"] and name in results["refused"]["msg"]
    assert results["allowed"]["changed"] and "radarr" in [c["name"] for c in allowing.categories]


def test_double_reads_sabnzbd_ini(tmp_path):
    ini = tmp_path / "sabnzbd.ini"
    ini.write_text("__version__ = 19\n[misc]\napi_key = abc\nhost_whitelist = Sabnzbd, sabnzbd.media.svc\n"
                   "download_dir = /data/usenet/incomplete\nusername = \"\"\n[logging]\nlog_level = 1\n")
    app = SabnzbdDouble.from_ini(str(ini))
    assert (app.api_key, app.host_whitelist, app.username) == ("abc", ["sabnzbd", "sabnzbd.media.svc"], "")
    assert app.misc["download_dir"] == "/data/usenet/incomplete"


def test_links_make_every_category_reading_them_once(tmp_path, sabnzbd):
    """sabnzbd_links: a category per arr instance in one run; a re-run reads the categories once, writes nothing;
    SABnzbd's default category '*' is refused by name before any call."""
    playbook = Playbook(tmp_path)
    items = [{"name": name, "dir": "/data/usenet/" + name} for name in ("radarr", "sonarr")]
    links = {"name": "links", "arrkestra.homelab.sabnzbd_links": {"url": sabnzbd.url, "api_key": KEY, "categories": items}}
    assert playbook.run([links])["links"]["changed"] and {"radarr", "sonarr"} <= set(names(sabnzbd))
    sabnzbd.reset_log()
    again = playbook.run([links])["links"]
    assert not again["changed"] and again["writes"] == 0 and again["requests"] == 1
    sabnzbd.reset_log()
    star = {"name": "links", "arrkestra.homelab.sabnzbd_links": {"url": sabnzbd.url, "api_key": KEY,
                                                                 "categories": [{"name": "*"}]}}
    refused = playbook.run([star])["links"]
    assert refused.get("failed") and "cannot be managed by name" in refused["msg"] and sabnzbd.log == []
