"""The Servarr modules through ansible-playbook, against the doubles and real download clients."""

import pytest

from tests.integration.servarr.conftest import API_KEY, conn

pytestmark = pytest.mark.integration


def qbit_task(app, qbt, name="qBittorrent", **extra):
    args = dict(conn(app), name=name, implementation="QBittorrent", host="127.0.0.1", port=qbt.port,
                username=qbt.username, password=qbt.password, category="movies", tags=["torrents"])
    args.update(extra)
    return {"name": "client", "arrkestra.homelab.radarr_download_client": args}


def test_download_client_lifecycle_touches_only_its_own(playbook, radarr, qbittorrent, nzbget):
    hand_made = radarr.add_provider("downloadclient", "Hand made", "Transmission", host="transmission", port=9091,
                                    password="hand-secret")
    tasks = [
        qbit_task(radarr, qbittorrent),
        {"name": "nzbget", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="NZBGet", implementation="nzbget", host="127.0.0.1", port=nzbget.port,
            username=nzbget.username, password=nzbget.password, category="movies", priority=2)},
        {"name": "folder", "arrkestra.homelab.radarr_root_folder": dict(conn(radarr), path=str(radarr_dir(radarr)))},
    ]
    # check mode: everything would change, nothing is written
    result = playbook.run(tasks, check=True, diff=True)
    assert all(result[name]["changed"] for name in ("client", "nzbget", "folder"))
    assert result["client"]["diff"]["before"] == {}
    assert result["client"]["diff"]["after"]["fields"]["password"] == "<hidden>"
    assert radarr.writes() == []

    # apply: created, and the connection test really logged into both clients
    result = playbook.run(tasks)
    assert all(result[name]["changed"] for name in ("client", "nzbget", "folder")), result
    assert radarr.secret("downloadclient", "qBittorrent", "password") == qbittorrent.password
    assert result["client"]["download_client"]["tags"] == ["torrents"]

    # re-run: nothing changes, only reads - one GET per collection
    radarr.reset_log()
    result = playbook.run(tasks)
    assert not any(r["changed"] for r in result.values()), result
    assert radarr.writes() == []
    assert sorted(radarr.log) == sorted([("GET", "/api/v3/downloadclient"), ("GET", "/api/v3/tag"),
                                         ("GET", "/api/v3/downloadclient"), ("GET", "/api/v3/rootfolder")])

    # one option changes: only that link changes, secrets kept
    radarr.reset_log()
    result = playbook.run([qbit_task(radarr, qbittorrent, priority=5), tasks[1]], diff=True)
    assert result["client"]["changed"] and not result["nzbget"]["changed"]
    assert result["client"]["changes"] == ["priority"]
    assert [m for m, p in radarr.writes()] == ["PUT"]
    assert radarr.secret("downloadclient", "qBittorrent", "password") == qbittorrent.password

    # absent: only that one goes
    result = playbook.run([{"name": "gone", "arrkestra.homelab.radarr_download_client": dict(
        conn(radarr), name="QBITTORRENT", state="absent")}])
    assert result["gone"]["changed"]
    names = sorted(item["name"] for item in radarr.store["downloadclient"].values())
    assert names == ["Hand made", "NZBGet"]
    assert radarr.store["downloadclient"][hand_made["id"]] == dict(hand_made)
    result = playbook.run([{"name": "gone", "arrkestra.homelab.radarr_download_client": dict(
        conn(radarr), name="qBittorrent", state="absent")}])
    assert not result["gone"]["changed"]


def radarr_dir(app, name="movies"):
    import tempfile
    import pathlib

    base = pathlib.Path(getattr(app, "_tmp", None) or tempfile.mkdtemp(prefix="arrkestra-media-"))
    app._tmp = str(base)
    path = base / name
    path.mkdir(exist_ok=True)
    return path


