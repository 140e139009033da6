"""VPN port forwarding (arrkestra_vpn.port_forwarding): the port sync, from the rendered pod, against the real
qbittorrent-nox.

The qBittorrent pod is rendered with port forwarding on. Its emptyDir volumes become folders, and each container gets
a folder standing for its "/" where its volume mounts are made (symbolic links to the volume's folder): a path one
container writes is where the other reads only when the rendered mounts line up. qbittorrent-nox is started from the
seed's file (credentials as in the app's Secret) on the app's port on loopback, as tests/integration/qbittorrent/
test_seed.py starts it. The stand-in of gluetun v3.40.0 (tests/doubles/gluetun.py) is configured from the rendered
gluetun container's env and drives the states of a tunnel: no port, a port, teardown, a new port, Perfect Privacy's
three. The sync is done by the double of forwardarr v2.1.2 (tests/doubles/forwardarr.py), configured only from the
rendered forwardarr container's env: the real forwardarr cannot run here (docs/platform.md says so), so what this
proves is that our rendered file path, URL and login work against the real qBittorrent with forwardarr's behaviour
as read in its source - not forwardarr itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    credentials as app_credentials, links, model as stack_model, vpn, workloads)
from tests.doubles.forwardarr import Forwardarr, ForwardarrError, QbitClient
from tests.doubles.gluetun import Gluetun
from tests.integration.qbittorrent.test_seed import run_seed, with_loopback_settings
from tests.lab.clients import LOOPBACK, free_port, stop_process, wait_for
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration

VPN = {"enabled": True, "provider": "protonvpn", "credentials": {"WIREGUARD_PRIVATE_KEY": "wg-private-key"},
       "endpoints": ["198.51.100.0/24"], "port_forwarding": True}


def resolved_env(container, secret):
    """The container's env as the kubelet gives it: values, and the app's Secret keys for secretKeyRef."""
    out = {}
    for item in container["env"]:
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        out[item["name"]] = secret[ref["key"]] if ref else item["value"]
    return out


def container_root(base, container, volumes):
    """A folder standing for the container's "/", with its mounts of ``volumes`` (name -> folder) made in it."""
    root = base / ("root-" + container["name"])
    root.mkdir()
    for mount in container.get("volumeMounts", []):
        if mount["name"] in volumes:
            target = root / mount["mountPath"].lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(volumes[mount["name"]], target_is_directory=True)
    return root


