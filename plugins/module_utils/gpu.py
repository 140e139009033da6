# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What GPU a node has, read from the node itself: each DRM render node (``/dev/dri/renderD*``), its PCI vendor
and kernel driver from sysfs, and the group that owns the device file (its gid, from ``stat``: the ``render`` group
has no fixed gid - Debian, Ubuntu and Talos give it different ones). Also whether the node is a Raspberry Pi (the
device tree's model).

Pure reads under ``root`` (``/`` on a node; a temporary tree in the tests, where no GPU exists), no writes.
"""

from __future__ import annotations

import os
import re
import stat

#: PCI vendor ids of the GPUs (``/sys/class/drm/renderD*/device/vendor``).
VENDORS = {"0x8086": "intel", "0x1002": "amd", "0x10de": "nvidia"}
#: The vendors whose GPUs the collection can give a pod (a device plugin it deploys).
SUPPORTED = ("intel", "amd")
#: Where the device tree's model is (both name the same file on a Pi; the first is the older link).
MODEL_FILES = ("proc/device-tree/model", "sys/firmware/devicetree/base/model")


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().replace(b"\x00", b"").decode("utf-8", "replace").strip()
    except (IOError, OSError):
        return None


def _render_number(name):
    match = re.match(r"^renderD([0-9]+)$", name)
    return int(match.group(1)) if match else None


def render_node(root, name):
    """One render node: its path on the node, vendor, PCI vendor and device ids, kernel driver, and the owner,
    group and mode of its device file; None when ``/dev/dri/<name>`` is not a character device."""
    path = os.path.join(root, "dev", "dri", name)
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISCHR(info.st_mode):
        return None
    device = os.path.join(root, "sys", "class", "drm", name, "device")
    vendor_id = (_read(os.path.join(device, "vendor")) or "").lower() or None
    driver = os.path.join(device, "driver")
    mode = stat.S_IMODE(info.st_mode)
    return {
        "path": "/dev/dri/" + name,
        "vendor": VENDORS.get(vendor_id, "other") if vendor_id else "unknown",
        "vendor_id": vendor_id,
        "device_id": (_read(os.path.join(device, "device")) or "").lower() or None,
        "driver": os.path.basename(os.readlink(driver)) if os.path.islink(driver) else None,
        "uid": info.st_uid,
        "gid": info.st_gid,
        "mode": "%04o" % mode,
        # Anyone may open it (a udev rule with MODE 0666): no group needed in the pod.
        "world_accessible": mode & 0o006 == 0o006,
    }


def detect(root="/"):
    """The GPU facts of the node under ``root``: every render node, the first one of a supported vendor (its
    vendor, path, driver and group id: what the pod needs), and the board's model."""
    folder = os.path.join(root, "dev", "dri")
    try:
        names = [n for n in os.listdir(folder) if _render_number(n) is not None]
    except OSError:
        names = []
    nodes = [n for n in (render_node(root, name) for name in sorted(names, key=_render_number)) if n]
    usable = [n for n in nodes if n["vendor"] in SUPPORTED]
    model = next((m for m in (_read(os.path.join(root, f)) for f in MODEL_FILES) if m), None)
    first = usable[0] if usable else {}
    return {
        "vendor": first.get("vendor", "none"),
        "render_node": first.get("path"),
        "driver": first.get("driver"),
        "render_gid": first.get("gid"),
        "world_accessible": first.get("world_accessible", False),
        "render_nodes": nodes,
        "model": model,
        "raspberry_pi": bool(model and model.startswith("Raspberry Pi")),
    }
