"""Test double of tinyauth v5.0.7: the sign-in and the forward-auth endpoint Traefik asks for each request.

What it does is what steveiliop56/tinyauth v5.0.7 does (docs/research/sso.md section 1; each handler cites the
upstream lines): local users ``name:bcrypt-hash[:totp]`` (``TINYAUTH_AUTH_USERS`` / ``TINYAUTH_AUTH_USERSFILE``,
read once, at start); ``POST /api/user/login`` ``{"username", "password"}`` sets the session cookie
``tinyauth-session-<id>`` on ``.<cookie domain>`` (the app URL's host without its first label);
``/api/auth/traefik`` (any method) reads ``X-Forwarded-Proto/Host/Uri`` and answers 200 with ``Remote-User``,
``Remote-Name``, ``Remote-Email`` for a valid session (or HTTP Basic credentials), else a 307 to
``<app URL>/login?redirect_uri=...`` for a browser ``User-Agent`` and a 401 with ``x-tinyauth-location`` for
other clients; ``POST /api/user/logout``; ``GET /api/context/user``; ``GET``/``HEAD /api/healthz`` without auth.
Every other path outside ``/api`` is the single-page UI (a small HTML page here). TOTP, OAuth, LDAP, ACLs and
the public-suffix check of the cookie domain are left out.

Passwords are checked with the ``bcrypt`` module (tinyauth accepts bcrypt hashes only); without it the double
refuses to be built.

    python -m tests.doubles.tinyauth --port 3000 --app-url http://sso.media.example.com --user 'admin:$2b$10$...'
"""

from __future__ import annotations

import base64
import ipaddress
import os
import sys
import threading
import time
import uuid
from urllib.parse import urlencode, urlsplit

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply, run_cli  # noqa: E402 pylint: disable=wrong-import-position

VERSION = "v5.0.7"
#: internal/config/config.go:16-24 - the defaults the double takes too.
DEFAULT_PORT, SESSION_EXPIRY, LOGIN_TIMEOUT, LOGIN_MAX_RETRIES = 3000, 86400, 300, 3
#: internal/controller/proxy_controller.go:37: what tinyauth takes for a browser (it then redirects instead of a 401).
BROWSER_AGENTS = ("Chrome", "Gecko", "AppleWebKit", "Opera", "Edge")
HEALTHY = {"status": 200, "message": "Healthy"}          # internal/controller/health_controller.go:20-25


class TinyauthStartError(ValueError):
    """tinyauth would stop at start with this configuration."""


def _bcrypt():
    try:
        import bcrypt
    except ImportError:
        raise TinyauthStartError("the tinyauth double checks bcrypt hashes with the bcrypt module, which is not "
                                 "installed: pip install bcrypt==4.3.0 (requirements-dev.txt)")
    return bcrypt


