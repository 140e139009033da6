"""The README's main command for real, minus the nodes phase: platform, apps and wiring on each shipped
inventory (and the multi-instance fixture), against the test control plane, twice.

The nodes phase is stood in by the control plane of tests/controlplane/cluster.py (kube-apiserver,
controller-manager, scheduler, kwok nodes named as the inventory's nodes). What k3s and the charts would
bring (CRDs, the charts' webhook Deployments, volumes for the config claims) comes from
test_platform.py / test_controlplane.py. The apps are stood in by their test doubles and the real
qbittorrent-nox, started as their pods come up with the credentials the apps phase put in their
Secrets, and reached by the wiring phase the way the inventory says - through the API server's service
proxy, which the control plane's pod network (tests/controlplane/egress.py) connects to them.

Each inventory is copied as it ships; one file, group_vars/all/zz-test.yml, overrides only what a test
must: the control plane's kubeconfig and context, a random namespace, the data tree in tmp, the
timeouts and the wiring record file in tmp (unused: the record is in the cluster); and two exceptions, each with its reason: an example that says
``arrkestra_controller_access: direct`` goes through the service proxy (MAY_USE_THE_PROXY_INSTEAD_OF_DIRECT),
and the fixture's Transmission "on the NAS" is a real transmission-daemon on loopback.

The second run must change nothing, and no app may see a write request (sign-ins included).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as link_model
from tests.controlplane import cluster
from tests.controlplane.fixture import controlplane  # noqa: F401 pylint: disable=unused-import
from tests.integration.controlplane.test_controlplane import _cluster_storage, _forget
from tests.integration.controlplane.test_platform import GROUPS, _what_k3s_and_the_charts_bring
from tests.lab.clients import Transmission
from tests.lab.cluster_stack import ClusterStack
from tests.lab.playbook import BIN, ROOT
from tests.lab.stack import Run

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]

PHASES = ("platform.yml", "apps.yml", "wiring.yml")     # site.yml without its nodes play
INVENTORIES = {"local": os.path.join(ROOT, "inventories", "local"),
               "example": os.path.join(ROOT, "inventories", "example"),
               "multi-instance": os.path.join(ROOT, "tests", "fixtures", "inventories", "multi-instance")}

#: How the controller reaches the apps is never changed, with one exception: an inventory that says
#: ``arrkestra_controller_access: direct`` (calls at the ingress hostnames, radarr.media.example.org...)
#: cannot work here - no DNS name, load balancer or Traefik exists on this control plane - so the test
#: sends it through the API server's service proxy instead. That is allowed for the example only; the
#: local inventory (the README's main command) and the fixture are run as they say.
MAY_USE_THE_PROXY_INSTEAD_OF_DIRECT = ("example",)


def _cluster_hosts(inventory):
    """The hosts of the inventory's ``cluster`` group: the nodes the nodes phase would have made."""
    with open(os.path.join(inventory, "hosts.yml"), encoding="utf-8") as handle:
        hosts = yaml.safe_load(handle) or {}
    found = []

    def walk(group, inside):
        for name in (group.get("hosts") or {}) if inside else ():
            found.append(name)
        for child, sub in (group.get("children") or {}).items():
            walk(sub or {}, inside or child == "cluster")

    walk(hosts.get("all") or {}, False)
    return [h for h in found if h != "localhost"]


def _shipped_variable(inventory, variable):
    """The value ``variable`` has in the inventory's group_vars/all files (None when not set there)."""
    value = None
    folder = os.path.join(inventory, "group_vars", "all")
    for entry in sorted(os.listdir(folder)):
        with open(os.path.join(folder, entry), encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle) or {}
        value = loaded.get(variable, value)
    return value


def _copy_inventory(source, dest, overrides):
    shutil.copytree(source, dest)
    target = os.path.join(dest, "group_vars", "all")
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "zz-test.yml"), "w", encoding="utf-8") as handle:
        handle.write("---\n# What the test of tests/integration/controlplane/test_site.py changes; the rest is as shipped.\n")
        yaml.safe_dump(overrides, handle, sort_keys=True)
    return dest


