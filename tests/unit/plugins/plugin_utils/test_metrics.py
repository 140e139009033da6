# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Monitoring: Exportarr sidecars, ServiceMonitors, alerts, the dashboard, and the memory it needs."""

from __future__ import annotations

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    model as stack_model, platform as platform_model, workloads)


def kinds(objects):
    return ["%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objects]


def test_memory_check_for_monitoring():
    stack = stack_model.build({"monitoring": {"enabled": True}})
    with pytest.raises(stack_model.StackError, match="have 3700 MiB of memory"):
        workloads.check_memory(stack, [3700])
    assert workloads.check_memory(stack, [7800])["total_mib"] == 7800
    assert workloads.check_memory(stack_model.build({}), [1000]) is None       # monitoring off: not checked


def test_monitoring_adds_exportarr_servicemonitors_rules_and_dashboard():
    stack = stack_model.build({"monitoring": {"enabled": True}})
    objects = workloads.objects(stack)
    radarr = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "radarr"][0]
    sidecar = radarr["spec"]["template"]["spec"]["containers"][1]
    assert sidecar["name"] == "exportarr" and sidecar["args"] == ["radarr"]
    assert {"name": "URL", "value": "http://localhost:7878"} in sidecar["env"]
    assert dict((n, r) for n, r, dummy in workloads.memory(stack))["radarr"] == 192 + 32     # the sidecar counts
    monitors = [o["metadata"]["name"] for o in objects if o["kind"] == "ServiceMonitor"]
    assert monitors == ["prowlarr", "radarr", "sonarr", "bazarr"]      # Exportarr knows them; not Jellyfin
    names = kinds(platform_model.objects(stack))
    assert {"PrometheusRule/arrkestra", "ConfigMap/arrkestra-dashboard", "HelmChart/kube-prometheus-stack"} <= set(names)
    rules = [o for o in platform_model.objects(stack) if o["kind"] == "PrometheusRule"][0]["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ["ArrkestraAppDown", "ArrkestraQueueStuck", "ArrkestraDiskNearlyFull"]