def cookie_domain(app_url):
    """The domain tinyauth sets its cookies on (internal/utils/app_utils.go:17-50): an IP is refused, a two-label host
    is taken whole, a longer one loses its first label, a single label is refused. (The public-suffix check of
    app_utils.go:43-47 is not reproduced.)"""
    host = urlsplit(app_url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise TinyauthStartError("IP addresses not allowed")
    parts = host.split(".")
    if len(parts) == 2:
        return host
    if len(parts) < 3:
        raise TinyauthStartError("invalid app url, must be at least second level domain")
    return ".".join(parts[1:])


def session_cookie_name(app_url):
    """``tinyauth-session-<first group of the SHA-1 name UUID of the app URL's hostname>`` (internal/config/config.go:73;
    internal/bootstrap/app_bootstrap.go:117-120; internal/utils/security_utils.go:105-108: uuid.NewSHA1 in the URL
    namespace, which is Python's uuid5)."""
    host = urlsplit(app_url).hostname or ""
    return "tinyauth-session-" + str(uuid.uuid5(uuid.NAMESPACE_URL, host)).split("-", maxsplit=1)[0]


def parse_users(entries):
    """``{name: (hash, totp secret or "")}`` from ``user:hash[:totp]`` strings, as internal/utils/user_utils.go:12-94
    parses them: blank entries skipped, ``$$`` read as ``$``, two or three non-blank parts, else an error."""
    users = {}
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        entry = entry.replace("$$", "$")
        parts = entry.split(":", 3)
        if len(parts) < 2 or len(parts) > 3 or any(not p.strip() for p in parts):
            raise TinyauthStartError("invalid user format")
        parts = [p.strip() for p in parts]
        users.setdefault(parts[0], (parts[1], parts[2] if len(parts) == 3 else ""))
    return users


def users_from(users=None, users_file=None):
    """The users of ``TINYAUTH_AUTH_USERS`` (a comma-separated string, a list, or ``{name: hash}``) followed by those
    of the users file's content (one per line) - internal/utils/user_utils.go:33-63."""
    entries = []
    if isinstance(users, dict):
        entries += ["%s:%s" % (name, digest) for name, digest in users.items()]
    elif isinstance(users, str):
        entries += users.split(",")
    elif users:
        entries += list(users)
    if users_file:
        entries += users_file.split("\n")
    return parse_users(entries)


class TinyauthDouble(DoubleApp):
    name = "tinyauth"
    version = None   # tinyauth sends no version header

    def __init__(self, app_url, users=None, users_file=None, secure_cookie=False, session_expiry=SESSION_EXPIRY,
                 login_max_retries=LOGIN_MAX_RETRIES, login_timeout=LOGIN_TIMEOUT):
        super().__init__()
        self.bcrypt = _bcrypt()
        # internal/bootstrap/app_bootstrap.go:50-60: an app URL is required; scheme://host is what cookies use, while
        # the raw value is what redirects are built from (router_bootstrap.go:94-96, proxy_controller.go:288).
        if not app_url:
            raise TinyauthStartError("app URL cannot be empty, perhaps config loading failed")
        self.app_url = app_url
        self.cookie_domain = cookie_domain(app_url)
        self.cookie_name = session_cookie_name(app_url)
        # app_bootstrap.go:67-74 reads the users once; 168-188: no user (and no OAuth/LDAP) stops the start.
        self.users = users_from(users, users_file)
        if not self.users:
            raise TinyauthStartError("no authentication providers configured")
        self.secure_cookie = bool(secure_cookie)
        self.session_expiry = int(session_expiry)
        self.login_max_retries, self.login_timeout = int(login_max_retries), int(login_timeout)
        self.sessions = {}           # session id -> {"username", "name", "email", "expiry"}
        self.attempts = {}           # username -> [failures, locked until]
        self._sessions_lock = threading.Lock()
        self.add_route("GET", "/api/healthz", self.healthz, public=True, documented=False)
        self.add_route("HEAD", "/api/healthz", self.healthz, public=True, documented=False)
        self.add_route("POST", "/api/user/login", self.login, documented=False)
        self.add_route("POST", "/api/user/logout", self.logout, documented=False)
        self.add_route("GET", "/api/context/user", self.user_context, documented=False)
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):   # proxy_controller.go:73-76: Any
            self.add_route(method, "/api/auth/{proxy}", self.forward_auth, documented=False)

    # -- helpers -------------------------------------------------------------------------------------------------
    def check_password(self, username, password):
        """auth_service.go:223-225: bcrypt.CompareHashAndPassword; anything that is not a bcrypt hash never matches."""
        digest = self.users.get(username, ("", ""))[0]
        try:
            return bool(digest) and self.bcrypt.checkpw(password.encode("utf-8"), digest.encode("utf-8"))
        except ValueError:
            return False

    def _locked(self, username):
        """auth_service.go:227-251: locked while ``LockedUntil`` is in the future (lockout off when a limit is 0)."""
        if self.login_max_retries <= 0 or self.login_timeout <= 0:
            return 0
        until = self.attempts.get(username, [0, 0.0])[1]
        return max(0, int(until - time.time())) if until > time.time() else 0

    def _record(self, username, success):
        """auth_service.go:253-289: a success resets the count, the n-th failure locks for the login timeout."""
        if self.login_max_retries <= 0 or self.login_timeout <= 0:
            return
        entry = self.attempts.setdefault(username, [0, 0.0])
        if success:
            entry[:] = [0, 0.0]
            return
        entry[0] += 1
        if entry[0] >= self.login_max_retries:
            entry[1] = time.time() + self.login_timeout

    def _set_cookie(self, value, max_age):
        """auth_service.go:330, 400: Path=/, Domain=.<cookie domain>, HttpOnly, Secure when configured."""
        parts = ["%s=%s" % (self.cookie_name, value), "Path=/", "Domain=.%s" % self.cookie_domain,
                 "Max-Age=%d" % max_age]
        if self.secure_cookie:
            parts.append("Secure")
        parts.append("HttpOnly")
        return "; ".join(parts)

    def _session_id(self, request):
        # The first cookie of that name, as Go's Request.Cookie finds it (split on ";", not a strict cookie parser:
        # the apps' own cookies in the same header must not hide it).
        for header in request.headers.get_all("Cookie") or ():
            for pair in header.split(";"):
                name, sep, value = pair.strip().partition("=")
                if sep and name == self.cookie_name:
                    return value.strip('"')
        return None

    def context(self, request):
        """Who the request is (internal/middleware/context_middleware.go:57-241): the session of the cookie - known,
        not expired (auth_service.go:405-452; an expired one is deleted), its user still configured (else deleted,
        88-92) - or else HTTP Basic credentials of a local user without TOTP (157-213). None: not signed in."""
        sid = self._session_id(request)
        with self._sessions_lock:
            session = self.sessions.get(sid) if sid else None
            if session is not None and (time.time() > session["expiry"] or session["username"] not in self.users):
                del self.sessions[sid]
                session = None
        if session is not None:
            return dict(session)
        auth = request.headers.get("Authorization") or ""
        if not auth.startswith("Basic "):
            return None
        try:
            username, dummy, password = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        if self._locked(username) or username not in self.users:
            return None
        ok = self.check_password(username, password)
        self._record(username, ok)
        if not ok or self.users[username][1]:
            return None
        return self._identity(username)

    def _identity(self, username):
        """Name = the user name with its first letter upper-cased, e-mail = <user, lower-cased>@<cookie domain> unless
        the user name is an address (user_controller.go:140-145; internal/utils/string_utils.go:7-12;
        user_utils.go:96-104 - mail.ParseAddress there, a plain "@" test here)."""
        email = username if "@" in username else "%s@%s" % (username.lower(), self.cookie_domain)
        return {"username": username, "name": username[:1].upper() + username[1:], "email": email}

    # -- handlers ------------------------------------------------------------------------------------------------
    def healthz(self, request):
        return Reply(200, dict(HEALTHY))

    def login(self, request):
        """internal/controller/user_controller.go:50-168."""
        try:
            body = request.json
        except Exception:  # pylint: disable=broad-except
            body = None
        if not isinstance(body, dict) or not all(isinstance(body.get(k, ""), str) for k in ("username", "password")):
            return Reply(400, {"status": 400, "message": "Bad Request"})                          # :53-61
        username, password = body.get("username", ""), body.get("password", "")
        remaining = self._locked(username)
        if remaining:                                                                                 # :65-77
            reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + remaining))
            return Reply(429, {"status": 429, "message": "Too many failed login attempts. Try again in %d seconds"
                               % remaining}, {"x-tinyauth-lock-locked": "true", "x-tinyauth-lock-reset": reset})
        if username not in self.users or not self.check_password(username, password):                 # :79-101
            self._record(username, False)
            return Reply(401, {"status": 401, "message": "Unauthorized"})
        self._record(username, True)
        if self.users[username][1]:                                                                   # :108-137
            return Reply(200, {"status": 200, "message": "TOTP required", "totpPending": True})
        sid = str(uuid.uuid4())                                                                       # auth_service.go:295-333
        with self._sessions_lock:
            self.sessions[sid] = dict(self._identity(username), expiry=time.time() + self.session_expiry)
        return Reply(200, {"status": 200, "message": "Login successful"},
                     {"Set-Cookie": self._set_cookie(sid, self.session_expiry)})

    def logout(self, request):
        """user_controller.go:170-184, auth_service.go:387-403: the session is deleted and the cookie expired (when
        there was one); the answer is always 200."""
        headers = {}
        sid = self._session_id(request)
        if sid is not None:
            with self._sessions_lock:
                self.sessions.pop(sid, None)
            headers["Set-Cookie"] = self._set_cookie("", -1)
        return Reply(200, {"status": 200, "message": "Logout successful"}, headers)

    def user_context(self, request):
        """internal/controller/context_controller.go:78-104: HTTP 200 either way, ``status`` 401 inside when nobody."""
        who = self.context(request)
        body = {"status": 200, "message": "Success", "isLoggedIn": who is not None, "username": "", "name": "",
                "email": "", "provider": "", "oauth": False, "totpPending": False, "oauthName": ""}
        if who is None:
            body.update(status=401, message="Unauthorized")
        else:
            body.update(username=who["username"], name=who["name"], email=who["email"], provider="local")
        return Reply(200, body)

    def forward_auth(self, request):
        """internal/controller/proxy_controller.go:78-300 for a Traefik-style request (no ACLs configured)."""
        proxy = request.params["proxy"]
        if proxy not in ("traefik", "caddy", "envoy", "nginx"):                                          # :355-368
            return Reply(400, {"status": 400, "message": "Bad request"})
        # :372-402: the forward-auth module needs these three headers, non-blank (else 400, :80-89).
        host, uri, proto = (request.headers.get(h, "").strip() for h in
                            ("X-Forwarded-Host", "X-Forwarded-Uri", "X-Forwarded-Proto"))
        if not (host and uri and proto):
            return Reply(400, {"status": 400, "message": "Bad request"})
        agent = request.headers.get("User-Agent") or ""
        browser = proxy != "nginx" and any(word in agent for word in BROWSER_AGENTS)                   # :340-353, 546-556
        who = self.context(request)
        if who is not None:
            # :257-275: the user headers (an empty value - Remote-Sub of a local user, an absent Authorization - is
            # not sent: gin's Context.Header deletes the header for an empty value), the request's Authorization
            # echoed (:302-303).
            headers = {"Remote-User": who["username"], "Remote-Name": who["name"], "Remote-Email": who["email"]}
            if request.headers.get("Authorization"):
                headers["Authorization"] = request.headers["Authorization"]
            return Reply(200, {"status": 200, "message": "Authenticated"}, headers)
        # :278-299: to the login page with where the user was going.
        location = "%s/login?%s" % (self.app_url, urlencode({"redirect_uri": "%s://%s%s" % (proto, host, uri)}))
        if not browser:
            return Reply(401, {"status": 401, "message": "Unauthorized"}, {"x-tinyauth-location": location})
        return Reply(307, '<a href="%s">Temporary Redirect</a>.\n' % location.replace("&", "&amp;"),
                     {"Location": location}, content_type="text/html; charset=utf-8")

    def not_found(self, request):
        """internal/middleware/ui_middleware.go:39-72: outside /api, /resources and /.well-known every path is the UI."""
        first = request.path.lstrip("/").split("/", 1)[0]
        if first in ("api", "resources", ".well-known"):
            return Reply(404, "404 page not found", content_type="text/plain")
        if first == "robots.txt":
            return Reply(200, "User-agent: *\nDisallow: /\n", content_type="text/plain")
        return Reply(200, "<!doctype html><title>Tinyauth</title><div id=\"root\">tinyauth double</div>\n",
                     {"Cache-Control": "public, max-age=900"}, content_type="text/html; charset=utf-8")