def test_secrets_update_and_verify(playbook, radarr, qbittorrent):
    radarr.add_provider("downloadclient", "qBittorrent", "QBittorrent", host="127.0.0.1", port=qbittorrent.port,
                        username="admin", password="stale-password", movieCategory="movies", tags=())
    task = qbit_task(radarr, qbittorrent, tags=None)
    del task["arrkestra.homelab.radarr_download_client"]["tags"]
    # the secret cannot be compared: a plain run changes nothing
    radarr.reset_log()
    assert not playbook.run([task])["client"]["changed"]
    assert radarr.writes() == []
    # verify in check mode: no connection test (a POST), nothing known to change
    task["arrkestra.homelab.radarr_download_client"]["verify"] = True
    assert not playbook.run([task], check=True)["client"]["changed"]
    assert radarr.writes() == []
    # verify: the app's test fails on authentication, the secret is rewritten
    result = playbook.run([task])
    assert result["client"]["changed"], result
    assert result["client"]["changes"] == ["fields.password (secret, rewritten)"]
    assert radarr.secret("downloadclient", "qBittorrent", "password") == qbittorrent.password
    # verify again: the test passes, nothing written
    radarr.reset_log()
    assert not playbook.run([task])["client"]["changed"]
    assert radarr.writes() == [("POST", "/api/v3/downloadclient/test")]
    # update_secrets: always written (and the mask never stored)
    del task["arrkestra.homelab.radarr_download_client"]["verify"]
    task["arrkestra.homelab.radarr_download_client"]["update_secrets"] = True
    assert playbook.run([task])["client"]["changed"]
    assert radarr.secret("downloadclient", "qBittorrent", "password") == qbittorrent.password


def test_secrets_never_appear_in_verbose_diff_output(playbook, radarr, qbittorrent):
    proc = playbook.run([qbit_task(radarr, qbittorrent, update_secrets=True)], diff=True, verbosity=3, raw=True)
    assert proc.returncode == 0, proc.stdout
    proc2 = playbook.run([qbit_task(radarr, qbittorrent, update_secrets=True, priority=3)], diff=True,
                         verbosity=3, raw=True, check=True)
    for out in (proc.stdout + proc.stderr, proc2.stdout + proc2.stderr):
        assert qbittorrent.password not in out
        assert API_KEY not in out
        assert "<hidden>" in out


def test_errors_are_clear(playbook, radarr, qbittorrent):
    tasks = [
        {"name": "unauthorized", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), api_key="wrong", name="x", implementation="QBittorrent"), "ignore_errors": True},
        {"name": "unreachable", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), url="http://127.0.0.1:1", retries=0, name="x", implementation="QBittorrent"),
         "ignore_errors": True},
        {"name": "unknown", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="x", implementation="uTorrentX", host="h"), "ignore_errors": True},
        {"name": "bad field", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="x", implementation="QBittorrent", fields={"hots": "h"}), "ignore_errors": True},
        {"name": "cannot reach", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="x", implementation="QBittorrent", host="qbittorrent.invalid", port=8080,
            category="movies"), "ignore_errors": True},
        {"name": "wrong password", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="x", implementation="QBittorrent", host="127.0.0.1", port=qbittorrent.port,
            username="admin", password="nope", category="movies"), "ignore_errors": True},
        {"name": "warning", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="x", implementation="QBittorrent", host="127.0.0.1", port=qbittorrent.port,
            username="admin", password=qbittorrent.password, category=""), "ignore_errors": True},
        {"name": "priority", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="x", implementation="QBittorrent", priority=99, force_save=True),
         "ignore_errors": True},
        {"name": "wrong app", "arrkestra.homelab.lidarr_download_client": dict(
            conn(radarr), name="x", implementation="QBittorrent"), "ignore_errors": True},
        {"name": "bad type", "arrkestra.homelab.radarr_download_client": dict(
            conn(radarr), name="x", implementation="QBittorrent", port="eighty"), "ignore_errors": True},
    ]
    result = playbook.run(tasks)
    for name, res in result.items():
        assert res.get("failed"), (name, res)
        assert "Traceback (most recent call last)" not in str(res), (name, res)
    msg = dict((name, res["msg"]) for name, res in result.items())
    assert "unauthorized (401)" in msg["unauthorized"] and "API key" in msg["unauthorized"]
    assert "Cannot connect to Radarr at http://127.0.0.1:1" in msg["unreachable"]
    assert "no download client implementation 'uTorrentX'" in msg["unknown"]
    assert "QBittorrent, Sabnzbd, Transmission" in msg["unknown"] or "Nzbget, QBittorrent" in msg["unknown"]
    assert "has no field hots" in msg["bad field"] and "host" in msg["bad field"]
    assert "Host: Unable to connect to qBittorrent" in msg["cannot reach"]
    assert ("Radarr cannot reach qBittorrent at http://qbittorrent.invalid:8080 - the address must be reachable "
            "from Radarr, not from the controller") in msg["cannot reach"]
    assert "Username: Authentication failure" in msg["wrong password"]
    assert "Category is recommended (warning)" in msg["warning"] and "force_save: true" in msg["warning"]
    assert "must be between 1 and 50" in msg["priority"]
    assert "has API v3, not v1: it is not Lidarr" in msg["wrong app"]
    assert "port" in msg["bad type"] and "int" in msg["bad type"]
    assert result["cannot reach"]["api_errors"][0]["propertyName"] == "Host"
    assert radarr.store.get("downloadclient", {}) == {}


