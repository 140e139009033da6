#!/usr/bin/env bash
# A real Kubernetes control plane for the tests, or to try the collection by hand: etcd,
# kube-apiserver, kube-controller-manager and kube-scheduler built from Kubernetes' own Go
# modules (tests/controlplane/go.mod pins the version), and kwok simulating a node; as root, a
# real kubelet node too (tests/controlplane/node.py: pods really run, from local images).
#   scripts/controlplane.sh build           build what is missing (cached in ~/.cache/arrkestra/controlplane)
#   scripts/controlplane.sh start [--node]  start it; prints the admin kubeconfig (context "arrkestra")
#   scripts/controlplane.sh status | env | stop
# Needs Go (https://go.dev) and Debian's etcd-server (the node: containerd, containernetworking-plugins,
# busybox-static, iptables - tests/apt-packages.txt); nothing leaves the machine but module downloads.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh >/dev/null
command -v go >/dev/null || { echo "Go is required to build the control plane (https://go.dev/dl/)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "etcd is required: apt-get install etcd-server" >&2; exit 1; }
exec .venv/bin/python -m tests.controlplane.cluster "$@"
