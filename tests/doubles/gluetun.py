"""A stand-in of gluetun v3.40.0's port forwarding, as the rest of the pod sees it: the status file and the control
server's ``GET /v1/openvpn/portforwarded`` (docs/research/port-forwarding.md, sections 1.3, 1.5 and 4.1).

Every behaviour cites qdm12/gluetun at tag v3.40.0 (``e890c50d``), ``path:line``. What it leaves out: the tunnel,
the firewall and the provider's API (the test drives the states a provider would cause: :meth:`Gluetun.forward`
for "the provider gave these ports", :meth:`Gluetun.teardown` for a VPN restart, a failed keep-alive or a settings
change), and every control server route but the forwarded-port one (the others answer 501, so that a test that
needs them fails instead of passing on a guess).

    gluetun = Gluetun.from_env(env, root)        # env: the rendered container's; root: a folder standing for its "/"
    with gluetun.control_server() as server:     # listens where HTTP_CONTROL_SERVER_ADDRESS says (port 0: a free one)
        gluetun.forward([41234])                 # writes the status file, then answers the port
        gluetun.teardown()                       # forgets the port, deletes the file
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from base64 import b64decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

#: internal/configuration/settings/portforward.go:117 - the status file when VPN_PORT_FORWARDING_STATUS_FILE is unset.
DEFAULT_STATUS_FILE = "/tmp/gluetun/forwarded_port"
#: internal/configuration/settings/server.go:67-68 - the control server on every interface by default.
DEFAULT_CONTROL_ADDRESS = ":8000"
#: internal/configuration/settings/system.go:35-38 - PUID/PGID default to 1000.
DEFAULT_ID = 1000
#: gosettings' boolean words (settings read with r.BoolPtr, portforward.go:169-173).
_TRUE = ("yes", "on", "true", "enabled", "1")
_FALSE = ("no", "off", "false", "disabled", "0")

#: middlewares/auth/settings.go:113-131 - the 17 routes a role may name.
VALID_ROUTES = (
    "GET /openvpn/actions/restart", "GET /unbound/actions/restart", "GET /updater/restart", "GET /v1/version",
    "GET /v1/vpn/status", "PUT /v1/vpn/status", "GET /v1/vpn/settings", "PUT /v1/vpn/settings",
    "GET /v1/openvpn/status", "PUT /v1/openvpn/status", "GET /v1/openvpn/portforwarded", "GET /v1/openvpn/settings",
    "GET /v1/dns/status", "PUT /v1/dns/status", "GET /v1/updater/status", "PUT /v1/updater/status",
    "GET /v1/publicip/ip",
)
#: middlewares/auth/settings.go:18-39 - the role used when the auth file gives none: "public", no auth, 14 routes.
PUBLIC_ROLE = {"name": "public", "auth": "none", "routes": [
    "GET /openvpn/actions/restart", "GET /unbound/actions/restart", "GET /updater/restart", "GET /v1/version",
    "GET /v1/vpn/status", "PUT /v1/vpn/status", "GET /v1/openvpn/status", "PUT /v1/openvpn/status",
    "GET /v1/openvpn/portforwarded", "GET /v1/dns/status", "PUT /v1/dns/status", "GET /v1/updater/status",
    "PUT /v1/updater/status", "GET /v1/publicip/ip"]}
#: The fields of a ``[[roles]]`` table (settings.go:61-76); the TOML decoder refuses any other (configfile.go:21-34).
ROLE_FIELDS = ("name", "auth", "apikey", "username", "password", "routes")


def _bool(value, name):
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("%s: %r is not a boolean" % (name, value))


class Gluetun:
    """The port forwarding service (internal/portforward/service) and its control server, for one pod."""

    def __init__(self, enabled, status_file, control_address=DEFAULT_CONTROL_ADDRESS, roles=None, puid=DEFAULT_ID,
                 pgid=DEFAULT_ID):
        self.enabled = enabled
        self.status_file = status_file
        self.control_address = control_address
        self.puid, self.pgid = puid, pgid
        self.roles = _check_roles(roles)
        self._ports = []
        self._lock = threading.Lock()
        # cmd/gluetun/main.go:287-291: /tmp/gluetun is made at start (in the pod it is the shared volume already).
        if status_file:
            os.makedirs(os.path.dirname(status_file), exist_ok=True)

    @classmethod
    def from_env(cls, env, root, roles=None, ids=None):
        """From the container's ``env`` (name -> value); ``root`` is the folder standing for the container's "/", so
        the status file lands where the container's volume mounts put it. ``ids``: (PUID, PGID) when the test cannot
        chown to gluetun's (it runs as root in the pod)."""
        enabled = _bool(env.get("VPN_PORT_FORWARDING", "off"), "VPN_PORT_FORWARDING")   # portforward.go:115, 169
        path = env.get("VPN_PORT_FORWARDING_STATUS_FILE") or DEFAULT_STATUS_FILE      # portforward.go:117, 180-185
        if not os.path.isabs(path):
            raise ValueError("VPN_PORT_FORWARDING_STATUS_FILE %r is not an absolute path" % path)  # portforward.go:70-76
        puid, pgid = ids or (int(env.get("PUID", DEFAULT_ID)), int(env.get("PGID", DEFAULT_ID)))
        return cls(enabled, os.path.join(str(root), path.lstrip("/")),
                   env.get("HTTP_CONTROL_SERVER_ADDRESS") or DEFAULT_CONTROL_ADDRESS, roles, puid, pgid)

    # -- the port forwarding service ---------------------------------------------------------------------------------
    def forward(self, ports):
        """The provider gave ``ports`` once the tunnel is up (service/start.go:45-82): the firewall accepts them on the
        tunnel's interface (not modelled), the status file is written, then the ports are published."""
        if not self.enabled:
            raise RuntimeError("VPN_PORT_FORWARDING is off: gluetun forwards no port (portforward.go:50-53)")
        ports = [int(p) for p in ports]
        self._write(ports)                              # start.go:66-70
        with self._lock:
            self._ports = ports                         # start.go:72-74

    def teardown(self):
        """VPN down, keep-alive failed or settings changed (service/stop.go:10-71): the ports are forgotten, then the
        status file is deleted."""
        with self._lock:
            self._ports = []                            # stop.go:61
        if self.status_file:
            os.remove(self.status_file)                 # stop.go:63-68 (an error when there is none)

    @property
    def ports(self):
        """What GetPortsForwarded returns (the control server's answer)."""
        with self._lock:
            return list(self._ports)

    def _write(self, ports):
        """service/fs.go:9-29: the ports in decimal, one a line, no final newline; os.WriteFile (open with O_TRUNC,
        then write: a reader may see the file empty in between), mode 0644 when created, then chowned to PUID:PGID."""
        if not self.status_file:
            return
        data = "\n".join(str(int(p)) for p in ports).encode()
        fd = os.open(self.status_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chown(self.status_file, self.puid, self.pgid)

    # -- the control server ------------------------------------------------------------------------------------------
    def control_server(self, port=None):
        """The control server on HTTP_CONTROL_SERVER_ADDRESS's host (an empty host: every interface, as Go listens),
        on its port or on ``port`` (0: a free one), in a thread."""
        host, dummy, given = self.control_address.rpartition(":")
        return ControlServer(self, host.strip("[]") or "0.0.0.0", int(given if port is None else port))

    def answer(self, method, target, headers):
        """(status, headers, body) of gluetun's control server for one request (raw request target: path and query)."""
        path = urlsplit(target).path
        refused = self._authorise(method, path, target, headers)
        if refused:
            return refused
        return self._dispatch(method, target)

    def _authorise(self, method, path, target, headers):
        """middlewares/auth/middleware.go:52-88: the route is the method and the URL's path (no query); no role for it
        is 401; roles are tried in turn, the first that authorises wins; a refusal carries the headers the roles set."""
        route = "%s %s" % (method, path)
        roles = [r for r in self.roles if route in r["routes"]]
        if not roles:
            return _error(401, "Unauthorized")                              # middleware.go:55-58
        extra = {}
        for role in roles:
            if _authorised(role, target, headers, extra):
                return None
        return _error(401, "Unauthorized", extra)                           # middleware.go:74-87

    def _dispatch(self, method, target):
        """server/handler.go:57-64, handlerv1.go:36-53, openvpn.go:31-60, handlerv0.go:30-68: dispatch on the raw
        request URI (the query included), a final "/" trimmed."""
        uri = target[:-1] if target.endswith("/") else target
        if not uri.startswith("/v1/") and uri != "/v1":
            if method != "GET":
                return _error(400, "unversioned API: only supports GET method")        # handlerv0.go:31-34
            if uri == "/openvpn/portforwarded":                                        # handlerv0.go:54-55
                return 308, {"Location": "/v1/openvpn/portforwarded", "Content-Type": "text/html; charset=utf-8"}, (
                    b'<a href="/v1/openvpn/portforwarded">Permanent Redirect</a>.\n\n')     # Go's http.Redirect
            if uri in ("/version", "/openvpn/actions/restart", "/unbound/actions/restart", "/openvpn/settings",
                       "/updater/restart"):
                return _not_in_stand_in(uri)
            return _error(400, "unversioned API: requested URI not found")             # handlerv0.go:66-67
        uri = uri[len("/v1"):]
        if uri.startswith("/openvpn"):
            sub = uri[len("/openvpn"):]                                                # openvpn.go:32
            if sub == "/portforwarded":
                if method != "GET":
                    return _error(400, "method %s not supported" % method)             # openvpn.go:51-56
                return self._port_forwarded()
            if sub in ("/status", "/settings"):
                return _not_in_stand_in(uri)
            return _error(400, "route %s not supported" % sub)                         # openvpn.go:57-58
        if (uri == "/version" and method == "GET") or uri.startswith(("/vpn", "/dns", "/updater", "/publicip")):
            return _not_in_stand_in(uri)
        return _error(400, "%s %s not found" % (method, uri))                          # handlerv1.go:50-52

    def _port_forwarded(self):
        """openvpn.go:126-144 with wrappers.go:28-34: {"port":0}, {"port":N} or {"ports":[...]} from Go's JSON encoder
        (a newline after it); no Content-Type is set, so Go's server sniffs text/plain."""
        ports = self.ports
        data = {"port": ports[0] if ports else 0} if len(ports) <= 1 else {"ports": ports}
        return 200, {"Content-Type": "text/plain; charset=utf-8"}, (json.dumps(data, separators=(",", ":")) + "\n").encode()


def _check_roles(roles):
    """The auth file's roles checked as gluetun does at start (settings.go:41-51, 86-110; configfile.go:21-34), or
    the public default when there is none (settings.go:18-39: an empty list is the default too)."""
    if not roles:
        return [PUBLIC_ROLE]
    for index, role in enumerate(roles):
        unknown = set(role) - set(ROLE_FIELDS)
        if unknown:
            raise ValueError("toml decoding file: unknown field(s) %s" % ", ".join(sorted(unknown)))
        auth = role.get("auth", "")
        if auth not in ("none", "apikey", "basic"):
            raise ValueError("role %s (%d): authentication method not supported: %s" % (role.get("name"), index + 1, auth))
        if auth == "apikey" and not role.get("apikey"):
            raise ValueError("role %s: api key is empty" % role.get("name"))
        if auth == "basic" and not (role.get("username") and role.get("password")):
            raise ValueError("role %s: username or password is empty" % role.get("name"))
        for route in role.get("routes", []):
            if route not in VALID_ROUTES:
                raise ValueError("role %s: route not supported by the control server: %s" % (role.get("name"), route))
    return [dict(r, routes=list(r.get("routes", []))) for r in roles]


def _authorised(role, target, headers, extra):
    """none.go:18-20, apikey.go:29-35 (the X-API-Key header, else the api_key query; SHA-256 digests compared in
    constant time), basic.go:29-37 (SHA-256 of username + password; no credentials: WWW-Authenticate is set)."""
    if role["auth"] == "none":
        return True
    if role["auth"] == "apikey":
        key = headers.get("X-API-Key") or parse_qs(urlsplit(target).query).get("api_key", [""])[0]
        return hmac.compare_digest(hashlib.sha256(key.encode()).digest(),
                                   hashlib.sha256(role["apikey"].encode()).digest())
    header = headers.get("Authorization") or ""
    scheme, dummy, encoded = header.partition(" ")
    try:
        username, sep, password = b64decode(encoded).decode().partition(":") if scheme.lower() == "basic" else ("", "", "")
    except ValueError:
        sep = ""
    if not sep:
        extra["WWW-Authenticate"] = 'Basic realm="restricted", charset="UTF-8"'
        return False
    return hmac.compare_digest(hashlib.sha256((username + password).encode()).digest(),
                               hashlib.sha256((role["username"] + role["password"]).encode()).digest())


def _error(status, message, headers=None):
    """Go's http.Error: text/plain, nosniff, the message and a newline."""
    out = {"Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff"}
    out.update(headers or {})
    return status, out, (message + "\n").encode()


def _not_in_stand_in(uri):
    return 501, {"Content-Type": "text/plain; charset=utf-8"}, ("%s: not in the gluetun stand-in\n" % uri).encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = ""
    sys_version = ""

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        status, headers, body = self.server.gluetun.answer(self.command, self.path, self.headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _serve

    def log_message(self, *args):     # quiet
        pass


class ControlServer:
    """The control server in a thread: ``url``, ``host``, ``port``; a context manager."""

    def __init__(self, gluetun, host, port):
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.gluetun = gluetun
        self.host, self.port = self.httpd.server_address[:2]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="gluetun-control", daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
