"""Real download clients on loopback, for tests: qBittorrent, Transmission, NZBGet.

Each client runs from Debian's package (``tests/apt-packages.txt``) in its own
temporary directory, on free ports of 127.0.0.1, with known credentials and
every feature that talks to the outside world turned off (DHT, LSD/LPD, PeX,
UPnP/NAT-PMP, µTP, peer-country lookup, update checks; no news server).

Use the pytest fixtures (session-scoped)::

    from tests.lab.clients import qbittorrent   # in a conftest.py (pytest_plugins only works at the root)

    def test_something(qbittorrent):
        qbittorrent.url, qbittorrent.username, qbittorrent.password, qbittorrent.port

or the classes directly (``with QBittorrent(tmpdir) as qbt: ...``). Every
client object has ``host`` ("127.0.0.1"), ``port``, ``url``, ``username``,
``password``, ``start()``, ``stop()`` and ``check_login(username, password)``
(True/False, through the client's own API).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import httpx

try:
    import pytest
except ImportError:  # pragma: no cover - the classes work without pytest
    pytest = None

LOOPBACK = "127.0.0.1"


def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for(check, timeout=30.0, what="service", proc=None, log=None):
    """Call ``check()`` until it returns true; fail with the process log otherwise."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            if check():
                return
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        time.sleep(0.2)
    tail = ""
    if log and os.path.exists(log):
        with open(log, encoding="utf-8", errors="replace") as handle:
            tail = handle.read()[-3000:]
    raise RuntimeError("%s did not come up (last error: %r)\n%s" % (what, last, tail))