def test_force_save_lets_warnings_pass_and_skips_the_test_of_an_update(playbook, sonarr, transmission):
    """ProviderControllerBase.cs:78-122 (Sonarr v4.0.19.2979): forceSave lets warnings pass; a creation still runs
    the connection test of an enabled client, an update does not."""
    base = dict(conn(sonarr), name="Transmission", implementation="transmission", port=transmission.port,
                username=transmission.username, password=transmission.password, force_save=True)
    result = playbook.run([
        {"name": "unreachable", "arrkestra.homelab.sonarr_download_client": dict(base, host="transmission.invalid"),
         "ignore_errors": True},
        # the connection test of the creation reaches the real client
        {"name": "created", "arrkestra.homelab.sonarr_download_client": dict(base, host="127.0.0.1")},
        {"name": "moved", "arrkestra.homelab.sonarr_download_client": dict(base, host="transmission.invalid")},
    ])
    assert "Unable to connect to Transmission" in result["unreachable"]["msg"], result["unreachable"]
    assert result["created"]["changed"], result["created"]
    assert result["created"]["download_client"]["fields"]["tvCategory"] == "tv-sonarr"
    assert result["moved"]["changed"] and result["moved"]["changes"] == ["fields.host"], result["moved"]
    assert [m for m, p in sonarr.writes()] == ["POST", "POST", "PUT"]


def test_transmission_connection_test_logs_in(playbook, sonarr, transmission):
    base = dict(conn(sonarr), name="Transmission", implementation="Transmission", host="127.0.0.1",
                port=transmission.port, username=transmission.username, category="tv")
    result = playbook.run([
        {"name": "bad", "arrkestra.homelab.sonarr_download_client": dict(base, password="wrong"), "ignore_errors": True},
        {"name": "good", "arrkestra.homelab.sonarr_download_client": dict(base, password=transmission.password)},
    ])
    assert "Authentication failure" in result["bad"]["msg"]
    assert result["good"]["changed"]


def test_root_folders(playbook, sonarr, lidarr, tmp_path):
    (tmp_path / "tv").mkdir()
    (tmp_path / "music").mkdir()
    tasks = [
        {"name": "tv", "arrkestra.homelab.sonarr_root_folder": dict(conn(sonarr), path=str(tmp_path / "tv") + "/")},
        {"name": "missing", "arrkestra.homelab.sonarr_root_folder": dict(conn(sonarr), path=str(tmp_path / "nope")),
         "ignore_errors": True},
        {"name": "child", "arrkestra.homelab.sonarr_root_folder": dict(conn(sonarr), path=str(tmp_path / "tv" / "x")),
         "ignore_errors": True},
        {"name": "music", "arrkestra.homelab.lidarr_root_folder": dict(
            conn(lidarr), path=str(tmp_path / "music"), name="Music", quality_profile="lossless",
            default_tags=["flac"])},
    ]
    result = playbook.run(tasks)
    assert result["tv"]["changed"] and result["music"]["changed"]
    assert "does not exist" in result["missing"]["msg"] and "not on the controller" in result["missing"]["msg"]
    assert "parent or child" in result["child"]["msg"]
    assert result["music"]["root_folder"]["defaultQualityProfileId"] == 2
    assert result["music"]["root_folder"]["defaultTags"] == ["flac"]
    sonarr.reset_log()
    lidarr.reset_log()
    result = playbook.run([tasks[0], tasks[3]])
    assert not result["tv"]["changed"] and not result["music"]["changed"]
    assert sonarr.writes() == [] and lidarr.writes() == []
    result = playbook.run([{"name": "music", "arrkestra.homelab.lidarr_root_folder": dict(
        conn(lidarr), path=str(tmp_path / "music"), default_monitor="future")}], diff=True)
    assert result["music"]["changes"] == ["defaultMonitorOption"]
    assert [m for m, p in lidarr.writes()] == ["PUT"]
    result = playbook.run([{"name": "tv", "arrkestra.homelab.sonarr_root_folder": dict(
        conn(sonarr), path=str(tmp_path / "tv"), state="absent")}])
    assert result["tv"]["changed"] and not sonarr.store["rootfolder"]


