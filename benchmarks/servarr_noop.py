#!/usr/bin/env python
"""No-op re-run of the Servarr wiring: 10 apps x 4 links, through ansible-playbook.

Starts 10 doubles (Radarr, Sonarr, Lidarr in turn), wires each with 4 links
(two download clients, a root folder, a tag) in one play with one host per
app, then runs the same play again and prints, as a Markdown table, the wall
time of each run and, for the re-run, the requests each app received and the
CPU time of one module run (the user and system time of ansible-playbook and
every process it started, less the same play without tasks, per task). The
goals: no write, at most one GET per resource collection per module run, and
<= 0.4 CPU-s per module run.

    python benchmarks/servarr_noop.py [--apps 10]
"""

import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.doubles.servarr import ServarrDouble  # noqa: E402

KEY = "0123456789abcdef0123456789abcdef"
KINDS = ("radarr", "sonarr", "lidarr")


def play(apps, media):
    hosts = {}
    for i, app in enumerate(apps):
        hosts["app%02d" % i] = {"kind": app.kind, "app_url": app.url, "media_dir": media[i]}
    tasks = []
    for kind in KINDS:
        cond = "kind == '%s'" % kind
        tasks += [
            {"name": "%s qBittorrent" % kind, "when": cond, "arrkestra.homelab.%s_download_client" % kind: {
                "name": "qBittorrent", "implementation": "QBittorrent", "host": "qbittorrent", "port": 8080,
                "username": "admin", "password": "secret", "category": kind, "tags": ["torrents"],
                "force_save": True}},
            {"name": "%s NZBGet" % kind, "when": cond, "arrkestra.homelab.%s_download_client" % kind: {
                "name": "NZBGet", "implementation": "Nzbget", "host": "nzbget", "port": 6789, "priority": 2,
                "category": kind, "force_save": True}},
            {"name": "%s root folder" % kind, "when": cond, "arrkestra.homelab.%s_root_folder" % kind: dict(
                {"path": "{{ media_dir }}"}, **({"name": "Music"} if kind == "lidarr" else {}))},
            {"name": "%s tag" % kind, "when": cond, "arrkestra.homelab.%s_tag" % kind: {"label": "uhd"}},
        ]
    defaults = dict(("group/arrkestra.homelab.%s" % kind, {"url": "{{ app_url }}", "api_key": KEY}) for kind in KINDS)
    return hosts, [{"name": "wire", "hosts": "all", "gather_facts": False, "module_defaults": defaults,
                    "tasks": tasks}]


def run(tmp, hosts, plays):
    inventory = {"all": {"hosts": dict((h, dict(v, ansible_connection="local", ansible_python_interpreter=sys.executable))
                                       for h, v in hosts.items())}}
    with open(os.path.join(tmp, "inventory.json"), "w", encoding="utf-8") as handle:
        json.dump(inventory, handle)
    with open(os.path.join(tmp, "play.yml"), "w", encoding="utf-8") as handle:
        json.dump(plays, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-f", "10",
                           "-i", os.path.join(tmp, "inventory.json"), os.path.join(tmp, "play.yml")],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed:\n%s\n%s" % (proc.stdout[-3000:], proc.stderr[-3000:]))
    stats = json.loads(proc.stdout)["stats"]
    return elapsed, sum(s["changed"] for s in stats.values()), cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--apps", type=int, default=10)
    args = parser.parse_args()
    apps, servers = [], []
    tmp = tempfile.mkdtemp(prefix="arrkestra-bench-")
    media = []
    for i in range(args.apps):
        app = ServarrDouble(KINDS[i % len(KINDS)], api_key=KEY)
        server = app.serve()
        app.url = server.url
        apps.append(app)
        servers.append(server)
        path = os.path.join(tmp, "media%02d" % i)
        os.makedirs(path)
        media.append(path)
    try:
        hosts, plays = play(apps, media)
        first, first_changed, dummy = run(tmp, hosts, plays)
        for app in apps:
            app.reset_log()
        second, second_changed, second_cpu = run(tmp, hosts, plays)
        # The same play without its tasks: what ansible-playbook costs whatever the modules do.
        dummy, dummy, empty_cpu = run(tmp, hosts, [dict(plays[0], tasks=[])])
        # The same tasks running ansible.builtin.ping: Ansible's own floor for a module run on this machine.
        pings = [{"name": task["name"], "when": task["when"], "ansible.builtin.ping": {}} for task in plays[0]["tasks"]]
        dummy, dummy, ping_cpu = run(tmp, hosts, [dict(plays[0], tasks=pings)])
    finally:
        for server in servers:
            server.stop()
    print("## No-op re-run: %d apps x 4 links\n" % args.apps)
    print("| run | wall time | changed tasks |")
    print("|---|---:|---:|")
    print("| first (creates) | %.1f s | %d |" % (first, first_changed))
    print("| re-run (no-op) | %.1f s | %d |\n" % (second, second_changed))
    tasks = 4 * args.apps
    per_task = (second_cpu - empty_cpu) / tasks
    ping_per_task = (ping_cpu - empty_cpu) / tasks
    print("CPU time of the no-op re-run: %.1f s (ansible-playbook with no task: %.1f s); per module run: %.2f CPU-s "
          "(goal <= 0.4); ansible.builtin.ping per run, Ansible's floor here: %.2f CPU-s\n"
          % (second_cpu, empty_cpu, per_task, ping_per_task))
    print("| app | kind | requests | writes | GETs per collection (max) | collections read |")
    print("|---|---|---:|---:|---:|---|")
    worst = 0
    for i, app in enumerate(apps):
        gets = collections.Counter(path for method, path in app.log if method == "GET")
        worst = max([worst] + list(gets.values()))
        print("| app%02d | %s | %d | %d | %d | %s |" % (
            i, app.name, len(app.log), len(app.writes()), max(gets.values()) if gets else 0,
            ", ".join("%s x%d" % (p.rsplit("/", 1)[1], n) for p, n in sorted(gets.items()))))
        app.assert_contract()
    met = second_changed == 0 and not any(a.writes() for a in apps) and worst <= 2 and per_task <= 0.4
    print("\nGoal (no write; <= 1 GET per collection per module run - each task is one run, so a collection\n"
          "shared by two tasks of one app is read twice per play): %s" % ("met" if met else "NOT met"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