def stop_process(proc, timeout=15):
    """SIGTERM ``proc`` (a Popen) and wait for it; SIGKILL after ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def qbittorrent_password_hash(password, salt=None):
    """``WebUI\\Password_PBKDF2`` value: PBKDF2-HMAC-SHA512, 100000 rounds, 16-byte salt, 64-byte key."""
    salt = salt or os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, 100000, 64)
    return '"@ByteArray(%s:%s)"' % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


class _Client:
    name = "client"
    default_username = "admin"

    def __init__(self, workdir=None, username=None, password="lab-secret-1"):
        self.host = LOOPBACK
        self.port = free_port()
        self.username = username or self.default_username
        self.password = password
        self._own_dir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="arrkestra-%s-" % self.name)
        self.proc = None
        self.log = os.path.join(self.workdir, "%s.out" % self.name)

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def _spawn(self, argv, env=None):
        full_env = dict(os.environ, HOME=self.workdir)
        full_env.update(env or {})
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=full_env,
                                         cwd=self.workdir, start_new_session=True)

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc)
        self.proc = None
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class QBittorrent(_Client):
    """qbittorrent-nox with a pre-seeded qBittorrent.conf (PBKDF2 password, legal notice accepted)."""

    name = "qbittorrent"

    def start(self):
        conf_dir = os.path.join(self.workdir, "profile", "qBittorrent", "config")
        os.makedirs(conf_dir, exist_ok=True)
        downloads = os.path.join(self.workdir, "downloads")
        os.makedirs(downloads, exist_ok=True)
        peer_port = free_port()
        lines = [
            "[LegalNotice]", "Accepted=true", "",
            "[BitTorrent]",
            "Session\\DHTEnabled=false", "Session\\LSDEnabled=false", "Session\\PeXEnabled=false",
            "Session\\Interface=lo", "Session\\InterfaceName=lo", "Session\\InterfaceAddress=%s" % LOOPBACK,
            "Session\\Port=%d" % peer_port, "Session\\DefaultSavePath=%s" % downloads,
            "Session\\AnonymousModeEnabled=true", "Session\\AddTrackersEnabled=false",
            "", "[Preferences]",
            "Connection\\UPnP=false", "Connection\\ResolvePeerCountries=false",
            "Advanced\\trackerEnabled=false", "General\\Locale=en",
            "WebUI\\Address=%s" % LOOPBACK, "WebUI\\Port=%d" % self.port, "WebUI\\UseUPnP=false",
            "WebUI\\LocalHostAuth=true", "WebUI\\MaxAuthenticationFailCount=1000",
        ] + self.webui_login() + [
            "", "[Application]", "FileLogger\\Enabled=false", "",
        ]
        with open(os.path.join(conf_dir, "qBittorrent.conf"), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
        self._spawn(["qbittorrent-nox", "--profile=%s" % os.path.join(self.workdir, "profile"),
                     "--webui-port=%d" % self.port])
        wait_for(lambda: httpx.get(self.url + "/api/v2/app/webapiVersion", timeout=2).status_code in (200, 403),
                 what="qbittorrent-nox", proc=self.proc, log=self.log)
        return self

    def webui_login(self):
        """The WebUI login of [Preferences]: the user with a PBKDF2 password; CSRF and Host checks on."""
        return ["WebUI\\Username=%s" % self.username,
                "WebUI\\Password_PBKDF2=%s" % qbittorrent_password_hash(self.password),
                "WebUI\\CSRFProtection=true", "WebUI\\HostHeaderValidation=true"]

    def check_login(self, username, password):
        resp = httpx.post(self.url + "/api/v2/auth/login", data={"username": username, "password": password},
                          headers={"Referer": self.url}, timeout=10)
        return resp.text == "Ok."


class Transmission(_Client):
    """transmission-daemon with RPC authentication, everything bound to 127.0.0.1."""

    name = "transmission"

    def start(self):
        conf_dir = os.path.join(self.workdir, "config")
        downloads = os.path.join(self.workdir, "downloads")
        os.makedirs(conf_dir, exist_ok=True)
        os.makedirs(downloads, exist_ok=True)
        settings = {
            "rpc-enabled": True, "rpc-bind-address": LOOPBACK, "rpc-port": self.port,
            "rpc-authentication-required": True, "rpc-username": self.username, "rpc-password": self.password,
            "rpc-whitelist-enabled": True, "rpc-whitelist": LOOPBACK, "rpc-host-whitelist-enabled": False,
            "bind-address-ipv4": LOOPBACK, "bind-address-ipv6": "::1", "peer-port": free_port(),
            "peer-port-random-on-start": False, "dht-enabled": False, "lpd-enabled": False,
            "utp-enabled": False, "pex-enabled": False, "port-forwarding-enabled": False,
            "blocklist-enabled": False, "download-dir": downloads, "incomplete-dir-enabled": False,
            "watch-dir-enabled": False, "message-level": 1,
        }
        with open(os.path.join(conf_dir, "settings.json"), "w", encoding="utf-8") as handle:
            json.dump(settings, handle)
        self._spawn(["transmission-daemon", "--foreground", "--config-dir", conf_dir])
        wait_for(lambda: httpx.get(self.url + "/transmission/rpc", timeout=2).status_code in (401, 409),
                 what="transmission-daemon", proc=self.proc, log=self.log)
        return self

    def webui_login(self):
        """The WebUI login of [Preferences]: the user with a PBKDF2 password; CSRF and Host checks on."""
        return ["WebUI\\Username=%s" % self.username,
                "WebUI\\Password_PBKDF2=%s" % qbittorrent_password_hash(self.password),
                "WebUI\\CSRFProtection=true", "WebUI\\HostHeaderValidation=true"]

    def check_login(self, username, password):
        url = self.url + "/transmission/rpc"
        resp = httpx.post(url, json={"method": "session-get"}, auth=(username, password), timeout=10)
        if resp.status_code == 409:
            resp = httpx.post(url, json={"method": "session-get"}, auth=(username, password), timeout=10,
                              headers={"X-Transmission-Session-Id": resp.headers["X-Transmission-Session-Id"]})
        return resp.status_code == 200


class NZBGet(_Client):
    """nzbget in server mode, no news server, control user and password."""

    name = "nzbget"
    default_username = "nzbget"

    def start(self):
        main = os.path.join(self.workdir, "nzbget")
        os.makedirs(main, exist_ok=True)
        conf = os.path.join(self.workdir, "nzbget.conf")
        options = {
            "MainDir": main, "DestDir": "${MainDir}/completed", "InterDir": "${MainDir}/intermediate",
            "NzbDir": "${MainDir}/nzb", "QueueDir": "${MainDir}/queue", "TempDir": "${MainDir}/tmp",
            "ScriptDir": "${MainDir}/scripts", "LockFile": "${MainDir}/nzbget.lock",
            "LogFile": "${MainDir}/nzbget.log", "WebDir": "/usr/share/nzbget/webui",
            "ConfigTemplate": "/usr/share/nzbget/webui/nzbget.conf",
            "ControlIP": LOOPBACK, "ControlPort": str(self.port),
            "ControlUsername": self.username, "ControlPassword": self.password,
            "RestrictedUsername": "", "AddUsername": "", "SecureControl": "no",
            "AuthorizedIP": "", "UpdateCheck": "none", "WriteLog": "append", "ErrorTarget": "log",
            "Category1.Name": "movies", "Category2.Name": "tv", "Category3.Name": "music",
        }
        with open(conf, "w", encoding="utf-8") as handle:
            handle.write("".join("%s=%s\n" % item for item in options.items()))
        self._spawn(["nzbget", "--server", "--configfile", conf, "--option", "OutputMode=log"])
        wait_for(lambda: httpx.get(self.url + "/jsonrpc/version", auth=(self.username, self.password),
                                   timeout=2).status_code == 200,
                 what="nzbget", proc=self.proc, log=self.log)
        return self

    def webui_login(self):
        """The WebUI login of [Preferences]: the user with a PBKDF2 password; CSRF and Host checks on."""
        return ["WebUI\\Username=%s" % self.username,
                "WebUI\\Password_PBKDF2=%s" % qbittorrent_password_hash(self.password),
                "WebUI\\CSRFProtection=true", "WebUI\\HostHeaderValidation=true"]

    def check_login(self, username, password):
        resp = httpx.post(self.url + "/jsonrpc", json={"method": "version", "params": [], "id": 1},
                          auth=(username, password), timeout=10)
        return resp.status_code == 200


if pytest is not None:

    @pytest.fixture(scope="session")
    def qbittorrent(tmp_path_factory):
        """A running qbittorrent-nox on 127.0.0.1 (user ``admin``)."""
        with QBittorrent(str(tmp_path_factory.mktemp("qbittorrent"))) as client:
            yield client

    @pytest.fixture(scope="session")
    def transmission(tmp_path_factory):
        """A running transmission-daemon on 127.0.0.1 (user ``admin``)."""
        with Transmission(str(tmp_path_factory.mktemp("transmission"))) as client:
            yield client

    @pytest.fixture(scope="session")
    def nzbget(tmp_path_factory):
        """A running nzbget on 127.0.0.1 (user ``nzbget``)."""
        with NZBGet(str(tmp_path_factory.mktemp("nzbget"))) as client:
            yield client
