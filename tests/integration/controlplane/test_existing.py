"""The nodes phase of a cluster the user already has (``arrkestra_distribution: existing``), against the
test control plane: the cluster is read and checked, no node is touched, and every problem stops the run
before any change, each with the variable to fix."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from tests.controlplane.fixture import controlplane  # noqa: F401 pylint: disable=unused-import
from tests.integration.controlplane.test_controlplane import _cluster_storage
from tests.integration.controlplane.test_platform import _what_k3s_and_the_charts_bring
from tests.lab.playbook import run_playbook

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]


def _inventory(tmp_path, variables):
    """localhost, and a node in the group cluster at an address nobody answers: touching it fails the run."""
    folder = tmp_path / "inventory"
    (folder / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    hosts = {"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}},
                     "children": {"cluster": {"children": {"servers": {"hosts": {"pi-1": {
                         "ansible_host": "192.0.2.11", "ansible_connection": "ssh"}}}}}}}}
    (folder / "hosts.yml").write_text(yaml.safe_dump(hosts))
    (folder / "group_vars" / "all" / "main.yml").write_text(json.dumps(variables))
    return folder


def _nodes(controlplane, tmp_path, **variables):
    base = {"arrkestra_distribution": "existing", "arrkestra_kubeconfig": controlplane["kubeconfig"],
            "arrkestra_kube_context": controlplane["context"], "arrkestra_helm_controller": False}
    proc = run_playbook("nodes.yml", _inventory(tmp_path, dict(base, **variables)))
    return proc, (json.loads(proc.stdout) if proc.stdout.startswith("{") else {})


def test_an_existing_cluster_is_checked_and_no_node_touched(tmp_path, controlplane):
    api, client = _cluster_storage(controlplane, tmp_path, 0, "existing")
    _what_k3s_and_the_charts_bring(api, client, ["HelmChart", "HelmChartConfig"])    # "k3s": it runs helm-controller
    proc, out = _nodes(controlplane, tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    # pi-1 was never reached: its plays only skip (no fact gathering, no connection)
    assert {k: v for k, v in out["stats"].get("pi-1", {}).items() if k != "skipped" and v} == {}
    assert out["stats"]["localhost"]["changed"] == 0
    said = [t["hosts"]["localhost"].get("msg") for p in out["plays"] for t in p["tasks"]
            if t["task"]["name"].endswith("Say which cluster the next phases use")]
    server = "https://%s:%d " % (controlplane["api_host"], controlplane["api_port"])
    assert said and "The stack goes on the existing cluster at " + server in said[0]
    assert "(Kubernetes v1.34.4); no node was touched." in said[0]


def test_what_the_cluster_lacks_stops_the_run_with_the_variable_to_fix(tmp_path, controlplane):
    _cluster_storage(controlplane, tmp_path, 0, "existing")
    proc, out = _nodes(controlplane, tmp_path, arrkestra_config_storage_class="fast-ssd")
    assert proc.returncode != 0
    assert "arrkestra_config_storage_class is fast-ssd, and the cluster has no such StorageClass (it has: " in proc.stdout
    assert "local-path" in proc.stdout
    # pi-1 was never reached (the stack model names its address, so the address alone proves nothing)
    assert {k: v for k, v in out["stats"].get("pi-1", {}).items() if k != "skipped" and v} == {}

    proc, dummy = _nodes(controlplane, tmp_path, arrkestra_config_storage_class="")
    assert proc.returncode != 0
    assert "arrkestra_config_storage_class is empty (the cluster's default StorageClass), and the cluster has no " \
           "default StorageClass" in proc.stdout


def test_an_unreachable_cluster_names_the_kubeconfig(tmp_path, controlplane):
    config = yaml.safe_load(open(controlplane["kubeconfig"], encoding="utf-8"))
    for entry in config["clusters"]:
        entry["cluster"]["server"] = "https://127.0.0.1:9"            # discard: nothing listens
    broken = tmp_path / "kubeconfig"
    broken.write_text(yaml.safe_dump(config))
    proc, dummy = _nodes(controlplane, tmp_path, arrkestra_kubeconfig=str(broken))
    assert proc.returncode != 0
    assert ("arrkestra_distribution is existing, but the cluster of arrkestra_kubeconfig (%s, context %s) cannot be "
            "reached" % (broken, controlplane["context"])) in proc.stdout
    assert "Nothing was changed." in proc.stdout
