"""qbittorrent_category and qbittorrent_preferences against the real qbittorrent-nox from Debian."""

from __future__ import annotations

import httpx
import pytest

from tests.lab.clients import qbittorrent  # noqa: F401 pylint: disable=unused-import
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration


@pytest.fixture
def playbook(tmp_path):
    return Playbook(tmp_path)


def conn(client, **extra):
    return dict({"url": client.url, "username": client.username, "password": client.password}, **extra)


def api(client, path, data=None):
    with httpx.Client(base_url=client.url, headers={"Referer": client.url}, timeout=10) as http:
        http.post("/api/v2/auth/login", data={"username": client.username, "password": client.password})
        if data is not None:
            http.post(path, data=data).raise_for_status()
            return None
        return http.get(path).json()


def test_category_lifecycle(playbook, qbittorrent, tmp_path):
    # Made by hand: never touched.
    api(qbittorrent, "/api/v2/torrents/createCategory", {"category": "manual", "savePath": "/srv/manual"})
    task = {"name": "cat", "arrkestra.homelab.qbittorrent_category": conn(
        qbittorrent, name="radarr-4k", save_path="/data/torrents/radarr-4k/")}

    check = playbook.run([task], check=True, diff=True)["cat"]
    assert check["changed"] and check["diff"]["after"]["save_path"] == "/data/torrents/radarr-4k"
    assert "radarr-4k" not in api(qbittorrent, "/api/v2/torrents/categories")

    assert playbook.run([task])["cat"]["changed"]
    assert api(qbittorrent, "/api/v2/torrents/categories")["radarr-4k"]["savePath"].rstrip("/") == "/data/torrents/radarr-4k"
    again = playbook.run([task])["cat"]
    assert not again["changed"] and again["category"] == {"name": "radarr-4k", "save_path": "/data/torrents/radarr-4k"}

    task["arrkestra.homelab.qbittorrent_category"]["save_path"] = "/data/torrents/uhd"
    moved = playbook.run([task], diff=True)["cat"]
    assert moved["changed"] and moved["changes"] == ["save_path"]
    assert moved["diff"]["before"]["save_path"] == "/data/torrents/radarr-4k"
    assert api(qbittorrent, "/api/v2/torrents/categories")["radarr-4k"]["savePath"].rstrip("/") == "/data/torrents/uhd"

    task["arrkestra.homelab.qbittorrent_category"]["state"] = "absent"
    assert playbook.run([task])["cat"]["changed"]
    assert not playbook.run([task])["cat"]["changed"]
    categories = api(qbittorrent, "/api/v2/torrents/categories")
    assert "radarr-4k" not in categories and "manual" in categories


def test_a_kept_session_spares_the_sign_in(playbook, qbittorrent, tmp_path):
    """The session of a sign-in is kept (0600, per URL, user and password): the next run reuses it, and a session
    qBittorrent no longer knows (a restart) is replaced by a new sign-in."""
    import os
    cache = tmp_path / "sessions"
    task = {"name": "cat", "arrkestra.homelab.qbittorrent_category": conn(
        qbittorrent, name="kept", save_path="/data/torrents/kept", session_cache=str(cache))}
    assert playbook.run([task])["cat"]["changed"]
    [kept] = list(cache.iterdir())
    assert oct(kept.stat().st_mode & 0o777) == "0o600" and oct(cache.stat().st_mode & 0o777) == "0o700"
    session = kept.read_text()
    assert session and session not in str(playbook.run([task], verbosity=3, raw=True).stdout)
    assert kept.read_text() == session            # every login makes a new SID: this run made none
    kept.write_text("stale-session")
    assert not playbook.run([task])["cat"]["changed"]
    assert kept.read_text() not in ("stale-session", session)
    wrong = {"name": "cat", "ignore_errors": True, "arrkestra.homelab.qbittorrent_category": conn(
        qbittorrent, name="kept", password="not-the-password", session_cache=str(cache))}
    assert "wrong username or password" in playbook.run([wrong])["cat"]["msg"]
    assert len(os.listdir(cache)) == 1


