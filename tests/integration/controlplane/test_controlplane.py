"""A real Kubernetes API server: what kubernetes.core applies is accepted, Deployments become Ready (kwok),
re-applying changes nothing - and the apps phase of site.yml runs against it for real."""

from __future__ import annotations

import base64
import json
import os
import time

import pytest

from tests.controlplane import cluster
from tests.controlplane.cluster import create
from tests.controlplane.fixture import controlplane  # noqa: F401 pylint: disable=unused-import
from tests.lab.playbook import Playbook, local_inventory, run_playbook, start_playbook

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]

HELMCHART_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "helmcharts.helm.cattle.io"},
    "spec": {"group": "helm.cattle.io", "scope": "Namespaced",
             "names": {"kind": "HelmChart", "plural": "helmcharts", "singular": "helmchart", "listKind": "HelmChartList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {"spec": {"type": "object", "properties": {
                     "chart": {"type": "string"}, "repo": {"type": "string"}, "version": {"type": "string"},
                     "targetNamespace": {"type": "string"}, "valuesContent": {"type": "string"}}}}}}}]}}


def k8s(cluster, **args):
    return dict({"kubeconfig": cluster["kubeconfig"], "context": cluster["context"]}, **args)


def deployment(name, namespace, image="registry.example/app:1.0"):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image, "ports": [{"containerPort": 8080}]}]}}}}


def test_kubernetes_core_against_a_real_api_server(tmp_path, controlplane):
    playbook = Playbook(tmp_path)
    ns = "cp-smoke"
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": ns}, "stringData": {"k": "v"}},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c", "namespace": ns},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
        deployment("web", ns),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns},
         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "web", "namespace": ns},
         "spec": {"rules": [{"host": "web.example", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
             "service": {"name": "web", "port": {"number": 80}}}}]}}]}},
        HELMCHART_CRD,
    ]
    tasks = [{"name": "apply %d" % i, "kubernetes.core.k8s": k8s(controlplane, definition=o, apply=True,
                                                                 server_side_apply={"field_manager": "arrkestra"},
                                                                 wait=o["kind"] in ("Deployment",
                                                                                    "CustomResourceDefinition"),
                                                                 wait_timeout=120)}
             for i, o in enumerate(objects)]
    chart = {"apiVersion": "helm.cattle.io/v1", "kind": "HelmChart", "metadata": {"name": "metallb", "namespace": ns},
             "spec": {"chart": "metallb", "repo": "https://metallb.github.io/metallb", "version": "0.14.9"}}
    tasks.append({"name": "custom object", "kubernetes.core.k8s": k8s(controlplane, definition=chart, apply=True,
                                                                      server_side_apply={"field_manager": "arrkestra"})})
    first = playbook.run(tasks)
    assert all(not r.get("failed") for r in first.values()), [r.get("msg") for r in first.values() if r.get("failed")]
    ready = first["apply 3"]["result"]["status"]
    assert ready.get("readyReplicas") == 1 and ready.get("availableReplicas") == 1
    second = playbook.run(tasks)
    assert [name for name, r in second.items() if r.get("changed")] == []

    bad = dict(deployment("bad", ns), spec={"replicas": "one"})
    refused = playbook.run([{"name": "bad", "ignore_errors": True,
                             "kubernetes.core.k8s": k8s(controlplane, definition=bad, apply=True,
                                                        server_side_apply={"field_manager": "arrkestra"})}])["bad"]
    assert refused["failed"] and "replicas" in refused["msg"]

    gone = playbook.run([{"name": "delete", "kubernetes.core.k8s": k8s(
        controlplane, state="absent", api_version="apps/v1", kind="Deployment", name="web", namespace=ns,
        wait=True)}])["delete"]
    assert gone["changed"]


