"""jellyfin_startup, jellyfin_api_key and jellyfin_library against the Jellyfin double."""

from __future__ import annotations

import pytest

from tests.doubles.jellyfin import JellyfinDouble
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration
PASSWORD = "jellyfin-admin-pw-1"


@pytest.fixture
def jellyfin():
    app = JellyfinDouble()
    server = app.serve()
    app.url = server.url
    yield app
    server.stop()
    app.assert_contract()


def admin(app, **options):
    return dict({"url": app.url, "admin_user": "admin", "admin_password": PASSWORD}, **options)


def test_wizard_once_then_never_again(tmp_path, jellyfin):
    playbook = Playbook(tmp_path)
    task = {"name": "wizard", "arrkestra.homelab.jellyfin_startup": admin(jellyfin, server_name="Home")}
    check = playbook.run([task], check=True, diff=True)["wizard"]
    assert check["changed"] and not jellyfin.completed and PASSWORD not in str(check)
    first = playbook.run([task])["wizard"]
    assert first["changed"] and jellyfin.completed
    assert jellyfin.user == {"Name": "admin", "Password": PASSWORD} and jellyfin.config["ServerName"] == "Home"
    order = [path for method, path in jellyfin.log if path.startswith("/Startup")]
    assert order == ["/Startup/Configuration", "/Startup/Configuration", "/Startup/User", "/Startup/User",
                     "/Startup/RemoteAccess", "/Startup/Complete"]
    jellyfin.reset_log()
    again = playbook.run([dict(task, **{"arrkestra.homelab.jellyfin_startup": admin(
        jellyfin, server_name="Other", admin_password="another")})])["wizard"]
    assert not again["changed"] and jellyfin.log == [("GET", "/System/Info/Public")]
    assert jellyfin.user["Password"] == PASSWORD     # a server already set up is never changed


def test_api_key_is_made_once_and_returned(tmp_path, jellyfin):
    jellyfin.complete_as("admin", PASSWORD)
    playbook = Playbook(tmp_path)
    task = {"name": "key", "arrkestra.homelab.jellyfin_api_key": admin(jellyfin, name="arrkestra")}
    assert playbook.run([task], check=True)["key"]["changed"] and jellyfin.keys == []
    first = playbook.run([task])["key"]
    assert first["changed"] and first["api_key"] == jellyfin.keys[0]["AccessToken"]
    second = playbook.run([task])["key"]
    assert not second["changed"] and second["api_key"] == first["api_key"] and len(jellyfin.keys) == 1
    gone = {"name": "key", "arrkestra.homelab.jellyfin_api_key": admin(jellyfin, name="arrkestra", state="absent")}
    assert playbook.run([gone])["key"]["changed"] and jellyfin.keys == []
    assert not playbook.run([gone])["key"]["changed"]


def test_a_known_key_needs_no_sign_in(tmp_path, jellyfin):
    """The wiring phase keeps the key in Jellyfin's Secret: the next run lists the keys with it and signs in no more."""
    jellyfin.complete_as("admin", PASSWORD)
    playbook = Playbook(tmp_path)
    first = playbook.run([{"name": "key", "arrkestra.homelab.jellyfin_api_key": admin(jellyfin, name="arrkestra")}])
    key = first["key"]["api_key"]
    jellyfin.reset_log()
    again = playbook.run([{"name": "key", "arrkestra.homelab.jellyfin_api_key": admin(
        jellyfin, name="arrkestra", api_key=key)}])["key"]
    assert not again["changed"] and "api_key" not in again       # still the key given
    assert jellyfin.log == [("GET", "/Auth/Keys")]            # no POST /Users/AuthenticateByName
    # A key revoked by hand: the module signs in and finds (or makes) the key again.
    jellyfin.keys.clear()
    jellyfin.reset_log()
    renewed = playbook.run([{"name": "key", "arrkestra.homelab.jellyfin_api_key": admin(
        jellyfin, name="arrkestra", api_key=key)}])["key"]
    assert renewed["changed"] and renewed["api_key"] != key
    assert ("POST", "/Users/AuthenticateByName") in jellyfin.log


