"""Test double of Seerr 3.1 (successor of Jellyseerr/Overseerr): setup with Jellyfin or Plex, Radarr/Sonarr services.

Reproduces what ``api-behaviour.md`` says and the modules rely on: API routes
under ``/api/v1``; ``X-Api-Key`` or the session cookie ``connect.sid``
(``403`` otherwise); ``POST /auth/jellyfin`` really signs in to the Jellyfin it
names (loopback only) and, before setup, configures that server - once it
is configured, sending a hostname again fails ("hostname already
configured"); ``GET /settings/jellyfin`` reads the settings and libraries;
``GET /settings/jellyfin/library`` saves on every call as Seerr does:
``?sync=true`` re-reads Jellyfin's libraries, and every library not named in
``?enable=<ids>`` is disabled - a GET that changes state, counted in
``writes()``;
``POST /settings/initialize``; services whose POST always appends (no
de-duplication) with ids from **0**; ``POST /settings/<kind>/test`` really
asks the Radarr/Sonarr it names (loopback only) for its quality profiles and
root folders. Every request and answer of a documented route is checked
against Seerr's OpenAPI document.

With Plex (Seerr 3.1.0 source, cited at each handler): ``POST /auth/plex``
asks plex.tv for the account of ``authToken`` (``GET /users/account.json``;
the real Seerr calls https://plex.tv, the double the ``plex_tv_url`` it is
given, a PlexTvDouble) and, on an empty database, makes that account the
admin and Plex the media server; it refuses with "Plex login is disabled"
once another media server is configured. ``POST /settings/plex`` takes
``{ip, port, useSsl}`` and asks that Plex Media Server (``GET /``, a
PlexDouble) for its machine id and name with the admin's plex.tv token;
``GET /settings/plex/library`` saves on every call as the Jellyfin one does,
``?sync`` reading Plex's sections (``GET /library/sections``). The API key
acts as user 1, so it opens nothing before the first sign-in made an admin.

    python -m tests.doubles.seerr --port 5055 --api-key K [--plex-tv-url http://127.0.0.1:8443]
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import secrets
import socket
import sys
import uuid
from xml.etree import ElementTree

import httpx

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply, run_cli  # noqa: E402 pylint: disable=wrong-import-position

SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs")
ROOT = "/api/v1"
JELLYFIN_CLIENT = 'MediaBrowser Client="Seerr", Device="Seerr", DeviceId="seerr-double", Version="3.1.0"'
#: settings.main.mediaServerType (server/constants/server.ts:1-6); a new Seerr has NOT_CONFIGURED
#: (server/lib/settings/index.ts:402).
PLEX, JELLYFIN, EMBY, NOT_CONFIGURED = 1, 2, 3, 4
#: Where Seerr asks about a plex.tv account: hardcoded in Seerr (server/api/plextv.ts:139-151).
PLEX_TV = "https://plex.tv"
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}   # server/api/externalapi.ts:37-41


def _loopback(host):
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def _call(method, url, **kwargs):
    """A request to another app - on loopback only, so that nothing leaves the machine."""
    from tests.doubles import _net  # in-cluster names of the doubles that stand in for pods
    url, kwargs = _net.resolve(url, kwargs)
    host = httpx.URL(url).host
    if not _loopback(host):
        raise httpx.ConnectError("%s is not reachable from here" % host)
    return httpx.request(method, url, timeout=5.0, **kwargs)


def _base(hostname, port, use_ssl=False, url_base=""):
    return "%s://%s:%s%s" % ("https" if use_ssl else "http", hostname, port, "/" + url_base.strip("/") if url_base and url_base.strip("/") else "")


#: Where the image keeps its settings without CONFIG_DIRECTORY: the app's ``config/`` next to ``dist/`` - the
#: image's WORKDIR is /app (Dockerfile), so /app/config (server/lib/settings/index.ts:370-372).
DEFAULT_CONFIG_DIRECTORY = "/app/config"


class SeerrStartError(RuntimeError):
    """Seerr would stop at start with this settings file."""


def load_settings(env, root):
    """What Seerr 3.1.0 makes of its settings file when it starts, as ``{"path", "api_key", "initialized"}``.

    ``env`` is the container's environment, ``root`` a directory that stands for ``/``. As upstream
    (server/lib/settings/index.ts): the file is ``$CONFIG_DIRECTORY/settings.json``, else
    ``/app/config/settings.json`` (370-372); a missing file is written with the defaults (782-786); a present one
    goes through the migrations, which stop Seerr when it has no ``main`` object (migrations/0002:9,
    migrator.ts:46-60), and is merged over the defaults (791), so a partial file is fine; ``main.apiKey`` is the
    API key - when empty, ``API_KEY`` or a random one is generated (798-800, 755-760), and a set ``API_KEY``
    replaces the stored key (801-805).
    """
    config_dir = env.get("CONFIG_DIRECTORY") or DEFAULT_CONFIG_DIRECTORY
    path = os.path.join(root, config_dir.lstrip("/"), "settings.json")
    data = {"main": {"apiKey": ""}, "public": {"initialized": False}}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            stored = json.load(handle)
        if not isinstance(stored.get("main"), dict):
            raise SeerrStartError("Error while running migration '0002_migrate_apitokens': settings.main is undefined")
        for section, values in stored.items():
            if isinstance(values, dict) and isinstance(data.get(section), dict):
                data[section].update(values)
            else:
                data[section] = values
    api_key = data["main"].get("apiKey") or env.get("API_KEY") or secrets.token_urlsafe(24)
    if env.get("API_KEY"):
        api_key = env["API_KEY"]
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(dict(data, main=dict(data["main"], apiKey=api_key)), handle)
    return {"path": path, "api_key": api_key, "initialized": bool(data["public"].get("initialized"))}


class SeerrDouble(DoubleApp):
    name = "Seerr"
    version = "3.1.0"
    spec = os.path.join(SPECS, "seerr-3.1.0.openapi.yml")
    spec_prefix = ROOT

    def __init__(self, api_key="seerr000key0123456789abcdef01234", strict=True, plex_tv_url=PLEX_TV):
        super().__init__(credentials={"header": {"X-Api-Key": api_key}}, strict=strict)
        self.api_key = api_key
        self.plex_tv_url = plex_tv_url.rstrip("/")
        self.initialized = False
        self.media_server_type = NOT_CONFIGURED     # settings.main.mediaServerType
        self.media_server_login = True              # settings.main.mediaServerLogin (index.ts:395)
        self.client_id = str(uuid.uuid4())          # settings.clientId (index.ts:379)
        self.jellyfin = None        # {"base": url, "token": admin token} once configured
        self.users = {}             # jellyfin user name -> email
        self.plex_users = []        # Plex users, the admin (id 1) first: {id, plexId, email, plexUsername, plexToken}
        self.sessions = set()
        self.libraries = []         # JellyfinLibrary dicts
        # settings.plex with its defaults (server/lib/settings/index.ts:30-38, 408-414); machineId once connected.
        self.plex = {"name": "", "ip": "", "port": 32400, "useSsl": False, "libraries": []}
        self.services = {"radarr": [], "sonarr": []}
        self.next_id = {"radarr": 0, "sonarr": 0}
        self.changes = []           # (method, path) of each request that changed something
        add = self.add_route
        status = {"version": self.version, "commitTag": "v3.1.0", "updateAvailable": False, "commitsBehind": 0}
        add("GET", ROOT + "/status", lambda req: Reply(200, status), public=True)
        add("GET", ROOT + "/settings/public", self.public_settings, public=True)
        add("POST", ROOT + "/auth/jellyfin", self.auth_jellyfin, public=True)
        add("POST", ROOT + "/auth/plex", self.auth_plex, public=True)
        add("GET", ROOT + "/settings/main", self.authed(self.main_settings), public=True)
        add("GET", ROOT + "/settings/jellyfin", self.authed(self.jellyfin_settings), public=True)
        add("GET", ROOT + "/settings/jellyfin/library", self.authed(self.jellyfin_libraries), public=True)
        add("GET", ROOT + "/settings/plex", self.authed(lambda req: Reply(200, copy.deepcopy(self.plex))), public=True)
        add("POST", ROOT + "/settings/plex", self.authed(self.connect_plex), public=True)
        add("GET", ROOT + "/settings/plex/library", self.authed(self.plex_libraries), public=True)
        add("POST", ROOT + "/settings/initialize", self.authed(self.initialize), public=True)
        for kind in ("radarr", "sonarr"):
            add("GET", ROOT + "/settings/" + kind, self.authed(lambda req, k=kind: Reply(200, copy.deepcopy(self.services[k]))),
                public=True)
            add("POST", ROOT + "/settings/" + kind, self.authed(lambda req, k=kind: self.add_service(k, req)), public=True)
            add("POST", ROOT + "/settings/%s/test" % kind, self.authed(lambda req, k=kind: self.test_service(k, req)),
                public=True)
            add("PUT", ROOT + "/settings/%s/{%sId}" % (kind, kind), self.authed(lambda req, k=kind: self.put_service(k, req)),
                public=True)
            add("DELETE", ROOT + "/settings/%s/{%sId}" % (kind, kind),
                self.authed(lambda req, k=kind: self.delete_service(k, req)), public=True)

    @classmethod
    def from_config(cls, env, root, **kwargs):
        """The double as Seerr starts from the config volume: API key and setup state from ``load_settings``."""
        loaded = load_settings(env, root)
        double = cls(api_key=loaded["api_key"], **kwargs)
        double.initialized = loaded["initialized"]
        double.settings_path = loaded["path"]
        return double

    # -- auth ---------------------------------------------------------------------
    def has_admin(self):
        """Whether user 1 exists: made by the first sign-in (a Seerr initialized from its files has one too)."""
        return bool(self.initialized or self.users or self.plex_users)

    def authed(self, handler):
        """An admin only (server/routes/index.ts:150): the session of a sign-in, or the API key, which acts as user
        1 (server/middleware/auth.ts:13-23) - so on an empty database, before any sign-in, the key opens nothing
        (isAuthenticated, auth.ts:43-58)."""
        def guarded(request):
            cookie = request.headers.get("Cookie") or ""
            session = next((c.split("=", 1)[1] for c in cookie.split("; ") if c.startswith("connect.sid=")), None)
            by_key = request.headers.get("X-Api-Key") == self.api_key and self.has_admin()
            if not by_key and session not in self.sessions:
                return Reply(403, {"message": "You do not have permission to access this endpoint"})
            return handler(request)
        return guarded

    def _new_session(self):
        session = secrets.token_hex(16)
        self.sessions.add(session)
        return {"Set-Cookie": "connect.sid=%s; Path=/; HttpOnly" % session}

    def public_settings(self, request):
        """``GET /settings/public``: open to all (server/routes/index.ts:107-117); ``fullPublicSettings`` carries
        ``initialized``, ``mediaServerType`` and ``mediaServerLogin`` among others (settings/index.ts:670-703)."""
        return Reply(200, {"initialized": self.initialized, "mediaServerType": self.media_server_type,
                           "mediaServerLogin": self.media_server_login, "applicationTitle": "Seerr",
                           "localLogin": True, "newPlexLogin": True})

    def writes(self):
        """What changed Seerr's state, in order - including the GET that enables libraries."""
        return list(self.changes)

    def reset_log(self):
        super().reset_log()
        del self.changes[:]

    def auth_jellyfin(self, request):
        body = request.json or {}
        # Once a media server is configured, only Jellyfin or Emby may sign in this way (server/routes/auth.ts:240-250).
        if self.media_server_type != NOT_CONFIGURED and (
                not self.media_server_login or self.media_server_type not in (JELLYFIN, EMBY)):
            return Reply(500, {"error": "Jellyfin login is disabled"})
        if self.jellyfin is not None and body.get("hostname"):
            return Reply(500, {"message": "Jellyfin hostname already configured"})
        if self.jellyfin is None:
            if not body.get("hostname"):
                return Reply(500, {"message": "No hostname provided."})
            base = _base(body["hostname"], body.get("port", 8096), body.get("useSsl"), body.get("urlBase") or "")
        else:
            base = self.jellyfin["base"]
        try:
            resp = _call("POST", base + "/Users/AuthenticateByName", headers={"Authorization": JELLYFIN_CLIENT},
                         json={"Username": body.get("username"), "Pw": body.get("password")})
        except httpx.HTTPError:
            return Reply(500, {"message": "Something went wrong."})
        if resp.status_code == 401:
            return Reply(401, {"message": "Unauthorized"})
        if resp.status_code != 200:
            return Reply(500, {"message": "Something went wrong."})
        if self.jellyfin is None:
            self.jellyfin = {"base": base, "token": resp.json()["AccessToken"]}
            self.media_server_type = body.get("serverType") or JELLYFIN     # auth.ts:314-330
            self.changes.append(("POST", request.path))
        elif body.get("username", "").lower() not in self.users:
            return Reply(403, {"message": "Access denied."})
        self.users.setdefault(body.get("username", "").lower(), body.get("email") or body.get("username"))
        user = {"id": 1, "email": body.get("email") or body.get("username"), "username": body.get("username"),
                "userType": 3, "permissions": 2, "avatar": "", "createdAt": "2026-11-25T00:00:00.000Z",
                "updatedAt": "2026-11-25T00:00:00.000Z", "requestCount": 0}
        return Reply(200, user, headers=self._new_session())

    def auth_plex(self, request):
        """``POST /auth/plex`` as Seerr 3.1.0 (server/routes/auth.ts:49-220)."""
        token = (request.json or {}).get("authToken")
        if not token:
            return Reply(500, {"message": "Authentication token required."})                         # 54-59
        if self.media_server_type != NOT_CONFIGURED and (
                not self.media_server_login or self.media_server_type != PLEX):
            return Reply(500, {"error": "Plex login is disabled"})                                   # 61-67
        # plex.tv's account of the token (plextv.ts:212-226: GET /users/account.json, its ``user``); any failure
        # ends in "Unable to authenticate." (auth.ts:209-218).
        try:
            resp = _call("GET", self.plex_tv_url + "/users/account.json", headers=dict(JSON_HEADERS, **{
                "X-Plex-Token": token}))
            account = resp.json()["user"] if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            account = None
        if not account or not account.get("email"):     # the e-mail is lower-cased (auth.ts:78)
            return Reply(500, {"message": "Unable to authenticate."})
        with self.lock:     # a public route runs without the app's lock
            return self._plex_sign_in(request, token, account)

    def _plex_sign_in(self, request, token, account):
        email = account["email"].lower()
        user = next((u for u in self.plex_users if u["plexId"] == account["id"] or u["email"].lower() == email), None)
        if user is None and not self.has_admin():
            # An empty database: the account becomes the admin, with plex.tv's token for it, and Plex the media
            # server (auth.ts:82-97).
            user = {"id": 1, "plexId": account["id"], "email": account["email"], "plexUsername": account["username"],
                    "plexToken": account["authToken"], "permissions": 2, "avatar": account.get("thumb") or ""}
            self.plex_users.append(user)
            self.media_server_type = PLEX
            self.changes.append(("POST", request.path))
        else:
            main = self.plex_users[0] if self.plex_users and self.plex_users[0]["id"] == 1 else {}
            if not account.get("id"):
                return Reply(500, {"message": "Something went wrong. Try again."})                   # 105-117
            if not (account["id"] == main.get("plexId") or (account["email"] == main.get("email") and not main.get("plexId"))
                    or self._has_access(main.get("plexToken") or "", account["id"])):
                return Reply(403, {"message": "Access denied."})                                     # 185-200
            if user is None:
                # newPlexLogin (index.ts:396): a user with access to the server gets an account of their own
                # (auth.ts:162-184).
                user = {"id": len(self.plex_users) + 1, "plexId": account["id"], "email": account["email"],
                        "plexUsername": account["username"], "plexToken": account["authToken"], "permissions": 32,
                        "avatar": account.get("thumb") or ""}
                self.plex_users.append(user)
                self.changes.append(("POST", request.path))
            elif user["plexToken"] != token:
                user["plexToken"] = token       # a known user keeps the token it signed in with (auth.ts:139-146)
                self.changes.append(("POST", request.path))
        # Seerr answers user.filter(), which leaves the e-mail out (server/entity/User.ts:42-51, 165-173); the double
        # keeps it, as the OpenAPI document requires it.
        reply = {"id": user["id"], "email": user["email"], "plexUsername": user["plexUsername"],
                 "username": user["plexUsername"], "userType": 1, "permissions": user["permissions"],
                 "avatar": user["avatar"], "createdAt": "2026-11-25T00:00:00.000Z",
                 "updatedAt": "2026-11-25T00:00:00.000Z", "requestCount": 0}
        return Reply(200, reply, headers=self._new_session())

    def _has_access(self, main_token, plex_id):
        """checkUserAccess (server/api/plextv.ts:228-267): plex.tv's XML list of the users the main account shares
        with, asked with its token; the user must share the server Seerr is connected to."""
        if not self.plex.get("machineId"):
            return False
        try:
            resp = _call("GET", self.plex_tv_url + "/api/users", headers=dict(JSON_HEADERS, **{"X-Plex-Token": main_token}))
            users = ElementTree.fromstring(resp.text).findall("User")
        except (httpx.HTTPError, ElementTree.ParseError):
            return False
        return any(u.get("id") == str(plex_id) and any(s.get("machineIdentifier") == self.plex["machineId"]
                                                       for s in u.findall("Server")) for u in users)

    def main_settings(self, request):
        return Reply(200, {"apiKey": self.api_key, "applicationTitle": "Seerr", "applicationUrl": "",
                           "mediaServerType": self.media_server_type, "localLogin": True,
                           "mediaServerLogin": self.media_server_login})

    def jellyfin_settings(self, request):
        """``GET /settings/jellyfin``: the stored Jellyfin settings, libraries included; reads only
        (Seerr 3.1.0 server/routes/settings/index.ts:270-274)."""
        base = httpx.URL(self.jellyfin["base"]) if self.jellyfin else None
        return Reply(200, {"name": "Jellyfin" if base else "", "ip": base.host if base else "",
                           "port": base.port if base else 8096, "useSsl": bool(base and base.scheme == "https"),
                           "urlBase": base.path.rstrip("/") if base else "", "externalHostname": "",
                           "jellyfinForgotPasswordUrl": "", "libraries": copy.deepcopy(self.libraries),
                           "serverId": "jellyfin-double" if base else "", "apiKey": ""})

    def jellyfin_libraries(self, request):
        """``GET /settings/jellyfin/library`` as Seerr 3.1.0 (server/routes/settings/index.ts:333-394): a GET
        that writes settings.json on every call. ``?sync`` (336-383) replaces the list with Jellyfin's movie and
        show libraries; then, sync or not (385-391), every library is enabled exactly when its id is in
        ``?enable=`` - no ``enable`` disables them all - and the settings are saved (392)."""
        if request.query.get("sync"):
            if self.jellyfin is None:
                return Reply(500, {"message": "Jellyfin settings are not configured."})
            resp = _call("GET", self.jellyfin["base"] + "/Library/VirtualFolders",
                         headers={"Authorization": '%s, Token="%s"' % (JELLYFIN_CLIENT, self.jellyfin["token"])})
            folders = [f for f in resp.json() if f.get("CollectionType") in ("movies", "tvshows")]
            if not folders:
                return Reply(404, {"message": "SYNC_ERROR_NO_LIBRARIES"})
            old = dict(((l["id"], l["name"]), l["enabled"]) for l in self.libraries)
            self.libraries = [{"id": f["ItemId"], "name": f["Name"], "enabled": old.get((f["ItemId"], f["Name"]), False),
                               "type": "show" if f.get("CollectionType") == "tvshows" else "movie"} for f in folders]
        wanted = set(i for i in (request.query.get("enable") or "").split(",") if i)
        for library in self.libraries:
            library["enabled"] = library["id"] in wanted
        self.changes.append(("GET", request.path + ("?sync" if request.query.get("sync") else "")
                             + ("?enable" if request.query.get("enable") is not None else "")))
        return Reply(200, copy.deepcopy(self.libraries))

    # -- Plex ---------------------------------------------------------------------------
    def _admin_plex_token(self):
        admin = self.plex_users[0] if self.plex_users and self.plex_users[0]["id"] == 1 else {}
        return admin.get("plexToken") or ""

    def _pms(self, path):
        """A GET to the Plex Media Server of settings.plex as Seerr's PlexAPI sends it (server/api/plexapi.ts:94-134):
        the admin's plex.tv token, Seerr's client id and product, JSON asked for (externalapi.ts:33-42)."""
        base = _base(self.plex["ip"], self.plex["port"], self.plex.get("useSsl"))
        headers = dict(JSON_HEADERS, **{"X-Plex-Token": self._admin_plex_token(), "X-Plex-Client-Identifier": self.client_id,
                                        "X-Plex-Product": "Seerr", "X-Plex-Device-Name": "Seerr",
                                        "X-Plex-Platform": "Seerr"})
        resp = _call("GET", base + path, headers=headers)
        resp.raise_for_status()
        return resp.json()["MediaContainer"]

    def connect_plex(self, request):
        """``POST /settings/plex`` (server/routes/settings/index.ts:118-153): the body is laid over settings.plex -
        in memory, before the check, so a failed check leaves it there unsaved (127) - then Plex's ``GET /``
        must give a machineIdentifier, which is kept with the server's friendlyName as its name (131-140);
        anything else is "Unable to connect to Plex." (141-150)."""
        if not self.has_admin():
            return Reply(500, {"message": "Unable to connect to Plex."})    # no user 1: findOneOrFail (122-125)
        self.plex.update(request.json or {})
        try:
            status = self._pms("/")
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            status = {}
        if not status.get("machineIdentifier"):
            return Reply(500, {"message": "Unable to connect to Plex."})
        self.plex["machineId"], self.plex["name"] = status["machineIdentifier"], status.get("friendlyName") or ""
        self.changes.append(("POST", request.path))
        return Reply(200, copy.deepcopy(self.plex))

    def plex_libraries(self, request):
        """``GET /settings/plex/library`` (server/routes/settings/index.ts:232-255), a GET that saves every time:
        ``?sync`` (235-244) replaces the list with Plex's movie and show sections that have an agent other than
        ``com.plexapp.agents.none`` - id the section key, name its title, enabled kept only for the same id and
        name - or with none when Plex cannot be read (server/api/plexapi.ts:136-174); then every library is enabled
        exactly when its id is in ``?enable=`` - none given disables them all - and the settings are saved
        (246-253)."""
        if request.query.get("sync"):
            try:
                sections = self._pms("/library/sections").get("Directory") or []
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
                sections = None
            old = dict(((l["id"], l["name"]), l) for l in self.plex["libraries"])
            libraries = []
            for section in sections or ():
                if section.get("type") in ("movie", "show") and section.get("agent") != "com.plexapp.agents.none":
                    kept = old.get((section["key"], section["title"]), {})
                    library = {"id": section["key"], "name": section["title"], "enabled": kept.get("enabled", False),
                               "type": section["type"]}
                    if kept.get("lastScan") is not None:
                        library["lastScan"] = kept["lastScan"]
                    libraries.append(library)
            self.plex["libraries"] = libraries
        wanted = set(i for i in (request.query.get("enable") or "").split(",") if i)
        for library in self.plex["libraries"]:
            library["enabled"] = library["id"] in wanted
        self.changes.append(("GET", request.path + ("?sync" if request.query.get("sync") else "")
                             + ("?enable" if request.query.get("enable") is not None else "")))
        return Reply(200, copy.deepcopy(self.plex["libraries"]))

    def initialize(self, request):
        self.changes.append(("POST", request.path))
        self.initialized = True
        return Reply(200, {"initialized": True})

    # -- services -------------------------------------------------------------------
    def add_service(self, kind, request):
        body = dict(request.json or {})
        body["id"] = self.next_id[kind]           # ids start at 0
        self.next_id[kind] += 1
        if body.get("isDefault"):
            for other in self.services[kind]:
                if other["is4k"] == body.get("is4k"):
                    other["isDefault"] = False
        self.services[kind].append(body)          # always appends: no check of name or host
        self.changes.append(("POST", request.path))
        return Reply(201, copy.deepcopy(body))

    def _find(self, kind, request):
        wanted = int(request.params["%sId" % kind])
        return next((s for s in self.services[kind] if s["id"] == wanted), None)

    def put_service(self, kind, request):
        found = self._find(kind, request)
        if found is None:
            return Reply(404, {"message": "Settings for this id were not found."})
        body = dict(request.json or {}, id=found["id"])
        if body.get("isDefault"):
            for other in self.services[kind]:
                if other is not found and other["is4k"] == body.get("is4k"):
                    other["isDefault"] = False
        found.clear()
        found.update(body)
        self.changes.append(("PUT", request.path))
        return Reply(200, copy.deepcopy(found))

    def delete_service(self, kind, request):
        found = self._find(kind, request)
        if found is None:
            return Reply(404, {"message": "Settings for this id were not found."})
        self.services[kind].remove(found)
        self.changes.append(("DELETE", request.path))
        return Reply(200, copy.deepcopy(found))

    def test_service(self, kind, request):
        body = request.json or {}
        base = _base(body.get("hostname"), body.get("port"), body.get("useSsl"), body.get("baseUrl") or "")
        headers = {"X-Api-Key": body.get("apiKey") or ""}
        try:
            profiles = _call("GET", base + "/api/v3/qualityprofile", headers=headers)
            folders = _call("GET", base + "/api/v3/rootfolder", headers=headers)
        except httpx.HTTPError:
            return Reply(500, {"message": "Failed to connect to %s" % kind.title()})
        if profiles.status_code != 200 or folders.status_code != 200:
            return Reply(500, {"message": "Failed to connect to %s" % kind.title()})
        return Reply(200, {"profiles": [{"id": p["id"], "name": p["name"]} for p in profiles.json()],
                           "rootFolders": [{"id": f["id"], "path": f["path"], "freeSpace": 0, "totalSpace": 0}
                                           for f in folders.json()],
                           "tags": [], "urlBase": body.get("baseUrl") or ""})


if __name__ == "__main__":
    def _args(parser):
        parser.add_argument("--api-key", default="seerr000key0123456789abcdef01234")
        parser.add_argument("--plex-tv-url", default=PLEX_TV,
                            help="where Seerr asks plex.tv about an account (Seerr itself: %s)" % PLEX_TV)
    sys.exit(run_cli(lambda args: SeerrDouble(api_key=args.api_key, plex_tv_url=args.plex_tv_url),
                     description=__doc__.splitlines()[0], add_arguments=_args))
