"""The README's main command on a real node, as someone who brings their own cluster runs it.

The default inventory (inventories/local) as it ships, with ``arrkestra_distribution: existing`` pointed at
the test control plane and its real node (tests/controlplane/node.py), and the images a private registry
would hold: every app's image is a locally built one (tests/controlplane/images.py) - the real
qbittorrent-nox from Debian, the apps that cannot be had here as their test doubles started the way their
image starts them - and the collection's own containers (helper, backups) run busybox and sqlite3. Only
what this lab cannot have is switched off: the platform's charts (ingress, certificates) need images no
registry serves here.

So the pods really run: the seed init containers write the files the apps read at start, the rendered
probes decide readiness, the wiring phase reaches each app through the API server's service proxy, and the
apps reach each other by their in-cluster names through the cluster's DNS and Services (Prowlarr's test of
Radarr, Radarr's test of qBittorrent) - across the stack's NetworkPolicies, which kube-router enforces
there: a caller the policies forgot would fail the run. Run twice: the second run changes nothing and sends no write to any
app - neither through the API server (its audit log) nor between the apps (each double's request log).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import credentials as app_credentials, links as link_model
from tests.controlplane import cluster, images, node
from tests.controlplane.fixture import controlplane, real_node  # noqa: F401 pylint: disable=unused-import
from tests.doubles.serve import REQUEST, VIOLATION
from tests.integration.controlplane.test_node import _wait
from tests.integration.controlplane.test_site import _copy_inventory, _shipped_variable, _site
from tests.lab.playbook import BIN, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.controlplane, pytest.mark.slow]

SOURCE = os.path.join(ROOT, "inventories", "local")
PHASES = ("nodes.yml", "platform.yml", "apps.yml", "wiring.yml")     # site.yml's phases
WRITES = ("POST", "PUT", "PATCH", "DELETE")
#: the local inventory's apps and what stands in for their image here
IMAGE_OF = {"qbittorrent": images.reference("qbittorrent")}
IMAGE_OF.update({kind: images.double(kind) for kind in images.DOUBLE_KINDS})


def _pod_logs(core, ns):
    """{app: [log line]} of every running app pod (kubelet's logs, through the API)."""
    logs = {}
    for pod in core.list_namespaced_pod(ns).items:
        app = (pod.metadata.labels or {}).get("app.kubernetes.io/instance") or pod.metadata.name
        if pod.status.phase != "Running":
            continue
        for container in pod.spec.containers:
            text = core.read_namespaced_pod_log(pod.metadata.name, ns, container=container.name)
            logs.setdefault(app, []).extend(text.splitlines())
    return logs


def _requests(logs, since=None):
    """{app: [(method, path)]} from the doubles' request lines (after the counts in ``since``)."""
    found = {}
    for app, lines in logs.items():
        seen = [tuple(line.split()[1:3]) for line in lines if line.startswith(REQUEST + " ")]
        found[app] = seen[len((since or {}).get(app, ())):]
    return found


def test_the_readme_command_on_a_real_node(tmp_path, controlplane, real_node):  # noqa: F811
    # pylint: disable=redefined-outer-name,unused-argument,too-many-locals
    ns = "real-%s" % os.urandom(3).hex()
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 1000, 1000)      # what the nodes phase does on a k3s node; on a cluster you bring, you do
    os.chmod(data, 0o775)
    apps = {name: dict(settings or {}, image=IMAGE_OF[name]) if name in IMAGE_OF else settings
            for name, settings in _shipped_variable(SOURCE, "arrkestra_apps").items()}
    overrides = {
        "arrkestra_distribution": "existing", "arrkestra_helm_controller": False,
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "arrkestra_namespace": ns, "arrkestra_apps": apps, "arrkestra_config_storage_class": node.STORAGE_CLASS,
        "arrkestra_images": {"helper": images.reference("busybox"), "sqlite": images.reference("sqlite")},
        "arrkestra_data": dict(_shipped_variable(SOURCE, "arrkestra_data"), path=str(data)),
        # the charts of the platform need images this lab cannot pull; a cluster you bring has no servicelb
        "arrkestra_load_balancer": {"type": "none"}, "arrkestra_ingress": {"enabled": False},
        "arrkestra_certificates": {"enabled": False},
        # kube-router enforces the policies on the node. The wiring phase's requests through the API server's
        # proxy come from the API server's address, the other end of the node's link - as from a k3s server
        # to the pods of an agent node (on a one-node k3s they come from the node's own address, always let in).
        "arrkestra_network_policies": {"enabled": True, "allow_cidrs": ["%s/32" % node.HOST_IP]},
        "platform_wait_timeout": 120, "apps_wait_timeout": 300, "wiring_wait_timeout": 180,
        "wiring_record_file": str(tmp_path / "state" / "wiring.json"),
    }
    inventory = _copy_inventory(SOURCE, str(tmp_path / "inventory"), overrides)
    api, client = cluster.client(controlplane)
    core = client.CoreV1Api(api)
    timings = []
    try:
        with node.only(controlplane):
            first = _site(inventory, timings, PHASES)
            assert first.rc == 0, "first run:\n" + _report_run(first) + _why_pods(core, ns)
            assert first.changed > 0

            pods = core.list_namespaced_pod(ns).items
            running = [p for p in pods if p.status.phase == "Running"]
            assert running and all(p.spec.node_name == node.NAME for p in running)
            for pod in running:     # Ready through the probes the apps phase rendered
                assert all(s.ready for s in pod.status.container_statuses), pod.metadata.name
            # The apps' config volumes: made by local-path-provisioner once each pod was scheduled, as on k3s
            # (a CronJob's claim, Recyclarr's, waits for its first run).
            used = {v.persistent_volume_claim.claim_name for p in running for v in p.spec.volumes or ()
                    if v.persistent_volume_claim}
            claims = [c for c in core.list_namespaced_persistent_volume_claim(ns).items
                      if c.spec.storage_class_name == node.STORAGE_CLASS and c.metadata.name in used]
            assert claims and all(c.status.phase == "Bound" for c in claims), [c.status.phase for c in claims]
            for claim in claims:
                annotations = core.read_persistent_volume(claim.spec.volume_name).metadata.annotations or {}
                assert annotations.get("pv.kubernetes.io/provisioned-by") == node.LOCAL_PATH["provisioner"], claim
            logs = _pod_logs(core, ns)
            violations = {app: [l for l in lines if l.startswith(VIOLATION)] for app, lines in logs.items()}
            assert not any(violations.values()), violations
            before = _requests(logs)
            dummy, offset = cluster.proxied(controlplane)

            again = _site(inventory, timings, PHASES)
            assert again.rc == 0, "second run:\n" + _report_run(again)
            proxied, offset = cluster.proxied(controlplane, offset)
            between = _requests(_pod_logs(core, ns), before)
            problems = []
            if again.changed:
                problems.append("second run changed %d: %s" % (again.changed, again.changed_tasks()))
            through_api = [r for r in proxied if r[0] in WRITES and "/namespaces/%s/" % ns in r[1]]
            if through_api:
                problems.append("second run wrote through the API server's proxy: %s" % through_api)
            written = {app: [r for r in seen if r[0] in WRITES] for app, seen in between.items()}
            if any(written.values()):
                problems.append("second run: writes the apps saw: %s" % json.dumps(written))
            assert not problems, "\n".join(problems)
            sys.stderr.write("[real node] runs %s s; apps' requests on the second run: %s\n"
                             % ([round(t) for t in timings], {a: len(r) for a, r in between.items()}))
            _rotate(controlplane, core, client.AppsV1Api(api), ns, inventory, timings, tmp_path)

            # Backups: Seerr's CronJob, run now on the node, copies its live SQLite database (db/db.sqlite3) and
            # its settings; restore.yml stops Seerr, puts the newest archive back and starts it again.
            archive = _back_up(client.BatchV1Api(api), core, ns, "seerr", data)
            proc = _restore(inventory, "seerr")
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
            job = [j for j in client.BatchV1Api(api).list_namespaced_job(ns).items
                   if j.metadata.name.startswith("seerr-restore-")][0]
            log = core.read_namespaced_pod_log(core.list_namespaced_pod(
                ns, label_selector="job-name=" + job.metadata.name).items[0].metadata.name, ns)
            assert "seerr: restored /data/backups/seerr/%s" % archive in log, log
            apps_api = client.AppsV1Api(api)
            _wait("Seerr back, Ready", lambda: apps_api.read_namespaced_deployment("seerr", ns).status.ready_replicas, 120)
    finally:
        try:
            core.delete_namespace(ns)
        except client.ApiException:
            pass
        deadline = time.monotonic() + 60     # the pods go, then local-path-provisioner removes their volumes
        while time.monotonic() < deadline and core.list_namespaced_pod(ns).items:
            time.sleep(1)