def _site(inventory, log, phases=PHASES, env=None, extra=()):
    """ansible-playbook on ``phases`` (by default those after the nodes phase), as scripts/site.sh runs site.yml;
    ``env``: variables of the environment to change (another ``HOME``: another controller); ``extra``: arguments
    after the playbooks. No standard input: a prompt fails instead of waiting."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0", **(env or {}))
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory)]
    argv += [os.path.join(ROOT, "playbooks", p) for p in phases] + list(extra)
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    log.append(time.monotonic() - start)
    with open(os.path.join(os.path.dirname(str(inventory)), "run%d.json" % len(log)), "w", encoding="utf-8") as handle:
        handle.write(proc.stdout)
    # The JSON callback writes a document after each playbook, each one with every play so far: the last.
    documents, text, index = [], proc.stdout, 0
    decoder = json.JSONDecoder()
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        try:
            document, index = decoder.raw_decode(text, index)
        except ValueError:
            break
        documents.append(document)
    if documents:
        proc.stdout = json.dumps(documents[-1])
    return Run(proc)


def _report(run, stack):
    lines = ["rc %d, stats %s" % (run.rc, run.stats)]
    lines += ["FAILED %s: %s" % failure for failure in run.failures()]
    lines += ["changed: %s" % name for name in run.changed_tasks()[:60]]
    lines += ["stand-ins: %s" % ", ".join(sorted(stack.apps))]
    lines += ["watcher: %s" % e for e in stack.errors[-5:]]
    lines += ["stand-in events: %s" % stack.events]
    lines += ["contract: %s: %s" % (k, v[:3]) for k, v in stack.violations().items()]
    if run.rc and not run.failures():
        lines.append(run.stdout[-3000:] + run.stderr[-3000:])
    return "\n".join(lines)


def test_the_pod_network_reaches_what_stands_in_for_a_pod(controlplane):
    """The API server's service proxy reaches a routed pod's stand-in; an unrouted pod stays unreachable (503)."""
    import httpx
    from kubernetes import client, config

    from tests.doubles.flaresolverr import FlareSolverrDouble

    api = config.new_client_from_config(config_file=controlplane["kubeconfig"], context=controlplane["context"])
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    ns = "podnet-%s" % os.urandom(3).hex()
    core.create_namespace({"metadata": {"name": ns}})
    server = FlareSolverrDouble().serve()
    destination = None
    try:
        for name in ("routed", "unrouted"):
            apps.create_namespaced_deployment(ns, {
                "metadata": {"name": name}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                                                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                                                         "containers": [{"name": name, "image": "example/app:1",
                                                                         "ports": [{"name": "http",
                                                                                    "containerPort": 8191}]}]}}}})
            core.create_namespaced_service(ns, {"metadata": {"name": name}, "spec": {
                "selector": {"app": name}, "ports": [{"name": "http", "port": 8191, "targetPort": "http"}]}})
        deadline = time.monotonic() + 120
        pod_ip = None
        while time.monotonic() < deadline and not pod_ip:
            pods = core.list_namespaced_pod(ns, label_selector="app=routed").items
            ready = [p for p in pods if p.status.pod_ip and any(c.type == "Ready" and c.status == "True"
                                                                for c in p.status.conditions or ())]
            pod_ip = ready[0].status.pod_ip if ready else None
            time.sleep(0.5)
        assert pod_ip, "the pod did not become Ready"
        destination = "%s:8191" % pod_ip
        cluster.route(controlplane, destination, "127.0.0.1:%d" % server.port)
        with open(controlplane["kubeconfig"], encoding="utf-8") as handle:
            kube = json.load(handle)
        with tempfile.TemporaryDirectory() as tls:
            files = {}
            for key, data in (("ca", kube["clusters"][0]["cluster"]["certificate-authority-data"]),
                              ("crt", kube["users"][0]["user"]["client-certificate-data"]),
                              ("key", kube["users"][0]["user"]["client-key-data"])):
                files[key] = os.path.join(tls, key)
                with open(files[key], "wb") as handle:
                    handle.write(base64.b64decode(data))
            server_url = kube["clusters"][0]["cluster"]["server"]
            tls_context = ssl.create_default_context(cafile=files["ca"])
            tls_context.load_cert_chain(files["crt"], files["key"])     # (httpx 0.28 ignores cert= beside verify=)
            with httpx.Client(verify=tls_context, timeout=20) as http:
                deadline = time.monotonic() + 60          # the Endpoints follow the pod's readiness
                while True:
                    resp = http.get("%s/api/v1/namespaces/%s/services/http:routed:8191/proxy/health" % (server_url, ns))
                    if resp.status_code == 200 or time.monotonic() > deadline:
                        break
                    time.sleep(1)
                assert resp.status_code == 200 and resp.json() == {"status": "ok"}, (resp.status_code, resp.text)
                assert ("GET", "/health") in server.app.log
                resp = http.get("%s/api/v1/namespaces/%s/services/http:unrouted:8191/proxy/health" % (server_url, ns))
                assert resp.status_code == 503, (resp.status_code, resp.text)
    finally:
        if destination:
            cluster.unroute(controlplane, [destination])
        server.stop()
        core.delete_namespace(ns)


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_the_readme_command_on(name, tmp_path, controlplane):
    ns = "site-%s" % os.urandom(3).hex()
    data = tmp_path / "data"
    data.mkdir()
    source = INVENTORIES[name]
    overrides = {
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "arrkestra_namespace": ns,
        # the apps' data tree: the stand-ins run on this machine and check the folders the wiring gives them
        "arrkestra_data_mount": str(data),
        "platform_wait_timeout": 120, "apps_wait_timeout": 180, "wiring_wait_timeout": 120,
        "wiring_record_file": str(tmp_path / "state" / "wiring.json"),
    }
    shipped_data = _shipped_variable(source, "arrkestra_data") or {"type": "hostpath"}
    if shipped_data.get("type", "hostpath") == "hostpath":     # the example's NFS share is only named, never mounted
        overrides["arrkestra_data"] = dict(shipped_data, path=str(data))
    access = _shipped_variable(source, "arrkestra_controller_access")
    if access == "direct" and name in MAY_USE_THE_PROXY_INSTEAD_OF_DIRECT:
        overrides["arrkestra_controller_access"] = "apiserver_proxy"
    externals = {}
    if name == "multi-instance":
        # Its Transmission lives "on the NAS" (http://nas.lan:9091): here a real transmission-daemon on
        # loopback, started with the credentials of the Secret the apps phase made for it.
        transmission = Transmission(str(tmp_path / "transmission"))
        os.makedirs(transmission.workdir, exist_ok=True)
        apps = dict(_shipped_variable(source, "arrkestra_apps"))
        apps["transmission"] = dict(apps["transmission"], url=transmission.url, controller_url=transmission.url)
        overrides["arrkestra_apps"] = apps
        externals["transmission"] = transmission
        # The fixture names no Python for localhost (the shipped inventories give ansible_playbook_python):
        # the controller's modules need the venv's kubernetes and httpx, as scripts/site.sh has them.
        overrides["ansible_python_interpreter"] = sys.executable
    inventory = _copy_inventory(source, str(tmp_path / "inventory"), overrides)

    # The nodes phase's part: the inventory's nodes, the storage k3s gives, what the charts bring.
    made_nodes = [n for n in _cluster_hosts(source) if cluster.ensure_node(controlplane, n)]
    api, client = _cluster_storage(controlplane, tmp_path, 16, ns)
    _what_k3s_and_the_charts_bring(api, client, list(GROUPS))

    stack = ClusterStack(controlplane, ns, tmp_path, externals=externals).start()
    timings = []
    try:
        first = _site(inventory, timings)
        assert first.rc == 0, "first run:\n" + _report(first, stack)
        assert first.changed > 0
        assert "qbittorrent" not in stack.apps or stack.writes().get("qbittorrent"), "the first run's sign-in to qBittorrent was not seen"
        assert not stack.violations(), stack.violations()
        sys.stderr.write("[%s] first run %.0f s; %s\n" % (name, timings[0], stack.events))

        stack.reset()
        again = _site(inventory, timings)
        sys.stderr.write("[%s] second run %.0f s; requests each app saw: %s\n" % (name, timings[1], stack.requests()))
        assert again.rc == 0, "second run:\n" + _report(again, stack)
        problems = []
        if again.changed:
            problems.append("second run changed %d:\n%s" % (again.changed, _report(again, stack)))
        if stack.writes():
            problems.append("second run wrote to the apps (sign-ins count): %s" % json.dumps(stack.writes()))
        assert not problems, "\n".join(problems)
        assert not stack.violations(), stack.violations()
        record = client.CoreV1Api(api).read_namespaced_config_map(link_model.RECORD_OBJECT, ns).data["record.json"]
        assert json.loads(record)["links"], "the wiring record (in the stack's namespace) is empty"
        assert not (tmp_path / "state" / "wiring.json").exists()     # not on the controller
    finally:
        stack.close()
        for transmission in externals.values():
            transmission.stop()
        _forget(api, client, [ns], 16, made_nodes)