def _cluster_storage(controlplane, tmp_path, count, prefix):
    """What k3s gives and this control plane lacks: the local-path class, and volumes for the claims to bind."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=controlplane["kubeconfig"], context=controlplane["context"])
    storage, core = client.StorageV1Api(api), client.CoreV1Api(api)
    create(storage.create_storage_class, {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                                          "metadata": {"name": "local-path"}, "provisioner": "kubernetes.io/no-provisioner",
                                          "volumeBindingMode": "Immediate"})
    for index in range(count):
        create(core.create_persistent_volume, {
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "%s-config-%02d" % (prefix, index)},
            "spec": {"capacity": {"storage": "2Gi"}, "accessModes": ["ReadWriteOnce"], "storageClassName": "local-path",
                     "hostPath": {"path": str(tmp_path / ("pv%02d" % index))}}})
    return api, client


def _forget(api, client, namespaces, volumes, nodes=()):
    """Take what a test made off the shared control plane: its ``namespaces``, for each the ``volumes`` config volumes
    :func:`_cluster_storage` made (and the data volume the apps phase makes), and the ``nodes`` it added."""
    core = client.CoreV1Api(api)
    names = []
    for namespace in namespaces:
        names += ["%s-config-%02d" % (namespace, index) for index in range(volumes)] + ["arrkestra-%s-data" % namespace]
    for delete, name in [(core.delete_namespace, n) for n in namespaces] + [(core.delete_persistent_volume, n) for n in names]:
        try:
            delete(name)
        except client.ApiException:
            pass
    for node in nodes:
        core.delete_node(node)


def _apps(controlplane, tmp_path, namespace, apps, *extra):
    inventory = local_inventory(tmp_path / "inventory", {
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "arrkestra_namespace": namespace, "arrkestra_apps": apps, "apps_wait_timeout": 180,
        "arrkestra_data": {"type": "hostpath", "path": str(tmp_path / "data")}})
    proc = run_playbook("apps.yml", inventory, *extra)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    if "-vvv" in extra:   # verbose lines come with the JSON: no stats to read
        return None, proc
    return json.loads(proc.stdout)["stats"]["localhost"], proc


def test_the_apps_phase_for_real(tmp_path, controlplane):
    ns = "media-%s" % os.urandom(3).hex()      # a control plane started by hand may be reused
    api, client = _cluster_storage(controlplane, tmp_path, 6, ns)
    core, apps_api = client.CoreV1Api(api), client.AppsV1Api(api)
    stack = {"radarr": {}, "radarr-4k": {"kind": "radarr"}, "qbittorrent": {}, "recyclarr": {}}
    first, dummy = _apps(controlplane, tmp_path, ns, stack)
    assert first["changed"] > 0
    ready = dict((d.metadata.name, d.status.available_replicas) for d in apps_api.list_namespaced_deployment(ns).items)
    assert ready == {"radarr": 1, "radarr-4k": 1, "qbittorrent": 1}
    key = core.read_namespaced_secret("radarr-4k-credentials", ns).data["api_key"]

    again, dummy = _apps(controlplane, tmp_path, ns, stack)
    assert again["changed"] == 0
    assert core.read_namespaced_secret("radarr-4k-credentials", ns).data["api_key"] == key   # read back, kept
    dummy, verbose = _apps(controlplane, tmp_path, ns, stack, "-vvv")
    secret = base64.b64decode(key).decode()
    assert secret not in verbose.stdout and secret not in verbose.stderr

    del stack["radarr-4k"]
    removed, dummy = _apps(controlplane, tmp_path, ns, stack)
    assert removed["changed"] > 0
    names = [d.metadata.name for d in apps_api.list_namespaced_deployment(ns).items]
    assert "radarr-4k" not in names and "radarr" in names
    assert "radarr-4k" not in [s.metadata.name for s in core.list_namespaced_service(ns).items]
    assert "radarr-4k-credentials" not in [s.metadata.name for s in core.list_namespaced_secret(ns).items]
    claims = [c.metadata.name for c in core.list_namespaced_persistent_volume_claim(ns).items]
    assert "radarr-4k-config" in claims          # its settings stay unless apps_purge


def test_the_api_server_restarted_mid_apply_then_the_next_run_converges(tmp_path, controlplane):
    """The API server goes away while the apps phase applies (its Secrets made, its Deployments not yet): the run
    fails naming the API server it could not reach - or, back in time, goes on -, and the next run converges with
    nothing made twice."""
    ns = "fault-%s" % os.urandom(3).hex()
    api, client = _cluster_storage(controlplane, tmp_path, 2, ns)
    core, apps_api = client.CoreV1Api(api), client.AppsV1Api(api)
    inventory = local_inventory(tmp_path / "inventory", {
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "arrkestra_namespace": ns, "arrkestra_apps": {"radarr": {}, "qbittorrent": {}}, "apps_wait_timeout": 180,
        "arrkestra_data": {"type": "hostpath", "path": str(tmp_path / "data")}})
    proc = start_playbook("apps.yml", inventory)

    def secrets_made():
        try:
            return len(core.list_namespaced_secret(ns, label_selector="app.kubernetes.io/managed-by=arrkestra").items)
        except client.ApiException:
            return 0

    deadline = time.monotonic() + 180
    while secrets_made() < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    cluster.restart_api_server(controlplane)
    out, err = proc.communicate(timeout=600)
    server = "%s:%d" % (controlplane["api_host"], controlplane["api_port"])
    said = "The Kubernetes API server %s refused the connection while the apps phase ran" % server
    assert proc.returncode == 0 or said in out, out[-3000:] + err[-2000:]

    again, dummy = _apps(controlplane, tmp_path, ns, {"radarr": {}, "qbittorrent": {}})
    assert sorted(d.metadata.name for d in apps_api.list_namespaced_deployment(ns).items) == ["qbittorrent", "radarr"]
    assert len(core.list_namespaced_secret(ns, label_selector="app.kubernetes.io/managed-by=arrkestra").items) == 2
    third, dummy = _apps(controlplane, tmp_path, ns, {"radarr": {}, "qbittorrent": {}})
    assert third["changed"] == 0
    core.delete_namespace(ns)
