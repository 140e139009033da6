# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apps' workloads: pods, volumes, the data layout, what fits a Pi."""

from __future__ import annotations

import subprocess

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model as stack_model, workloads


def test_every_file_touching_app_mounts_the_same_data_path():
    stack = stack_model.build({"data": {"type": "nfs", "server": "nas.lan", "export": "/volume1/media"}})
    mounts = {}
    for obj in workloads.objects(stack):
        if obj["kind"] == "Deployment":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                for mount in container["volumeMounts"]:
                    if mount["name"] == "data":
                        mounts[obj["metadata"]["name"]] = mount["mountPath"]
    assert set(mounts) == {"radarr", "sonarr", "bazarr", "qbittorrent", "jellyfin"}
    assert set(mounts.values()) == {"/data"}
    pv = next(o for o in workloads.objects(stack) if o["kind"] == "PersistentVolume")
    assert pv["spec"]["nfs"] == {"server": "nas.lan", "path": "/volume1/media"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"


def test_default_stack_fits_a_4_gb_pi():
    requests = sum(r for dummy, r, dummy in workloads.memory(stack_model.build({})))
    assert requests <= 2.5 * 1024


def test_the_data_layout_says_what_to_fix_when_it_cannot_write():
    model = stack_model.build({"apps": {"radarr": {}}, "data": {"type": "hostpath", "path": "/srv/media"}})
    layout = [o for o in workloads.objects(model) if o["kind"] == "Job"][0]["spec"]["template"]["spec"]["containers"][0]
    script = layout["command"][2]
    ok = subprocess.run(["sh", "-c", script, "layout", "/proc/no/such/folder"], capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 1
    assert ("the apps (uid 1000, gid 1000: arrkestra_uid, arrkestra_gid) cannot write into the host folder "
            "/srv/media on the node; make it owned by 1000:1000") in ok.stderr
