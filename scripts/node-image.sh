#!/usr/bin/env bash
# The container image of the molecule scenarios' nodes: Debian bookworm with systemd,
# built offline-friendly with debootstrap from Debian's mirror and `podman import`
# (no registry needed). Built once; set ARRKESTRA_NODE_IMAGE_REBUILD=1 to redo it.
#   scripts/node-image.sh   prints the image name
set -euo pipefail

IMAGE="${ARRKESTRA_NODE_IMAGE:-localhost/arrkestra-node:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
log() { printf '\033[1;34m[node-image]\033[0m %s\n' "$*" >&2; }

if [ -z "${ARRKESTRA_NODE_IMAGE_REBUILD:-}" ] && podman image exists "$IMAGE"; then
    echo "$IMAGE"
    exit 0
fi
command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
log "debootstrap bookworm into $root (about a minute)"
# A Debian node with python3 and sudo for Ansible and the storage clients and time sync already
# installed (the containers have no network, so apt has nothing to fetch);
# python3-yaml is for the tests' k3s stand-in.
debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,python3,python3-apt,python3-yaml,kmod,procps,iproute2,ca-certificates,sudo,nfs-common,open-iscsi,systemd-timesyncd \
    bookworm "$root/rootfs" "$MIRROR" >"$root/debootstrap.log" 2>&1 \
    || { tail -20 "$root/debootstrap.log" >&2; exit 1; }
# No console to log in on, and no clock to set in a container.
chroot "$root/rootfs" systemctl mask getty@tty1.service console-getty.service systemd-remount-fs.service >/dev/null 2>&1 || true
tar -C "$root/rootfs" -c . | podman import --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' - "$IMAGE" >/dev/null
log "built $IMAGE"
echo "$IMAGE"
