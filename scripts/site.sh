#!/usr/bin/env bash
# Prepare the controller and build the media server:
#   scripts/site.sh                          site.yml on inventories/local (this machine, single-node k3s)
#   scripts/site.sh -i inventories/mine      your own inventory
# Extra arguments go to ansible-playbook (--check, --diff, --tags, -e ...).
set -euo pipefail
# On the default inventory this machine becomes the k3s node: without systemd as PID 1
# (a container, WSL without systemd) say so now, before the bootstrap. With -i, only some
# phases (--tags, --limit), or a cluster you already have (-e arrkestra_distribution=existing),
# the nodes phase checks every node - or the cluster - itself before any change.
own_node=1
for arg in "$@"; do
    case "$arg" in
        -i | -i* | --inventory | --inventory=* | --inventory-file | --inventory-file=* | \
            -t | -t* | --tags | --tags=* | --skip-tags | --skip-tags=* | -l | -l* | --limit | --limit=* | \
            *arrkestra_distribution=existing*) own_node=0 ;;
    esac
done
if [ "$own_node" = 1 ] && [ ! -d /run/systemd/system ] && [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
    cat >&2 <<EOF
site.sh: this machine does not run systemd as PID 1 (PID 1 is $(cat /proc/1/comm 2>/dev/null || echo unknown)).
The default inventory (inventories/local) makes this machine the k3s node, and k3s runs as a
systemd service. Run scripts/site.sh on a machine or VM booted with systemd, or point it at
your nodes: scripts/site.sh -i inventories/<yours>. Nothing was changed.
EOF
    exit 2
fi
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
