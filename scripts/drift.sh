#!/usr/bin/env bash
# The drift report: every phase in check mode against the live cluster and the apps, one table of what a real run
# would change, nothing changed (docs/drift.md).
#   scripts/drift.sh [-i inventory] [--json] [--map FILE.svg] [--webhook URL] [--nodes] [ansible-playbook args...]
#     --json          print the report as JSON (its shape: plugins/plugin_utils/drift.py) instead of the table
#     --map FILE.svg  also draw the stack with its drift (plugins/plugin_utils/stackmap.py)
#     --webhook URL   POST the JSON report to URL when something differs or fails (no secret is in it)
#     --nodes         include the nodes phase (it logs in to every node over SSH)
# Exit code, like Terraform's `plan -detailed-exitcode`: 0 in sync, 2 drift, 1 error (an app that does not answer,
# a cluster that cannot be read, a wrong inventory). Not ansible-playbook's own, which uses 2 for a failed host.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
json=0 map="" webhook="" args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --json) json=1 ;;
        --map) map="${2:?--map needs a file}"; shift ;;
        --map=*) map="${1#--map=}" ;;
        --webhook) webhook="${2:?--webhook needs a URL}"; shift ;;
        --webhook=*) webhook="${1#--webhook=}" ;;
        --nodes) args+=(-e drift_nodes=true) ;;
        -h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) args+=("$1") ;;
    esac
    shift
done
cd "$ROOT" || exit 1
bash scripts/bootstrap.sh >/dev/null || { echo "drift.sh: scripts/bootstrap.sh failed" >&2; exit 1; }
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.collections"
report="$(mktemp "${TMPDIR:-/tmp}/arrkestra-drift.XXXXXX")" || exit 1
trap 'rm -f "$report"' EXIT
quiet=false
[ "$json" = 1 ] && quiet=true
ANSIBLE_STDOUT_CALLBACK=arrkestra.homelab.drift ARRKESTRA_DRIFT_JSON="$report" ARRKESTRA_DRIFT_QUIET="$quiet" \
    ANSIBLE_RETRY_FILES_ENABLED=0 \
    .venv/bin/ansible-playbook playbooks/drift.yml --check --diff "${args[@]}"
rc=$?
if [ ! -s "$report" ]; then
    echo "drift.sh: no report (ansible-playbook exited $rc before the end of the run)" >&2
    exit 1
fi
[ "$json" = 1 ] && cat "$report"
code="$(.venv/bin/python -c 'import json, sys; print(json.load(open(sys.argv[1]))["exit_code"])' "$report")" || exit 1
if [ -n "$map" ]; then
    PYTHONPATH="$ANSIBLE_COLLECTIONS_PATH${PYTHONPATH:+:$PYTHONPATH}" .venv/bin/python - "$report" "$map" <<'EOF' \
        || { echo "drift.sh: could not draw $map" >&2; code=1; }
import json, sys
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import stackmap
with open(sys.argv[1], encoding="utf-8") as handle:
    report = json.load(handle)
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    handle.write(stackmap.svg_from_report(report))
EOF
fi
if [ -n "$webhook" ] && [ "$code" != 0 ]; then
    .venv/bin/python - "$report" "$webhook" <<'EOF' || { echo "drift.sh: the webhook $webhook failed" >&2; code=1; }
import sys, urllib.request
with open(sys.argv[1], "rb") as handle:
    body = handle.read()
request = urllib.request.Request(sys.argv[2], data=body, method="POST", headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as answer:
    answer.read()
EOF
fi
exit "$code"