def from_env(env):
    """``(double, port)`` from the environment variables the image reads (.env.example; internal/config/config.go):
    TINYAUTH_APPURL, TINYAUTH_AUTH_USERS / TINYAUTH_AUTH_USERSFILE, TINYAUTH_AUTH_SECURECOOKIE,
    TINYAUTH_AUTH_SESSIONEXPIRY, TINYAUTH_AUTH_LOGINMAXRETRIES, TINYAUTH_AUTH_LOGINTIMEOUT, TINYAUTH_SERVER_PORT."""
    users_file = None
    path = env.get("TINYAUTH_AUTH_USERSFILE")
    if path:
        with open(path, encoding="utf-8") as handle:       # internal/utils/fs_utils.go:5-17: a missing file stops it
            users_file = handle.read()

    def flag(name):
        return str(env.get(name, "")).strip().lower() in ("1", "true", "t", "yes")

    app = TinyauthDouble(env.get("TINYAUTH_APPURL", ""), users=env.get("TINYAUTH_AUTH_USERS") or None,
                         users_file=users_file, secure_cookie=flag("TINYAUTH_AUTH_SECURECOOKIE"),
                         session_expiry=int(env.get("TINYAUTH_AUTH_SESSIONEXPIRY") or SESSION_EXPIRY),
                         login_max_retries=int(env.get("TINYAUTH_AUTH_LOGINMAXRETRIES") or LOGIN_MAX_RETRIES),
                         login_timeout=int(env.get("TINYAUTH_AUTH_LOGINTIMEOUT") or LOGIN_TIMEOUT))
    return app, int(env.get("TINYAUTH_SERVER_PORT") or DEFAULT_PORT)


def _arguments(parser):
    parser.add_argument("--app-url", required=True, help="TINYAUTH_APPURL")
    parser.add_argument("--user", action="append", default=[], help="user:bcrypt-hash (repeatable)")
    parser.add_argument("--users-file", help="TINYAUTH_AUTH_USERSFILE")
    parser.add_argument("--secure-cookie", action="store_true")


def _factory(args):
    content = None
    if args.users_file:
        with open(args.users_file, encoding="utf-8") as handle:
            content = handle.read()
    return TinyauthDouble(args.app_url, users=args.user, users_file=content, secure_cookie=args.secure_cookie)


if __name__ == "__main__":
    sys.exit(run_cli(_factory, description=__doc__.splitlines()[0], add_arguments=_arguments))