def test_prowlarr_application_and_proxy(playbook, prowlarr, radarr):
    app = {"name": "app", "arrkestra.homelab.prowlarr_application": dict(
        conn(prowlarr), name="Radarr", implementation="radarr", sync_level="full_sync", prowlarr_url=prowlarr.url,
        base_url=radarr.url, app_api_key=API_KEY, tags=["movies"])}
    bad = {"name": "bad", "arrkestra.homelab.prowlarr_application": dict(
        conn(prowlarr), name="Sonarr", implementation="Sonarr", prowlarr_url=prowlarr.url, base_url=radarr.url,
        app_api_key="wrong"), "ignore_errors": True}
    proxy = {"name": "proxy", "arrkestra.homelab.prowlarr_indexer_proxy": dict(
        conn(prowlarr), name="FlareSolverr", host=prowlarr.url + "/ping", request_timeout=30)}
    result = playbook.run([app, bad, proxy])
    assert result["app"]["changed"] and result["proxy"]["changed"]
    assert result["app"]["application"]["fields"]["apiKey"] == "<hidden>"
    assert "ApiKey: API Key is invalid" in result["bad"]["msg"]
    assert any("applies to no indexer" in w for w in result["proxy"]["warnings"])
    prowlarr.reset_log()
    result = playbook.run([app, proxy])
    assert not result["app"]["changed"] and not result["proxy"]["changed"]
    assert prowlarr.writes() == []
    result = playbook.run([{"name": "app", "arrkestra.homelab.prowlarr_application": dict(
        conn(prowlarr), name="Radarr", sync_level="add_only")}])
    assert result["app"]["changes"] == ["syncLevel"]
    assert prowlarr.store["applications"][1]["syncLevel"] == "addOnly"


def test_module_defaults_groups_tags_and_info(playbook, radarr, prowlarr):
    defaults = {"group/arrkestra.homelab.radarr": conn(radarr), "group/arrkestra.homelab.prowlarr": conn(prowlarr)}
    result = playbook.run([
        {"name": "tag", "arrkestra.homelab.radarr_tag": {"label": "UHD"}},
        {"name": "ptag", "arrkestra.homelab.prowlarr_tag": {"label": "flaresolverr"}},
        {"name": "info", "arrkestra.homelab.servarr_info": conn(radarr)},
        {"name": "pinfo", "arrkestra.homelab.servarr_info": conn(prowlarr)},
    ], module_defaults=defaults)
    assert result["tag"]["changed"] and result["tag"]["tag"]["label"] == "uhd"
    assert result["ptag"]["changed"]
    assert result["info"]["app"] == "radarr" and result["info"]["version"] == radarr.version
    assert result["info"]["tags"] == ["uhd"] and result["info"]["download_clients"] == []
    assert result["pinfo"]["app"] == "prowlarr" and result["pinfo"]["applications"] == []
    result = playbook.run([{"name": "tag", "arrkestra.homelab.radarr_tag": {"label": "uhd", "state": "absent"}}],
                          module_defaults=defaults)
    assert result["tag"]["changed"] and not radarr.store["tag"]
