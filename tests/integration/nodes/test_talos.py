"""The Talos path of the nodes phase, upgrade and reset, from the controller.

Machine configs are generated and validated by the real talosctl, built from Talos's Go
modules (tests/talos); the nodes are played by a recording stand-in (tests/talos/standin.py),
since no Talos node can boot here. Addresses are from TEST-NET-1 and never contacted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.lab.playbook import BIN, ROOT
from tests.talos import build

pytestmark = [pytest.mark.integration, pytest.mark.talos]

NODES = {"tal-1": "192.0.2.11", "tal-2": "192.0.2.12", "tal-3": "192.0.2.13", "tal-4": "192.0.2.14"}


@pytest.fixture(scope="session")
def talosctl():
    return build.build()


class TalosLab:
    """An inventory of three Talos servers and a worker, the stand-in, and ansible-playbook."""

    def __init__(self, tmp_path, talosctl):
        self.tmp = tmp_path
        self.inventory = tmp_path / "inventory"
        (self.inventory / "group_vars" / "all").mkdir(parents=True)
        (self.inventory / "host_vars").mkdir()
        self.state = tmp_path / "nodes.json"
        self.log = tmp_path / "calls.jsonl"
        wrapper = tmp_path / "talosctl"
        wrapper.write_text("#!/bin/sh\nexec %s %s \"$@\"\n" % (sys.executable, os.path.join(ROOT, "tests", "talos", "standin.py")))
        wrapper.chmod(0o755)
        self.env = dict(os.environ, TALOSCTL_REAL=talosctl, TALOS_STANDIN_STATE=str(self.state),
                        TALOS_STANDIN_LOG=str(self.log),
                        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
                        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_RETRY_FILES_ENABLED="0")
        self.hosts = {"servers": ["tal-1", "tal-2", "tal-3"], "agents": ["tal-4"]}
        self.vars = {
            "arrkestra_distribution": "talos",
            "arrkestra_kubeconfig": str(tmp_path / "kubeconfig"),
            "arrkestra_kube_context": "talos-lab",
            "talos_talosctl": str(wrapper),
            "talos_vip": "192.0.2.10",
            "talos_ready_timeout": 20,
            # Talos has no load balancer of its own: MetalLB, from a pool no node holds
            "arrkestra_load_balancer": {"addresses": ["192.0.2.240-192.0.2.250"], "networks": ["192.0.2.0/24"]},
        }
        # a mini-PC among Pis: its own disk and its own installer (no tag: talos_version is added)
        self.host_vars = {"tal-4": {"talos_install_disk": "/dev/nvme0n1",
                                    "talos_installer_image": "factory.talos.dev/installer/0123abcd"}}

    def write(self):
        groups = {name: {"hosts": {h: {"ansible_host": NODES[h]} for h in hosts}} for name, hosts in self.hosts.items()}
        inventory = {"all": {"children": {"cluster": {"children": groups}},
                             "hosts": {"localhost": {"ansible_connection": "local",
                                                     "ansible_python_interpreter": sys.executable}}}}
        (self.inventory / "hosts.yml").write_text(yaml.safe_dump(inventory))
        (self.inventory / "group_vars" / "all" / "main.yml").write_text(yaml.safe_dump(self.vars))
        for host, values in self.host_vars.items():
            (self.inventory / "host_vars" / (host + ".yml")).write_text(yaml.safe_dump(values))

    def play(self, name, *extra, ok=True):
        self.write()
        argv = [os.path.join(BIN, "ansible-playbook"), "-i", str(self.inventory),
                os.path.join(ROOT, "playbooks", name + ".yml")] + list(extra)
        proc = subprocess.run(argv, cwd=ROOT, env=self.env, capture_output=True, text=True, check=False)
        assert (proc.returncode == 0) == ok, proc.stdout[-6000:] + proc.stderr[-3000:]
        return proc

    def calls(self, since=0):
        if not self.log.exists():
            return []
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        # what talks to a node; gen, validate and config are the real talosctl's, on the controller
        return [c for c in lines[since:] if c.get("command", "").split(" ")[0] not in ("gen", "validate", "config")]

    def count(self):
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def config(self, node):
        return yaml.safe_load((self.inventory / "talos" / "nodes" / (node + ".yaml")).read_text())


def changed(proc):
    """Per host, the changed count of the play recap."""
    counts = {}
    for line in proc.stdout.split("PLAY RECAP")[-1].splitlines():
        if ":" in line and "changed=" in line:
            host = line.split(":")[0].strip()
            counts[host] = int(line.split("changed=")[1].split()[0])
    return counts


@pytest.fixture
def lab(tmp_path, talosctl):
    return TalosLab(tmp_path, talosctl)


def test_talos_cluster_is_made_once_and_left_alone(lab):
    lab.play("nodes")
    calls = lab.calls()
    applies = [c for c in calls if c["command"] == "apply-config"]
    assert [(c["node"], c["insecure"]) for c in applies] == [
        ("192.0.2.11", True), ("192.0.2.12", True), ("192.0.2.13", True), ("192.0.2.14", True)]
    assert [(c["command"], c["node"]) for c in calls[4:]] == [
        ("version", "192.0.2.11"), ("service", "192.0.2.11"), ("bootstrap", "192.0.2.11"),
        ("health", "192.0.2.11"), ("kubeconfig", "192.0.2.11")]

    # the configs are Talos's own, validated by the real talosctl, with the inventory's choices
    first, worker = lab.config("tal-1"), lab.config("tal-4")
    assert first["machine"]["type"] == "controlplane" and worker["machine"]["type"] == "worker"
    assert first["machine"]["network"]["hostname"] == "tal-1"
    assert first["machine"]["network"]["interfaces"][0]["vip"] == {"ip": "192.0.2.10"}
    assert "interfaces" not in worker["machine"].get("network", {})
    assert first["machine"]["install"]["disk"] == "/dev/mmcblk0" and worker["machine"]["install"]["disk"] == "/dev/nvme0n1"
    assert first["machine"]["install"]["image"] == "ghcr.io/siderolabs/installer:v1.11.5"
    assert worker["machine"]["install"]["image"] == "factory.talos.dev/installer/0123abcd:v1.11.5"
    assert first["cluster"]["controlPlane"]["endpoint"] == "https://192.0.2.10:6443"
    assert [m["name"] for m in first["cluster"]["inlineManifests"]] == ["local-path-provisioner"]
    assert "allowSchedulingOnControlPlanes" not in first["cluster"]
    secrets = (lab.inventory / "talos" / "secrets.yaml").read_text()
    assert oct((lab.inventory / "talos" / "secrets.yaml").stat().st_mode & 0o777) == "0o600"

    kubeconfig = yaml.safe_load((lab.tmp / "kubeconfig").read_text())
    assert kubeconfig["current-context"] == "talos-lab"
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://192.0.2.10:6443"

    # a second run changes nothing and applies nothing: same secrets, same configs
    since = lab.count()
    again = lab.play("nodes")
    assert changed(again)["localhost"] == 0, again.stdout[-4000:]
    assert [c["command"] for c in lab.calls(since)] == ["version", "health"]
    assert (lab.inventory / "talos" / "secrets.yaml").read_text() == secrets

    # one node's disk changes: only that node gets its config again, authenticated; no second bootstrap
    lab.host_vars["tal-2"] = {"talos_install_disk": "/dev/sda"}
    since = lab.count()
    lab.play("nodes")
    applies = [c for c in lab.calls(since) if c["command"] == "apply-config"]
    assert [(c["node"], c["insecure"], c["config"]["disk"]) for c in applies] == [("192.0.2.12", False, "/dev/sda")]
    assert "bootstrap" not in [c["command"] for c in lab.calls(since)]


def test_talos_upgrade_and_reset(lab):
    lab.play("nodes")
    since = lab.count()
    lab.play("upgrade", "-e", "talos_version=v1.12.0", "-e", "talos_kubernetes_version=1.35.0")
    upgrades = [c for c in lab.calls(since) if c["command"] in ("upgrade", "upgrade-k8s")]
    assert [(c["command"], c["node"]) for c in upgrades] == [
        ("upgrade", "192.0.2.11"), ("upgrade", "192.0.2.12"), ("upgrade", "192.0.2.13"), ("upgrade", "192.0.2.14"),
        ("upgrade-k8s", "192.0.2.11")]
    assert "ghcr.io/siderolabs/installer:v1.12.0" in upgrades[0]["argv"]
    assert "factory.talos.dev/installer/0123abcd:v1.12.0" in upgrades[3]["argv"]
    since = lab.count()
    lab.play("upgrade", "-e", "talos_version=v1.12.0")
    assert [c["command"] for c in lab.calls(since) if c["command"] == "upgrade"] == []

    # reset asks first; without a terminal and without confirmation nothing happens
    since = lab.count()
    refused = lab.play("reset", ok=False)
    assert "Reset not confirmed, nothing was changed" in refused.stdout
    assert lab.calls(since) == []
    lab.play("reset", "-e", "arrkestra_reset_confirm=true")
    resets = [c["node"] for c in lab.calls(since) if c["command"] == "reset"]
    assert resets == ["192.0.2.14", "192.0.2.13", "192.0.2.12", "192.0.2.11"]
    kubeconfig = yaml.safe_load((lab.tmp / "kubeconfig").read_text())
    assert kubeconfig["contexts"] == []
    # the cluster's identity is kept; the nodes take their configs again, in maintenance mode
    assert (lab.inventory / "talos" / "secrets.yaml").exists()
    since = lab.count()
    lab.play("nodes")
    assert all(c["insecure"] for c in lab.calls(since) if c["command"] == "apply-config")
    assert [c["node"] for c in lab.calls(since) if c["command"] == "bootstrap"] == ["192.0.2.11"]


def test_single_talos_node_runs_workloads(lab):
    lab.hosts = {"servers": ["tal-1"], "agents": []}
    lab.host_vars = {}
    lab.vars.pop("talos_vip")
    lab.play("nodes")
    config = lab.config("tal-1")
    assert config["cluster"]["allowSchedulingOnControlPlanes"] is True
    assert config["cluster"]["controlPlane"]["endpoint"] == "https://192.0.2.11:6443"


@pytest.mark.parametrize("change, message", [
    (lambda lab: lab.host_vars.update({"tal-4": {"arrkestra_distribution": "k3s"}}),
     "The nodes mix distributions ("),
    (lambda lab: lab.hosts.update(servers=[]), "No server"),
    (lambda lab: lab.vars.update(arrkestra_distribution="kubeadm"), "arrkestra_distribution is kubeadm"),
])
def test_bad_inventory_fails_before_any_change(lab, change, message):
    change(lab)
    proc = lab.play("nodes", ok=False)
    assert message in proc.stdout, proc.stdout
    assert "mix" not in message or ("talos" in proc.stdout and "k3s" in proc.stdout)
    assert not lab.log.exists()
    assert not (lab.inventory / "talos").exists()


def test_two_servers_get_a_warning(lab):
    lab.hosts = {"servers": ["tal-1", "tal-2"], "agents": []}
    lab.host_vars = {}
    proc = lab.play("nodes")
    assert "Two servers give embedded etcd no quorum to spare" in proc.stdout


def test_talos_group_names_of_the_inventory_are_used(lab):
    lab.hosts = {"control_planes": ["tal-1", "tal-2"], "workers": []}
    lab.host_vars = {}
    lab.vars.update(talos_server_group="control_planes", talos_agent_group="workers")
    proc = lab.play("nodes")
    said = " ".join(proc.stdout.split())
    assert "no quorum to spare" in said and "Servers: tal-1, tal-2." in said     # read from talos_server_group


def test_unreachable_k3s_node_stops_everything_before_any_change(tmp_path):
    """An SSH node that does not answer (a port nothing listens on): the run stops before the OS is touched."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"cluster": {"children": {
        "servers": {"hosts": {"gone-1": {"ansible_host": "127.0.0.1", "ansible_port": port}}},
        "agents": {"hosts": {"gone-2": {"ansible_host": "127.0.0.1", "ansible_port": port}}}}}},
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory),
                           os.path.join(ROOT, "playbooks", "nodes.yml"), "-e", "arrkestra_node_timeout=5"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "gone-1" in proc.stdout and "Connection refused" in proc.stdout + proc.stderr
    assert "Prepare the OS" not in proc.stdout
