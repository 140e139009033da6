"""The apps of a stack in their pods' place, on the test control plane (tests/controlplane/cluster.py).

kwok makes the pods of the apps phase Ready but runs nothing in them.
:class:`ClusterStack` watches the namespace while the playbooks run and, as each
app's pod comes up (Ready, with its pod IP) next to its Secret
(``<app>-credentials``, what the apps phase generated), starts what stands in for
the app - its test double (tests/doubles/) or the real download client
(tests/lab/clients.py) - with those credentials, and routes the pod's
``<podIP>:<port>`` to it in the control plane's pod network (cluster.route), so
that the API server's service proxy reaches it as it would reach the pod. The
doubles call each other by their in-cluster names (tests/doubles/_net.py).
Apps come up late, as real pods do: the wiring phase waits for them.

    stack = ClusterStack(controlplane, namespace, data_mount)
    stack.start()                    # the watcher thread
    ... run the playbooks ...
    stack.writes()                   # {app: [(method, path)]} every app saw since reset()
    stack.close()
"""

from __future__ import annotations

import base64
import http.client
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.controlplane import cluster
from tests.doubles import _net
from tests.doubles._base import WRITE_METHODS
from tests.doubles.bazarr import BazarrDouble
from tests.doubles.flaresolverr import FlareSolverrDouble
from tests.doubles.jellyfin import JellyfinDouble
from tests.doubles.plex import PlexDouble
from tests.doubles.sabnzbd import SabnzbdDouble
from tests.doubles.seerr import SeerrDouble
from tests.doubles.servarr import ServarrDouble
from tests.doubles.tinyauth import TinyauthDouble
from tests.lab.clients import LOOPBACK, QBittorrent

SERVARR = ("radarr", "sonarr", "lidarr", "prowlarr")
CLUSTER_DOMAIN = "cluster.local"


def _double(kind, creds, plex_tv=None, plex_tv_url=None):
    if kind in SERVARR:
        return ServarrDouble(kind, api_key=creds["api_key"])
    if kind == "jellyfin":   # a fresh server: the wiring's first-run wizard makes this admin
        return JellyfinDouble(username=creds["username"], password=creds["password"])
    if kind == "plex":       # a fresh, unclaimed server that exchanges claim tokens with the plex.tv stand-in
        return PlexDouble(plex_tv=plex_tv)
    if kind == "seerr":
        return SeerrDouble(api_key=creds["api_key"], **({"plex_tv_url": plex_tv_url} if plex_tv_url else {}))
    if kind == "sabnzbd":
        return SabnzbdDouble(api_key=creds["api_key"])
    if kind == "bazarr":
        return BazarrDouble(api_key=creds["api_key"])
    if kind == "flaresolverr":
        return FlareSolverrDouble()
    if kind == "tinyauth":
        # Its users file, as the apps phase keeps it in the Secret (``users``: ``name:bcrypt-hash`` per line, the pod
        # mounts it as TINYAUTH_AUTH_USERSFILE). Its URL is not in the Secret; here nothing follows its redirects.
        return TinyauthDouble("http://auth.arrkestra.test", users_file=creds["users"])
    raise ValueError("no stand-in for an app of kind %r" % kind)


class SeededQBittorrent(QBittorrent):
    """qbittorrent-nox with the WebUI login the apps phase's seed container writes (user, PBKDF2 hash from the app's
    Secret, host header validation off; CSRF protection left at its default, on), plus what keeps it on loopback and
    quiet (tests/lab/clients.py)."""

    def __init__(self, workdir, username, password_pbkdf2):
        super().__init__(workdir, username=username, password="")
        self.password_pbkdf2 = password_pbkdf2

    def webui_login(self):
        return ["WebUI\\Username=%s" % self.username, 'WebUI\\Password_PBKDF2="%s"' % self.password_pbkdf2,
                "WebUI\\HostHeaderValidation=false"]


