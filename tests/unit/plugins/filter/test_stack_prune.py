# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""stack_prune: of the objects the collection made (as kubernetes.core's k8s lookup lists them), those the stack no
longer has."""

from __future__ import annotations

from ansible_collections.arrkestra.homelab.plugins.filter.stack import FilterModule
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model

F = FilterModule().filters()


def _listed(api_version, kind, name, component=None):
    labels = {"app.kubernetes.io/managed-by": "arrkestra"}
    if component:
        labels["app.kubernetes.io/component"] = component
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "media", "labels": labels}}


def test_what_the_stack_no_longer_has_with_its_api_version_and_nothing_else():
    stack = model.build({"apps": {"radarr": {}, "qbittorrent": {}}})
    found = [_listed("apps/v1", "Deployment", "radarr"), _listed("v1", "Service", "radarr"),
             _listed("v1", "Secret", stack["apps"][0]["secret"]),
             _listed("apps/v1", "Deployment", "sonarr"), _listed("networking.k8s.io/v1", "Ingress", "sonarr"),
             _listed("v1", "PersistentVolumeClaim", "sonarr-config"),
             _listed("v1", "Secret", "arrkestra-vpn", component="platform"),        # the platform phase's
             _listed("v1", "ConfigMap", "arrkestra-wiring", component="wiring")]    # the wiring record
    assert F["stack_prune"](found, stack) == [
        {"kind": "Deployment", "name": "sonarr", "api_version": "apps/v1"},
        {"kind": "Ingress", "name": "sonarr", "api_version": "networking.k8s.io/v1"},
        {"kind": "PersistentVolumeClaim", "name": "sonarr-config", "api_version": "v1"}]
    assert F["stack_prune"]([], stack) == []
