"""Two stacks of one inventory side by side on the test control plane (docs/environments.md).

The inventory's own variables describe ``main`` (Prowlarr, Radarr, qBittorrent); ``arrkestra_stacks.dev`` the same
apps with other settings, in its own namespace and domain. The platform, apps and wiring phases run for main, then
for dev (``-e arrkestra_stack=dev``), then each again: the second runs change nothing and write nothing to any app,
and nothing of main's (its namespace's objects, the cluster's platform objects) is rewritten by dev's runs. Each stack
keeps its wiring record in its own namespace, its apps at their own hostnames. Last, remove_stack.yml takes dev off
after its typed confirmation, and main is untouched by that too.

The apps are stood in as in test_site.py: a ClusterStack per namespace starts each app's test double (or the real
qbittorrent-nox) as its pod comes up.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as link_model
from tests.controlplane.fixture import controlplane  # noqa: F401 pylint: disable=unused-import
from tests.integration.controlplane.test_controlplane import _cluster_storage, _forget
from tests.integration.controlplane.test_platform import GROUPS, _what_k3s_and_the_charts_bring
from tests.integration.controlplane.test_site import _report, _site
from tests.lab.cluster_stack import ClusterStack
from tests.lab.playbook import local_inventory

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]

#: The shipped local inventory's domain: the cluster's CA (named after the main domain) is the same as the other tests of
#: this control plane make it, so that they do not rewrite it between this test's runs.
DOMAIN = "media.home.arpa"
#: Objects whose every change is a write of the collection (no controller updates their status here).
KINDS = (("v1", "Secret"), ("v1", "ConfigMap"), ("v1", "Service"), ("v1", "PersistentVolumeClaim"),
         ("networking.k8s.io/v1", "Ingress"), ("networking.k8s.io/v1", "NetworkPolicy"), ("batch/v1", "CronJob"),
         ("cert-manager.io/v1", "Certificate"))


def _snapshot(api, namespace):
    """``{kind/name: version}`` of what the collection made in ``namespace`` (resourceVersion; a Deployment's
    generation, as kwok updates its status) and of the cluster's objects of the platform phase."""
    from kubernetes import dynamic

    resources = dynamic.DynamicClient(api).resources
    out = {}
    for api_version, kind in KINDS:
        for item in resources.get(api_version=api_version, kind=kind).get(namespace=namespace).items:
            if item.metadata.name != "kube-root-ca.crt":
                out["%s/%s" % (kind, item.metadata.name)] = item.metadata.resourceVersion
    for item in resources.get(api_version="apps/v1", kind="Deployment").get(namespace=namespace).items:
        out["Deployment/%s" % item.metadata.name] = "generation %s" % item.metadata.generation
    ns = resources.get(api_version="v1", kind="Namespace").get(name=namespace)
    out["Namespace/%s" % namespace] = ns.metadata.resourceVersion
    # The stack's data volume. (The cluster's platform objects - issuers, the CA, the charts - are shared with the
    # other tests of this control plane, which may rewrite them meanwhile: what another stack's platform phase
    # applies is checked on its rendering, in _another_stacks_platform.)
    for item in resources.get(api_version="v1", kind="PersistentVolume").get().items:
        if (item.spec.claimRef or {}).get("namespace") == namespace:
            out["PersistentVolume/%s" % item.metadata.name] = item.metadata.resourceVersion
    return out


