#!/usr/bin/env python
"""No-op re-run of the whole wiring phase: wall time, CPU time, module runs and requests per app.

Starts the wiring lab (tests/lab/stack.py: a test double of every app this machine can't run, the real
qbittorrent-nox) with the six-app stack - Prowlarr, Radarr, Sonarr, qBittorrent, Jellyfin and Seerr - or every
app the lab has (``--stack full``: Lidarr, Bazarr, SABnzbd, Transmission, NZBGet, FlareSolverr and a
``radarr-4k`` instance besides), converges it with ``playbooks/wiring.yml``, then times a no-op re-run and counts,
per app, the HTTP requests it served, the GETs per resource collection and the writes. CPU time is the user and
system time of ansible-playbook and every process it started. ``--naive`` also times one task per Servarr link
with the single-resource modules (``radarr_download_client``, ``prowlarr_application``...), as a user of such
modules would write it. Prints Markdown tables.

Goals (issue 18): the no-op re-run of the six-app stack in <= 10 s on a development machine, no write, <= 1 GET
per resource collection per app (the health wait is one more, to /ping or its like).

    python benchmarks/wiring_noop.py [--stack six|full] [--naive]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from tests.lab.stack import BIN, CLIENTS, DOUBLES, StackLab  # noqa: E402

SERVARR = ("radarr", "sonarr", "lidarr", "prowlarr")
MODULES = {"tags": "tag", "root_folders": "root_folder", "download_clients": "download_client",
           "applications": "application", "indexer_proxies": "indexer_proxy"}
STACKS = {
    "six": ("prowlarr", "radarr", "sonarr", "qbittorrent", "jellyfin", "seerr"),
    "full": ("prowlarr", "radarr", "sonarr", "lidarr", "qbittorrent", "transmission", "nzbget", "sabnzbd",
             "flaresolverr", "jellyfin", "seerr", "bazarr"),
}


def naive_play(lab):
    """One task per Servarr link, as a user of single-resource modules would write it."""
    from ansible_collections.arrkestra.homelab.plugins.filter.wiring import wiring_resolve
    from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as link_model
    apps = [{"name": n, "kind": e["kind"], "url": e["url"]} for n, e in lab.apps.items()]
    settings = {"media_root": str(lab.media), "torrents_root": str(lab.tmp_path / "data" / "torrents"),
                "usenet_root": str(lab.tmp_path / "data" / "usenet")}
    links = link_model.derive(apps, settings)
    calls = link_model.plan(apps, links)
    credentials = dict((n, e["credentials"]) for n, e in lab.apps.items())
    tasks = []
    for name, groups in calls.items():
        kind = lab.apps[name]["kind"]
        if kind not in SERVARR:
            continue
        for group in ("tags", "root_folders", "download_clients", "applications", "indexer_proxies"):
            for item in wiring_resolve(groups.get(group, []), credentials):
                args = dict(item, url=lab.apps[name]["url"], api_key=credentials[name]["api_key"])
                tasks.append({"name": "%s %s %s" % (name, group, item.get("name") or item.get("path") or item.get("label")),
                              "arrkestra.homelab.%s_%s" % (kind, MODULES[group]): args})
    return [{"name": "naive wiring", "hosts": "localhost", "gather_facts": False, "tasks": tasks}], len(tasks)


def run_playbook(lab, playbook):
    """(wall seconds, CPU seconds, changed, module runs): module runs are the task results that ran a module or an
    action (loop items each), not the includes, skips and set_facts."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", lab.inventory(), playbook],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))
    out = json.loads(proc.stdout)
    runs = 0
    for play in out["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                if str(result.get("action", "")).endswith(("include_tasks", "set_fact", "fail", "assert", "debug")):
                    continue
                items = result.get("results") if isinstance(result.get("results"), list) else [result]
                runs += sum(1 for item in items if isinstance(item, dict) and not item.get("skipped"))
    return elapsed, cpu, out["stats"]["localhost"]["changed"], runs


def table(lab, title):
    print("\n%s\n" % title)
    print("| app | kind | requests | writes | max GETs of one collection | collections read |")
    print("|---|---|---:|---:|---:|---|")
    worst = 0
    for name, entry in lab.apps.items():
        if entry["kind"] in CLIENTS:
            continue
        double = entry["app"]
        gets = collections.Counter(path for method, path in double.log if method == "GET" and path not in (
            "/ping", "/health", "/api/v1/status", "/api/system/ping", "/", "/api"))
        worst = max([worst] + list(gets.values()))
        print("| %s | %s | %d | %d | %d | %s |" % (
            name, entry["kind"], len(double.log), len(double.writes()), max(gets.values()) if gets else 0,
            ", ".join("%s x%d" % (p, n) for p, n in sorted(gets.items()))))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--stack", choices=sorted(STACKS), default="six")
    parser.add_argument("--naive", action="store_true", help="also time one task per Servarr link")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="arrkestra-bench-wiring-"))
    lab = StackLab(tmp)
    rows = []
    try:
        for name in STACKS[args.stack]:
            if name in DOUBLES or name in CLIENTS:
                lab.start(name)
        if args.stack == "full":
            lab.start("radarr-4k", "radarr")
        wiring = os.path.join(ROOT, "playbooks", "wiring.yml")
        first = run_playbook(lab, wiring)
        rows.append(("wiring phase, first run",) + first)
        lab.reset()
        noop = run_playbook(lab, wiring)
        rows.append(("wiring phase, no-op re-run",) + noop)
        worst = table(lab, "### Wiring phase, no-op re-run (%d apps)" % len(lab.apps))
        writes = sum(len(v) for v in lab.writes().values())
        naive_worst = None
        if args.naive:
            play, links = naive_play(lab)
            path = tmp / "naive.yml"
            path.write_text(json.dumps(play))
            lab.reset()
            rows.append(("naive, one task per Servarr link (%d), no-op" % links,) + run_playbook(lab, str(path)))
            naive_worst = table(lab, "### Naive: one task per Servarr link (%d links), no-op" % links)
    finally:
        lab.close()
    print("\n| run | wall time | CPU time | changed | module runs |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, cpu, changed, runs in rows:
        print("| %s | %.1f s | %.1f s | %d | %d |" % (name, wall, cpu, changed, runs))
    met = noop[2] == 0 and writes == 0 and worst <= 1 and (args.stack != "six" or noop[0] <= 10)
    print("\nGoal (no-op: only GETs, <= 1 per resource collection per app%s): %s (max %d%s)" % (
        ", <= 10 s" if args.stack == "six" else "", "met" if met else "NOT met", worst,
        "; naive way: %d" % naive_worst if naive_worst is not None else ""))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
