"""Hardware transcoding on an Intel node, rendered: the platform phase renders Intel's GPU device plugin, the apps
phase Jellyfin asking for one Intel GPU on a node labelled with it, with the render group - every object valid
offline (``kubernetes-validate --strict`` for the cluster's version), as the other render tests validate theirs. The
apps phase's objects of this inventory also go through every rule of test_render.py (its ``gpu-intel``)."""

from __future__ import annotations

import os

import pytest

from tests.integration.render.test_platform_render import load, render as render_platform
from tests.integration.render.test_render import render as render_apps
from tests.lab import schemas
from tests.lab.playbook import ROOT

pytestmark = pytest.mark.integration
INVENTORY = os.path.join(ROOT, "tests", "fixtures", "inventories", "gpu-intel")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = {}
    for phase, render in (("platform", render_platform), ("apps", render_apps)):
        folder = str(tmp_path_factory.mktemp("gpu-" + phase))
        proc = render(INVENTORY, folder)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        out[phase] = load(folder)[0]
    return out


def test_every_object_is_valid_offline(rendered):
    for phase in ("platform", "apps"):
        for name, doc in rendered[phase].items():
            try:
                schemas.validate(doc, "1.33.0")
            except schemas.ValidationError as exc:
                pytest.fail("%s (%s): %s" % (name, phase, exc))


def test_the_platform_runs_intels_plugin_unprivileged(rendered):
    [plugin] = [d for d in rendered["platform"].values() if d["kind"] == "DaemonSet"]
    spec = plugin["spec"]["template"]["spec"]
    [container] = spec["containers"]
    assert plugin["metadata"]["name"] == "intel-gpu-plugin" and plugin["metadata"]["namespace"] == "kube-system"
    assert container["image"] == "docker.io/intel/intel-gpu-plugin:0.36.0"
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert not container["securityContext"].get("privileged") and container["securityContext"]["readOnlyRootFilesystem"]
    assert {v["hostPath"]["path"] for v in spec["volumes"]} == {
        "/dev/dri", "/sys/class/drm", "/var/lib/kubelet/device-plugins", "/var/run/cdi"}


def test_jellyfin_asks_for_an_intel_gpu_with_the_render_group(rendered):
    [deployment] = [d for d in rendered["apps"].values() if d["kind"] == "Deployment"
                    and d["metadata"]["name"] == "jellyfin"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"arrkestra.io/gpu": "intel"}
    assert pod["securityContext"]["supplementalGroups"] == [993]
    assert pod["containers"][0]["resources"]["limits"]["gpu.intel.com/i915"] == "1"
    # the others ask for no GPU
    others = [d for d in rendered["apps"].values() if d["kind"] == "Deployment" and d["metadata"]["name"] != "jellyfin"]
    assert others and not [d for d in others if "nodeSelector" in d["spec"]["template"]["spec"]]
