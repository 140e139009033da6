"""A real node (tests/controlplane/node.py): pods run from locally built images, an init container's file is
what the main container serves, an HTTP probe decides readiness, a pod finds a Service by its name (the
cluster's DNS) and the Service carries the request to another pod, and the API server's service proxy
reaches a pod - each of which kwok only pretends."""

from __future__ import annotations

import time

import pytest

from tests.controlplane import cluster, images, node
from tests.controlplane.fixture import controlplane, real_node  # noqa: F401 pylint: disable=unused-import

pytestmark = [pytest.mark.integration, pytest.mark.controlplane, pytest.mark.slow]

NS = "real-node"


def _wait(what, check, timeout=120):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # pylint: disable=broad-except
            last = exc
        time.sleep(1)
    raise AssertionError("%s: not within %d s (last: %r)" % (what, timeout, last))


def _pod(name, spec, labels=None):
    spec = dict(spec, **node.placement())
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels or {}},
            "spec": dict({"restartPolicy": "Never", "terminationGracePeriodSeconds": 1}, **spec)}


@pytest.fixture(scope="module")
def core(controlplane, real_node):  # noqa: F811 pylint: disable=redefined-outer-name,unused-argument
    api, k8s = cluster.client(controlplane)
    core = k8s.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": NS}})
    yield core
    core.delete_namespace(NS)


def test_the_node_is_ready_and_kwok_is_left_alone(core):
    real = core.read_node(node.NAME)
    assert real.metadata.labels["arrkestra.test/real-node"] == "true"
    assert [t.key for t in real.spec.taints or ()] == ["arrkestra.test/real-node"]
    assert {a.type: a.address for a in real.status.addresses}["InternalIP"] == node.NODE_IP
    assert real.status.node_info.kubelet_version == cluster.version()


def test_an_init_container_writes_what_the_app_serves_and_a_service_carries_it(core, controlplane):
    busybox = images.reference("busybox")
    web = _pod("web", {
        "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True},
        "initContainers": [{"name": "seed", "image": busybox, "command": [
            "sh", "-c", "mkdir -p /www/probe && echo seeded-by-init > /www/index.html && echo ok > /www/probe/index.html"],
            "volumeMounts": [{"name": "www", "mountPath": "/www"}]}],
        "containers": [{"name": "web", "image": busybox, "command": ["httpd", "-f", "-p", "8080", "-h", "/www"],
                        "ports": [{"containerPort": 8080}],
                        "readinessProbe": {"httpGet": {"path": "/probe/", "port": 8080}, "periodSeconds": 1},
                        "volumeMounts": [{"name": "www", "mountPath": "/www"}]}],
        "volumes": [{"name": "www", "emptyDir": {}}]}, labels={"app": "web"})
    core.create_namespaced_pod(NS, web)
    core.create_namespaced_service(NS, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})

    def ready():
        pod = core.read_namespaced_pod("web", NS)
        return pod if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or ()) else None

    pod = _wait("the web pod Ready through its probe", ready)
    assert pod.spec.node_name == node.NAME and pod.status.pod_ip.startswith("10.244.0.")

    # By the Service's name: the cluster's DNS (CoreDNS), then the ClusterIP (kube-proxy's rules).
    request = "printf 'GET / HTTP/1.0\\r\\nHost: web\\r\\n\\r\\n' | nc web.%s.svc 80" % NS
    core.create_namespaced_pod(NS, _pod("client", {"containers": [
        {"name": "client", "image": busybox, "command": ["sh", "-c", request]}]}))

    def finished():
        phase = core.read_namespaced_pod("client", NS).status.phase
        return phase if phase in ("Succeeded", "Failed") else None

    assert _wait("the client pod", finished) == "Succeeded"
    assert "seeded-by-init" in core.read_namespaced_pod_log("client", NS)         # kubelet's logs, through the API

    # The API server's service proxy reaches the pod (it answered 503 with kwok's pods).
    body = core.connect_get_namespaced_service_proxy_with_path("web:80", NS, "index.html")
    assert "seeded-by-init" in body


def test_a_pod_reaches_nothing_beyond_the_machine(core):
    # The node's namespace has no default route: a pod's packets to the outside stop at the node.
    busybox = images.reference("busybox")
    core.create_namespaced_pod(NS, _pod("outside", {"containers": [
        {"name": "outside", "image": busybox, "command": ["sh", "-c", "nc -w 2 192.0.2.1 80 </dev/null; echo rc=$?"]}]}))

    def finished():
        phase = core.read_namespaced_pod("outside", NS).status.phase
        return phase if phase in ("Succeeded", "Failed") else None

    _wait("the pod that tries the outside", finished)
    assert "rc=1" in core.read_namespaced_pod_log("outside", NS)
