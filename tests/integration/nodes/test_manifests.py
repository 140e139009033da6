"""What the nodes phase puts on the cluster - kube-vip (k3s) and local-path (Talos) - validates
offline against the Kubernetes schemas, rendered from the roles' own templates."""

import os

import kubernetes_validate
import pytest
import yaml

from tests.lab.playbook import ROOT, Playbook

pytestmark = pytest.mark.integration

KUBERNETES = "1.34"


@pytest.mark.parametrize("template, variables, kinds", [
    ("roles/k3s/templates/kube-vip.yaml.j2",
     {"k3s_vip": "192.0.2.10", "k3s_api_port": 6443, "k3s_vip_interface": "eth0",
      "k3s_vip_image": "ghcr.io/kube-vip/kube-vip:v1.0.1"},
     ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"]),
    ("roles/talos/templates/local-path.yaml.j2",
     {"talos_local_path_image": "docker.io/rancher/local-path-provisioner:v0.0.32",
      "talos_local_path_helper_image": "docker.io/library/busybox:1.37"},
     ["Namespace", "ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "Deployment",
      "StorageClass", "ConfigMap"]),
])
def test_node_manifests_are_valid(tmp_path, template, variables, kinds):
    dest = tmp_path / "out.yaml"
    result = Playbook(tmp_path).run([{"name": "render", "vars": variables, "ansible.builtin.template": {
        "src": os.path.join(ROOT, template), "dest": str(dest), "mode": "0644"}}])["render"]
    assert not result.get("failed"), result
    docs = [d for d in yaml.safe_load_all(dest.read_text()) if d]
    assert [d["kind"] for d in docs] == kinds
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
