"""Where Seerr 3.1.0 looks for settings.json, and the stack's seed for it (the Seerr double loads it as Seerr does)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import credentials as app_credentials, model as stack_model, workloads
from tests.doubles.seerr import SeerrDouble, SeerrStartError, load_settings
from tests.integration.qbittorrent.test_seed import run_seed

pytestmark = pytest.mark.integration


def seed_file(root, path, data):
    full = root / path.lstrip("/")
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_text(json.dumps(data), encoding="utf-8")


def test_config_directory_decides(tmp_path):
    seed_file(tmp_path, "/config/settings.json", {"main": {"apiKey": "seeded"}})
    ignored = load_settings({}, str(tmp_path))        # the image's default is /app/config
    assert ignored["api_key"] != "seeded" and ignored["path"] == str(tmp_path / "app/config/settings.json")
    assert load_settings({"CONFIG_DIRECTORY": "/config"}, str(tmp_path))["api_key"] == "seeded"
    assert load_settings({"CONFIG_DIRECTORY": "/config", "API_KEY": "env"}, str(tmp_path))["api_key"] == "env"
    seed_file(tmp_path, "/broken/settings.json", {"public": {"initialized": True}})
    with pytest.raises(SeerrStartError):
        load_settings({"CONFIG_DIRECTORY": "/broken"}, str(tmp_path))


def test_stack_seed_gives_seerr_its_key(tmp_path):
    stack = stack_model.build({"apps": {"seerr": {}}})
    app = next(a for a in stack["apps"] if a["kind"] == "seerr")
    credentials = app_credentials.complete_credentials(stack, {}, os.urandom)[app["name"]]
    container = workloads.container(stack, app)
    mounts = dict((m["name"], m["mountPath"]) for m in container["volumeMounts"])
    volume = tmp_path / mounts["config"].lstrip("/")      # the config volume, where the app container sees it
    volume.mkdir(parents=True)
    run_seed(stack, app, volume, credentials)
    env = dict((e["name"], e.get("value", "")) for e in container["env"] if "value" in e)
    double = SeerrDouble.from_config(env, str(tmp_path))
    assert double.api_key == credentials["api_key"], (
        "Seerr reads %s; the config volume is mounted at %s" % (
            double.settings_path[len(str(tmp_path)):], mounts))
