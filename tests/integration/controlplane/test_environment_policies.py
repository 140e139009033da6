"""Two stacks of one inventory kept apart by their NetworkPolicies, enforced by kube-router on the real node.

The example inventory with ``arrkestra_stacks: {dev: {}}`` is rendered twice as the apps phase renders it for GitOps
(``apps_mode=render``): the main stack, and ``-e arrkestra_stack=dev`` (docs/environments.md), each into its own
namespace (``<ns>`` and ``<ns>-dev``). Each stack's Namespace and NetworkPolicies are applied as rendered; Radarr and
Prowlarr of each stack are stood in on the real node (tests/controlplane/node.py) by pods with the labels and ports of
the rendered Deployments - the same labels in both stacks, which is exactly what a policy could confuse - and the
Prowlarr and Radarr stand-ins are also the callers (test_network_policies.py's SERVE and PROBE).

What is proven, with real connections crossing kube-router's rules: each stack's Prowlarr reaches its own Radarr and
its Radarr its own Prowlarr; neither reaches the other stack's, although it has the labels the other stack's policy
names (a ``podSelector`` alone is of the policy's namespace). Last, a control: with dev's policies deleted, main's
Prowlarr does reach dev's Radarr - what kept them apart was the policies, not the pods' network.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time

import pytest

from tests.controlplane import cluster, node
from tests.controlplane.fixture import controlplane, real_node  # noqa: F401 pylint: disable=unused-import
from tests.integration.controlplane.test_network_policies import Lab, _enforced
from tests.integration.controlplane.test_network_policies import _render as _render_example
from tests.integration.controlplane.test_node import _wait

pytestmark = [pytest.mark.integration, pytest.mark.controlplane, pytest.mark.slow]

STACKS = ("main", "dev")
APPS = ("radarr", "prowlarr")


def _render(tmp_path, ns, stack):
    """The example inventory's apps phase output (apps_mode=render) for ``stack`` (``-e arrkestra_stack``, as
    test_environments.py selects it), the main stack in namespace ``ns``: {kind: [object]}."""
    return _render_example(tmp_path, stack, ns, [], {"arrkestra_stacks": {"dev": {}}},
                           [] if stack == "main" else ["-e", "arrkestra_stack=%s" % stack])


def test_the_stacks_policies_keep_them_apart(tmp_path, controlplane, real_node):  # noqa: F811
    # pylint: disable=redefined-outer-name,unused-argument,too-many-locals,too-many-statements
    from kubernetes.stream import stream

    timings, started = {}, time.monotonic()

    def lap(what, since):
        timings[what] = round(time.monotonic() - since, 1)
        return time.monotonic()

    api, client = cluster.client(controlplane)
    core, networking = client.CoreV1Api(api), client.NetworkingV1Api(api)
    base = "envpolicies-%s" % os.urandom(3).hex()
    rendered, namespaces = {}, {}
    since = time.monotonic()
    for stack in STACKS:
        rendered[stack] = _render(tmp_path, base, stack)
        [namespace] = rendered[stack]["Namespace"]
        namespaces[stack] = namespace["metadata"]["name"]
    since = lap("render both", since)
    assert namespaces == {"main": base, "dev": base + "-dev"}, namespaces

    def deployment(stack, app):
        [found] = [d for d in rendered[stack]["Deployment"] if d["metadata"]["name"] == app]
        assert found["metadata"]["namespace"] == namespaces[stack]
        return found["spec"]["template"]

    def labels(stack, app):
        return dict(deployment(stack, app)["metadata"]["labels"])

    def ports(stack, app):
        return dict((c["name"], p["containerPort"]) for c in deployment(stack, app)["spec"]["containers"]
                    for p in c.get("ports", ()))

    for app in APPS:    # the same labels and ports in both stacks: only the namespace tells them apart
        assert labels("main", app) == labels("dev", app) and ports("main", app) == ports("dev", app), app
    policies = dict((stack, rendered[stack]["NetworkPolicy"]) for stack in STACKS)
    for stack in STACKS:
        names = {p["metadata"]["name"] for p in policies[stack]}
        assert {"default-deny-ingress", "radarr", "prowlarr"} <= names, (stack, names)
        assert {p["metadata"]["namespace"] for p in policies[stack]} == {namespaces[stack]}
    radarr_port, prowlarr_port = ports("main", "radarr")["radarr"], ports("main", "prowlarr")["prowlarr"]

    lab = Lab(core, stream)
    created = []
    try:
        for stack in STACKS:
            [namespace] = rendered[stack]["Namespace"]
            if cluster.create(core.create_namespace, namespace):
                created.append(namespaces[stack])
            for policy in policies[stack]:
                networking.create_namespaced_network_policy(namespaces[stack], policy)
        with node.only(controlplane):
            for stack in STACKS:
                for app in APPS:     # one pod per app and stack: the app's stand-in, and its caller
                    lab.stand_in(namespaces[stack], app, labels(stack, app), sorted(ports(stack, app).values()))
            ip = _wait("every stand-in running", lab.ips, 180)

            def listening(stack, app):
                """The stand-in's ports answer over the loopback, which no policy sees."""
                own = [["tcp", "127.0.0.1", port, str(port)] for port in ports(stack, app).values()]
                return set(lab.probe(namespaces[stack], app, own).values()) == {"open"}

            for stack in STACKS:
                for app in APPS:
                    _wait("%s's %s listening" % (stack, app), functools.partial(listening, stack, app), 30)
            since = lap("pods running", since)
            _wait("kube-router's rules for every pod", lambda: _enforced(ip.values()), 60)
            since = lap("rules synced", since)

            def at(stack, app):
                return ip[(namespaces[stack], app)]

            expected = {}
            for stack in STACKS:
                other = "dev" if stack == "main" else "main"
                expected[(stack, "prowlarr")] = [
                    ("tcp", at(stack, "radarr"), radarr_port, "own radarr", "open"),
                    ("tcp", at(other, "radarr"), radarr_port, "%s's radarr" % other, "closed")]
                expected[(stack, "radarr")] = [
                    ("tcp", at(stack, "prowlarr"), prowlarr_port, "own prowlarr", "open"),
                    ("tcp", at(other, "prowlarr"), prowlarr_port, "%s's prowlarr" % other, "closed")]
            results, wrong = {}, []
            for (stack, app), checks in expected.items():
                got = lab.probe(namespaces[stack], app, [list(c[:4]) for c in checks])
                results["%s's %s" % (stack, app)] = got
                wrong += ["%s's %s -> %s: %s, not %s" % (stack, app, c[3], got.get(c[3]), c[4])
                          for c in checks if got.get(c[3]) != c[4]]
            since = lap("probes", since)
            assert not wrong, "\n".join(wrong) + "\n" + json.dumps(results, indent=1)

            # The control: without dev's policies, main's Prowlarr reaches dev's Radarr - the pods' network
            # carries the connection, the policies were what refused it.
            for policy in policies["dev"]:
                networking.delete_namespaced_network_policy(policy["metadata"]["name"], namespaces["dev"])
            check = [["tcp", at("dev", "radarr"), radarr_port, "dev's radarr"]]
            _wait("main's prowlarr reaching dev's radarr once dev's policies are gone",
                  lambda: lab.probe(namespaces["main"], "prowlarr", check)["dev's radarr"] == "open", 60)
            since = lap("control", since)
        timings["total"] = round(time.monotonic() - started, 1)
        sys.stderr.write("[environment policies] timings (s): %s\n[environment policies] %s\n"
                         % (timings, json.dumps(results)))
    finally:
        lab.delete()
        for namespace in created:
            try:
                core.delete_namespace(namespace)
            except client.ApiException:
                pass
