"""Test double of Seerr 3.1 (successor of Jellyseerr/Overseerr): setup with Jellyfin, Radarr/Sonarr services.

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

    python -m tests.doubles.seerr --port 5055 --api-key K
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
import secrets
import socket
import sys

import httpx

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply, run_cli  # noqa: E402 pylint: disable=wrong-import-position

SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs")
ROOT = "/api/v1"
JELLYFIN_CLIENT = 'MediaBrowser Client="Seerr", Device="Seerr", DeviceId="seerr-double", Version="3.1.0"'


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

    def __init__(self, api_key="seerr000key0123456789abcdef01234", strict=True):
        super().__init__(credentials={"header": {"X-Api-Key": api_key}}, strict=strict)
        self.api_key = api_key
        self.initialized = False
        self.jellyfin = None        # {"base": url, "token": admin token} once configured
        self.users = {}             # jellyfin user name -> email
        self.sessions = set()
        self.libraries = []         # JellyfinLibrary dicts
        self.services = {"radarr": [], "sonarr": []}
        self.next_id = {"radarr": 0, "sonarr": 0}
        self.changes = []           # (method, path) of each request that changed something
        add = self.add_route
        status = {"version": self.version, "commitTag": "v3.1.0", "updateAvailable": False, "commitsBehind": 0}
        add("GET", ROOT + "/status", lambda req: Reply(200, status), public=True)
        add("GET", ROOT + "/settings/public", lambda req: Reply(200, {"initialized": self.initialized}), public=True)
        add("POST", ROOT + "/auth/jellyfin", self.auth_jellyfin, public=True)
        add("GET", ROOT + "/settings/main", self.authed(self.main_settings), public=True)
        add("GET", ROOT + "/settings/jellyfin", self.authed(self.jellyfin_settings), public=True)
        add("GET", ROOT + "/settings/jellyfin/library", self.authed(self.jellyfin_libraries), public=True)
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
    def authed(self, handler):
        def guarded(request):
            cookie = request.headers.get("Cookie") or ""
            session = next((c.split("=", 1)[1] for c in cookie.split("; ") if c.startswith("connect.sid=")), None)
            if request.headers.get("X-Api-Key") != self.api_key and session not in self.sessions:
                return Reply(403, {"message": "You do not have permission to access this endpoint"})
            return handler(request)
        return guarded

    def writes(self):
        """What changed Seerr's state, in order - including the GET that enables libraries."""
        return list(self.changes)

    def reset_log(self):
        super().reset_log()
        del self.changes[:]

    def auth_jellyfin(self, request):
        body = request.json or {}
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
            self.changes.append(("POST", request.path))
        elif body.get("username", "").lower() not in self.users:
            return Reply(403, {"message": "Access denied."})
        self.users.setdefault(body.get("username", "").lower(), body.get("email") or body.get("username"))
        session = secrets.token_hex(16)
        self.sessions.add(session)
        user = {"id": 1, "email": body.get("email") or body.get("username"), "username": body.get("username"),
                "userType": 3, "permissions": 2, "avatar": "", "createdAt": "2026-11-25T00:00:00.000Z",
                "updatedAt": "2026-11-25T00:00:00.000Z", "requestCount": 0}
        return Reply(200, user, headers={"Set-Cookie": "connect.sid=%s; Path=/; HttpOnly" % session})

    def main_settings(self, request):
        return Reply(200, {"apiKey": self.api_key, "applicationTitle": "Seerr", "applicationUrl": "",
                           "mediaServerType": 2, "localLogin": True})

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
    sys.exit(run_cli(lambda args: SeerrDouble(api_key=args.api_key), description=__doc__.splitlines()[0],
                     add_arguments=_args))
