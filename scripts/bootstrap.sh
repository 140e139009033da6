#!/usr/bin/env bash
# Prepare a development environment for arrkestra.homelab, from nothing:
#   - a virtualenv in ./.venv with the pinned tooling (requirements-dev.txt)
#   - the collection reachable as arrkestra.homelab from this checkout
#     (.collections/ansible_collections/arrkestra/homelab -> the checkout)
#   - ansible-test able to run offline (its pip bootstrap served by ensurepip)
# Safe to run again: it only redoes what changed. Source it or run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ARRKESTRA_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

log() { printf '\033[1;34m[bootstrap]\033[0m %s\n' "$*" >&2; }

need_apt=()
command -v "$PY" >/dev/null || need_apt+=(python3)
"$PY" -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
command -v git >/dev/null || need_apt+=(git)
if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        log "installing ${need_apt[*]} with apt-get"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        log "missing: ${need_apt[*]} - install them with your package manager, then run this again"
        exit 1
    fi
fi

"$PY" - <<'PYEOF' || { log "Python 3.11 or newer is required (found $("$PY" --version 2>&1))"; exit 1; }
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYEOF

if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv $VENV"
    "$PY" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
want="$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    log "installing pinned Python requirements (requirements-dev.txt)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
    echo "$want" >"$stamp"
fi

# The collection as Ansible sees it when used from this checkout.
coll="$ROOT/.collections/ansible_collections/arrkestra"
mkdir -p "$coll"
if [ "$(readlink "$coll/homelab" 2>/dev/null)" != "$ROOT" ]; then
    ln -sfn "$ROOT" "$coll/homelab"
fi

# ansible-test downloads a get-pip script to build its sanity virtualenvs; offline, a stand-in that uses the
# interpreter's own ensurepip does the job, saved where ansible-test's own error message says to save the script
# (~/.ansible/test/cache/get_pip_<version>.py). The pip version is the one ansible-test pins for its virtualenvs:
# asked of ansible-test itself, and bootstrap stops if it cannot tell.
pip_version="$("$VENV/bin/python" -c '
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="%d.%d" % __import__("sys").version_info[:2]))["pip"])')" || {
    echo "bootstrap: cannot tell which pip ansible-test bootstraps its sanity virtualenvs with (its API changed?)" >&2
    exit 1
}
getpip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$getpip")"
cat >"$getpip" <<'PYEOF'
"""Offline stand-in for get-pip.py, written by arrkestra's scripts/bootstrap.sh."""
import subprocess
import sys

# get-pip's own options; pip install does not know them.
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
PYEOF

log "ready: $VENV (ansible-core $("$VENV/bin/python" -c 'import ansible.release as r; print(r.__version__)'))"
