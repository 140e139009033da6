"""module_utils/gpu.py: a node's GPU read from a device tree of its own - real character devices (mknod, as root:
CI runs as root), a fake /sys and /proc beside them - since this machine has no GPU."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.arrkestra.homelab.plugins.module_utils.gpu import detect

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")


def render(root, number=128, vendor="0x8086", driver="i915", gid=993, mode=0o660, device="0x46d1"):
    """A render node as the kernel and udev make it: /dev/dri/renderD<n>, and its PCI device in sysfs."""
    (root / "dev" / "dri").mkdir(parents=True, exist_ok=True)
    path = root / "dev" / "dri" / ("renderD%d" % number)
    os.mknod(str(path), stat.S_IFCHR | mode, os.makedev(226, number))
    os.chmod(str(path), mode)
    os.chown(str(path), 0, gid)
    sysdev = root / "sys" / "class" / "drm" / ("renderD%d" % number) / "device"
    sysdev.mkdir(parents=True)
    if vendor:
        (sysdev / "vendor").write_text(vendor + "\n")
        (sysdev / "device").write_text(device + "\n")
    if driver:
        (root / "sys" / "bus" / "pci" / "drivers" / driver).mkdir(parents=True, exist_ok=True)
        os.symlink("../../../../bus/pci/drivers/" + driver, str(sysdev / "driver"))
    return path


def test_a_node_without_a_gpu(tmp_path):
    found = detect(str(tmp_path))
    assert found == {"vendor": "none", "render_node": None, "driver": None, "render_gid": None,
                     "world_accessible": False, "render_nodes": [], "model": None, "raspberry_pi": False}


@needs_root
def test_an_intel_render_node_with_the_group_of_its_device_file(tmp_path):
    render(tmp_path, gid=993)
    (tmp_path / "dev" / "dri" / "card0").write_text("")           # not a render node: ignored
    found = detect(str(tmp_path))
    assert (found["vendor"], found["render_node"], found["driver"], found["render_gid"]) == (
        "intel", "/dev/dri/renderD128", "i915", 993)
    assert not found["world_accessible"] and not found["raspberry_pi"]
    [node] = found["render_nodes"]
    assert node["mode"] == "0660" and node["vendor_id"] == "0x8086" and node["device_id"] == "0x46d1"


@needs_root
def test_an_amd_gpu_after_an_unknown_one_and_a_world_readable_node(tmp_path):
    render(tmp_path, 128, vendor="0x10de", driver="nouveau", gid=44)
    render(tmp_path, 129, vendor="0x1002", driver="amdgpu", gid=105, mode=0o666)
    found = detect(str(tmp_path))
    assert [n["vendor"] for n in found["render_nodes"]] == ["nvidia", "amd"]
    assert (found["vendor"], found["render_node"], found["render_gid"], found["world_accessible"]) == (
        "amd", "/dev/dri/renderD129", 105, True)


@needs_root
def test_a_raspberry_pi_has_a_render_node_and_no_gpu_for_transcoding(tmp_path):
    render(tmp_path, vendor=None, driver="v3d", gid=992)          # a platform device: no PCI vendor
    (tmp_path / "proc" / "device-tree").mkdir(parents=True)
    (tmp_path / "proc" / "device-tree" / "model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")
    found = detect(str(tmp_path))
    assert found["vendor"] == "none" and found["raspberry_pi"] and found["model"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert found["render_nodes"][0]["vendor"] == "unknown"


def test_a_regular_file_is_not_a_render_node(tmp_path):
    (tmp_path / "dev" / "dri").mkdir(parents=True)
    (tmp_path / "dev" / "dri" / "renderD128").write_text("")
    assert detect(str(tmp_path))["render_nodes"] == []
