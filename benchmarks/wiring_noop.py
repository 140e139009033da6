#!/usr/bin/env python
"""No-op re-run of the whole wiring phase, against the naive way (one task per link).

Starts the wiring lab (tests/lab/stack.py: a test double of every app this
machine can't run, the real qBittorrent/Transmission/NZBGet, plus a
``radarr-4k`` instance), converges it with ``playbooks/wiring.yml``, then
times a no-op re-run and counts, per app, the HTTP requests it served, the
GETs per resource collection and the writes. The naive way - one task per
Servarr link with the single-resource modules (``radarr_download_client``,
``prowlarr_application``...) - is timed and counted on the same lab. Prints
Markdown tables. Goal: the no-op run sends only GETs, <= 1 per resource
collection per app (the health wait is one more, to /ping or its like).

    python benchmarks/wiring_noop.py
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.arrkestra.homelab.plugins.filter.wiring import wiring_resolve  # noqa: E402
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as link_model  # noqa: E402
from tests.lab.stack import BIN, CLIENTS, DOUBLES, StackLab  # noqa: E402

SERVARR = ("radarr", "sonarr", "lidarr", "prowlarr")
MODULES = {"tags": "tag", "root_folders": "root_folder", "download_clients": "download_client",
           "applications": "application", "indexer_proxies": "indexer_proxy"}


def naive_play(lab):
    """One task per Servarr link, as a user of single-resource modules would write it."""
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
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", lab.inventory(), playbook],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))
    out = json.loads(proc.stdout)
    tasks = sum(len(play["tasks"]) for play in out["plays"])
    return elapsed, out["stats"]["localhost"]["changed"], tasks


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
    tmp = Path(tempfile.mkdtemp(prefix="arrkestra-bench-wiring-"))
    lab = StackLab(tmp)
    try:
        for name in ("prowlarr", "radarr", "sonarr", "lidarr", "qbittorrent", "transmission", "nzbget",
                     "sabnzbd", "flaresolverr", "jellyfin", "seerr", "bazarr"):
            if name in DOUBLES or name in CLIENTS:
                lab.start(name)
        lab.start("radarr-4k", "radarr")
        wiring = os.path.join(ROOT, "playbooks", "wiring.yml")
        first, first_changed, dummy = run_playbook(lab, wiring)
        lab.reset()
        noop, noop_changed, tasks = run_playbook(lab, wiring)
        worst = table(lab, "### Wiring phase, no-op re-run (%d apps)" % len(lab.apps))
        writes = sum(len(v) for v in lab.writes().values())
        play, links = naive_play(lab)
        path = tmp / "naive.yml"
        path.write_text(json.dumps(play))
        lab.reset()
        naive, naive_changed, naive_tasks = run_playbook(lab, str(path))
        naive_worst = table(lab, "### Naive: one task per Servarr link (%d links), no-op" % links)
    finally:
        lab.close()
    print("\n| run | wall time | tasks | changed |")
    print("|---|---:|---:|---:|")
    print("| wiring phase, first run | %.1f s | | %d |" % (first, first_changed))
    print("| wiring phase, no-op re-run | %.1f s | %d | %d |" % (noop, tasks, noop_changed))
    print("| naive, one task per Servarr link, no-op | %.1f s | %d | %d |" % (naive, naive_tasks, naive_changed))
    met = noop_changed == 0 and writes == 0 and worst <= 1
    print("\nGoal (no-op: only GETs, <= 1 per resource collection per app): %s (max %d; naive way: %d)"
          % ("met" if met else "NOT met", worst, naive_worst))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
