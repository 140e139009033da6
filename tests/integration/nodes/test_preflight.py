"""The nodes phase checks every k3s node before any change, and scripts/site.sh stops early.

This machine is the node (ansible_connection local, as inventories/local makes it). The
tests that run the whole nodes phase need a machine without systemd as PID 1, where the
check must stop the run; they run it in check mode all the same, so that a check that
passed by mistake could not install anything. The other tests run `--tags preflight`
(the checks alone) in check mode, with what the node is given by the test where needed.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from tests.lab.playbook import ROOT, Playbook, run_playbook

pytestmark = pytest.mark.integration

STOP = "Stop before any change on any node, one message per problem"
# What node_prep writes first on a node (and where it keeps what it applied).
WRITTEN = ["/etc/sysctl.d/90-arrkestra.conf", "/etc/modules-load.d/arrkestra.conf", "/var/lib/arrkestra"]
CLOSED = "http://127.0.0.1:9"  # discard port, nothing listens: the release cannot be reached
VERSION = "v1.34.4+k3s1"


def pid1():
    with open("/proc/1/comm") as f:
        return f.read().strip()


SYSTEMD = pid1() == "systemd" or os.path.isdir("/run/systemd/system")
needs_no_systemd = pytest.mark.skipif(SYSTEMD, reason="systemd is PID 1 here: the nodes phase would not stop")
# A node as the checks want it, for the tests that are about something else.
GOOD_NODE = {"become_ok": True, "become_error": "", "user": "pi", "service_mgr": "systemd", "pid1": "systemd",
             "os_family": "Debian", "distribution": "Debian 12", "architecture": "aarch64"}


def inventory(tmp_path, **variables):
    """localhost as the only k3s server, like inventories/local, with a kubeconfig in tmp_path."""
    (tmp_path / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    (tmp_path / "hosts.yml").write_text(json.dumps({"all": {
        "hosts": {"localhost": host},
        "children": {"cluster": {"children": {"servers": {"hosts": {"localhost": host}}, "agents": {"hosts": {}}}}}}}))
    values = {"arrkestra_distribution": "k3s", "arrkestra_kubeconfig": str(tmp_path / "kubeconfig"),
              "k3s_version": VERSION, "k3s_release_url": CLOSED, "k3s_preflight_timeout": 3,
              "node_prep_reboot": False}
    values.update(variables)
    (tmp_path / "group_vars" / "all" / "main.yml").write_text(json.dumps(values))
    return tmp_path


def nodes(tmp_path, *extra, **variables):
    """Runs playbooks/nodes.yml in check mode; the process and the tasks run, by name, for localhost."""
    proc = run_playbook("nodes.yml", inventory(tmp_path, **variables), "--check", *extra)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("no JSON (rc %d):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:]))
    tasks = {}
    for play in out["plays"]:
        for task in play["tasks"]:
            if "localhost" in task["hosts"]:
                tasks[task["task"]["name"]] = task["hosts"]["localhost"]
    return proc, tasks


def problems(tasks):
    stop = tasks.get(STOP, {})
    return stop.get("msg", []) if stop.get("failed") else []


def seen(**changes):
    return json.dumps({"node_prep_preflight_seen": dict(GOOD_NODE, **changes)})


@needs_no_systemd
def test_nodes_phase_stops_without_systemd_before_any_change(tmp_path):
    before = {path: os.path.exists(path) for path in WRITTEN}
    proc, tasks = nodes(tmp_path)
    assert proc.returncode != 0
    found = problems(tasks)
    assert found, proc.stdout[-4000:]
    assert found[0].startswith("localhost: systemd is not PID 1 (PID 1 is %s" % pid1())
    assert "use a machine or VM booted with systemd" in found[0] and "Nothing was changed." in found[0]
    # the release is out of reach too: said in the same run, with what to set instead
    assert any("cannot reach %s/v1.34.4%%2Bk3s1/sha256sum-amd64.txt" % CLOSED in p for p in found)
    # the run stopped there: no task of the OS preparation or of k3s ran, nothing was written
    assert not any(name.startswith(("arrkestra.homelab.node_prep : Install", "Prepare the OS", "Form the k3s"))
                   for name in tasks), sorted(tasks)
    assert "Install storage clients and time sync" not in tasks
    assert {path: os.path.exists(path) for path in WRITTEN} == before
    assert not (tmp_path / "kubeconfig").exists()


def test_release_out_of_reach_names_the_airgap_variables(tmp_path):
    proc, tasks = nodes(tmp_path, "--tags", "preflight", "-e", seen())
    assert proc.returncode != 0
    [message] = problems(tasks)
    assert message.startswith("localhost: cannot reach %s/v1.34.4%%2Bk3s1/sha256sum-amd64.txt (" % CLOSED)
    for words in ("k3s_install_source: airgap", "k3s_airgap_binary", "k3s_airgap_images",
                  "k3s-airgap-images-arm64.tar.zst", "https://github.com/k3s-io/k3s/releases/tag/v1.34.4%2Bk3s1",
                  "k3s_release_url"):
        assert words in message


@pytest.fixture
def release(tmp_path):
    """A local k3s release mirror with the checksum files of VERSION; its URL."""
    root = tmp_path / "mirror"
    (root / VERSION).mkdir(parents=True)
    for arch in ("amd64", "arm64"):
        (root / VERSION / ("sha256sum-%s.txt" % arch)).write_text("0" * 64 + "  k3s\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def test_reachable_release_and_a_good_node_pass(tmp_path, release):
    proc, tasks = nodes(tmp_path / "run", "--tags", "preflight", "-e", seen(), k3s_release_url=release)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert tasks[STOP].get("skipped")
    # --tags preflight ran the checks alone
    assert "Prepare the OS" not in tasks and "Form the k3s cluster" not in tasks


def test_airgap_files_are_checked_on_the_controller(tmp_path):
    missing = tmp_path / "nowhere" / "k3s"
    proc, tasks = nodes(tmp_path / "run", "--tags", "preflight", "-e", seen(),
                        k3s_install_source="airgap", k3s_airgap_binary=str(missing),
                        k3s_airgap_images=[str(tmp_path / "images.tar.zst")])
    assert proc.returncode != 0
    found = problems(tasks)
    assert found == [
        "k3s_airgap_binary %s is not a file on the controller: download k3s (k3s for amd64, k3s-arm64) from "
        "https://github.com/k3s-io/k3s/releases/tag/v1.34.4%%2Bk3s1 and set its path." % missing,
        "k3s_airgap_images: %s not found on the controller: give the paths of the image archives "
        "(k3s-airgap-images-<arch>.tar.zst) of the k3s release." % (tmp_path / "images.tar.zst")]

    binary = tmp_path / "k3s"
    binary.write_text("k3s")
    (tmp_path / "images.tar.zst").write_text("images")
    proc, tasks = nodes(tmp_path / "run", "--tags", "preflight", "-e", seen(),
                        k3s_install_source="airgap", k3s_airgap_binary=str(binary),
                        k3s_airgap_images=[str(tmp_path / "images.tar.zst")])
    assert proc.returncode == 0, proc.stdout[-4000:]
    # airgap: the release is not asked for
    assert tasks["arrkestra.homelab.k3s : Check that the node reaches the k3s release, v1.34.4+k3s1"].get("skipped")


def test_airgap_without_a_binary(tmp_path):
    proc, tasks = nodes(tmp_path, "--tags", "preflight", "-e", seen(), k3s_install_source="airgap")
    assert problems(tasks) == ["k3s_install_source is airgap: set k3s_airgap_binary to the k3s binary on the controller."]


def test_os_architecture_and_privileges_one_message_each(tmp_path, release):
    proc, tasks = nodes(tmp_path / "run", "--tags", "preflight", "-e",
                        seen(os_family="RedHat", distribution="Fedora 41", architecture="armv7l", become_ok=False,
                             become_error="Missing sudo password"), k3s_release_url=release)
    assert proc.returncode != 0
    found = problems(tasks)
    assert len(found) == 3, found
    assert found[0].startswith("localhost: become (sudo) does not give root as pi (Missing sudo password).")
    assert "--ask-become-pass" in found[0] and "ansible_become_password" in found[0]
    assert found[1].startswith("localhost: runs Fedora 41 (RedHat family); the k3s path supports Raspberry Pi OS,"
                               " Debian and Ubuntu.")
    assert found[2].startswith("localhost: architecture armv7l is not supported; the k3s path runs on arm64")


def test_the_checks_read_the_node_itself(tmp_path, release):
    """What the checks saw of this machine: root, its PID 1, Debian or not."""
    proc, tasks = nodes(tmp_path / "run", "--tags", "preflight", k3s_release_url=release)
    facts = tasks["arrkestra.homelab.node_prep : Note what the node is"]["ansible_facts"]["node_prep_preflight_seen"]
    assert facts["pid1"] == pid1()
    assert (facts["service_mgr"] == "systemd") == SYSTEMD
    if os.geteuid() == 0:
        assert facts["become_ok"] in (True, "True") and facts["user"] == "root"
    assert (proc.returncode == 0) == (not problems(tasks))


@needs_no_systemd
def test_site_script_stops_before_the_bootstrap(tmp_path):
    (tmp_path / "scripts").mkdir()
    shutil.copy(os.path.join(ROOT, "scripts", "site.sh"), tmp_path / "scripts" / "site.sh")
    # were the check to let it through, this bootstrap stops the script before anything else
    (tmp_path / "scripts" / "bootstrap.sh").write_text("touch \"$(dirname \"$0\")/bootstrapped\"; exit 99\n")
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "site.sh")], capture_output=True, text=True,
                          check=False, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "this machine does not run systemd as PID 1 (PID 1 is %s)" % pid1() in proc.stderr
    assert "scripts/site.sh -i inventories/<yours>" in proc.stderr
    assert not (tmp_path / "scripts" / "bootstrapped").exists()
    # with an inventory of other nodes, the nodes phase checks them itself
    proc = subprocess.run(["bash", str(tmp_path / "scripts" / "site.sh"), "-i", "inventories/mine"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 99 and (tmp_path / "scripts" / "bootstrapped").exists()


def test_failed_download_says_how_to_install_airgap(tmp_path):
    """The download itself, out of reach (check mode: the checksum file is fetched first, nothing is written)."""
    pb = Playbook(tmp_path)
    results = pb.run([
        {"name": "facts", "ansible.builtin.setup": {"gather_subset": ["min"]}},
        {"name": "install", "ansible.builtin.include_role": {"name": "arrkestra.homelab.k3s", "tasks_from": "install.yml"},
         "vars": {"k3s_release_url": CLOSED, "k3s_version": VERSION}},
    ], check=True)
    download = results["arrkestra.homelab.k3s : Download k3s and check its checksum, v1.34.4+k3s1"]
    assert download["failed"]
    failed = results["arrkestra.homelab.k3s : Say how to install without the download"]
    assert failed["failed"]
    message = failed["msg"]
    assert message.startswith("localhost: downloading k3s v1.34.4+k3s1 from %s/v1.34.4%%2Bk3s1 failed (" % CLOSED)
    for words in ("k3s_install_source: airgap", "k3s_airgap_binary", "k3s_airgap_images", "k3s_release_url"):
        assert words in message