def test_library_lifecycle_never_makes_movies2(tmp_path, jellyfin):
    jellyfin.complete_as("admin", PASSWORD)
    movies, uhd = tmp_path / "movies", tmp_path / "movies-4k"
    movies.mkdir()
    uhd.mkdir()
    playbook = Playbook(tmp_path)
    task = {"name": "lib", "arrkestra.homelab.jellyfin_library": admin(
        jellyfin, name="Movies", collection_type="movies", paths=[str(movies)])}
    assert playbook.run([task], check=True)["lib"]["changed"] and jellyfin.folders == []
    assert playbook.run([task])["lib"]["changed"]
    jellyfin.reset_log()
    again = playbook.run([task])["lib"]
    assert not again["changed"] and jellyfin.writes() == []
    assert [f["Name"] for f in jellyfin.folders] == ["Movies"]

    task["arrkestra.homelab.jellyfin_library"].update(paths=[str(movies), str(uhd)], options={"SaveLocalMetadata": True})
    more = playbook.run([task], diff=True)["lib"]
    assert sorted(more["changes"]) == ["options.SaveLocalMetadata", "paths"]
    folder = jellyfin.folders[0]
    assert folder["Locations"] == [str(movies), str(uhd)] and folder["LibraryOptions"]["SaveLocalMetadata"] is True

    folder["Locations"].append(str(uhd))     # a duplicate another tool added
    task["arrkestra.homelab.jellyfin_library"]["paths"] = [str(uhd)]
    assert playbook.run([task])["lib"]["changed"]
    assert jellyfin.folders[0]["Locations"] == [str(uhd)]

    gone = {"name": "lib", "arrkestra.homelab.jellyfin_library": admin(jellyfin, name="movies", state="absent")}
    assert playbook.run([gone])["lib"]["changed"] and jellyfin.folders == []


def test_clear_errors(tmp_path, jellyfin):
    jellyfin.complete_as("admin", PASSWORD)
    (tmp_path / "music").mkdir()
    playbook = Playbook(tmp_path)
    playbook.run([{"name": "music", "arrkestra.homelab.jellyfin_library": admin(
        jellyfin, name="Music", collection_type="music", paths=[str(tmp_path / "music")])}])
    results = playbook.run([
        {"name": "wrong password", "ignore_errors": True, "arrkestra.homelab.jellyfin_api_key": admin(
            jellyfin, name="x", admin_password="nope")},
        {"name": "missing path", "ignore_errors": True, "arrkestra.homelab.jellyfin_library": admin(
            jellyfin, name="Shows", collection_type="tvshows", paths=["/nowhere/tv"])},
        {"name": "bad type", "ignore_errors": True, "arrkestra.homelab.jellyfin_library": admin(
            jellyfin, name="Shows", collection_type="films")},
        {"name": "type change", "ignore_errors": True, "arrkestra.homelab.jellyfin_library": admin(
            jellyfin, name="Music", collection_type="movies")},
        {"name": "down", "ignore_errors": True, "arrkestra.homelab.jellyfin_startup": admin(
            jellyfin, url="http://127.0.0.1:9", retries=0)},
    ])
    assert "Jellyfin refused the sign-in of user 'admin': wrong user name or password" in results["wrong password"]["msg"]
    assert "Jellyfin cannot use '/nowhere/tv' for library 'Shows'" in results["missing path"]["msg"]
    assert "must exist inside the Jellyfin container" in results["missing path"]["msg"]
    assert "value of collection_type must be one of" in results["bad type"]["msg"]
    assert "exists in Jellyfin as music, not movies" in results["type change"]["msg"]
    assert "Cannot connect to Jellyfin at http://127.0.0.1:9" in results["down"]["msg"]
    assert "nope" not in str(results)


