# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recyclarr's configuration, made from the stack."""

from __future__ import annotations

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model as stack_model, workloads


def test_recyclarr_syncs_trash_profiles_per_instance():
    stack = stack_model.build({"apps": {"radarr": {}, "radarr-4k": {"kind": "radarr"}, "sonarr": {}, "recyclarr": {}}})
    objs = dict(((o["kind"], o["metadata"]["name"]), o) for o in workloads.objects(stack))
    config = objs[("ConfigMap", "recyclarr-configs")]["data"]["arrkestra.yml"]
    assert "  radarr-4k:\n    base_url: http://radarr-4k.media.svc.cluster.local:7878\n" in config
    assert "api_key: !env_var RADARR_4K_API_KEY" in config and "radarr-quality-profile-uhd-bluray-web" in config
    assert "sonarr-v4-quality-profile-web-1080p" in config
    job = objs[("CronJob", "recyclarr")]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    keys = dict((e["name"], e["valueFrom"]["secretKeyRef"]["name"]) for e in job["env"] if "valueFrom" in e)
    assert keys == {"RADARR_API_KEY": "radarr-credentials", "RADARR_4K_API_KEY": "radarr-4k-credentials",
                    "SONARR_API_KEY": "sonarr-credentials"}
