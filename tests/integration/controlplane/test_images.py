"""The test node's images (tests/controlplane/images.py) in a real containerd: they import, list and execute.

A private containerd (Debian's, CRI plugin off) with its own root, state and
socket in a temporary folder; ``ctr run`` with Debian's runc on the host network.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

from tests.controlplane import images, node
from tests.lab.clients import stop_process, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]

CONFIG = """version = 2
root = "{base}/root"
state = "{base}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{base}/containerd.sock"

[ttrpc]
  address = "{base}/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "{base}/opt"
"""


@pytest.fixture(scope="module")
def containerd():
    if os.geteuid() != 0:
        pytest.skip("containerd and runc need root (mounts, namespaces, cgroups)")
    base = tempfile.mkdtemp(prefix="ctrd-", dir="/tmp")  # short: containerd's sockets live under it
    config = os.path.join(base, "config.toml")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(CONFIG.format(base=base))
    address = os.path.join(base, "containerd.sock")
    with open(os.path.join(base, "containerd.log"), "wb") as logfile:
        proc = subprocess.Popen(["containerd", "--config", config], stdout=logfile, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: images.ctr(address, "version").returncode == 0, what="containerd", proc=proc,
                 log=os.path.join(base, "containerd.log"))
        yield {"address": address, "base": base, "refs": images.load(address)}
    finally:
        stop_process(proc, 20)
        node.unmount_under(base)
        shutil.rmtree(base, ignore_errors=True)


def run(containerd, name, *args, options=(), timeout=60):
    """``ctr run --rm --net-host <image> <id> <args>``: CompletedProcess."""
    ident = "test-%s-%d" % (name, time.monotonic_ns())
    return images.ctr(containerd["address"], "run", "--rm", "--net-host", *options, images.reference(name), ident,
                      *args, timeout=timeout)


def test_images_are_listed(containerd):
    listed = images.ctr(containerd["address"], "images", "ls", "-q", check=True).stdout.split()
    expected = [images.reference(n) for n in images.IMAGES] + [images.double(k) for k in images.DOUBLE_KINDS]
    assert sorted(containerd["refs"]) == sorted(expected)
    for ref in expected:
        assert ref in listed


def test_busybox_runs_a_seed_like_script(containerd):
    script = ('set -e; f=/config/x/config.yaml; [ -e "$f" ] || { mkdir -p /config/x && '
              'printf "auth:\\n  apikey: \\"%s\\"\\n" "$API_KEY" > "$f"; }; cat "$f"; chown 1000:1000 "$f"; '
              'command -v cp nc sleep mkdir > /dev/null')
    done = run(containerd, "busybox", "sh", "-c", script, options=("--env", "API_KEY=k123"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == 'auth:\n  apikey: "k123"\n'


def test_sqlite_runs(containerd):
    script = 'sqlite3 /tmp/t.db "create table t(x); insert into t values (42);" && sqlite3 /tmp/t.db "select x from t;"'
    done = run(containerd, "sqlite", "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"


def test_qbittorrent_executes(containerd):
    # ctr run's arguments replace the image's entrypoint (a pod's args would not): give it again
    done = run(containerd, "qbittorrent", "/bin/sh", "/entrypoint.sh", "--version")
    assert done.returncode == 0, done.stderr
    # the entrypoint linked the log to stdout; the profile is /config, as in the real image
    assert "Using config directory: /config/qBittorrent" in done.stdout, done.stdout
    assert done.stdout.splitlines()[-1].startswith("qBittorrent v"), done.stdout


SERVE = ("/usr/bin/python3", "/app/tests/doubles/serve.py")  # the image's entrypoint, as ctr run replaces it


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_doubles_serve_with_the_seeded_config(containerd, tmp_path):
    """The Radarr double reads its key from a config.xml on /config and answers on the host network."""
    broken = run(containerd, "doubles", *SERVE, "sabnzbd", "--check")
    assert broken.returncode == 1 and "sabnzbd.ini is missing" in broken.stderr, broken.stderr
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.xml").write_text("<Config><ApiKey>seeded0key</ApiKey></Config>\n", encoding="utf-8")
    port = _free_port()
    ident = "test-doubles-%d" % time.monotonic_ns()
    address = containerd["address"]
    started = images.ctr(address, "run", "-d", "--net-host",
                         "--mount", "type=bind,src=%s,dst=/config,options=rbind:ro" % config,
                         images.reference("doubles"), ident, *SERVE, "radarr", "--port", str(port))
    assert started.returncode == 0, started.stderr
    try:
        url = "http://127.0.0.1:%d/api/v3/system/status" % port
        deadline, status = time.monotonic() + 30, None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers={"X-Api-Key": "seeded0key"}),
                                            timeout=2) as resp:
                    status = resp.status
                    break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        request = urllib.request.Request(url, headers={"X-Api-Key": "wrong"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=2)
        assert refused.value.code == 401
    finally:
        images.ctr(address, "task", "kill", "-s", "SIGKILL", ident)
        deadline = time.monotonic() + 10
        while images.ctr(address, "task", "delete", ident).returncode != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        images.ctr(address, "containers", "delete", ident)