def _rotate(controlplane, core, apps_api, ns, inventory, timings, tmp_path):  # noqa: F811
    """qBittorrent's password and Radarr's API key changed in their Secrets, as a user rotates them: the next run
    restarts both apps (they read them at start) and rewrites the links that hand them to the other apps - Sonarr's
    download client, Prowlarr's application - once; the run after writes nothing, also from a controller that never
    ran before (the wiring record is in the cluster) - but for its one sign-in to qBittorrent."""
    # pylint: disable=redefined-outer-name,too-many-arguments,too-many-positional-arguments,too-many-locals
    for name, values in (("qbittorrent-credentials", {"password": "rotated-password"}),
                         ("radarr-credentials", {"api_key": "f" * 32})):
        core.patch_namespaced_secret(name, ns, {"stringData": values})

    def templates():
        return dict((app, (apps_api.read_namespaced_deployment(app, ns).spec.template.metadata.annotations or {}).get(
            app_credentials.CREDENTIALS_ANNOTATION)) for app in ("qbittorrent", "radarr", "sonarr"))

    was = templates()
    dummy, offset = cluster.proxied(controlplane)
    rotated = _site(inventory, timings, PHASES)
    assert rotated.rc == 0, "run after the rotation:\n" + _report_run(rotated) + _why_pods(core, ns)
    now = templates()
    assert now["qbittorrent"] != was["qbittorrent"] and now["radarr"] != was["radarr"], (was, now)
    assert now["sonarr"] == was["sonarr"], (was, now)
    proxied, offset = cluster.proxied(controlplane, offset)
    writes = [r for r in proxied if r[0] in WRITES and "/namespaces/%s/" % ns in r[1]]
    sonarr = [r for r in writes if "http:sonarr:" in r[1]]
    assert [r[0] for r in sonarr] == ["PUT"] and "/api/v3/downloadclient/" in sonarr[0][1], writes
    prowlarr = [r for r in writes if "http:prowlarr:" in r[1]]
    assert [r[0] for r in prowlarr] == ["PUT"] and "/api/v1/applications/" in prowlarr[0][1], writes
    assert not [r for r in writes if "http:jellyfin:" in r[1]], writes
    record = json.loads(core.read_namespaced_config_map(link_model.RECORD_OBJECT, ns).data["record.json"])
    assert "sonarr/download_clients/qbittorrent" in record["fingerprints"]
    assert "rotated-password" not in json.dumps(record) and "f" * 32 not in json.dumps(record)

    # A controller that never ran (another HOME: no file of the wiring's) finds the record in the cluster.
    before = _requests(_pod_logs(core, ns))
    home = tmp_path / "new-laptop"
    home.mkdir()
    third = _site(inventory, timings, PHASES, env={"HOME": str(home)})
    assert third.rc == 0, "run from a new controller:\n" + _report_run(third)
    assert third.changed == 0, third.changed_tasks()
    proxied, offset = cluster.proxied(controlplane, offset)
    # but one sign-in to qBittorrent: its session cookie is kept on the controller that signed in (session_cache)
    writes = [r for r in proxied if r[0] in WRITES and "/namespaces/%s/" % ns in r[1]]
    assert [r for r in writes if not r[1].endswith("http:qbittorrent:8080/proxy/api/v2/auth/login")] == [], writes
    written = {app: [r for r in seen if r[0] in WRITES] for app, seen in _requests(_pod_logs(core, ns), before).items()}
    assert not any(written.values()), written


