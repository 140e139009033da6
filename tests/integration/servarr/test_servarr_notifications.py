"""The notification modules (Radarr, Sonarr, Lidarr) through ansible-playbook, against the Servarr doubles and the
Jellyfin double: what the apps test when a notification is saved, events as the app's own flags, secrets kept."""

import pytest

from tests.doubles.jellyfin import JellyfinDouble
from tests.integration.servarr.conftest import conn

pytestmark = pytest.mark.integration

EVENTS = {"radarr": ["download", "upgrade", "rename", "movie_delete", "movie_file_delete", "movie_file_delete_for_upgrade"],
          "lidarr": ["release_import", "upgrade", "rename", "artist_delete", "album_delete"]}


@pytest.fixture
def jellyfin():
    app = JellyfinDouble()
    app.complete_as("admin", "pw")
    app.keys.append({"AccessToken": "f" * 32, "AppName": "arrkestra"})
    server = app.serve()
    app.port = server.port
    yield app
    server.stop()
    app.assert_contract()


def task(app, jellyfin, name="Jellyfin", register="n", **extra):
    args = dict(conn(app), name=name, implementation="MediaBrowser", host="127.0.0.1", port=jellyfin.port,
                server_api_key="f" * 32, update_library=True, notify=False, events=EVENTS.get(app.kind))
    args.update(extra)
    return {"name": register, "arrkestra.homelab.%s_notification" % app.kind: args}


def test_notification_lifecycle_touches_only_its_own(playbook, radarr, jellyfin):
    hand_made = radarr.add_provider("notification", "My webhook", "Webhook", url="http://hook.example/", password="s")
    # check mode: a creation, nothing sent to Radarr or to Jellyfin
    result = playbook.run([task(radarr, jellyfin)], check=True, diff=True)
    assert result["n"]["changed"] and result["n"]["diff"]["before"] == {}
    assert result["n"]["diff"]["after"]["fields"]["apiKey"] == "<hidden>"
    assert radarr.writes() == [] and jellyfin.log == []

    # the run: Radarr tests it - a POST to Jellyfin's /Notifications/Admin, which Jellyfin does not have (404),
    # taken as a success - and keeps it with the events as flags
    result = playbook.run([task(radarr, jellyfin)])
    assert result["n"]["changed"], result
    assert result["n"]["notification"]["events"] == sorted(EVENTS["radarr"])
    assert ("POST", "/Notifications/Admin") in jellyfin.log
    stored = next(n for n in radarr.store["notification"].values() if n["name"] == "Jellyfin")
    assert stored["onDownload"] and stored["onMovieFileDeleteForUpgrade"] and not stored["onGrab"]
    assert radarr.secret("notification", "Jellyfin", "apiKey") == "f" * 32
    headers = radarr.media_server_calls[-1][2]
    assert headers["X-MediaBrowser-Token"] == "f" * 32

    # the re-run reads the collection once and writes nothing
    radarr.reset_log()
    result = playbook.run([task(radarr, jellyfin)])
    assert not result["n"]["changed"], result
    assert radarr.writes() == [] and radarr.log.count(("GET", "/api/v3/notification")) == 1

    # one event less: only that flag changes, the stored key stays
    result = playbook.run([task(radarr, jellyfin, events=EVENTS["radarr"][:-1])])
    assert result["n"]["changes"] == ["onMovieFileDeleteForUpgrade"], result
    assert radarr.secret("notification", "Jellyfin", "apiKey") == "f" * 32

    # absent: only it goes; the webhook made by hand is as it was
    result = playbook.run([{"name": "gone", "arrkestra.homelab.radarr_notification": dict(
        conn(radarr), name="JELLYFIN", state="absent")}])
    assert result["gone"]["changed"]
    assert list(radarr.store["notification"].values()) == [hand_made]


def test_events_are_the_apps_own(playbook, radarr, lidarr, jellyfin):
    result = playbook.run([
        dict(task(radarr, jellyfin, register="unknown", events=["download", "series_add"]), ignore_errors=True),
        dict(task(radarr, jellyfin, register="idle", events=["download", "movie_added"]), ignore_errors=True),
        task(lidarr, jellyfin, register="lidarr"),
    ])
    assert "Radarr has no notification event series_add" in result["unknown"]["msg"]
    assert "movie_file_delete_for_upgrade" in result["unknown"]["msg"]        # the hint lists Radarr's events
    assert "does not act on movie_added" in result["idle"]["msg"]
    assert radarr.writes() == []
    # Lidarr: its own flags, and its Emby / Jellyfin test under /mediabrowser
    assert result["lidarr"]["changed"] and result["lidarr"]["notification"]["events"] == sorted(EVENTS["lidarr"])
    assert ("POST", "/mediabrowser/Notifications/Admin") in jellyfin.log


def test_what_radarr_refuses_is_said_in_its_words(playbook, radarr, jellyfin):
    result = playbook.run([
        dict(task(radarr, jellyfin, register="no key", server_api_key=None), ignore_errors=True),
        dict(task(radarr, jellyfin, register="url host", host="http://jellyfin"), ignore_errors=True),
        dict(task(radarr, jellyfin, register="down", host="jellyfin.invalid", force_save=True), ignore_errors=True),
    ])
    assert "ApiKey: 'Api Key' must not be empty." in result["no key"]["msg"]
    assert "must be valid Host without http://" in result["url host"]["msg"]
    # a creation is tested even with force_save; the hint says where the address must resolve
    assert "Unable to send test message" in result["down"]["msg"]
    assert "reachable from Radarr" in result["down"]["msg"]
    assert radarr.store.get("notification", {}) == {}


def test_a_rotated_key_is_written_only_when_asked(playbook, radarr, jellyfin):
    playbook.run([task(radarr, jellyfin)])
    radarr.reset_log()
    result = playbook.run([task(radarr, jellyfin, server_api_key="e" * 32)])
    assert not result["n"]["changed"] and radarr.writes() == []         # the app masks it: not compared
    result = playbook.run([task(radarr, jellyfin, server_api_key="e" * 32, update_secrets=True)])
    assert result["n"]["changed"] and "fields.apiKey (secret, rewritten)" in result["n"]["changes"]
    assert radarr.secret("notification", "Jellyfin", "apiKey") == "e" * 32


def test_servarr_info_lists_the_notifications(playbook, sonarr, jellyfin):
    playbook.run([task(sonarr, jellyfin, events=["download", "rename"])])
    result = playbook.run([{"name": "info", "arrkestra.homelab.servarr_info": conn(sonarr)}])
    (notification,) = result["info"]["notifications"]
    assert notification["name"] == "Jellyfin" and notification["fields"]["apiKey"] == "<hidden>"
    assert notification["onDownload"] and not notification["onGrab"]