def test_links_set_up_a_new_server_in_one_run_then_read_only(tmp_path, jellyfin):
    """jellyfin_links: the wizard, the key and the libraries in one run; check mode stops after the wizard (no admin
    to sign in with yet); a re-run with the key it returned reads each collection once and signs in no more."""
    movies, shows = tmp_path / "movies", tmp_path / "tv"
    movies.mkdir()
    shows.mkdir()
    playbook = Playbook(tmp_path)

    def task(**extra):
        return {"name": "links", "no_log": False, "arrkestra.homelab.jellyfin_links": admin(jellyfin, **dict({
            "startup": {"server_name": "Home"}, "api_keys": [{"name": "arrkestra"}],
            "libraries": [{"name": "Movies", "collection_type": "movies", "paths": [str(movies)]},
                          {"name": "Shows", "collection_type": "tvshows", "paths": [str(shows)]}]}, **extra))}
    check = playbook.run([task()], check=True)["links"]
    assert check["startup"]["changed"] and check["api_keys"] == [] and check["libraries"] == []
    assert not jellyfin.completed and jellyfin.writes() == []
    first = playbook.run([task()])["links"]
    assert first["changed"] and jellyfin.completed and [f["Name"] for f in jellyfin.folders] == ["Movies", "Shows"]
    assert first["api_key"] == jellyfin.keys[0]["AccessToken"] and PASSWORD not in str(first)
    jellyfin.reset_log()
    again = playbook.run([task(api_key=first["api_key"])])["links"]
    assert not again["changed"] and "api_key" not in again and again["writes"] == 0
    assert jellyfin.writes() == []                       # no sign-in: the key it was given still works
    reads = [path for method, path in jellyfin.log if method == "GET"]
    assert reads.count("/Library/VirtualFolders") == 1 and reads.count("/Auth/Keys") == 1


def test_a_server_still_migrating_at_start_up_is_waited_for(tmp_path, jellyfin):
    """While Jellyfin migrates its database its stand-in server says the wizard never ran and /health "Degraded"
    (SetupServer.cs at v10.11.11): the wizard of a server set up long ago is not run again."""
    jellyfin.complete_as("admin", PASSWORD)
    jellyfin.booting = 2
    result = Playbook(tmp_path).run([{"name": "wizard", "arrkestra.homelab.jellyfin_startup": admin(jellyfin)}])
    assert not result["wizard"]["changed"], result
    assert jellyfin.writes() == [] and jellyfin.log.count(("GET", "/health")) == 2


def test_jellyfin_12_refuses_a_second_first_user_and_the_wizard_goes_on(tmp_path):
    """Jellyfin 12 answers 403 to POST /Startup/User once the first user has a password (StartupController.cs:143-146
    at v12.0-rc5): a wizard cut short after that step is finished, the password proved by the sign-in."""
    app = JellyfinDouble(version="12.0.0")
    app.user, app.startup_user_read = {"Name": "admin", "Password": PASSWORD}, True
    with app.serve() as server:
        app.url = server.url
        result = Playbook(tmp_path).run([{"name": "wizard", "arrkestra.homelab.jellyfin_startup": admin(app)}])
    assert result["wizard"]["changed"] and app.completed, result
    assert ("POST", "/Users/AuthenticateByName") in app.log


def test_encoding_sets_only_the_fields_named_and_keeps_the_rest(tmp_path, jellyfin):
    jellyfin.complete_as("admin", PASSWORD)
    jellyfin.keys.append({"AccessToken": "k" * 32, "AppName": "arrkestra"})
    jellyfin.encoding["H264Crf"] = 20                     # set by hand in the dashboard: kept
    playbook = Playbook(tmp_path)
    args = {"url": jellyfin.url, "api_key": "k" * 32, "hardware_acceleration": "vaapi",
            "hardware_decoding_codecs": ["h264", "hevc", "vp9"], "enable_tonemapping": True}
    task = {"name": "encoding", "arrkestra.homelab.jellyfin_encoding": args}
    check = playbook.run([task], check=True, diff=True)["encoding"]
    assert check["changed"] and jellyfin.writes() == []
    assert sorted(check["changes"]) == ["EnableTonemapping", "HardwareAccelerationType", "HardwareDecodingCodecs"]
    result = playbook.run([task])["encoding"]
    assert result["changed"] and jellyfin.encoding["HardwareAccelerationType"] == "vaapi"
    # the whole object went back: what the task did not name is as it was, the encoder path Jellyfin's
    assert jellyfin.encoding["H264Crf"] == 20 and jellyfin.encoding["VaapiDevice"] == "/dev/dri/renderD128"
    assert jellyfin.encoding["EncoderAppPath"] == "/usr/lib/jellyfin-ffmpeg/ffmpeg"
    assert ("POST", "/Users/AuthenticateByName") not in jellyfin.log      # the key signs in
    jellyfin.reset_log()
    again = playbook.run([{"name": "encoding", "arrkestra.homelab.jellyfin_encoding": dict(
        args, hardware_decoding_codecs=["VP9", "h264", "hevc"])}])["encoding"]
    assert not again["changed"] and jellyfin.writes() == []


