# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hardware transcoding (plugins/plugin_utils/gpu.py): the option checked, the GPU decided from the nodes' labels
(or the nodes phase's facts), what Jellyfin's pod asks for, the device plugins, and the encoding link - the objects
validated offline as the render tests validate the rest."""

from __future__ import annotations

import pytest

from ansible_collections.arrkestra.homelab.plugins.filter.gpu import gpu_node_labels, stack_gpus
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    checks, gpu, links, model as stack_model, platform, workloads)
from tests.lab import schemas

INTEL_PC = {"vendor": "intel", "driver": "i915", "render_gid": 993, "render_node": "/dev/dri/renderD128",
            "world_accessible": False, "raspberry_pi": False, "arch": "x86_64", "node_name": "nuc"}
PI = {"vendor": "none", "raspberry_pi": True, "arch": "aarch64", "node_name": "pi-1"}


def build(transcoding, gpu_nodes=None, **jellyfin):
    return stack_model.build({"apps": {"jellyfin": dict(jellyfin, transcoding=transcoding), "radarr": {}}},
                             gpu_nodes=gpu_nodes)


def jf(stack):
    return next(a for a in stack["apps"] if a["name"] == "jellyfin")


def jellyfin_pod(stack):
    deployment = next(o for o in workloads.objects(stack) if o["kind"] == "Deployment"
                      and o["metadata"]["name"] == "jellyfin")
    return deployment["spec"]["template"]["spec"]


def test_no_gpu_by_default_and_nothing_added():
    stack = stack_model.build({"apps": {"jellyfin": {}}})
    [app] = stack["apps"]
    assert app["transcoding"]["device"] == "none" and app["transcoding"]["vendor"] is None
    pod = jellyfin_pod(stack)
    assert "nodeSelector" not in pod and "supplementalGroups" not in pod["securityContext"]
    assert not [o for o in platform.objects(stack) if o["kind"] == "DaemonSet"]
    assert gpu.encoding(app) == {"hardware_acceleration": "none"}          # a pod without a GPU: software


def test_an_intel_node_jellyfin_pod_and_the_plugin_validated_offline():
    stack = build({"device": "intel"}, gpu_nodes={"nuc": INTEL_PC, "pi-1": PI})
    pod = jellyfin_pod(stack)
    container = pod["containers"][0]
    assert container["resources"]["limits"]["gpu.intel.com/i915"] == "1"
    assert container["resources"]["requests"]["gpu.intel.com/i915"] == "1"
    assert pod["nodeSelector"] == {"arrkestra.io/gpu": "intel"}
    assert pod["securityContext"]["supplementalGroups"] == [993]           # the gid read from the device file
    assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["allowPrivilegeEscalation"] is False
    [plugin] = [o for o in platform.objects(stack) if o["kind"] == "DaemonSet"]
    spec = plugin["spec"]["template"]["spec"]
    assert plugin["metadata"]["name"] == "intel-gpu-plugin" and plugin["metadata"]["namespace"] == "kube-system"
    assert spec["containers"][0]["image"] == "docker.io/intel/intel-gpu-plugin:0.36.0"
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    security = spec["containers"][0]["securityContext"]
    assert "privileged" not in security and security["capabilities"] == {"drop": ["ALL"]}
    assert all(m.get("readOnly") for m in spec["containers"][0]["volumeMounts"] if m["mountPath"].startswith(("/dev", "/sys")))
    for obj in workloads.objects(stack) + platform.objects(stack):
        schemas.validate(obj, "1.33.0")
    assert gpu.encoding(jf(stack)) == {"hardware_acceleration": "qsv", "qsv_device": "",
                                       "hardware_decoding_codecs": ["h264", "hevc", "vc1"]}


def test_an_amd_node_gets_the_render_node_alone_through_the_generic_plugin():
    amd = dict(INTEL_PC, vendor="amd", driver="amdgpu", render_gid=105, node_name="minipc")
    stack = build({"device": "amd", "decode_codecs": ["h264", "HEVC", "vp9"]}, gpu_nodes={"minipc": amd})
    pod = jellyfin_pod(stack)
    assert pod["containers"][0]["resources"]["limits"]["squat.ai/amdgpu-render"] == "1"
    assert pod["nodeSelector"] == {"arrkestra.io/gpu": "amd"} and pod["securityContext"]["supplementalGroups"] == [105]
    [plugin] = [o for o in platform.objects(stack) if o["kind"] == "DaemonSet"]
    spec = plugin["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64", "arrkestra.io/gpu": "amd"}
    assert '"path": "/dev/dri/renderD*", "mountPath": "/dev/dri/renderD128"' in spec["containers"][0]["args"][1]
    assert [v["hostPath"]["path"] for v in spec["volumes"]] == ["/var/lib/kubelet/device-plugins", "/dev/dri"]
    for obj in workloads.objects(stack) + platform.objects(stack):
        schemas.validate(obj, "1.33.0")
    assert gpu.encoding(jf(stack)) == {"hardware_acceleration": "vaapi", "vaapi_device": "/dev/dri/renderD128",
                                       "hardware_decoding_codecs": ["h264", "hevc", "vp9"]}


def test_auto_takes_the_gpu_the_nodes_have_and_runs_both_plugins():
    labels = {"nuc": dict(gpu.node_labels(INTEL_PC), **{"kubernetes.io/arch": "amd64"}),
              "pi-1": gpu.node_labels(PI)}
    stack = build({"device": "auto"})
    assert jf(stack)["transcoding"]["vendor"] is None and not jf(stack)["transcoding"]["resolved"]
    assert gpu.encoding(jf(stack)) is None            # not decided: the wiring leaves Jellyfin alone
    assert [o["metadata"]["name"] for o in platform.objects(stack) if o["kind"] == "DaemonSet"] == [
        "intel-gpu-plugin", "amd-gpu-plugin"]
    resolved = stack_gpus(stack, [{"metadata": {"name": n, "labels": v}} for n, v in labels.items()])
    assert jf(resolved)["transcoding"]["vendor"] == "intel" and jf(resolved)["transcoding"]["gids"] == [993]
    assert "transcoding: Intel GPU (gpu.intel.com/i915, render group 993)" in " ".join(stack_model.summary(resolved))
    nothing = stack_gpus(stack, {"pi-1": gpu.node_labels(PI)})
    assert jf(nothing)["transcoding"]["vendor"] is None
    assert gpu.encoding(jf(nothing)) == {"hardware_acceleration": "none"}


def test_intel_asked_for_on_a_raspberry_pi_is_refused_naming_the_variable():
    with pytest.raises(checks.InputError) as exc:
        build({"device": "intel"}, gpu_nodes={"pi-1": PI, "nuc": INTEL_PC},
              node_selector={"kubernetes.io/hostname": "pi-1"})
    message = str(exc.value)
    assert message.startswith("arrkestra_apps.jellyfin.transcoding.device is intel, and the node Jellyfin may run on "
                              "(pi-1) is a Raspberry Pi")
    with pytest.raises(checks.InputError) as exc:
        build({"device": "intel"}, node_selector={"kubernetes.io/arch": "arm64"})
    assert "arrkestra_apps.jellyfin.transcoding.device is intel" in str(exc.value) and "arm64" in str(exc.value)
    result = stack_gpus(build({"device": "amd"}), {"pc": gpu.node_labels(INTEL_PC)}, on_error="return")
    assert "no node Jellyfin may run on has an AMD GPU (what the nodes phase found: pc: intel)" in result["error"]


def test_nodes_the_nodes_phase_did_not_label_leave_the_inventory_to_decide():
    stack = stack_gpus(build({"device": "intel", "render_gid": 44}), {"node-1": {"kubernetes.io/arch": "amd64"}})
    app = jf(stack)
    assert app["transcoding"]["vendor"] == "intel" and app["transcoding"]["gids"] == [44]


def test_an_xe_gpu_asks_for_the_xe_resource():
    stack = build({"device": "intel"}, gpu_nodes={"lnl": dict(INTEL_PC, driver="xe")})
    assert jf(stack)["transcoding"]["resource"] == "gpu.intel.com/xe"


@pytest.mark.parametrize("transcoding, apps, variable", [
    ({"device": "nvidia"}, None, "arrkestra_apps.jellyfin.transcoding.device"),
    ({"device": "intel", "render_gid": "render"}, None, "arrkestra_apps.jellyfin.transcoding.render_gid"),
    ({"device": "intel", "render_gid": 0}, None, "arrkestra_apps.jellyfin.transcoding.render_gid"),
    ({"device": "intel", "decode_codecs": ["h265"]}, None, "arrkestra_apps.jellyfin.transcoding.decode_codecs"),
    ({"gpu": "intel"}, None, "arrkestra_apps.jellyfin.transcoding"),
    ("intel", None, "arrkestra_apps.jellyfin.transcoding"),
    (None, {"radarr": {"transcoding": {"device": "intel"}}}, "arrkestra_apps.radarr.transcoding"),
    (None, {"jellyfin": {"external": True, "url": "http://nas:8096", "transcoding": {"device": "intel"}}},
     "arrkestra_apps.jellyfin.transcoding.device"),
])
def test_wrong_values_name_the_variable(transcoding, apps, variable):
    with pytest.raises(checks.InputError) as exc:
        stack_model.build({"apps": apps or {"jellyfin": {"transcoding": transcoding}}})
    assert str(exc.value).startswith(variable), str(exc.value)


def test_node_labels_from_the_facts():
    assert gpu_node_labels(INTEL_PC) == ["arrkestra.io/gpu=intel", "arrkestra.io/gpu-driver=i915",
                                         "arrkestra.io/raspberry-pi=false", "arrkestra.io/render-gid=993"]
    assert gpu.node_labels(PI) == {"arrkestra.io/gpu": "none", "arrkestra.io/gpu-driver": "none",
                                   "arrkestra.io/render-gid": "none", "arrkestra.io/raspberry-pi": "true"}
    # anyone may open the device: no group to add
    assert gpu.node_labels(dict(INTEL_PC, world_accessible=True))["arrkestra.io/render-gid"] == "none"


def test_the_wiring_sets_jellyfins_encoding_after_its_libraries():
    stack = build({"device": "intel", "render_gid": 993})
    derived = links.derive([a for a in stack["apps"] if a["wired"]])
    jellyfin = [link for link in derived if link["app"] == "jellyfin"]
    assert [link["group"] for link in jellyfin][-1] == "encoding"
    assert jellyfin[-1]["id"] == "jellyfin/encoding/transcoding"
    assert jellyfin[-1]["item"]["hardware_acceleration"] == "qsv" and not jellyfin[-1]["prune"]
    external = stack_model.build({"apps": {"jellyfin": {"external": True, "url": "http://nas:8096",
                                                        "controller_url": "http://nas:8096"}}})
    assert not [link for link in links.derive(external["apps"]) if link["group"] == "encoding"]   # its own GPU