class Qbittorrent:
    """The real qbittorrent-nox from the seed's file, its WebUI on 127.0.0.1:<the app's port>."""

    def __init__(self, config, port, tmp_path):
        self.config, self.port, self.log = config, port, tmp_path / "qbittorrent.out"
        self.url = "http://%s:%d" % (LOOPBACK, port)
        conf = config / "qBittorrent" / "qBittorrent.conf"
        with_loopback_settings(conf, port)
        env = dict(os.environ, HOME=str(config), XDG_CONFIG_HOME=str(config), XDG_DATA_HOME=str(config),
                   QBT_CONFIRM_LEGAL_NOTICE="1")
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(["qbittorrent-nox"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                         cwd=str(config), start_new_session=True)
        wait_for(lambda: httpx.get(self.url + "/api/v2/app/webapiVersion", timeout=2).status_code in (200, 403),
                 what="qbittorrent-nox", proc=self.proc, log=str(self.log))

    def preferences(self, username, password):
        with httpx.Client(base_url=self.url, timeout=10) as client:
            assert client.post("/api/v2/auth/login", data={"username": username, "password": password}).text == "Ok."
            return client.get("/api/v2/app/preferences").json()

    def stop(self):
        stop_process(self.proc)


@pytest.fixture
def pod(tmp_path):
    port = free_port()
    stack = stack_model.build({"apps": {"radarr": {}, "qbittorrent": {"port": port}}, "vpn": VPN})
    [app] = [a for a in stack["apps"] if a["kind"] == "qbittorrent"]
    spec = workloads.pod_spec(stack, app)
    containers = dict((c["name"], c) for c in spec["containers"] + spec["initContainers"])
    secret = app_credentials.complete_credentials(stack, {}, os.urandom)[app["name"]]
    volumes = {}
    for volume in spec["volumes"]:
        if "emptyDir" in volume:
            volumes[volume["name"]] = tmp_path / ("volume-" + volume["name"])
            volumes[volume["name"]].mkdir()
    roots = dict((name, container_root(tmp_path, c, volumes)) for name, c in containers.items())
    config = tmp_path / "config"
    config.mkdir()
    run_seed(stack, app, config, secret)
    qbt = Qbittorrent(config, port, tmp_path)
    try:
        yield {"stack": stack, "app": app, "containers": containers, "secret": secret, "roots": roots, "qbt": qbt,
               "gluetun_env": resolved_env(containers["gluetun"], secret),
               "forwardarr_env": resolved_env(containers["forwardarr"], secret)}
    finally:
        qbt.stop()


def listen_port(pod):
    return pod["qbt"].preferences(pod["secret"]["username"], pod["secret"]["password"])["listen_port"]


def wait_port(pod, port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listen_port(pod) == port:
            return
        time.sleep(0.2)
    pytest.fail("qBittorrent's listen_port is %s, not %s" % (listen_port(pod), port))


def forwarded(server):
    resp = httpx.get(server.url + "/v1/openvpn/portforwarded", timeout=5)
    assert resp.status_code == 200 and resp.headers["content-type"] == "text/plain; charset=utf-8"
    return resp.text


def test_the_listening_port_follows_the_forwarded_port(pod):
    # gluetun as rendered: port forwarding on, its status file on the volume forwardarr reads, control server on loopback.
    genv = pod["gluetun_env"]
    assert genv["VPN_PORT_FORWARDING"] == "on" and genv["HTTP_CONTROL_SERVER_ADDRESS"] == "127.0.0.1:8000"
    gluetun = Gluetun.from_env(genv, pod["roots"]["gluetun"], ids=(os.getuid(), os.getgid()))
    qbt, pid = pod["qbt"], pod["qbt"].proc.pid
    seeded_port = listen_port(pod)
    first, second = free_port(), free_port()
    assert len({seeded_port, first, second}) == 3
    with gluetun.control_server(port=0) as control:
        assert control.host == "127.0.0.1"
        # 1. Tunnel not up yet: no file, no port. forwardarr starts, signs in, finds no file and changes nothing.
        assert not os.path.exists(gluetun.status_file)
        assert forwarded(control) == '{"port":0}\n'
        sidecar = Forwardarr(pod["forwardarr_env"], pod["roots"]["forwardarr"], metrics_port=0).start()
        try:
            assert sidecar.exit_code is None, sidecar.log
            assert sidecar.url == "http://127.0.0.1:%d" % qbt.port and sidecar.sync_interval == vpn.SYNC_INTERVAL
            assert any("failed to read port file" in entry[1] for entry in sidecar.log), sidecar.log
            assert sidecar.synced == [] and listen_port(pod) == seeded_port
            assert httpx.get("http://127.0.0.1:%d/health" % sidecar.metrics_port, timeout=5).text == "OK"
            assert httpx.get("http://127.0.0.1:%d/ready" % sidecar.metrics_port, timeout=5).text == "Ready"

            # 2. The tunnel is up and the provider gave a port: the file is written, qBittorrent listens on it.
            gluetun.forward([first])
            with open(gluetun.status_file, encoding="utf-8") as handle:
                assert handle.read() == str(first)
            # The two containers see one file: the rendered mounts line up.
            assert os.path.samefile(gluetun.status_file, sidecar.port_file)
            wait_port(pod, first)
            assert forwarded(control) == '{"port":%d}\n' % first

            # 3. Teardown (VPN restart, failed keep-alive): the file is deleted, the port stays until a new one comes.
            gluetun.teardown()
            assert not os.path.exists(sidecar.port_file) and forwarded(control) == '{"port":0}\n'
            time.sleep(1)
            assert listen_port(pod) == first and sidecar.synced == [first]

            # 4. A new port after the reconnect, while forwardarr's session has expired: it signs in again on the 403.
            with httpx.Client(base_url=qbt.url, timeout=5, cookies=sidecar.client.http.cookies) as expired:
                expired.post("/api/v2/auth/logout").raise_for_status()
            gluetun.forward([second])
            wait_port(pod, second)
            assert forwarded(control) == '{"port":%d}\n' % second
            assert any("re-authenticating" in entry[1] for entry in sidecar.log), sidecar.log

            # 5. Perfect Privacy's three ports: forwardarr follows one only and skips the file (why the collection
            # refuses port forwarding for it).
            gluetun.teardown()
            gluetun.forward([free_port(), free_port(), free_port()])
            time.sleep(1)
            assert listen_port(pod) == second
            assert any("invalid port value" in entry[1] for entry in sidecar.log), sidecar.log
            assert forwarded(control).startswith('{"ports":[')
            assert sidecar.synced == [first, second]
        finally:
            sidecar.stop()
    # qBittorrent applied every port live: the same process all along.
    assert qbt.proc.poll() is None and qbt.proc.pid == pid


def test_the_wiring_leaves_the_listening_port_to_the_sidecar(pod, tmp_path):
    """The wiring's links of this qBittorrent are its categories only: never listen_port. Run after a sync, the
    qbittorrent_links module changes the categories once and then nothing, and the port stays the forwarded one."""
    gluetun = Gluetun.from_env(pod["gluetun_env"], pod["roots"]["gluetun"], ids=(os.getuid(), os.getgid()))
    port = free_port()
    with Forwardarr(pod["forwardarr_env"], pod["roots"]["forwardarr"], metrics_port=0) as sidecar:
        gluetun.forward([port])
        wait_port(pod, port)
        qbt = [a for a in links.derive(pod["stack"]["apps"], pod["stack"]["data"]) if a["app"] == pod["app"]["name"]]
        assert qbt and set(link["group"] for link in qbt) == {"categories"}
        assert not [link for link in qbt if "listen_port" in link["item"]]
        task = {"name": "wire", "arrkestra.homelab.qbittorrent_links": {
            "url": pod["qbt"].url, "username": pod["secret"]["username"], "password": pod["secret"]["password"],
            "categories": [link["item"] for link in qbt]}}
        playbook = Playbook(tmp_path)
        assert playbook.run([task])["wire"]["changed"]
        again = playbook.run([task])["wire"]
        assert not again["changed"] and again["writes"] == 0
        assert listen_port(pod) == port and sidecar.synced == [port]
        gluetun.teardown()


def test_a_wrong_password_fails_as_qbittorrent_says(pod):
    """qBittorrent answers a wrong login with 200 and the body Fails. (authcontroller.cpp:88-95); forwardarr treats
    anything but Ok. as a failure, retries until STARTUP_TIMEOUT and exits (main.go:38-42, 131-184)."""
    env = pod["forwardarr_env"]
    client = QbitClient(env["TORRENT_CLIENT_URL"], env["TORRENT_CLIENT_USER"], "not-the-password", [])
    with pytest.raises(ForwardarrError) as err:
        client.login()
    client.close()
    assert str(err.value) == "login failed: status 200, body: Fails."
    before = listen_port(pod)
    # The same with the whole sidecar, its startup deadline cut from the rendered 120 s to 2 s.
    wrong = dict(env, TORRENT_CLIENT_PASSWORD="not-the-password", STARTUP_TIMEOUT="2", STARTUP_RETRY_DELAY="1")
    sidecar = Forwardarr(wrong, pod["roots"]["forwardarr"], metrics_port=0).start(wait=10)
    sidecar.stop()
    assert sidecar.exit_code == 1 and "Fails." in sidecar.log[-1][1], sidecar.log
    assert listen_port(pod) == before


def test_the_control_server_answers_on_loopback_only(pod):
    """HTTP_CONTROL_SERVER_ADDRESS=127.0.0.1:8000: a listener on 127.0.0.1 is not reachable at another address of the
    machine (here 127.0.0.2, another address of the loopback network, which a listener on every interface answers)."""
    gluetun = Gluetun.from_env(pod["gluetun_env"], pod["roots"]["gluetun"], ids=(os.getuid(), os.getgid()))
    with gluetun.control_server(port=0) as control:
        assert forwarded(control) == '{"port":0}\n'
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.2", control.port), timeout=2).close()
        # The routes of gluetun's public role and only them (auth/settings.go:18-39): the settings need a role.
        assert httpx.get(control.url + "/v1/vpn/settings", timeout=5).status_code == 401
        assert httpx.post(control.url + "/v1/openvpn/portforwarded", timeout=5).status_code == 401
        assert httpx.get(control.url + "/openvpn/portforwarded", timeout=5).status_code == 401
        # A key in the query makes the route unknown to gluetun's dispatch (handler.go:57-64, openvpn.go:32-58).
        resp = httpx.get(control.url + "/v1/openvpn/portforwarded?api_key=x", timeout=5)
        assert resp.status_code == 400 and resp.text == "route /portforwarded?api_key=x not supported\n"