def _back_up(batch, core, ns, app, data):
    """Run the app's backup CronJob now (a Job from its template, as ``kubectl create job --from`` does);
    the archive it wrote, checked: a SQLite database of the app's and its settings."""
    cronjob = batch.read_namespaced_cron_job(app + "-backup", ns)
    name = "%s-backup-now" % app
    batch.create_namespaced_job(ns, {"metadata": {"name": name, "annotations": {"cronjob.kubernetes.io/instantiate":
                                                                                "manual"}},
                                     "spec": batch.api_client.sanitize_for_serialization(cronjob.spec.job_template.spec)})

    def done():
        status = batch.read_namespaced_job(name, ns).status
        return "ok" if status.succeeded else ("failed" if status.failed and status.failed > 2 else None)

    assert _wait("the backup Job", done, 180) == "ok"
    pod = core.list_namespaced_pod(ns, label_selector="job-name=" + name).items[-1].metadata.name
    log = core.read_namespaced_pod_log(pod, ns)
    folder = data / "backups" / app
    archives = sorted(os.listdir(folder))
    assert len(archives) == 1 and "backed up to" in log and archives[0] in log, (archives, log)
    with tarfile.open(folder / archives[0]) as tar:
        members = {m.name: tar.extractfile(m).read(16) for m in tar.getmembers() if m.isfile()}
    assert members.get("./db/db.sqlite3", b"").startswith(b"SQLite format 3"), sorted(members)
    assert "./settings.json" in members, sorted(members)
    return archives[0]


def _restore(inventory, app):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    return subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory),
                           os.path.join(ROOT, "playbooks", "restore.yml"), "-e", "restore_app=" + app],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def _report_run(run):
    lines = ["rc %d, stats %s" % (run.rc, run.stats)]
    lines += ["FAILED %s: %s" % failure for failure in run.failures()]
    lines += ["changed: %s" % name for name in run.changed_tasks()[:60]]
    if run.rc and not run.failures():
        lines.append(run.stdout[-3000:] + run.stderr[-3000:])
    return "\n".join(lines)


def _why_pods(core, ns):
    """What the pods that are not Ready say (their events' and containers' last words)."""
    lines = []
    for pod in core.list_namespaced_pod(ns).items:
        statuses = (pod.status.init_container_statuses or []) + (pod.status.container_statuses or [])
        if statuses and all(s.ready or (s.state.terminated and s.state.terminated.exit_code == 0) for s in statuses):
            continue
        lines.append("pod %s: %s" % (pod.metadata.name, pod.status.phase))
        for status in statuses:
            state = status.state.waiting or status.state.terminated
            if state:
                lines.append("  %s: %s %s" % (status.name, state.reason, (state.message or "")[:300]))
            try:
                tail = core.read_namespaced_pod_log(pod.metadata.name, ns, container=status.name, tail_lines=8)
                lines.extend("    | " + line for line in tail.splitlines())
            except Exception:  # pylint: disable=broad-except
                pass
    return "\n" + "\n".join(lines)
