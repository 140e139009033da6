"""arrkestra.homelab.kubeconfig: merge, check mode, diff, a second run, removal, bad input."""

import pytest
import yaml

from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration

CLUSTER = yaml.safe_dump({
    "apiVersion": "v1", "kind": "Config",
    "clusters": [{"name": "default", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": "Q0E="}}],
    "users": [{"name": "default", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "c2VjcmV0LWtleQ=="}}],
    "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
    "current-context": "default"})


def test_kubeconfig_merge_is_idempotent_and_hides_the_key(tmp_path):
    pb = Playbook(tmp_path)
    path = tmp_path / "kube" / "config"
    task = {"arrkestra.homelab.kubeconfig": {"path": str(path), "name": "lab", "content": CLUSTER,
                                             "server": "https://192.0.2.10:6443"}}
    checked = pb.run([dict(task, name="merge")], check=True, diff=True)["merge"]
    assert checked["changed"] and not path.exists()
    assert checked["diff"]["after"]["user"]["client-key-data"] == "<hidden>"
    first = pb.run([dict(task, name="merge")], diff=True)["merge"]
    assert first["changed"] and first["changes"] == ["cluster", "user", "context", "current-context"]
    assert "c2VjcmV0LWtleQ==" not in str(first)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    merged = yaml.safe_load(path.read_text())
    cluster = {"server": "https://192.0.2.10:6443", "certificate-authority-data": "Q0E="}
    assert merged["clusters"] == [{"name": "lab", "cluster": cluster}]
    mtime = path.stat().st_mtime_ns
    second = pb.run([dict(task, name="merge")])["merge"]
    assert not second["changed"] and path.stat().st_mtime_ns == mtime

    gone = pb.run([{"name": "remove", "arrkestra.homelab.kubeconfig": {
        "path": str(path), "name": "lab", "state": "absent"}}])["remove"]
    assert gone["changed"] and yaml.safe_load(path.read_text())["contexts"] == []


def test_kubeconfig_bad_input_is_named_and_nothing_is_written(tmp_path):
    pb = Playbook(tmp_path)
    path = tmp_path / "config"
    path.write_text("clusters: [unclosed\n")
    result = pb.run([{"name": "merge", "ignore_errors": True, "arrkestra.homelab.kubeconfig": {
        "path": str(path), "name": "lab", "content": CLUSTER}}])["merge"]
    assert result["failed"] and "is not valid YAML" in result["msg"] and str(path) in result["msg"]
    assert path.read_text() == "clusters: [unclosed\n"
    result = pb.run([{"name": "merge", "ignore_errors": True, "arrkestra.homelab.kubeconfig": {
        "path": str(tmp_path / "other"), "name": "lab", "content": "kind: Config\n"}}])["merge"]
    assert result["failed"] and "holds no context" in result["msg"]
