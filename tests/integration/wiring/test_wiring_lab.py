"""The wiring phase end to end, on a whole stack of test doubles and real download clients.

One lab per module, the tests run in order and build on each other, like a
user's runs: first run, re-run, an instance added, an app removed, an app
down. Each test says what the user would check.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.doubles._base import api_key_auth
from tests.lab.stack import StackLab

pytestmark = pytest.mark.integration

#: The default stack plus Transmission and NZBGet: a test double of each app, the real download clients.
STACK = ("prowlarr", "radarr", "sonarr", "lidarr", "qbittorrent", "transmission", "nzbget", "sabnzbd", "flaresolverr",
         "jellyfin", "seerr", "bazarr")


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
    client = lab.apps["qbittorrent"]["app"]
    with httpx.Client(base_url=client.url, headers={"Referer": client.url}, timeout=10) as http:
        http.post("/api/v2/auth/login", data={"username": client.username, "password": client.password})
        return http.get("/api/v2/torrents/categories").json()


def sab_categories(lab):
    return dict((c["name"], c) for c in lab.double("sabnzbd").categories)


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
        assert set(clients) >= {"qbittorrent", "transmission", "nzbget"}
        qbit = clients["qbittorrent"]
        assert field(arr, qbit, "host") == "127.0.0.1"
        assert field(arr, qbit, "port") == int(lab.apps["qbittorrent"]["url"].rsplit(":", 1)[1])
        assert field(arr, qbit, category_field) == arr.kind
        assert arr.secret("downloadclient", "qbittorrent", "password") == lab.apps["qbittorrent"]["credentials"]["password"]
    assert [f["path"] for f in radarr.store["rootfolder"].values()] == [str(lab.media / "movies")]
    apps = by_name(prowlarr, "applications")
    assert set(apps) >= {"radarr", "sonarr"}
    assert field(prowlarr, apps["radarr"], "baseUrl") == lab.apps["radarr"]["url"]
    assert field(prowlarr, apps["radarr"], "prowlarrUrl") == lab.apps["prowlarr"]["url"]
    assert prowlarr.secret("applications", "radarr", "apiKey") == radarr.api_key
    proxies = by_name(prowlarr, "indexerproxy")
    assert field(prowlarr, proxies["flaresolverr"], "host") == lab.apps["flaresolverr"]["url"] + "/"
    categories = qbittorrent_categories(lab)
    for arr in ("radarr", "sonarr", "lidarr"):
        assert categories[arr]["savePath"].rstrip("/").endswith("/torrents/" + arr)
        assert sab_categories(lab)[arr]["dir"].endswith("/usenet/" + arr)
    jellyfin = lab.double("jellyfin")
    assert jellyfin.completed and jellyfin.user["Name"] == "admin" and [k["AppName"] for k in jellyfin.keys] == ["arrkestra"]
    # every arr instance tells Jellyfin about its imports, with the key Jellyfin's own run made before
    for arr in (radarr, sonarr, lab.double("lidarr")):
        notification = by_name(arr, "notification")["jellyfin"]
        assert notification["implementation"] == "MediaBrowser" and field(arr, notification, "updateLibrary")
        assert arr.secret("notification", "jellyfin", "apiKey") == jellyfin.keys[0]["AccessToken"]
        assert field(arr, notification, "host") == "127.0.0.1"
    assert dict((f["Name"], f["Locations"]) for f in jellyfin.folders) == {
        "Movies": [str(lab.media / "movies")], "Shows": [str(lab.media / "tv")], "Music": [str(lab.media / "music")]}
    seerr = lab.double("seerr")
    assert seerr.initialized and sorted(l["name"] for l in seerr.libraries if l["enabled"]) == ["Movies", "Shows"]
    service = seerr.services["radarr"][0]
    assert (service["name"], service["hostname"], service["port"], service["apiKey"], service["isDefault"]) == (
        "radarr", "127.0.0.1", lab.port("radarr"), radarr.api_key, True)
    assert service["activeDirectory"] == str(lab.media / "movies")
    assert [s["name"] for s in seerr.services["sonarr"]] == ["sonarr"]
    bazarr = lab.double("bazarr")
    assert bazarr.settings["general"]["use_radarr"] and bazarr.settings["general"]["use_sonarr"]
    assert (bazarr.settings["radarr"]["port"], bazarr.settings["radarr"]["apikey"]) == (lab.port("radarr"), radarr.api_key)
    assert "My seedbox" in by_name(radarr, "downloadclient")


def test_second_run_changes_nothing_and_sends_no_write(lab):
    lab.reset()
    run = lab.wire()
    assert run.rc == 0, run.failures()
    assert run.changed == 0, run.changed_tasks()
    assert lab.writes() == {}


def test_a_rotated_password_and_key_reach_every_link_that_uses_them_once(lab):
    """qBittorrent's password and Radarr's API key rotated (in the inventory here; in their Secrets on a cluster,
    where the apps phase restarts the apps with them): the links that hand them over are rewritten, nothing else,
    and the next run writes nothing."""
    client = lab.apps["qbittorrent"]["app"]
    with httpx.Client(base_url=client.url, headers={"Referer": client.url}, timeout=10) as http:
        http.post("/api/v2/auth/login", data={"username": client.username, "password": client.password})
        assert http.post("/api/v2/app/setPreferences",
                         data={"json": json.dumps({"web_ui_password": "rotated-password"})}).status_code == 200
    client.password = lab.apps["qbittorrent"]["credentials"]["password"] = "rotated-password"
    radarr = lab.double("radarr")
    radarr.api_key = lab.apps["radarr"]["credentials"]["api_key"] = "f" * 32
    radarr.auth = api_key_auth(radarr.api_key)
    lab.reset()
    run = lab.wire()
    assert run.rc == 0, run.failures()
    writes = lab.writes()
    assert set(writes) == {"radarr", "sonarr", "lidarr", "prowlarr", "seerr", "bazarr"}, writes
    for arr in ("radarr", "sonarr", "lidarr"):     # their download client qbittorrent
        assert [w for w in writes[arr] if w[1].startswith("/api/")] == [
            ("PUT", "/api/v%d/downloadclient/%d" % (1 if arr == "lidarr" else 3, by_name(
                lab.double(arr), "downloadclient")["qbittorrent"]["id"]))], writes[arr]
        assert lab.double(arr).secret("downloadclient", "qbittorrent", "password") == "rotated-password"
    assert writes["prowlarr"] == [("PUT", "/api/v1/applications/%d" % by_name(
        lab.double("prowlarr"), "applications")["radarr"]["id"])]
    assert field(lab.double("prowlarr"), by_name(lab.double("prowlarr"), "applications")["radarr"], "apiKey") == "f" * 32
    assert [s["apiKey"] for s in lab.double("seerr").services["radarr"] if s["name"] == "radarr"] == ["f" * 32]
    lab.reset()
    run = lab.wire()
    assert run.changed == 0 and lab.writes() == {}, (run.changed_tasks(), lab.writes())


def test_no_secret_in_verbose_output(lab):
    proc = lab.wire(diff=True, verbosity=3, raw=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
    secrets = [value for entry in lab.apps.values() for key, value in entry["credentials"].items()
               if key != "username"]   # user names are not secret
    assert len(secrets) >= 5
    leaked = [s for s in secrets if s in proc.stdout or s in proc.stderr]
    assert not leaked, "secrets in ansible-playbook -vvv output: %d" % len(leaked)


def test_adding_radarr_4k_writes_only_its_links(lab):
    (lab.media / "movies-4k").mkdir(exist_ok=True)
    lab.start("radarr-4k", "radarr")
    lab.reset()
    run = lab.wire()
    assert run.rc == 0, run.failures()
    writes = lab.writes()
    assert set(writes) == {"radarr-4k", "prowlarr", "sabnzbd", "jellyfin", "seerr"}, writes
    assert writes["prowlarr"] == [("POST", "/api/v1/applications")]
    assert writes["sabnzbd"] == [("set_config", "radarr-4k")]
    # the folder in the Movies library; then Radarr-4K tests its new notification with a POST Jellyfin has no
    # route for (MediaBrowserProxy.cs:23-51): nothing in Jellyfin changes
    assert writes["jellyfin"] == [("POST", "/Library/VirtualFolders/Paths"), ("POST", "/Notifications/Admin")]
    assert writes["seerr"] == [("POST", "/api/v1/settings/radarr")]
    four_k = lab.double("radarr-4k")
    assert by_name(four_k, "notification")["jellyfin"]["onDownload"]
    assert four_k.secret("notification", "jellyfin", "apiKey") == lab.double("radarr").secret("notification", "jellyfin", "apiKey")
    assert field(four_k, by_name(four_k, "downloadclient")["qbittorrent"], "movieCategory") == "radarr-4k"
    assert [f["path"] for f in four_k.store["rootfolder"].values()] == [str(lab.media / "movies-4k")]
    assert "radarr-4k" in qbittorrent_categories(lab)
    services = dict((s["name"], s) for s in lab.double("seerr").services["radarr"])
    assert services["radarr-4k"]["is4k"] and services["radarr-4k"]["isDefault"] and services["radarr"]["isDefault"]
    lab.reset()
    assert lab.wire().changed == 0 and lab.writes() == {}


def test_removing_sonarr_removes_the_links_to_it_everywhere(lab):
    lab.remove("sonarr")
    run = lab.wire()
    assert run.rc == 0, run.failures()
    assert "sonarr" not in by_name(lab.double("prowlarr"), "applications")
    assert "radarr" in by_name(lab.double("prowlarr"), "applications")
    assert lab.double("seerr").services["sonarr"] == []
    assert not lab.double("bazarr").settings["general"]["use_sonarr"]
    assert lab.double("bazarr").settings["general"]["use_radarr"]
    assert "sonarr" not in qbittorrent_categories(lab) and "sonarr" not in sab_categories(lab)
    assert "Shows" in [f["Name"] for f in lab.double("jellyfin").folders]     # the user's library stays
    record = json.loads((lab.tmp_path / "state" / "wiring.json").read_text())
    assert not [r for r in record["links"] if "sonarr" in r["id"]]
    assert not [i for i in record["fingerprints"] if "sonarr" in i]
    lab.reset()
    assert lab.wire().changed == 0 and lab.writes() == {}


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


def test_a_run_interrupted_with_ctrl_c_converges_on_the_next(lab):
    """Ctrl-C in the middle of a run - once Radarr got its first write, while Prowlarr waits its turn: the next run
    makes what is missing, nothing twice, and the one after writes nothing."""
    radarr, prowlarr = lab.double("radarr"), lab.double("prowlarr")
    for double, resource in ((radarr, "downloadclient"), (prowlarr, "applications")):
        for key, item in list(double.store.get(resource, {}).items()):
            if item["name"] != "My seedbox":
                del double.store[resource][key]
    lab.reset()
    proc = lab.wire_interrupted(radarr.writes)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert prowlarr.writes() == [], "interrupted too late: %s" % prowlarr.writes()
    run = lab.wire()
    assert run.rc == 0, run.failures()
    names = [item["name"] for item in radarr.store["downloadclient"].values()]
    assert sorted(names) == sorted(set(names)) and {"qbittorrent", "My seedbox"} <= set(names), names
    applications = [item["name"] for item in prowlarr.store["applications"].values()]
    assert sorted(applications) == sorted(set(applications)) and "radarr" in applications, applications
    lab.reset()
    assert lab.wire().changed == 0 and lab.writes() == {}


def test_removing_jellyfin_removes_the_notifications_to_it_and_nothing_made_by_hand(lab):
    radarr = lab.double("radarr")
    hand_made = radarr.add_provider("notification", "My webhook", "Webhook", url="http://hook.lan/")
    assert "jellyfin" in by_name(radarr, "notification") and "jellyfin" in by_name(lab.double("lidarr"), "notification")
    lab.remove("jellyfin")
    run = lab.wire()
    assert run.rc == 0, run.failures()
    for name in ("radarr", "radarr-4k", "lidarr"):
        assert "jellyfin" not in by_name(lab.double(name), "notification"), name
    assert by_name(radarr, "notification")["My webhook"] == hand_made
    lab.reset()
    assert lab.wire().changed == 0 and lab.writes() == {}
