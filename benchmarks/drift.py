#!/usr/bin/env python
"""The drift report of the default stack: wall and CPU time of ``scripts/drift.sh``, against a real API server.

Uses the test control plane (tests/controlplane/cluster.py: kube-apiserver, etcd, controller-manager, scheduler,
kwok; started when it does not run, left as it was found) and the apps' test doubles (tests/lab/cluster_stack.py),
as tests/integration/controlplane/test_drift.py does: converges ``inventories/local`` as shipped (its nine apps:
Prowlarr, Radarr, Sonarr, Bazarr, qBittorrent, FlareSolverr, Jellyfin, Seerr, Recyclarr) into a namespace of its
own (platform, apps and wiring phases), then times ``--runs`` drift reports of the stack in sync - every phase in
check mode, each object of the cluster sent as a server-side dry run, each app read - and one with a difference
(FlareSolverr's Deployment scaled to 0). CPU time is the user and system time of drift.sh and every process it
started (ansible-playbook, its workers and modules). Prints a Markdown table.

Goal (issue 21): the default stack in well under a minute on a development machine.

    python benchmarks/drift.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from tests.controlplane import cluster  # noqa: E402
from tests.integration.controlplane.test_controlplane import _cluster_storage, _forget  # noqa: E402
from tests.integration.controlplane.test_platform import GROUPS, _what_k3s_and_the_charts_bring  # noqa: E402
from tests.integration.controlplane.test_site import INVENTORIES, _cluster_hosts, _copy_inventory, _site  # noqa: E402
from tests.lab.cluster_stack import ClusterStack  # noqa: E402


def _timed(argv, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc, wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--runs", type=int, default=3, help="drift reports of the stack in sync (default 3)")
    args = parser.parse_args()

    running = cluster.status()
    state = running or cluster.start()
    work = tempfile.mkdtemp(prefix="arrkestra-drift-bench-")
    ns = "bench-drift-%s" % os.urandom(3).hex()
    source = INVENTORIES["local"]
    data = os.path.join(work, "data")
    os.makedirs(data)
    inventory = _copy_inventory(source, os.path.join(work, "inventory"), {
        "arrkestra_kubeconfig": state["kubeconfig"], "arrkestra_kube_context": state["context"],
        "arrkestra_namespace": ns, "arrkestra_data_mount": data, "arrkestra_data": {"type": "hostpath", "path": data},
        "platform_wait_timeout": 120, "apps_wait_timeout": 180, "wiring_wait_timeout": 120,
        "wiring_record_file": os.path.join(work, "state", "wiring.json")})
    made_nodes = [n for n in _cluster_hosts(source) if cluster.ensure_node(state, n)]
    api, client = _cluster_storage(state, Path(work), 16, ns)
    _what_k3s_and_the_charts_bring(api, client, list(GROUPS))
    stack = ClusterStack(state, ns, work).start()
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", TMPDIR=work)
    rows = []
    try:
        log = []
        converged = _site(inventory, log)
        if converged.rc != 0:
            raise SystemExit("converging the stack failed (rc %d): %s" % (converged.rc, converged.failures()))
        argv = ["bash", os.path.join(ROOT, "scripts", "drift.sh"), "-i", inventory, "--json"]
        for index in range(args.runs + 1):
            if index == args.runs:
                client.AppsV1Api(api).patch_namespaced_deployment_scale("flaresolverr", ns, {"spec": {"replicas": 0}})
            stack.reset()
            proc, wall, cpu = _timed(argv, env)
            report = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
            rows.append(("in sync #%d" % (index + 1) if index < args.runs else "FlareSolverr scaled to 0",
                         proc.returncode, len(report.get("rows") or ()), wall, cpu,
                         sum(stack.requests().values()), len(stack.writes())))
        print("Drift report of inventories/local (%d apps), converged in %.0f s; %s\n"
              % (len(report.get("apps") or ()), log[0], time.strftime("%Y-%m-%d")))
        print("| run | exit | rows | wall s | CPU s | app requests | apps written to |")
        print("|---|---|---|---|---|---|---|")
        for name, code, count, wall, cpu, requests, written in rows:
            print("| %s | %d | %d | %.1f | %.1f | %d | %d |" % (name, code, count, wall, cpu, requests, written))
    finally:
        stack.close()
        _forget(api, client, [ns], 16, made_nodes)
        if not running:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