class RecordingRelay:
    """An HTTP relay on loopback in front of a real client: what it forwards is logged, as a double logs."""

    def __init__(self, upstream_port):
        self.log = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # pylint: disable=redefined-builtin
                pass

            def _relay(self):
                relay.log.append((self.command, self.path.split("?", 1)[0]))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = dict((k, v) for k, v in self.headers.items()
                               if k.lower() not in ("connection", "keep-alive", "transfer-encoding"))
                conn = http.client.HTTPConnection(LOOPBACK, upstream_port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    self.send_response(resp.status, resp.reason)
                    for key, value in resp.getheaders():
                        if key.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _relay

        self.httpd = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def writes(self):
        return [entry for entry in self.log if entry[0] in WRITE_METHODS]

    def reset_log(self):
        del self.log[:]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ClusterStack:
    """What stands in for each app of ``namespace``, started as the apps phase brings the app up."""

    def __init__(self, controlplane, namespace, workdir, externals=None, interval=1.0, plex_tv=None, plex_tv_url=None):
        from kubernetes import client, config

        self.state = controlplane
        self.namespace = namespace
        self.workdir = str(workdir)
        self.externals = dict(externals or {})     # name -> client object to start with its Secret's credentials
        self.plex_tv, self.plex_tv_url = plex_tv, plex_tv_url     # a PlexTvDouble and where it serves: plex.tv
        self.interval = interval
        self.api = config.new_client_from_config(config_file=controlplane["kubeconfig"],
                                                 context=controlplane["context"])
        self.core, self.apps_api, self.batch = client.CoreV1Api(self.api), client.AppsV1Api(self.api), client.BatchV1Api(self.api)
        self.apps = {}          # name -> {"kind", "app", "server", "port", "destination", "recorder"}
        self.errors = []
        self.events = []        # (seconds since start, what)
        self.layouts = set()
        self._stop = threading.Event()
        self._thread = None
        self._t0 = time.monotonic()

    # -- the watcher ---------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self._watch, name="cluster-stack", daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # pylint: disable=broad-except
                self.errors.append(repr(exc))
            self._stop.wait(self.interval)

    def _event(self, text):
        self.events.append((round(time.monotonic() - self._t0, 1), text))

    def _secrets(self):
        out = {}
        for secret in self.core.list_namespaced_secret(self.namespace).items:
            name = secret.metadata.name
            if name.endswith("-credentials"):
                out[name[:-len("-credentials")]] = dict((k, base64.b64decode(v).decode())
                                                        for k, v in (secret.data or {}).items())
        return out

    def poll(self):
        """One look at the namespace: start and route what came up since the last one."""
        try:
            self.core.read_namespace(self.namespace)
        except Exception:  # pylint: disable=broad-except
            return
        self._layout()
        secrets = self._secrets()
        for name, entry in list(self.externals.items()):
            if name in secrets and name not in self.apps:
                entry.username, entry.password = secrets[name]["username"], secrets[name]["password"]
                entry.start()
                self.apps[name] = {"kind": entry.name, "app": entry, "server": None, "port": entry.port,
                                   "destination": None, "recorder": None}
                self._event("%s (external) started with the credentials of its Secret" % name)
        pods = self.core.list_namespaced_pod(self.namespace, label_selector="app.kubernetes.io/part-of=arrkestra").items
        for pod in pods:
            labels = pod.metadata.labels or {}
            name, kind = labels.get("app.kubernetes.io/instance"), labels.get("app.kubernetes.io/name")
            if not name or not kind or pod.metadata.deletion_timestamp or not pod.status.pod_ip:
                continue
            if not any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or ()):
                continue
            port = None
            for container in pod.spec.containers:
                for cport in container.ports or ():
                    if container.name == kind and cport.name == "http":
                        port = cport.container_port
            if port is None:
                continue            # no web UI (a CronJob's pod)
            if name not in self.apps:
                creds = secrets.get(name)
                if creds is None and kind != "flaresolverr":
                    continue        # its Secret first, as the pod's env needs it
                self._start(name, kind, creds or {})
            destination = "%s:%d" % (pod.status.pod_ip, port)
            entry = self.apps[name]
            if entry["destination"] != destination:
                if entry["destination"]:
                    cluster.unroute(self.state, [entry["destination"]])
                cluster.route(self.state, destination, "%s:%d" % (LOOPBACK, entry["port"]))
                for host in self._names(name):
                    _net.add(host, port, entry["port"])
                entry["destination"], entry["cluster_port"] = destination, port
                self._event("%s: pod %s routed to 127.0.0.1:%d" % (name, destination, entry["port"]))

    def _names(self, name):
        """The names other apps reach the instance by in the cluster."""
        return ("%s.%s.svc.%s" % (name, self.namespace, CLUSTER_DOMAIN), "%s.%s.svc" % (name, self.namespace),
                "%s.%s" % (name, self.namespace), name)

    def _start(self, name, kind, creds):
        if kind == "qbittorrent":
            workdir = os.path.join(self.workdir, name)
            os.makedirs(workdir, exist_ok=True)
            client = SeededQBittorrent(workdir, creds["username"], creds["password_pbkdf2"]).start()
            relay = RecordingRelay(client.port)
            self.apps[name] = {"kind": kind, "app": client, "server": None, "port": relay.port, "destination": None,
                               "recorder": relay}
        else:
            double = _double(kind, creds, self.plex_tv, self.plex_tv_url)
            server = double.serve()
            self.apps[name] = {"kind": kind, "app": double, "server": server, "port": server.port,
                               "destination": None, "recorder": double}
        self._event("%s (%s) started" % (name, kind))

    def _layout(self):
        """Make the folders of the data layout Job (its ``mkdir -p``), as the Job's pod would."""
        for job in self.batch.list_namespaced_job(self.namespace).items:
            if job.metadata.name in self.layouts or not job.metadata.name.startswith("arrkestra-data-layout-"):
                continue
            container = job.spec.template.spec.containers[0]
            if container.command[-1] == "arrkestra-data-layout":      # sh -c 'mkdir -p "$@" ...' $0 folders...
                for folder in container.args:
                    if not folder.startswith(self.workdir) and not folder.startswith("/tmp/"):
                        raise AssertionError("data layout outside the test's directory: %s" % folder)
                subprocess.run(["mkdir", "-p"] + container.args, check=True)
            self.layouts.add(job.metadata.name)
            self._event("data layout %s made" % job.metadata.name)

    # -- what tests read -------------------------------------------------------------
    def writes(self):
        """{app: [(method, path), ...]} of every write request each app saw since :meth:`reset`."""
        out = {}
        for name, entry in self.apps.items():
            if entry["recorder"] is not None and entry["recorder"].writes():
                out[name] = entry["recorder"].writes()
        return out

    def requests(self):
        return dict((name, len(e["recorder"].log)) for name, e in self.apps.items() if e["recorder"] is not None)

    def reset(self):
        for entry in self.apps.values():
            if entry["recorder"] is not None:
                entry["recorder"].reset_log()

    def violations(self):
        return dict((name, e["app"].violations) for name, e in self.apps.items()
                    if getattr(e["app"], "violations", None))

    def close(self):
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        for name, entry in self.apps.items():
            if entry["destination"]:
                cluster.unroute(self.state, [entry["destination"]])
            port = entry.get("cluster_port")
            if port:
                for host in self._names(name):
                    _net.remove(host, port)
            if entry["server"] is not None:
                entry["server"].stop()
            if entry["kind"] == "qbittorrent":
                entry["recorder"].stop()
            if hasattr(entry["app"], "proc"):
                entry["app"].stop()
