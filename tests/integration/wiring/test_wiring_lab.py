"""The wiring phase end to end, on a whole stack of test doubles and real download clients.

One lab per module, the tests run in order and build on each other, like a
user's runs: first run, re-run, an instance added, an app removed, an app
down. Each test says what the user would check.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.lab.stack import DOUBLES, StackLab

pytestmark = pytest.mark.integration

#: The default stack, as far as this machine can run it (every app that has a double or a real client).
STACK = [name for name in ("prowlarr", "radarr", "sonarr", "lidarr", "transmission", "nzbget",
                           "sabnzbd", "flaresolverr", "jellyfin", "seerr", "bazarr")
         if name in DOUBLES or name in ("qbittorrent", "transmission", "nzbget")]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    lab = StackLab(tmp_path_factory.mktemp("wiring-lab"))
    try:
        for name in STACK:
            lab.start(name)
        # Made by hand in the UI before the stack was wired: must survive every run.
        lab.double("radarr").add_provider("downloadclient", "My seedbox", "Transmission", host="seedbox.lan", port=9091)
        yield lab
    finally:
        lab.close()


def by_name(double, resource):
    return dict((item["name"], item) for item in double.store.get(resource, {}).values())


def field(double, item, name):
    return double.values(item).get(name)


def qbittorrent_categories(lab):
    client = lab.apps["transmission"]["app"]
    with httpx.Client(base_url=client.url, headers={"Referer": client.url}, timeout=10) as http:
        http.post("/api/v2/auth/login", data={"username": client.username, "password": client.password})
        return http.get("/api/v2/torrents/categories").json()


def test_check_mode_first_run_changes_nothing(lab):
    run = lab.wire(check=True)
    assert run.rc == 0, run.failures()
    assert not lab.writes()


def test_first_run_converges_with_every_link(lab):
    run = lab.wire()
    assert run.rc == 0, run.failures()
    radarr, sonarr, prowlarr = lab.double("radarr"), lab.double("sonarr"), lab.double("prowlarr")
    for arr, category_field in ((radarr, "movieCategory"), (sonarr, "tvCategory")):
        clients = by_name(arr, "downloadclient")
        assert set(clients) >= {"transmission", "nzbget"}
        qbit = clients["transmission"]
        assert field(arr, qbit, "host") == "127.0.0.1"
        assert field(arr, qbit, "port") == int(lab.apps["transmission"]["url"].rsplit(":", 1)[1])
        assert field(arr, qbit, category_field) == arr.kind
        assert arr.secret("downloadclient", "transmission", "password") == lab.apps["transmission"]["credentials"]["password"]
    assert [f["path"] for f in radarr.store["rootfolder"].values()] == [str(lab.media / "movies")]
    apps = by_name(prowlarr, "applications")
    assert set(apps) >= {"radarr", "sonarr"}
    assert field(prowlarr, apps["radarr"], "baseUrl") == lab.apps["radarr"]["url"]
    assert field(prowlarr, apps["radarr"], "prowlarrUrl") == lab.apps["prowlarr"]["url"]
    assert prowlarr.secret("applications", "radarr", "apiKey") == radarr.api_key
    proxies = by_name(prowlarr, "indexerproxy")
    assert field(prowlarr, proxies["flaresolverr"], "host") == lab.apps["flaresolverr"]["url"] + "/"
    if "qbittorrent" in lab.apps and "qbittorrent_category" in run.stdout:
        categories = qbittorrent_categories(lab)
        assert categories["radarr"]["savePath"].endswith("/torrents/radarr")
    assert "My seedbox" in by_name(radarr, "downloadclient")


def test_second_run_changes_nothing_and_sends_no_write(lab):
    lab.reset()
    run = lab.wire()
    assert run.rc == 0, run.failures()
    assert run.changed == 0, run.changed_tasks()
    assert lab.writes() == {}


def test_no_secret_in_verbose_output(lab):
    proc = lab.wire(diff=True, verbosity=3, raw=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    secrets = [value for entry in lab.apps.values() for key, value in entry["credentials"].items()
               if key != "username"]   # user names are not secret
    assert len(secrets) >= 5
    leaked = [s for s in secrets if s in proc.stdout or s in proc.stderr]
    assert not leaked, "secrets in ansible-playbook -vvv output: %d" % len(leaked)


def test_adding_radarr_4k_writes_only_its_links(lab):
    lab.start("radarr-4k", "radarr")
    lab.reset()
    run = lab.wire()
    assert run.rc == 0, run.failures()
    writes = lab.writes()
    assert set(writes) <= {"radarr-4k", "prowlarr", "seerr", "jellyfin"}, writes
    assert writes["radarr-4k"]
    assert all(path.endswith("/applications") for method, path in writes["prowlarr"]), writes["prowlarr"]
    four_k = lab.double("radarr-4k")
    assert field(four_k, by_name(four_k, "downloadclient")["transmission"], "movieCategory") == "radarr-4k"
    assert [f["path"] for f in four_k.store["rootfolder"].values()] == [str(lab.media / "movies-4k")]
    lab.reset()
    assert lab.wire().changed == 0 and lab.writes() == {}


def test_removing_sonarr_removes_the_links_to_it_everywhere(lab):
    lab.remove("sonarr")
    run = lab.wire()
    assert run.rc == 0, run.failures()
    assert "sonarr" not in by_name(lab.double("prowlarr"), "applications")
    assert "radarr" in by_name(lab.double("prowlarr"), "applications")
    if "qbittorrent_category" in run.stdout:
        assert "sonarr" not in qbittorrent_categories(lab)
    record = json.loads((lab.tmp_path / "state" / "wiring.json").read_text())
    assert not [r for r in record if "sonarr" in r["id"]]


def test_a_hand_made_link_survives(lab):
    assert "My seedbox" in by_name(lab.double("radarr"), "downloadclient")


def test_an_app_down_mid_run_is_named_and_the_next_run_converges(lab):
    radarr = lab.double("radarr")
    radarr.store["rootfolder"].clear()   # something to do on the next run
    real_handle = radarr.handle

    def unavailable(request):   # up for the wait, gone when the wiring reaches it (what an ingress answers)
        if request.path == "/ping":
            return real_handle(request)
        radarr.log.append((request.method, request.path))
        from tests.doubles._base import Reply
        return Reply(503, None)

    radarr.handle = unavailable
    try:
        run = lab.wire()
    finally:
        radarr.handle = real_handle
    assert run.rc != 0
    failures = run.failures()
    assert failures and "Radarr" in failures[0][1] and lab.apps["radarr"]["url"] in failures[0][1], failures

    lab.stop("radarr")
    proc = lab.wire(raw=True)
    assert proc.returncode != 0
    assert "radarr (radarr) did not answer at %s" % lab.apps["radarr"]["url"] in proc.stdout

    lab.restart("radarr")
    run = lab.wire()
    assert run.rc == 0, run.failures()
    assert [f["path"] for f in radarr.store["rootfolder"].values()] == [str(lab.media / "movies")]
