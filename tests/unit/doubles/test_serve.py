"""tests/doubles/serve.py: each double takes its credentials where its app reads them - the files the collection's
seed containers write (run here with sh, /config moved to a temporary folder) and the env the pod spec sets."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils.workloads import SEED_SCRIPTS
from tests.doubles import seerr as seerr_module, serve, servarr as servarr_module


def seed(app, root, **env):
    """Run the collection's seed script of ``app`` with ``root`` standing for the config volume's /config."""
    config = root / "config"
    config.mkdir(exist_ok=True)
    script = re.sub(r"(?<=[=\s])/config", str(config), SEED_SCRIPTS[app])  # the mount point, not config/config
    subprocess.run(["sh", "-c", script], env=dict(env, PATH="/usr/bin:/bin"), check=True)


def served(app):
    return app.serve()


def test_servarr_key_from_the_env_the_collection_sets(tmp_path):
    env = {"RADARR__AUTH__APIKEY": "envkey", "RADARR__AUTH__METHOD": "Forms", "RADARR__AUTH__REQUIRED": "Enabled"}
    app, port, source = serve.make("radarr", env, str(tmp_path))
    assert (app.api_key, port, source) == ("envkey", 7878, "API key from RADARR__AUTH__APIKEY")
    assert app.auth_method() == "forms"
    with served(app) as server:
        assert httpx.get(server.url + "/api/v3/system/status", headers={"X-Api-Key": "envkey"}).status_code == 200
        assert httpx.get(server.url + "/api/v3/system/status", headers={"X-Api-Key": "other"}).status_code == 401


def test_servarr_key_and_port_from_config_xml_env_wins(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.xml").write_text(
        "<?xml version='1.0' encoding='utf-8'?>\n<Config>\n  <ApiKey>filekey</ApiKey>\n  <Port>7000</Port>\n"
        "  <AuthenticationMethod>Forms</AuthenticationMethod>\n</Config>\n", encoding="utf-8")
    app, port, dummy = serve.make("sonarr", {}, str(tmp_path))
    assert (app.api_key, port, app.auth_method()) == ("filekey", 7000, "forms")
    app, dummy, dummy2 = serve.make("sonarr", {"SONARR__AUTH__APIKEY": "envkey", "SONARR__AUTH__METHOD": "None"}, str(tmp_path))
    assert (app.api_key, app.auth_method()) == ("envkey", "none")


def test_servarr_without_a_key_exits_1(tmp_path, capsys):
    assert serve.main(["prowlarr", "--check"], env={}, root=str(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "PROWLARR__AUTH__APIKEY is not set" in err and "config.xml is missing" in err


def test_sabnzbd_reads_the_seeded_ini(tmp_path):
    seed("sabnzbd", tmp_path, API_KEY="sabkey", HOST_WHITELIST="sabnzbd, sabnzbd.media, sabnzbd.media.svc",
         DOWNLOAD_DIR="/data/usenet/incomplete", COMPLETE_DIR="/data/usenet/complete", USERNAME="", PASSWORD="")
    app, port, dummy = serve.make("sabnzbd", {}, str(tmp_path))
    assert (app.api_key, port) == ("sabkey", 8080)
    assert app.host_whitelist == ["sabnzbd", "sabnzbd.media", "sabnzbd.media.svc"]
    with served(app) as server:
        ok = httpx.get(server.url + "/api", params={"mode": "get_config", "section": "categories", "apikey": "sabkey",
                                                    "output": "json"}, headers={"Host": "sabnzbd.media.svc:8080"})
        assert ok.status_code == 200 and "categories" in ok.json()["config"]
        refused = httpx.get(server.url + "/api", params={"mode": "get_config", "apikey": "nope"},
                            headers={"Host": "sabnzbd:8080"})
        assert (refused.status_code, refused.text) == (403, "API Key Incorrect")


def test_sabnzbd_image_env_edits_existing_lines_only(tmp_path):
    (tmp_path / "config").mkdir()
    ini = tmp_path / "config" / "sabnzbd.ini"
    ini.write_text("[misc]\napi_key = filekey\nhost_whitelist = a\n", encoding="utf-8")
    env = {"SABNZBD__API_KEY": "envkey", "SABNZBD__HOST_WHITELIST_ENTRIES": "b, c", "HOSTNAME": "pod-1"}
    app, dummy, dummy2 = serve.make("sabnzbd", env, str(tmp_path))
    assert (app.api_key, app.host_whitelist) == ("envkey", ["pod-1", "b", "c"])
    ini.write_text("[misc]\nusername = u\n", encoding="utf-8")  # no api_key line: sed changes nothing
    with pytest.raises(serve.StartError, match="no api_key"):
        serve.make("sabnzbd", {"SABNZBD__API_KEY": "envkey"}, str(tmp_path))


def test_sabnzbd_without_its_ini_exits_1(tmp_path, capsys):
    assert serve.main(["sabnzbd"], env={}, root=str(tmp_path)) == 1
    assert "sabnzbd.ini is missing" in capsys.readouterr().err


def test_bazarr_reads_the_seeded_config_yaml(tmp_path):
    seed("bazarr", tmp_path, API_KEY="bazkey", USERNAME="admin", PASSWORD_MD5="5f4dcc3b5aa765d61d8327deb882cf99")
    app, port, dummy = serve.make("bazarr", {}, str(tmp_path))
    assert (app.api_key, port) == ("bazkey", 6767)
    assert app.settings["auth"] == {"apikey": "bazkey", "type": "form", "username": "admin",
                                    "password": "5f4dcc3b5aa765d61d8327deb882cf99"}
    with served(app) as server:
        assert httpx.get(server.url + "/api/system/settings", headers={"X-API-KEY": "bazkey"}).status_code == 200
        assert httpx.get(server.url + "/api/system/settings", headers={"X-API-KEY": "x"}).status_code == 401


def test_bazarr_without_a_key_exits_1(tmp_path, capsys):
    assert serve.main(["bazarr", "--check"], env={}, root=str(tmp_path)) == 1
    assert "config/config/config.yaml is missing" in capsys.readouterr().err
    (tmp_path / "config" / "config").mkdir(parents=True)
    (tmp_path / "config" / "config" / "config.yaml").write_text("general:\n  port: 6767\n", encoding="utf-8")
    with pytest.raises(serve.StartError, match="no auth.apikey"):
        serve.make("bazarr", {}, str(tmp_path))


def test_seerr_reads_the_seeded_settings_and_api_key(tmp_path):
    (tmp_path / "app").mkdir()
    seed("seerr", tmp_path, API_KEY="seerkey")
    env = {"CONFIG_DIRECTORY": "/config", "API_KEY": "seerkey"}
    app, port, dummy = serve.make("seerr", env, str(tmp_path))
    assert (app.api_key, port, app.initialized) == ("seerkey", 5055, False)
    app, dummy, dummy2 = serve.make("seerr", {"CONFIG_DIRECTORY": "/config"}, str(tmp_path))
    assert app.api_key == "seerkey"      # from settings.json alone


def test_seerr_with_a_broken_settings_file_exits_1(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text('{"public": {}}', encoding="utf-8")
    assert serve.main(["seerr", "--check"], env={"CONFIG_DIRECTORY": "/config"}, root=str(tmp_path)) == 1
    assert "settings.main is undefined" in capsys.readouterr().err


@pytest.mark.parametrize("kind,port", [("jellyfin", 8096), ("flaresolverr", 8191)])
def test_apps_without_credentials(tmp_path, kind, port):
    app, got, dummy = serve.make(kind, {}, str(tmp_path))
    assert got == port
    assert serve.main([kind, "--check"], env={}, root=str(tmp_path)) == 0


def test_kind_from_the_environment_and_unknown_kinds(tmp_path, capsys):
    assert serve.main(["--check"], env={"ARRKESTRA_DOUBLE": "flaresolverr"}, root=str(tmp_path)) == 0
    with pytest.raises(SystemExit):
        serve.main(["transmission"], env={}, root=str(tmp_path))


def test_pod_network_is_private_addresses(monkeypatch):
    assert serve.pod_reachable("127.0.0.1") and serve.pod_reachable("10.42.0.7") and serve.pod_reachable("fd00::1")
    assert not serve.pod_reachable("8.8.8.8")
    monkeypatch.setattr(servarr_module, "is_loopback", servarr_module.is_loopback)
    monkeypatch.setattr(seerr_module, "_loopback", seerr_module._loopback)
    serve.allow_pod_network()
    assert servarr_module.is_loopback("10.43.0.10") and seerr_module._loopback("192.168.1.2")


def test_each_request_is_a_line_of_the_pod_log(tmp_path):
    import io

    out = io.StringIO()
    app, dummy, dummy2 = serve.make("radarr", {"RADARR__AUTH__APIKEY": "k"}, str(tmp_path))
    with served(serve.log_requests(app, out)) as server:
        httpx.get(server.url + "/ping")
        httpx.post(server.url + "/api/v3/rootfolder", headers={"X-Api-Key": "wrong"}, json={})
    assert out.getvalue().splitlines() == ["REQUEST GET /ping 200", "REQUEST POST /api/v3/rootfolder 401"]
