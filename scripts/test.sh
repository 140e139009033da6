#!/usr/bin/env bash
# The whole test suite of arrkestra.homelab, from a fresh machine:
#   scripts/test.sh            everything but the control plane tests
#   scripts/test.sh controlplane    the tests of what is built from Go modules (CI runs both)
#   scripts/test.sh lint sanity units integration controlplane molecule    any subset, in that order
# Stages: lint (ansible-lint, production profile), sanity (ansible-test, offline),
# units (pytest tests/unit), integration (pytest over the rest of tests/: test
# doubles, real download clients), controlplane (the apps phase against a real
# kube-apiserver built from Kubernetes' Go modules, see scripts/controlplane.sh, and the
# Talos path of the nodes phase with a talosctl built from Talos's Go modules),
# molecule (every molecule/<scenario>, on systemd containers of scripts/node-image.sh).
# Exits non-zero on the first failing stage.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.collections"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}"

stage() { printf '\n\033[1;35m=== %s ===\033[0m\n' "$*"; }

system_packages() {
    # Debian packages the tests run for real (download clients, sshd, podman...).
    mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' tests/apt-packages.txt)
    missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    if [ "$(id -u)" != 0 ]; then
        echo "The tests need these Debian packages: ${missing[*]} (run as root, or install them)" >&2
        return 1
    fi
    stage "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

run_lint() {
    stage "ansible-lint (production profile)"
    ansible-lint --profile production --offline
    stage "antsibull-docs: the documentation of every module, filter and role, linted and built"
    (cd .collections/ansible_collections/arrkestra/homelab && antsibull-docs lint-collection-docs --plugin-docs .)
    local docs out
    docs="$(mktemp -d)"
    out="$(antsibull-docs collection --use-current --dest-dir "$docs" arrkestra.homelab 2>&1)" || { echo "$out"; return 1; }
    rm -rf "$docs"
    # a warning is a failure too
    if [ -n "$out" ]; then echo "$out"; return 1; fi
}

run_sanity() {
    stage "ansible-test sanity"
    system_packages
    # ansible-test wants its working directory inside ansible_collections/<ns>/<name>
    # and resolves links, so it checks a copy (outside this git tree) of the files
    # git tracks or would track.
    # One copy per checkout, so that two worktrees can run their checks at once.
    local dest
    dest="${ARRKESTRA_CACHE:-$HOME/.cache/arrkestra}/sanity-$(printf %s "$ROOT" | sha1sum | cut -c1-8)/ansible_collections/arrkestra/homelab"
    rm -rf "$dest" && mkdir -p "$dest"
    git ls-files -z --cached --others --exclude-standard \
        | python -c 'import os, sys; sys.stdout.write("".join(p + "\0" for p in sys.stdin.read().split("\0") if p and os.path.isfile(p)))' \
        | tar --null -T - -cf - | tar -xf - -C "$dest"
    (cd "$dest" && ansible-test sanity --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no)
}

run_units() {
    system_packages     # the stack map's PNG test renders with rsvg-convert
    stage "unit tests"
    pytest tests/unit -p no:cacheprovider
}

run_integration() {
    stage "integration tests"
    system_packages
    # Two workers, one test file each at a time: a file's tests share their lab (module fixtures). A selection that
    # holds no test is an error (pytest's exit code 5), like any other.
    pytest tests --ignore=tests/unit -m "not controlplane and not talos" -n "${ARRKESTRA_TEST_WORKERS:-2}" \
        --dist loadfile -p no:cacheprovider
}

run_controlplane() {
    stage "control plane and Talos tests (kube-apiserver, kube-controller-manager, kube-scheduler, etcd, kwok, a real kubelet node, talosctl)"
    system_packages
    command -v go >/dev/null || { echo "Go is required to build the control plane and talosctl (https://go.dev/dl/)" >&2; return 1; }
    .venv/bin/python -m tests.controlplane.cluster build
    .venv/bin/python -m tests.talos.build
    pytest tests -m "controlplane or talos" -p no:cacheprovider
}

run_molecule() {
    stage "molecule scenarios"
    system_packages
    # podman's runtime and limits for nested systemd containers, and the nodes' image
    export CONTAINERS_CONF="$ROOT/molecule/containers.conf"
    bash scripts/node-image.sh >/dev/null
    local found=0
    for scenario in molecule/*/molecule.yml; do
        [ -e "$scenario" ] || continue
        found=1
        name="$(basename "$(dirname "$scenario")")"
        stage "molecule test -s $name"
        molecule test -s "$name"
    done
    [ "$found" = 1 ] || echo "no molecule scenario yet"
}

stages=("$@")
# The controlplane stage builds Kubernetes from source the first time (~10 min on 2 cores):
# it is a command of its own, which CI (.ci/run) runs after this one.
((${#stages[@]})) || stages=(lint sanity units integration molecule)
start=$SECONDS
for s in "${stages[@]}"; do
    case "$s" in
        lint|sanity|units|integration|controlplane|molecule) "run_$s" ;;
        *) echo "unknown stage: $s (lint, sanity, units, integration, controlplane, molecule)" >&2; exit 2 ;;
    esac
done
stage "all stages passed: ${stages[*]} in $((SECONDS - start)) s"
