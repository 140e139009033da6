#!/usr/bin/env bash
# Prepare the controller and build the media server:
#   scripts/site.sh                          site.yml on inventories/local (this machine, single-node k3s)
#   scripts/site.sh -i inventories/mine      your own inventory
# Extra arguments go to ansible-playbook (--check, --diff, --tags, -e ...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.collections"
# The nodes phase installs k3s as root: ask for the sudo password when sudo needs one.
args=()
if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
    args+=(--ask-become-pass)
fi
exec .venv/bin/ansible-playbook playbooks/site.yml "${args[@]}" "$@"
