"""servarr_links: every link of an app in one task, one GET per collection on a no-op run."""

import pytest

from tests.integration.servarr.conftest import API_KEY, conn

pytestmark = pytest.mark.integration


def links_task(app, kind, **lists):
    return {"name": "links", "arrkestra.homelab.servarr_links": dict(conn(app), app=kind, **lists)}


def test_radarr_links_converge_then_only_read(playbook, radarr, qbittorrent, nzbget, tmp_path):
    (tmp_path / "movies").mkdir()
    hand_made = radarr.add_provider("downloadclient", "Hand made", "Transmission", host="transmission", port=9091)
    lists = {
        "tags": [{"label": "arrkestra"}],
        "root_folders": [{"path": str(tmp_path / "movies")}],
        "download_clients": [
            {"name": "qbittorrent", "implementation": "QBittorrent", "host": "127.0.0.1", "port": qbittorrent.port,
             "username": qbittorrent.username, "password": qbittorrent.password, "category": "radarr",
             "tags": ["arrkestra"]},
            {"name": "nzbget", "implementation": "Nzbget", "host": "127.0.0.1", "port": nzbget.port,
             "username": nzbget.username, "password": nzbget.password, "category": "radarr"},
        ],
    }
    result = playbook.run([links_task(radarr, "radarr", **lists)], check=True, diff=True)["links"]
    assert result["changed"] and radarr.writes() == []
    assert [d["after_header"] for d in result["diff"]] == [
        "tag arrkestra", "root folder %s" % (tmp_path / "movies"), "download client qbittorrent",
        "download client nzbget"]

    result = playbook.run([links_task(radarr, "radarr", **lists)], diff=True)["links"]
    assert result["changed"], result
    assert [r["changed"] for r in result["download_clients"]] == [True, True]
    assert radarr.secret("downloadclient", "qbittorrent", "password") == qbittorrent.password
    assert result["download_clients"][0]["download_client"]["fields"]["password"] == "<hidden>"

    # no-op: one GET per collection for the whole app, however many items name it
    radarr.reset_log()
    result = playbook.run([links_task(radarr, "radarr", **lists)])["links"]
    assert not result["changed"] and radarr.writes() == []
    assert sorted(radarr.log) == [("GET", "/api/v3/downloadclient"), ("GET", "/api/v3/rootfolder"),
                                  ("GET", "/api/v3/tag")]
    assert (result["requests"], result["writes"]) == (3, 0)

    # an item marked absent goes; the hand-made client stays
    lists["download_clients"][1] = {"name": "NZBGET", "state": "absent"}
    result = playbook.run([links_task(radarr, "radarr", **lists)])["links"]
    assert [r["changed"] for r in result["download_clients"]] == [False, True]
    names = sorted(item["name"] for item in radarr.store["downloadclient"].values())
    assert names == ["Hand made", "qbittorrent"]
    assert hand_made["id"] in radarr.store["downloadclient"]


def test_prowlarr_links_and_wrong_lists(playbook, prowlarr, radarr):
    lists = {"applications": [{"name": "radarr", "implementation": "Radarr", "prowlarr_url": prowlarr.url,
                               "base_url": radarr.url, "app_api_key": API_KEY}],
             "indexer_proxies": [{"name": "FlareSolverr", "host": prowlarr.url + "/ping", "tags": ["flaresolverr"]}]}
    result = playbook.run([links_task(prowlarr, "prowlarr", **lists)])["links"]
    assert result["changed"]
    prowlarr.reset_log()
    result = playbook.run([links_task(prowlarr, "prowlarr", **lists)])["links"]
    assert not result["changed"] and prowlarr.writes() == []
    assert sorted(set(prowlarr.log)) == sorted(prowlarr.log)  # every collection read once

    bad = links_task(prowlarr, "prowlarr", download_clients=[{"name": "x"}])
    bad["ignore_errors"] = True
    result = playbook.run([bad])["links"]
    assert result["failed"]
    assert "Prowlarr has no download clients: give download_clients only to radarr/sonarr/lidarr." in result["msg"]
