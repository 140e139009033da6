"""The platform phase against a real API server: applied, applied again without a change, then the
apps phase on top of it (sidecars, NetworkPolicies, ServiceMonitors, backup CronJobs accepted).

This control plane has no helm-controller and no chart ever runs: the test plays their part the
way k3s and the charts would - the HelmChart CRDs (k3s ships them), the charts' CRDs (from
tests/schemas/crds.yaml) and their webhook Deployments (kwok makes them available).
"""

from __future__ import annotations

import base64
import json
import os
import re

import pytest
import yaml

from tests.controlplane import cluster
from tests.controlplane.fixture import controlplane  # noqa: F401 pylint: disable=unused-import
from tests.integration.controlplane.test_controlplane import _cluster_storage
from tests.lab.playbook import ROOT, local_inventory, run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]

GROUPS = {"HelmChart": "helmcharts", "HelmChartConfig": "helmchartconfigs", "IPAddressPool": "ipaddresspools",
          "L2Advertisement": "l2advertisements", "Certificate": "certificates", "ClusterIssuer": "clusterissuers",
          "ServiceMonitor": "servicemonitors", "PrometheusRule": "prometheusrules", "Middleware": "middlewares"}


def _crds(kinds):
    with open(os.path.join(ROOT, "tests", "schemas", "crds.yaml"), encoding="utf-8") as handle:
        entries = yaml.safe_load(handle)
    out = []
    for entry in entries:
        if entry["kind"] not in kinds:
            continue
        group, version = entry["apiVersion"].split("/")
        plural = GROUPS[entry["kind"]]
        out.append({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": "%s.%s" % (plural, group)},
                    "spec": {"group": group, "scope": entry["scope"],
                             "names": {"kind": entry["kind"], "plural": plural, "singular": entry["kind"].lower(),
                                       "listKind": entry["kind"] + "List"},
                             "versions": [{"name": version, "served": True, "storage": True, "schema": {
                                 "openAPIV3Schema": {"type": "object", "properties": {
                                     "spec": entry["spec"],
                                     "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}})
    return out


#: The charts' pods meet the restricted Pod Security level the platform gives their namespaces (as cert-manager's and
#: MetalLB's charts do): a pod made again later - its node gone - is admitted.
RESTRICTED = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 1000,
              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def _what_k3s_and_the_charts_bring(api, client, kinds):
    """The CRDs of ``kinds`` and the charts' webhook Deployments."""
    from kubernetes import dynamic

    resources = dynamic.DynamicClient(api).resources
    crds = resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    for crd in _crds(kinds):
        crds.server_side_apply(body=crd, name=crd["metadata"]["name"], field_manager="the-charts", force_conflicts=True)
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    for namespace, name in (("metallb-system", "metallb-controller"), ("cert-manager", "cert-manager-webhook")):
        cluster.create(core.create_namespace, {"metadata": {"name": namespace}})
        body = {"metadata": {"name": name}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": "chart/%s:1" % name, "securityContext": RESTRICTED}]}}}}
        if not cluster.create(apps.create_namespaced_deployment, namespace, body):
            apps.patch_namespaced_deployment(name, namespace, body)


def _run(controlplane, tmp_path, playbook, variables, check=True):
    inventory = local_inventory(tmp_path / "inventory", dict({
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "apps_wait_timeout": 180, "platform_wait_timeout": 60,
        "arrkestra_data": {"type": "hostpath", "path": str(tmp_path / "data")}}, **variables))
    proc = run_playbook(playbook, inventory)
    if check:
        assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
        return json.loads(proc.stdout)["stats"]["localhost"], proc
    return None, proc


def test_the_platform_phase_for_real_then_the_apps_on_it(tmp_path, controlplane):
    ns = "media-%s" % os.urandom(3).hex()
    api, client = _cluster_storage(controlplane, tmp_path, 4, ns)
    _what_k3s_and_the_charts_bring(api, client, list(GROUPS))
    variables = {
        "arrkestra_namespace": ns, "arrkestra_distribution": "k3s",
        "arrkestra_apps": {"radarr": {}, "qbittorrent": {}, "prowlarr": {}},
        "arrkestra_load_balancer": {"type": "metallb", "addresses": ["192.168.1.240/29"], "networks": ["192.168.1.0/24"]},
        "arrkestra_monitoring": {"enabled": True},
        "arrkestra_vpn": {"enabled": True, "provider": "mullvad", "credentials": {"WIREGUARD_PRIVATE_KEY": "wg-secret-key"},
                          "endpoints": ["193.32.249.66/32"]},
        "arrkestra_backups": {"enabled": True},
    }
    first, dummy = _run(controlplane, tmp_path, "platform.yml", variables)
    assert first["changed"] > 0
    again, proc = _run(controlplane, tmp_path, "platform.yml", variables)
    assert again["changed"] == 0, proc.stdout[-4000:]

    from kubernetes import dynamic
    resources = dynamic.DynamicClient(api).resources
    pool = resources.get(api_version="metallb.io/v1beta1", kind="IPAddressPool").get(name="arrkestra",
                                                                                     namespace="metallb-system")
    assert pool.spec.addresses == ["192.168.1.240/29"]
    assert resources.get(api_version="cert-manager.io/v1", kind="Certificate").get(name="arrkestra-tls", namespace=ns)
    traefik = resources.get(api_version="helm.cattle.io/v1", kind="HelmChartConfig").get(name="traefik",
                                                                                         namespace="kube-system")
    assert "websecure" in traefik.spec.valuesContent
    core = client.CoreV1Api(api)
    vpn = core.read_namespaced_secret("vpn-credentials", ns).data
    assert base64.b64decode(vpn["WIREGUARD_PRIVATE_KEY"]).decode() == "wg-secret-key"
    password = core.read_namespaced_secret("grafana-admin", "monitoring").data["admin-password"]

    # The apps on top: Exportarr and gluetun sidecars, ServiceMonitors, NetworkPolicies, backup CronJobs.
    applied, dummy = _run(controlplane, tmp_path, "apps.yml", variables)
    assert applied["changed"] > 0
    again, proc = _run(controlplane, tmp_path, "apps.yml", variables)
    assert again["changed"] == 0, proc.stdout[-4000:]
    monitors = resources.get(api_version="monitoring.coreos.com/v1", kind="ServiceMonitor").get(namespace=ns)
    assert sorted(m.metadata.name for m in monitors.items) == ["prowlarr", "radarr"]
    policies = client.NetworkingV1Api(api).list_namespaced_network_policy(ns).items
    assert sorted(p.metadata.name for p in policies) == ["default-deny-ingress", "jobs-deny-egress", "prowlarr", "qbittorrent",
                                                         "radarr"]
    assert "vpn-credentials" in [s.metadata.name for s in core.list_namespaced_secret(ns).items]  # not pruned
    cronjobs = client.BatchV1Api(api).list_namespaced_cron_job(ns).items
    assert sorted(c.metadata.name for c in cronjobs) == ["prowlarr-backup", "qbittorrent-backup", "radarr-backup"]

    # A third platform run keeps the Grafana password it made.
    _run(controlplane, tmp_path, "platform.yml", variables)
    assert core.read_namespaced_secret("grafana-admin", "monitoring").data["admin-password"] == password


def test_monitoring_without_the_memory_stops_before_any_change(tmp_path, controlplane):
    ns = "media-%s" % os.urandom(3).hex()
    dummy, proc = _run(controlplane, tmp_path, "platform.yml", {
        "arrkestra_namespace": ns, "arrkestra_monitoring": {"enabled": True, "min_memory": "512Gi"}}, check=False)
    assert proc.returncode != 0
    # (one kwok node of 256 GiB, and the real node's memory when a test of the session started it)
    assert re.search(r"arrkestra_monitoring is on, but the cluster's \d+ node\(s\) have \d+ MiB of memory", proc.stdout)
    from kubernetes import client, config
    core = client.CoreV1Api(config.new_client_from_config(config_file=controlplane["kubeconfig"],
                                                          context=controlplane["context"]))
    assert ns not in [n.metadata.name for n in core.list_namespace().items]


def test_talos_gets_helm_controller_from_the_platform(tmp_path, controlplane):
    ns = "media-%s" % os.urandom(3).hex()
    api, client = _cluster_storage(controlplane, tmp_path, 0, ns)
    _what_k3s_and_the_charts_bring(api, client, ["IPAddressPool", "L2Advertisement", "Certificate", "ClusterIssuer"])
    variables = {"arrkestra_namespace": ns, "arrkestra_distribution": "talos",
                 "arrkestra_load_balancer": {"addresses": ["10.5.0.200-10.5.0.210"], "networks": ["10.5.0.0/24"]}}
    first, dummy = _run(controlplane, tmp_path, "platform.yml", variables)
    assert first["changed"] > 0
    again, proc = _run(controlplane, tmp_path, "platform.yml", variables)
    assert again["changed"] == 0, proc.stdout[-4000:]
    ready = client.AppsV1Api(api).read_namespaced_deployment("helm-controller", "kube-system").status
    assert ready.available_replicas == 1
    from kubernetes import dynamic
    charts = dynamic.DynamicClient(api).resources.get(api_version="helm.cattle.io/v1", kind="HelmChart")
    assert {"traefik", "metallb", "cert-manager"} <= set(c.metadata.name for c in charts.get(namespace="kube-system").items)


def test_restore_stops_the_app_runs_the_job_and_starts_it_again(tmp_path, controlplane):
    ns = "media-%s" % os.urandom(3).hex()
    api, client = _cluster_storage(controlplane, tmp_path, 1, ns)
    variables = {"arrkestra_namespace": ns, "arrkestra_apps": {"radarr": {}}, "arrkestra_backups": {"enabled": True},
                 "arrkestra_certificates": {"enabled": False}}
    _run(controlplane, tmp_path, "apps.yml", variables)
    dummy, proc = _run(controlplane, tmp_path, "restore.yml", dict(variables, restore_app="radarr"))
    batch, apps = client.BatchV1Api(api), client.AppsV1Api(api)
    jobs = [j for j in batch.list_namespaced_job(ns).items if j.metadata.name.startswith("radarr-restore-")]
    assert len(jobs) == 1 and jobs[0].status.succeeded == 1
    command = jobs[0].spec.template.spec.containers[0].command
    assert command == ["sh", "/scripts/restore.sh"]                      # the newest archive
    assert apps.read_namespaced_deployment("radarr", ns).spec.replicas == 1

    dummy, proc = _run(controlplane, tmp_path, "restore.yml", dict(variables, restore_app="sonarr"), check=False)
    assert proc.returncode != 0 and "restore_app 'sonarr': no app of the stack with backups" in proc.stdout