def _another_stacks_platform(inventory, tmp_path, stack, namespace):
    """The platform phase of ``stack``, rendered: the objects it would apply are of its namespace alone (the
    Namespace itself, its certificate)."""
    import yaml

    out = tmp_path / ("platform-" + stack)
    rendered = _site_with(inventory, [], stack, ("-e", "platform_mode=render", "-e", "platform_render_dir=%s" % out),
                          playbooks=("platform.yml",))
    assert rendered.rc == 0, rendered.stdout[-3000:]
    objects = []
    for name in sorted(os.listdir(out)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(out / name, encoding="utf-8") as handle:
                objects.append(yaml.safe_load(handle))
    return sorted((o["kind"], o["metadata"].get("namespace", o["metadata"]["name"])) for o in objects)


def _hosts(api, client, namespace):
    return dict((i.metadata.name, i.spec.rules[0].host)
                for i in client.NetworkingV1Api(api).list_namespaced_ingress(namespace).items)


def test_two_stacks_side_by_side(tmp_path, controlplane):
    suffix = os.urandom(3).hex()
    ns = "env-%s" % suffix
    dev_ns = "%s-dev" % ns
    data = tmp_path / "data"
    data.mkdir()
    apps = {"prowlarr": {}, "radarr": {}, "qbittorrent": {}}
    variables = {
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "arrkestra_namespace": ns, "arrkestra_domain": DOMAIN, "arrkestra_apps": apps,
        "arrkestra_data": {"type": "hostpath", "path": str(data)}, "arrkestra_data_mount": str(data),
        "arrkestra_stacks": {"dev": {
            "apps": {"radarr": {"requests": {"cpu": "20m", "memory": "200Mi"}}, "prowlarr": {}, "qbittorrent": {}},
            "timezone": "Europe/Paris", "config_size": "1Gi"}},
        "platform_wait_timeout": 120, "apps_wait_timeout": 180, "wiring_wait_timeout": 120,
        "wiring_record_file": str(tmp_path / "state" / "wiring.json"),
        "ansible_python_interpreter": sys.executable,
    }
    inventory = local_inventory(tmp_path / "inventory", variables)

    api, client = _cluster_storage(controlplane, tmp_path, 8, ns)
    _cluster_storage(controlplane, tmp_path / "dev", 8, dev_ns)
    _what_k3s_and_the_charts_bring(api, client, list(GROUPS))
    core = client.CoreV1Api(api)
    stacks = {"main": ClusterStack(controlplane, ns, tmp_path).start(),
              "dev": ClusterStack(controlplane, dev_ns, tmp_path / "dev-stand-ins").start()}     # its own qBittorrent profile
    timings, runs = {}, []

    def run(stack, *extra):
        log = []
        result = _site_with(inventory, log, None if stack == "main" else stack, extra)
        timings.setdefault(stack, []).append(round(log[0], 1))
        runs.append(stack)
        return result

    def report(result):
        return "\n".join("[%s] %s" % (name, _report(result, s)) for name, s in stacks.items())

    try:
        first = run("main")
        assert first.rc == 0, "main, first run:\n" + report(first)
        assert first.changed > 0
        main_before = _snapshot(api, ns)

        dev_first = run("dev")
        assert dev_first.rc == 0, "dev, first run:\n" + report(dev_first)
        assert dev_first.changed > 0
        assert _snapshot(api, ns) == main_before, "dev's first run rewrote main's objects"
        dev_before = _snapshot(api, dev_ns)

        for stack in stacks.values():
            stack.reset()
        # Each second run: no change, no write to any app (sign-ins count), nothing of the other stack rewritten.
        for name, other, other_ns, other_before in (("main", "dev", dev_ns, dev_before), ("dev", "main", ns, main_before)):
            again = run(name)
            assert again.rc == 0, "%s, second run:\n%s" % (name, report(again))
            problems = []
            if again.changed:
                problems.append("%s's second run changed %d:\n%s" % (name, again.changed, report(again)))
            if any(s.writes() for s in stacks.values()):
                problems.append("%s's second run wrote to an app: %s"
                                % (name, json.dumps(dict((n, s.writes()) for n, s in stacks.items()))))
            assert not problems, "\n".join(problems)
            assert _snapshot(api, other_ns) == other_before, "%s's runs rewrote %s's objects" % (name, other)
        for name, stack in stacks.items():
            assert not stack.violations(), (name, stack.violations())
            assert sorted(stack.apps) == ["prowlarr", "qbittorrent", "radarr"], (name, stack.events)

        assert _another_stacks_platform(inventory, tmp_path, "dev", dev_ns) == [
            ("Certificate", dev_ns), ("Namespace", dev_ns)]

        # Each stack at its own hostnames, its own wiring record in its own namespace, its own data folder.
        assert _hosts(api, client, ns) == {"prowlarr": "prowlarr." + DOMAIN, "radarr": "radarr." + DOMAIN,
                                           "qbittorrent": "qbittorrent." + DOMAIN}
        assert _hosts(api, client, dev_ns) == {"prowlarr": "prowlarr.dev." + DOMAIN, "radarr": "radarr.dev." + DOMAIN,
                                               "qbittorrent": "qbittorrent.dev." + DOMAIN}
        records = {}
        for name, namespace in (("main", ns), ("dev", dev_ns)):
            record = json.loads(core.read_namespaced_config_map(link_model.RECORD_OBJECT, namespace).data["record.json"])
            assert record["links"], "the wiring record of %s is empty" % name
            records[name] = json.dumps(record)
        assert records["dev"] != records["main"]     # each its own stack's links and the fingerprints of its own keys
        assert not (tmp_path / "state").exists()     # nothing on the controller, shared or not
        assert (data / "dev" / "media" / "movies").is_dir() and (data / "media" / "movies").is_dir()
        deployment = client.AppsV1Api(api).read_namespaced_deployment("radarr", dev_ns)
        mounts = dict((m.name, m) for m in deployment.spec.template.spec.containers[0].volume_mounts)
        assert (mounts["data"].mount_path, mounts["data"].sub_path) == (str(data), "dev")
        main_mounts = dict((m.name, m) for m in client.AppsV1Api(api).read_namespaced_deployment(
            "radarr", ns).spec.template.spec.containers[0].volume_mounts)
        assert main_mounts["data"].sub_path is None

        # Removing dev: refused without its name typed, refused for main; then done, and main untouched.
        for extra, says in ((("-e", "arrkestra_stack=dev", "-e", "arrkestra_remove_stack_confirm=yes"), "not confirmed"),
                            (("-e", "arrkestra_remove_stack_confirm=main"), "arrkestra_stack is main")):
            refused = _site_with(inventory, [], None, extra, playbooks=("remove_stack.yml",))
            assert refused.rc != 0 and says in json.dumps(refused.failures()), refused.failures()
            assert _snapshot(api, dev_ns) == dev_before
        start = time.monotonic()
        removed = _site_with(inventory, [], "dev", ("-e", "arrkestra_remove_stack_confirm=dev"),
                             playbooks=("remove_stack.yml",))
        timings["remove dev"] = [round(time.monotonic() - start, 1)]
        assert removed.rc == 0, _report(removed, stacks["dev"])
        left = core.list_namespaced_config_map(dev_ns).items + core.list_namespaced_secret(dev_ns).items
        assert not [o.metadata.name for o in left if (o.metadata.labels or {}).get("app.kubernetes.io/managed-by")
                    and not o.metadata.deletion_timestamp], left
        namespace = [n for n in core.list_namespace().items if n.metadata.name == dev_ns]
        assert not namespace or namespace[0].metadata.deletion_timestamp, "dev's namespace is still there"
        assert not [v for v in core.list_persistent_volume().items if v.metadata.name == "arrkestra-%s-data" % dev_ns]
        assert (data / "dev" / "media" / "movies").is_dir(), "dev's data folder was not kept"
        assert _snapshot(api, ns) == main_before, "removing dev touched main's objects"
        sys.stderr.write("[environments] timings (s): %s; runs: %s\n" % (timings, runs))
    finally:
        for stack in stacks.values():
            stack.close()
        _forget(api, client, [ns, dev_ns], 8)


def _site_with(inventory, log, stack, extra, playbooks=("platform.yml", "apps.yml", "wiring.yml")):
    """:func:`test_site._site` on ``playbooks`` for the stack ``stack`` (``-e arrkestra_stack``), with ``extra``
    arguments."""
    return _site(inventory, log, playbooks, extra=(["-e", "arrkestra_stack=%s" % stack] if stack else []) + list(extra))
