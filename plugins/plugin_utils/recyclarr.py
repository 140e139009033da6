# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Recyclarr: a CronJob that syncs the TRaSH guides' quality profiles into every Radarr and Sonarr instance, from
a configuration made from the stack (each instance's URL, its key from its Secret)."""

from __future__ import annotations

import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import kube

#: TRaSH guides templates Recyclarr syncs, per kind and resolution.
TRASH_TEMPLATES = {
    ("radarr", False): ["radarr-quality-definition-movie", "radarr-quality-profile-hd-bluray-web",
                        "radarr-custom-formats-hd-bluray-web"],
    ("radarr", True): ["radarr-quality-definition-movie", "radarr-quality-profile-uhd-bluray-web",
                       "radarr-custom-formats-uhd-bluray-web"],
    ("sonarr", False): ["sonarr-quality-definition-series", "sonarr-v4-quality-profile-web-1080p",
                        "sonarr-v4-custom-formats-web-1080p"],
    ("sonarr", True): ["sonarr-quality-definition-series", "sonarr-v4-quality-profile-web-2160p",
                       "sonarr-v4-custom-formats-web-2160p"],
}


def config(stack):
    """Recyclarr's configuration - each Radarr/Sonarr instance with its TRaSH templates - and the env with its keys."""
    lines, env = ["# Made by arrkestra.homelab from the stack: one entry per Radarr/Sonarr instance."], []
    for kind in ("radarr", "sonarr"):
        instances = [a for a in stack["apps"] if a["kind"] == kind]
        if not instances:
            continue
        lines.append("%s:" % kind)
        for app in instances:
            var = re.sub(r"[^A-Z0-9]", "_", app["name"].upper()) + "_API_KEY"
            env.append(kube.secret_env(app, "api_key", var))
            lines += ["  %s:" % app["name"], "    base_url: %s" % app["url"], "    api_key: !env_var %s" % var,
                      "    include:"]
            lines += ["      - template: %s" % t for t in TRASH_TEMPLATES[(kind, bool(app["wiring"]["is_4k"]))]]
    return "\n".join(lines) + "\n", env


def pod(stack, app, spec):
    """Recyclarr reads its configuration from the ConfigMap and the instances' keys from their Secrets."""
    if app["kind"] != "recyclarr":
        return
    dummy, env = config(stack)
    spec["containers"][0]["env"].extend(env)
    spec["containers"][0]["volumeMounts"].append({"name": "configs", "mountPath": "/config/configs", "readOnly": True})
    spec["volumes"].append({"name": "configs", "configMap": {"name": app["name"] + "-configs"}})


def config_objects(stack, app):
    """The ConfigMap of Recyclarr's configuration."""
    if app["kind"] != "recyclarr":
        return []
    content, dummy = config(stack)
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": kube.meta(app["name"] + "-configs", stack["namespace"],
                                                                            app, "config"),
             "data": {"arrkestra.yml": content}}]
