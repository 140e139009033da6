"""The drift report (scripts/drift.sh, playbooks/drift.yml, the callback arrkestra.homelab.drift) on the test control
plane, with the apps stood in by their doubles (tests/lab/cluster_stack.py), as test_site.py runs the README's
command.

The local inventory is converged once (platform, apps, wiring). Then:

- the drift report says nothing differs (exit 0, no row), and it changed nothing: no app saw a write request and
  no object of the stack's namespace has another resourceVersion;
- a user changes the download client's category in Radarr (through its API, as the UI does), deletes Prowlarr's
  Radarr application and scales FlareSolverr's Deployment to 0: exit 2, exactly those three rows, still no write;
- Radarr no longer answers (its pod taken out of the pod network): exit 1, Radarr named, the other apps still
  compared (the two changes not in Radarr reported again).

Why FlareSolverr's Deployment and not Radarr's: the controller reaches Radarr through its Service, which has no
endpoint without a pod - Radarr scaled to 0 is an app that does not answer (exit 1), which the last step covers.
FlareSolverr is called by Prowlarr only, never by the controller, so its Deployment at 0 is a difference and
nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from xml.etree import ElementTree

import httpx
import pytest

from tests.controlplane import cluster
from tests.controlplane.fixture import controlplane  # noqa: F401 pylint: disable=unused-import
from tests.integration.controlplane.test_controlplane import _cluster_storage, _forget
from tests.integration.controlplane.test_platform import GROUPS, _what_k3s_and_the_charts_bring
from tests.integration.controlplane.test_site import INVENTORIES, _cluster_hosts, _copy_inventory, _report, _site
from tests.lab.cluster_stack import ClusterStack
from tests.lab.playbook import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]

#: What the stack's namespace holds that the phases declare (their resourceVersions must not move).
LISTS = (("CoreV1Api", "list_namespaced_config_map"), ("CoreV1Api", "list_namespaced_secret"),
         ("CoreV1Api", "list_namespaced_service"), ("CoreV1Api", "list_namespaced_persistent_volume_claim"),
         ("AppsV1Api", "list_namespaced_deployment"), ("BatchV1Api", "list_namespaced_job"),
         ("BatchV1Api", "list_namespaced_cron_job"), ("NetworkingV1Api", "list_namespaced_ingress"),
         ("NetworkingV1Api", "list_namespaced_network_policy"))


def drift(inventory, tmp_path, log, *extra):
    """scripts/drift.sh --json on the inventory: (exit code, the JSON report, stderr); the seconds it took in ``log``."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               TMPDIR=str(tmp_path))
    start = time.monotonic()
    proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "drift.sh"), "-i", str(inventory), "--json"] + list(extra),
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    log.append(time.monotonic() - start)
    try:
        document = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("drift.sh gave no JSON (exit %d):\n%s\n%s"
                             % (proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:]))
    return proc.returncode, document, proc.stderr


def _own(report, log):
    """The rows of the stack, and the exit code they alone give. The platform's cluster-wide objects (cert-manager's
    CA Certificate names the domain) are shared by every test on this control plane: another test converging its
    own inventory at the same time changes them under this one. Those rows are printed, not asserted."""
    shared = [r for r in report["rows"] if r["phase"] == "platform" and r["app"] is None]
    if shared:
        log.write("[drift] rows of the shared platform objects (another test's inventory?): %s\n" % shared)
    rows = [r for r in report["rows"] if r not in shared]
    return rows, (1 if report["errors"] else 2 if rows else 0)


def _versions(api, client, ns):
    out = {}
    for group, call in LISTS:
        for obj in getattr(getattr(client, group)(api), call)(ns).items:
            out["%s/%s" % (call.split("namespaced_")[1], obj.metadata.name)] = obj.metadata.resource_version
    out["namespace"] = client.CoreV1Api(api).read_namespace(ns).metadata.resource_version
    return out


def _settled(api, client, ns, name, timeout=120):
    """Wait until the Deployment's controller has done with the scale (its status written, the pod gone): only the
    drift report may then change a resourceVersion."""
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dep = apps.read_namespaced_deployment(name, ns)
        pods = core.list_namespaced_pod(ns, label_selector="app.kubernetes.io/instance=%s" % name).items
        if dep.status.observed_generation == dep.metadata.generation and not dep.status.replicas and not pods:
            time.sleep(3)
            if apps.read_namespaced_deployment(name, ns).metadata.resource_version == dep.metadata.resource_version:
                return
        time.sleep(1)
    raise AssertionError("Deployment %s did not settle at 0 replicas" % name)


