# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unpackerr: a Deployment that extracts the archives of finished torrent downloads for every Radarr, Sonarr and
Lidarr instance, so that they can import them - configured from the stack alone, by environment variables (each
instance's URL, its key from its Secret, its download category's folder), with no configuration file.

Upstream facts (docs/upstream-facts.md, Unpackerr v0.15.2): variables are ``UN_<APP>_<n>_<SETTING>`` numbered
from 0 with no gap per app (a later number after a gap is ignored), a URL must start with ``http(s)://`` and a
key must have 32 characters or the instance is dropped or the process stops, and a variable set to an empty
value stops it - so every variable here has a value. Unpackerr only reads the apps' queues (GET); it writes in
the download folders only.
"""

from __future__ import annotations

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import catalog, kube

KIND = "unpackerr"


def instances(apps):
    """The arr instances each Unpackerr works for - every Radarr, Sonarr and Lidarr of the stack with a URL and an
    API key, in stack order - decided once in the model: its environment numbers them, and their keys are what it
    reads at start (a rotated key restarts it)."""
    arrs = [a for a in apps if a["kind"] in catalog.CATALOG[KIND]["calls"] and a["url"] and "api_key" in a["credentials"]]
    for app in apps:
        if app["kind"] == KIND:
            app["unpacks_for"] = [a["name"] for a in arrs]
            app["reads_at_start"] = [[a["name"], "api_key"] for a in arrs]


def env(stack, app):
    """Unpackerr's environment: its web server (the probe's "/" and Prometheus's /metrics) and, per instance, the
    URL, the key (from the instance's Secret) and the folder its torrent client saves its category in."""
    by_name = dict((a["name"], a) for a in stack["apps"])
    out = [{"name": "UN_WEBSERVER_METRICS", "value": "true"},
           {"name": "UN_WEBSERVER_LISTEN_ADDR", "value": "0.0.0.0:%d" % app["port"]}]
    numbers = {}
    for name in app["unpacks_for"]:
        arr = by_name[name]
        number = numbers[arr["kind"]] = numbers.get(arr["kind"], -1) + 1
        prefix = "UN_%s_%d_" % (arr["kind"].upper(), number)
        out += [{"name": prefix + "URL", "value": arr["url"]}, kube.secret_env(arr, "api_key", prefix + "API_KEY"),
                {"name": prefix + "PATHS_0", "value": "%s/%s" % (stack["data"]["torrents_root"],
                                                                 arr["wiring"]["category"])}]
    return out


def pod(stack, app, spec):
    """The environment (:func:`kube.feature_env`)."""
    if app["kind"] == KIND:
        kube.feature_env(app, spec, env(stack, app))
