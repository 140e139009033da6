"""A double of forwardarr v2.1.2 (eslutz/Gluetarr, tag v2.1.2 = ``34a911b4``): the sidecar that keeps qBittorrent's
listening port equal to the port gluetun forwards (docs/research/port-forwarding.md, section 3).

The real forwardarr is a Go binary served only as a container image; neither it nor any build of it can run in this
lab (not on the Go module proxy, not on PyPI, no container registry). This double does exactly what v2.1.2 does, as
read in its source - each behaviour below cites ``path:line`` at that tag - and is configured only from the
environment of the container the collection renders, so a test that runs it against the real qbittorrent-nox proves
that the rendered environment (file path, URL, login) works, not that forwardarr itself does.

    sidecar = Forwardarr(env, root)     # env: the rendered container's, Secret values filled in; root: its "/"
    sidecar.start()                     # signs in (with forwardarr's retries), watches the file, polls, serves /health
    ...
    sidecar.stop()

Differences, all outside the sync: the HTTP server (/health, /ready) listens on 127.0.0.1 (forwardarr: every
interface, server.go:36-43) and on ``metrics_port`` when given; no /metrics, /status nor webhooks; logs go to
``log`` (a list) instead of JSON on stdout; "exit" is the thread ending with ``exit_code`` set.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import re
import select
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

#: internal/config/config.go:31-38 - the defaults of the settings the sync uses.
DEFAULTS = {"GLUETUN_PORT_FILE": "/tmp/gluetun/forwarded_port", "TORRENT_CLIENT_URL": "http://localhost:8080",
            "TORRENT_CLIENT_USER": "admin", "TORRENT_CLIENT_PASSWORD": "adminadmin", "METRICS_PORT": "9090"}
DURATIONS = {"STARTUP_RETRY_DELAY": 5, "STARTUP_TIMEOUT": 120, "SYNC_INTERVAL": 300}     # config.go:35-37, seconds
#: internal/qbit/client.go:26-31.
HTTP_TIMEOUT = 10.0
REQUEST_ATTEMPTS = 3
REQUEST_RETRY_DELAY = 2.0

# inotify, as fsnotify v1.9.0 (go.mod:6) uses it: a watch with its default ops Create|Write|Remove|Rename|Chmod
# (fsnotify.go:425-428, backend_inotify.go:196-210); IN_CREATE and IN_MOVED_TO are Create, IN_MODIFY is Write
# (backend_inotify.go:518-530); an event's Name is the watched path, "/", the file name (backend_inotify.go:423-432).
IN_MODIFY, IN_ATTRIB, IN_MOVED_FROM, IN_MOVED_TO = 0x2, 0x4, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
WATCH_MASK = IN_CREATE | IN_MODIFY | IN_DELETE | IN_DELETE_SELF | IN_MOVED_TO | IN_MOVED_FROM | IN_MOVE_SELF | IN_ATTRIB
_EVENT = struct.Struct("iIII")


class ForwardarrError(Exception):
    """An error forwardarr returns (and logs)."""


def _duration(env, name):
    """config.go:69-76: whole seconds; unset, empty or not an integer: the default."""
    value = env.get(name) or ""
    return int(value) if re.match(r"^[+-]?[0-9]+$", value) else DURATIONS[name]


class QbitClient:
    """internal/qbit/client.go: a cookie jar, a 10 s timeout, the base URL without a final "/"."""

    def __init__(self, base_url, user, password, log):
        self.base_url = base_url.rstrip("/")                       # client.go:40
        self.user, self.password = user, password
        self.http = httpx.Client(timeout=HTTP_TIMEOUT)             # client.go:34-46 (cookie jar, timeout)
        self.log = log

    def close(self):
        self.http.close()

    def login(self):
        """client.go:56-74: POST the form username/password; anything but 200 with the body ``Ok.`` is a failure."""
        try:
            resp = self.http.post(self.base_url + "/api/v2/auth/login",
                                  data={"username": self.user, "password": self.password})
        except httpx.HTTPError as exc:
            raise ForwardarrError("login request failed: %s" % exc)
        if resp.status_code != 200 or resp.text != "Ok.":
            raise ForwardarrError("login failed: status %d, body: %s" % (resp.status_code, resp.text))

    def _with_reauth(self, send):
        """client.go:164-200: a 403 answer means the session is gone: sign in again, then send once more."""
        resp = send()
        if resp.status_code != 403:
            return resp
        self.log.append(("warn", "received 403 from qBittorrent, re-authenticating..."))
        self.login()
        return send()

    def get_port(self):
        """client.go:76-101, 202-216: GET /api/v2/app/preferences, ``listen_port`` of the JSON; 3 attempts, 2 s apart."""
        last = None
        for attempt in range(1, REQUEST_ATTEMPTS + 1):
            try:
                resp = self._with_reauth(lambda: self.http.get(self.base_url + "/api/v2/app/preferences"))
                if resp.status_code != 200:
                    raise ForwardarrError("unexpected status code: %d, body: %s" % (resp.status_code, resp.text))
                return int(json.loads(resp.text).get("listen_port") or 0)
            except (httpx.HTTPError, ValueError, ForwardarrError) as exc:
                last = exc
            if attempt < REQUEST_ATTEMPTS:
                self.log.append(("warn", "get port failed, retrying: %s" % last))
                time.sleep(REQUEST_RETRY_DELAY)
        raise ForwardarrError("failed to get preferences after %d attempts: %s" % (REQUEST_ATTEMPTS, last))

    def set_port(self, port):
        """client.go:103-148: POST /api/v2/app/setPreferences with the form field ``json`` = {"listen_port":N} (and
        nothing else); 200 is success; 3 attempts, 2 s apart."""
        form = {"json": json.dumps({"listen_port": port}, separators=(",", ":"))}
        last = None
        for attempt in range(1, REQUEST_ATTEMPTS + 1):
            try:
                resp = self._with_reauth(lambda: self.http.post(self.base_url + "/api/v2/app/setPreferences", data=form))
                if resp.status_code == 200:
                    self.log.append(("info", "successfully updated qBittorrent listening port %d" % port))
                    return
                last = ForwardarrError("unexpected status code: %d, body: %s" % (resp.status_code, resp.text))
            except (httpx.HTTPError, ForwardarrError) as exc:
                last = exc
            if attempt < REQUEST_ATTEMPTS:
                self.log.append(("warn", "set port failed, retrying: %s" % last))
                time.sleep(REQUEST_RETRY_DELAY)
        raise ForwardarrError("failed to set qBittorrent port after %d attempts: %s" % (REQUEST_ATTEMPTS, last))

    def ping(self):
        """client.go:150-162: GET /api/v2/app/version must answer 200."""
        resp = self._with_reauth(lambda: self.http.get(self.base_url + "/api/v2/app/version"))
        if resp.status_code != 200:
            raise ForwardarrError("unexpected status code: %d" % resp.status_code)


def backoff(attempt, base, remaining):
    """cmd/forwardarr/retry.go:5-25: the base delay doubled per attempt, never past what remains."""
    if attempt < 1 or base <= 0 or remaining <= 0:
        return 0
    delay = base
    for dummy in range(1, attempt):
        if delay >= remaining or delay > remaining / 2:
            return remaining
        delay *= 2
    return min(delay, remaining)


class Forwardarr:
    """cmd/forwardarr/main.go:20-107 around the watcher of internal/sync/watcher.go."""

    def __init__(self, env, root="/", metrics_port=None):
        def get(name):
            return env.get(name) or DEFAULTS[name]             # config.go:62-67: unset or empty is the default
        # Paths are the container's; ``root`` stands for its "/" (the container's mounts are made there).
        self.port_file_in_container = get("GLUETUN_PORT_FILE")
        self.port_file = os.path.normpath(os.path.join(str(root), self.port_file_in_container.lstrip("/")))
        self.url, self.user, self.password = get("TORRENT_CLIENT_URL"), get("TORRENT_CLIENT_USER"), get("TORRENT_CLIENT_PASSWORD")
        self.retry_delay = _duration(env, "STARTUP_RETRY_DELAY")
        self.startup_timeout = _duration(env, "STARTUP_TIMEOUT")
        if self.retry_delay <= 0:                              # main.go:186-198
            self.retry_delay = 5
        if self.startup_timeout <= 0:
            self.startup_timeout = 120
        self.sync_interval = _duration(env, "SYNC_INTERVAL")
        self.metrics_port = int(get("METRICS_PORT")) if metrics_port is None else metrics_port
        self.log = []
        self.synced = []            # every port set in qBittorrent, in order
        self.exit_code = None
        self.client = None
        self.health = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = None
        self._fd = None

    # -- life -----------------------------------------------------------------------------------------------------
    def start(self, wait=30.0):
        """Run in a thread; return once watching (or once it has exited)."""
        self._thread = threading.Thread(target=self._main, name="forwardarr", daemon=True)
        self._thread.start()
        self._ready.wait(wait)
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(15)
        if self.health:
            self.health.shutdown()
            self.health.server_close()
        if self.client:
            self.client.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _main(self):
        try:
            self.client = self._connect()                       # main.go:38-42
        except ForwardarrError as exc:
            self.log.append(("error", "failed to create qBittorrent client: %s" % exc))
            self.exit_code = 1
            self._ready.set()
            return
        try:
            self._watch()                                       # main.go:60-64, watcher.go:27-49
        except OSError as exc:
            self.log.append(("error", "failed to create file watcher: %s" % exc))
            self.exit_code = 1
            self._ready.set()
            return
        self._serve()                                           # main.go:66-74: only now the HTTP server
        self._run()                                             # main.go:80-106

    def _connect(self):
        """main.go:131-184: sign in until STARTUP_TIMEOUT has passed, STARTUP_RETRY_DELAY doubled between tries."""
        deadline = time.monotonic() + self.startup_timeout
        attempt, last = 0, None
        while time.monotonic() < deadline and not self._stop.is_set():
            attempt += 1
            client = QbitClient(self.url, self.user, self.password, self.log)
            try:
                client.login()                                  # client.go:49-51: NewClient signs in
                self.log.append(("info", "connected to qBittorrent (attempt %d)" % attempt))
                return client
            except ForwardarrError as exc:
                client.close()
                last = exc
            remaining = max(deadline - time.monotonic(), 0)
            sleep = backoff(attempt, self.retry_delay, remaining) if remaining > 0 else 0
            self.log.append(("warn", "qBittorrent connection failed: %s" % last))
            if sleep <= 0:
                break
            self._stop.wait(sleep)
        raise ForwardarrError("failed to connect to qBittorrent after %d attempts within %ds: %s"
                              % (attempt, self.startup_timeout, last))

    # -- the watcher --------------------------------------------------------------------------------------------------
    def _watch(self):
        """watcher.go:41-45: watch the file's directory (so a deleted and re-created file is seen)."""
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.watch_dir = os.path.dirname(self.port_file)
        wd = libc.inotify_add_watch(fd, self.watch_dir.encode(), WATCH_MASK)
        if wd < 0:
            os.close(fd)
            raise OSError(ctypes.get_errno(), "failed to watch directory %s" % self.watch_dir)
        self._fd = fd

    def _run(self):
        """watcher.go:51-97: one sync at start, then a sync for each Write or Create event of the file itself, and one
        every SYNC_INTERVAL (none when it is 0); errors are logged, never fatal."""
        next_tick = time.monotonic() + self.sync_interval if self.sync_interval > 0 else None    # watcher.go:52-58
        self._sync("initial sync failed")
        self._ready.set()
        try:
            while not self._stop.is_set():
                timeout = 0.2 if next_tick is None else max(min(0.2, next_tick - time.monotonic()), 0)
                readable = select.select([self._fd], [], [], timeout)[0]
                if readable:
                    for name, mask in self._events():
                        if name == self.port_file and mask & (IN_MODIFY | IN_CREATE | IN_MOVED_TO):   # watcher.go:76
                            self._sync("failed to sync port after file change")
                if next_tick is not None and time.monotonic() >= next_tick:
                    next_tick += self.sync_interval
                    self._sync("periodic sync failed")
        finally:
            os.close(self._fd)

    def _events(self):
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return []
        out, offset = [], 0
        while offset + _EVENT.size <= len(data):
            _wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            raw = data[offset + _EVENT.size:offset + _EVENT.size + length].rstrip(b"\0").decode()
            out.append((self.watch_dir + "/" + raw if raw else self.watch_dir, mask))
            offset += _EVENT.size + length
        return out

    def _sync(self, context):
        try:
            self.sync_port()
        except ForwardarrError as exc:
            self.log.append(("warn", "%s: %s" % (context, exc)))

    def sync_port(self):
        """watcher.go:99-140: the file's port; 0 (none usable) does nothing; otherwise read qBittorrent's port and set
        the file's when they differ."""
        port = self.read_port()
        if port == 0:
            return
        current = self.client.get_port()
        if port != current:
            self.log.append(("info", "port mismatch detected, updating: %d -> %d" % (current, port)))
            self.client.set_port(port)
            self.synced.append(port)

    def read_port(self):
        """watcher.go:142-168: a missing file is an error; the whole content, spaces trimmed, must be one integer of
        1-65535, otherwise 0 (an empty file, several lines, a word)."""
        try:
            with open(self.port_file, "rb") as handle:
                text = handle.read().decode("utf-8", "replace").strip()
        except OSError as exc:
            raise ForwardarrError("failed to read Gluetun port: failed to read port file: %s" % exc)
        if not text:
            self.log.append(("warn", "port file is empty, skipping sync (Gluetun may be restarting)"))
            return 0
        if not re.match(r"^[+-]?[0-9]+$", text):
            self.log.append(("warn", "invalid port value in file, skipping sync: %r" % text))
            return 0
        port = int(text)
        if port < 1 or port > 65535:
            self.log.append(("warn", "port out of valid range, skipping sync: %d" % port))
            return 0
        return port

    # -- the HTTP server ----------------------------------------------------------------------------------------------
    def _serve(self):
        """internal/server/server.go:28-43, handlers.go:11-32: /health answers 200 OK while running; /ready pings
        qBittorrent (503 when it does not answer)."""
        sidecar = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/health":
                    status, body = 200, b"OK"
                elif self.path == "/ready":
                    try:
                        sidecar.client.ping()
                        status, body = 200, b"Ready"
                    except (ForwardarrError, httpx.HTTPError):
                        status, body = 503, b"qBittorrent not reachable"
                else:
                    status, body = 404, b"404 page not found\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.health = ThreadingHTTPServer(("127.0.0.1", self.metrics_port), Handler)
        self.health.daemon_threads = True
        self.metrics_port = self.health.server_address[1]
        threading.Thread(target=self.health.serve_forever, name="forwardarr-http", daemon=True).start()