def _api(stack, name, path_root):
    entry = stack.apps[name]
    key = stack._secrets()[name]["api_key"]      # pylint: disable=protected-access
    return httpx.Client(base_url="http://127.0.0.1:%d%s" % (entry["port"], path_root), headers={"X-Api-Key": key},
                        timeout=20)


def _secret_values(api, client, ns):
    values = set()
    import base64
    for secret in client.CoreV1Api(api).list_namespaced_secret(ns).items:
        for value in (secret.data or {}).values():
            text = base64.b64decode(value).decode("utf-8", "replace")
            if len(text) >= 8:
                values.add(text)
    return values


def test_the_drift_report(tmp_path, controlplane):
    name = "local"
    ns = "drift-%s" % os.urandom(3).hex()
    data = tmp_path / "data"
    data.mkdir()
    source = INVENTORIES[name]
    overrides = {
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "arrkestra_namespace": ns, "arrkestra_data_mount": str(data),
        "arrkestra_data": {"type": "hostpath", "path": str(data)},
        "platform_wait_timeout": 120, "apps_wait_timeout": 180, "wiring_wait_timeout": 120,
        "wiring_record_file": str(tmp_path / "state" / "wiring.json"),
    }
    inventory = _copy_inventory(source, str(tmp_path / "inventory"), overrides)
    made_nodes = [n for n in _cluster_hosts(source) if cluster.ensure_node(controlplane, n)]
    api, client = _cluster_storage(controlplane, tmp_path, 16, ns)
    _what_k3s_and_the_charts_bring(api, client, list(GROUPS))
    stack = ClusterStack(controlplane, ns, tmp_path).start()
    timings, runs = [], []
    try:
        first = _site(inventory, runs)
        assert first.rc == 0, "converging:\n" + _report(first, stack)
        sys.stderr.write("[drift] converged in %.0f s\n" % runs[0])
        secrets = _secret_values(api, client, ns)

        # 1. In sync: nothing to report, nothing written, nothing changed.
        stack.reset()
        before = _versions(api, client, ns)
        code, report, err = drift(inventory, tmp_path, timings)
        sys.stderr.write("[drift] in sync: %.1f s, exit %d: %s; requests each app saw: %s\n"
                         % (timings[-1], code, report["summary"], stack.requests()))
        rows, own_code = _own(report, sys.stderr)
        assert (own_code, rows, report["errors"]) == (0, [], []), json.dumps(report, indent=1) + err[-3000:]
        assert code == report["exit_code"] and (code == 0) == report["in_sync"] and report["stack"] == ns
        assert stack.writes() == {}, stack.writes()
        assert _versions(api, client, ns) == before
        assert sorted(a["name"] for a in report["apps"]) == sorted(
            ["prowlarr", "radarr", "sonarr", "bazarr", "qbittorrent", "flaresolverr", "jellyfin", "seerr", "recyclarr"])
        assert "radarr/download_clients/qbittorrent" in [link["id"] for link in report["links"]]

        # 2. Three hand changes: each one row, exit 2, still nothing written by the report.
        with _api(stack, "radarr", "/api/v3") as radarr:
            clients = radarr.get("/downloadclient").json()
            mine = [c for c in clients if c["name"] == "qbittorrent"][0]
            for field in mine["fields"]:
                if field["name"] == "movieCategory":
                    field["value"] = "movies"
            resp = radarr.put("/downloadclient/%d" % mine["id"], json=mine)
            assert resp.status_code < 300, resp.text
        with _api(stack, "prowlarr", "/api/v1") as prowlarr:
            applications = prowlarr.get("/applications").json()
            gone = [a for a in applications if a["name"] == "radarr"][0]
            assert prowlarr.delete("/applications/%d" % gone["id"]).status_code < 300
        client.AppsV1Api(api).patch_namespaced_deployment_scale("flaresolverr", ns, {"spec": {"replicas": 0}})
        _settled(api, client, ns, "flaresolverr")
        stack.reset()
        before = _versions(api, client, ns)
        code, report, err = drift(inventory, tmp_path, timings)
        sys.stderr.write("[drift] three changes: %.1f s, exit %d: %s\n" % (timings[-1], code, report["summary"]))
        own, own_code = _own(report, sys.stderr)
        rows = dict((r["link"] or r["object"], r) for r in own)
        assert code == 2 and own_code == 2 and not report["errors"] and len(own) == 3, \
            json.dumps(report, indent=1) + err[-3000:]
        assert rows["radarr/download_clients/qbittorrent"] == {
            "phase": "wiring", "app": "radarr", "object": "download client qbittorrent", "field": "fields.movieCategory",
            "declared": "radarr", "actual": "movies", "action": "update", "link": "radarr/download_clients/qbittorrent"}
        assert rows["prowlarr/applications/radarr"] == {
            "phase": "wiring", "app": "prowlarr", "object": "application radarr", "field": "(object)",
            "declared": "present", "actual": "absent", "action": "create", "link": "prowlarr/applications/radarr"}
        assert rows["Deployment/flaresolverr"] == {
            "phase": "apps", "app": "flaresolverr", "object": "Deployment/flaresolverr", "field": "spec.replicas",
            "declared": "1", "actual": "0", "action": "update", "link": None}
        if len(report["rows"]) == 3:
            assert report["summary"] == "Drift: 3 objects differ in 3 apps (apps 1, wiring 2); 0 errors"
        assert stack.writes() == {}, stack.writes()
        assert _versions(api, client, ns) == before
        assert not any(value in json.dumps(report) for value in secrets), "a secret is in the report"

        # The table: one line each, as the callback prints it; and the map of the same run, its drifted links marked.
        picture = tmp_path / "map.svg"
        proc = subprocess.run(["bash", os.path.join(ROOT, "scripts", "drift.sh"), "-i", str(inventory),
                               "--map", str(picture)], cwd=ROOT,
                              env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                                       TMPDIR=str(tmp_path)), capture_output=True, text=True, check=False)
        sys.stderr.write("[drift] the table:\n%s\n" % proc.stdout)
        assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        assert lines[-1] == report["summary"]
        assert lines[0].split()[:3] == ["PHASE", "APP", "OBJECT"]
        for wanted in ("radarr/download_clients/qbittorrent", "prowlarr/applications/radarr", "Deployment/flaresolverr"):
            assert len([line for line in lines if wanted in line]) == 1, proc.stdout
        assert not any(value in proc.stdout for value in secrets), "a secret is in the table"
        states = dict((g.get("data-link"), g.get("data-state"))
                      for g in ElementTree.parse(str(picture)).getroot().iter("{http://www.w3.org/2000/svg}g")
                      if g.get("data-link"))
        assert states["radarr/download_clients/qbittorrent"] == states["prowlarr/applications/radarr"] == "drift", states
        assert set(states.values()) == {"drift", "sync"} and set(states) == set(link["id"] for link in report["links"])
        artefacts = os.path.join(os.environ.get("ARRKESTRA_ARTEFACTS") or os.path.join(ROOT, "tests", "artefacts"), "drift")
        os.makedirs(artefacts, exist_ok=True)
        shutil.copy(str(picture), os.path.join(artefacts, "map-three-changes.svg"))

        # 3. Radarr does not answer: exit 1, Radarr named.
        cluster.unroute(controlplane, [stack.apps["radarr"]["destination"]])
        code, report, err = drift(inventory, tmp_path, timings)
        sys.stderr.write("[drift] radarr unreachable: %.1f s, exit %d: %s\n" % (timings[-1], code, report["summary"]))
        assert code == 1, json.dumps(report, indent=1) + err[-3000:]
        assert [e["app"] for e in report["errors"]] == ["radarr"], report["errors"]
        assert "radarr (radarr) did not answer" in report["errors"][0]["message"]
        assert "radarr" in report["summary"]
        # ... and the other apps are compared all the same: the two changes not in Radarr are still reported, and
        # nothing is said of Radarr's own links, which could not be read
        found = dict((r["link"] or r["object"], r["action"]) for r in _own(report, sys.stderr)[0])
        assert found == {"prowlarr/applications/radarr": "create", "Deployment/flaresolverr": "update"}, found
        assert stack.writes() == {}, stack.writes()
        sys.stderr.write("[drift] drift runs: %s s\n" % ", ".join("%.1f" % t for t in timings))
    finally:
        stack.close()
        _forget(api, client, [ns], 16, made_nodes)