def test_preferences_only_what_is_named(playbook, qbittorrent):
    before = api(qbittorrent, "/api/v2/app/preferences")
    task = {"name": "prefs", "arrkestra.homelab.qbittorrent_preferences": conn(qbittorrent, preferences={
        "temp_path_enabled": True, "temp_path": "/data/torrents/incomplete", "max_ratio_enabled": True,
        "max_ratio": 2, "max_active_downloads": 4})}
    assert playbook.run([task], check=True)["prefs"]["changed"]
    assert api(qbittorrent, "/api/v2/app/preferences")["max_active_downloads"] == before["max_active_downloads"]
    first = playbook.run([task], diff=True)["prefs"]
    assert first["changed"] and "max_ratio" in first["changes"]
    after = api(qbittorrent, "/api/v2/app/preferences")
    assert after["max_ratio"] == 2 and after["temp_path"].rstrip("/") == "/data/torrents/incomplete"
    assert after["save_path"] == before["save_path"] and after["listen_port"] == before["listen_port"]
    assert not playbook.run([task])["prefs"]["changed"]


def test_clear_errors(playbook, qbittorrent):
    results = playbook.run([
        {"name": "wrong password", "ignore_errors": True, "arrkestra.homelab.qbittorrent_category": dict(
            conn(qbittorrent), password="not-it", name="x")},
        {"name": "unknown preference", "ignore_errors": True, "arrkestra.homelab.qbittorrent_preferences": dict(
            conn(qbittorrent), preferences={"save_pth": "/x"})},
        {"name": "write-only preference", "ignore_errors": True, "arrkestra.homelab.qbittorrent_preferences": dict(
            conn(qbittorrent), preferences={"web_ui_password": "x"})},
        {"name": "unreachable", "ignore_errors": True, "arrkestra.homelab.qbittorrent_category": dict(
            conn(qbittorrent), url="http://127.0.0.1:9", name="x", retries=0)},
    ])
    assert "refused the login of user 'admin': wrong username or password" in results["wrong password"]["msg"]
    assert "has no preference save_pth" in results["unknown preference"]["msg"]
    assert "never returns web_ui_password" in results["write-only preference"]["msg"]
    assert "Cannot connect to qBittorrent at http://127.0.0.1:9" in results["unreachable"]["msg"]
    for result in results.values():
        assert "Traceback" not in str(result) and "not-it" not in str(result)


def test_links_make_every_category_in_one_run(playbook, qbittorrent):
    """qbittorrent_links: the categories of every arr instance in one run; a re-run reads them once, writes nothing;
    a category made by hand is never touched, one switched off is removed."""
    # (the qBittorrent of this file is shared by its tests: names of their own)
    api(qbittorrent, "/api/v2/torrents/createCategory", {"category": "by-hand", "savePath": "/srv/by-hand"})
    items = [{"name": name, "save_path": "/data/torrents/" + name} for name in ("l-radarr", "l-radarr-4k", "l-sonarr")]
    task = {"name": "links", "arrkestra.homelab.qbittorrent_links": conn(qbittorrent, categories=items)}
    check = playbook.run([task], check=True)["links"]
    assert check["changed"] and "l-radarr" not in api(qbittorrent, "/api/v2/torrents/categories")
    first = playbook.run([task])["links"]
    assert first["changed"] and [r["changed"] for r in first["categories"]] == [True, True, True]
    again = playbook.run([task])["links"]
    assert not again["changed"] and again["writes"] == 0
    assert again["requests"] <= 2       # the categories, once (and a sign-in only without a kept session)
    task["arrkestra.homelab.qbittorrent_links"]["categories"] = items[:2] + [dict(items[2], state="absent")]
    assert playbook.run([task])["links"]["changed"]
    categories = api(qbittorrent, "/api/v2/torrents/categories")
    assert {"by-hand", "l-radarr", "l-radarr-4k"} <= set(categories) and "l-sonarr" not in categories
