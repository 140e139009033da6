"""The nodes phase finds each node's GPU before any change, and refuses a GPU the inventory asks for that the node
Jellyfin may run on does not have (an Intel GPU on a Raspberry Pi).

This machine is the node, as in test_preflight.py; it has no GPU, so the checks read a device tree of the test's own
(``node_prep_gpu_root``): a real character device for the render node (mknod, as root) with the group the test
chose, and a fake sysfs and device-tree model beside it. ``--tags preflight --check``: nothing is changed.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from tests.integration.nodes.test_preflight import nodes, problems, seen
from tests.integration.nodes.test_preflight import release as release_mirror

release = release_mirror     # the fixture of a local k3s release mirror, used by name below

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="mknod of a character device needs root")]

FOUND = "arrkestra.homelab.node_prep : Note the node's GPU"
CHECK = "Check the apps' GPUs against the nodes' GPUs"


def intel_node(root, gid):
    (root / "dev" / "dri").mkdir(parents=True)
    path = root / "dev" / "dri" / "renderD128"
    os.mknod(str(path), stat.S_IFCHR | 0o660, os.makedev(226, 128))
    os.chown(str(path), 0, gid)
    device = root / "sys" / "class" / "drm" / "renderD128" / "device"
    device.mkdir(parents=True)
    (device / "vendor").write_text("0x8086\n")
    (root / "sys" / "bus" / "pci" / "drivers" / "i915").mkdir(parents=True)
    os.symlink("../../../../bus/pci/drivers/i915", str(device / "driver"))


def pi_node(root):
    (root / "proc" / "device-tree").mkdir(parents=True)
    (root / "proc" / "device-tree" / "model").write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\x00")


def jellyfin(device):
    return {"jellyfin": {"transcoding": {"device": device}, "node_selector": {"kubernetes.io/hostname": "localhost"}}}


def test_a_node_with_an_intel_render_node_passes_with_its_group(tmp_path, release):
    intel_node(tmp_path / "node", 4242)
    proc, tasks = nodes(tmp_path / "run", "--tags", "preflight", "-e", seen(), k3s_release_url=release,
                        node_prep_gpu_root=str(tmp_path / "node"), arrkestra_apps=jellyfin("intel"))
    assert proc.returncode == 0, proc.stdout[-4000:]
    found = tasks[FOUND]["ansible_facts"]["node_prep_gpu"]
    assert (found["vendor"], found["render_node"], found["driver"], found["render_gid"]) == (
        "intel", "/dev/dri/renderD128", "i915", 4242)
    assert found["node_name"] == "localhost" and not found["raspberry_pi"]
    assert tasks[CHECK].get("skipped") and not problems(tasks)


def test_intel_asked_for_on_a_raspberry_pi_without_a_render_node_stops_before_any_change(tmp_path, release):
    pi_node(tmp_path / "node")
    proc, tasks = nodes(tmp_path / "run", "--tags", "preflight", "-e", seen(), k3s_release_url=release,
                        node_prep_gpu_root=str(tmp_path / "node"), arrkestra_apps=jellyfin("intel"))
    assert proc.returncode != 0
    found = tasks[FOUND]["ansible_facts"]["node_prep_gpu"]
    assert found["vendor"] == "none" and found["render_nodes"] == [] and found["raspberry_pi"]
    message = tasks[CHECK]["msg"]
    assert message.startswith("Wrong inventory value, nothing was changed: arrkestra_apps.jellyfin.transcoding.device "
                              "is intel, and the node Jellyfin may run on (localhost) is a Raspberry Pi"), message
    assert "Traceback" not in json.dumps(tasks[CHECK])
