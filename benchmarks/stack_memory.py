#!/usr/bin/env python
"""Memory of the default stack: requests and limits per app, as a Markdown table.

Goal: the default stack (inventories/local) requests at most 2.5 GiB, so that it
fits a 4 GB Raspberry Pi 4 beside k3s and the system.

    python benchmarks/stack_memory.py [inventory group_vars file]
"""

from __future__ import annotations

import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model as stack_model, workloads  # noqa: E402


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "inventories", "local", "group_vars", "all", "apps.yml")
    with open(path, encoding="utf-8") as handle:
        variables = dict((k[len("arrkestra_"):], v) for k, v in (yaml.safe_load(handle) or {}).items()
                         if k.startswith("arrkestra_"))
    stack = stack_model.build(variables)
    rows = workloads.memory(stack)
    print("| app | kind | memory request | memory limit |")
    print("|---|---|---:|---:|")
    kinds = dict((a["name"], a["kind"]) for a in stack["apps"])
    for name, request, limit in rows:
        print("| %s | %s | %d MiB | %d MiB |" % (name, kinds[name], request, limit))
    total_request, total_limit = sum(r[1] for r in rows), sum(r[2] for r in rows)
    print("| **total** | | **%d MiB (%.2f GiB)** | **%d MiB (%.2f GiB)** |" % (
        total_request, total_request / 1024, total_limit, total_limit / 1024))
    met = total_request <= 2.5 * 1024
    print("\nGoal (requests <= 2.5 GiB): %s" % ("met" if met else "NOT met"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