def test_encoding_refuses_what_jellyfin_would_ignore_or_refuse(tmp_path, jellyfin):
    jellyfin.complete_as("admin", PASSWORD)
    result = Playbook(tmp_path).run([
        {"name": "case", "ignore_errors": True, "arrkestra.homelab.jellyfin_encoding": admin(
            jellyfin, options={"hardwareAccelerationType": "vaapi"})},
        {"name": "path", "ignore_errors": True, "arrkestra.homelab.jellyfin_encoding": admin(
            jellyfin, options={"EncoderAppPath": "/usr/bin/ffmpeg"})},
        {"name": "no login", "ignore_errors": True, "arrkestra.homelab.jellyfin_encoding": {
            "url": jellyfin.url, "hardware_acceleration": "none"}},
    ])
    assert "has no encoding option hardwareAccelerationType" in result["case"]["msg"]
    assert "refuses a new encoder path" in result["path"]["msg"]
    assert "needs `api_key`" in result["no login"]["msg"]
    assert jellyfin.writes() == []


def test_links_set_the_encoding_of_the_pods_gpu_then_back_to_software(tmp_path, jellyfin):
    """jellyfin_links' encoding group, with what the wiring derives for an Intel GPU (Quick Sync, its device found by
    Intel's vendor id), then for none: only the fields named change, a re-run writes nothing."""
    from ansible_collections.arrkestra.homelab.plugins.plugin_utils import gpu, model
    jellyfin.complete_as("admin", PASSWORD)
    jellyfin.keys.append({"AccessToken": "k" * 32, "AppName": "arrkestra"})
    jellyfin.encoding["H264Crf"] = 20
    stack = model.build({"apps": {"jellyfin": {"transcoding": {"device": "intel", "render_gid": 993}}}})
    intel = gpu.encoding(stack["apps"][0])
    playbook = Playbook(tmp_path)

    def task(encoding):
        return {"name": "links", "no_log": False, "arrkestra.homelab.jellyfin_links": {
            "url": jellyfin.url, "api_key": "k" * 32, "encoding": encoding}}
    first = playbook.run([task(intel)])["links"]
    assert first["changed"] and sorted(first["encoding"]["changes"]) == ["HardwareAccelerationType",
                                                                         "HardwareDecodingCodecs"]
    assert jellyfin.encoding["HardwareAccelerationType"] == "qsv" and jellyfin.encoding["QsvDevice"] == ""
    assert jellyfin.encoding["HardwareDecodingCodecs"] == ["h264", "hevc", "vc1"] and jellyfin.encoding["H264Crf"] == 20
    jellyfin.reset_log()
    again = playbook.run([task(intel)])["links"]
    assert not again["changed"] and jellyfin.writes() == [] and again["writes"] == 0
    off = playbook.run([task(gpu.encoding(model.build({"apps": {"jellyfin": {}}})["apps"][0]))])["links"]
    assert off["changed"] and off["encoding"]["changes"] == ["HardwareAccelerationType"]
    assert jellyfin.encoding["HardwareAccelerationType"] == "none"
    assert jellyfin.encoding["HardwareDecodingCodecs"] == ["h264", "hevc", "vc1"]     # not named: kept
