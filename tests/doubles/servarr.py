"""Test double of the Servarr apps' APIs: Radarr, Sonarr, Lidarr and Prowlarr.

Reproduces what ``api-behaviour.md`` describes and the modules depend on:
API-key auth (header, query, Bearer) and 401, X-Application-Version, /ping,
/api, system/status, health, tags; provider resources (download clients;
Prowlarr applications and indexer proxies) built from ``/schema`` with field
``privacy``, secrets masked on read, ``fields`` replaced whole (a field left
out is reset to its default), the mask sent back by a PUT keeps the secret
while a POST stores it literally, names unique ignoring case, priority 1..50,
warnings ("Category is recommended") and the connection test failing a save
unless ``forceSave=true``; root folders with the app's checks in order, on
real directories; the host config (``/config/host``) with the UI login:
authentication method and requirement (upstream defaults ``none`` and
``enabled``, overridable like the ``<APP>__AUTH__METHOD`` /
``<APP>__AUTH__REQUIRED`` environment variables), the one stored user
(lower-cased name, salted PBKDF2 hash read back by ``GET``), and the
``POST /login`` form sign-in. The connection tests really talk to the download client
(or target app) - but only on loopback: any other address counts as
unreachable, so nothing leaves the machine.

In pytest::

    app = ServarrDouble("radarr", api_key="k")
    with app.serve() as server:
        server.url, app.log, app.writes(), app.store["downloadclient"]

As a process (the wiring lab starts several)::

    python -m tests.doubles.servarr --app radarr --port 7878 --api-key K
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
import os
import re
import socket
import sys
from urllib.parse import parse_qsl, urlsplit

import httpx

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, HttpError, Reply, api_key_auth, run_cli  # noqa: E402

SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs")
MASK = "********"

APPS = {
    "radarr": {"name": "Radarr", "root": "/api/v3", "version": "6.0.3.10276", "spec": "radarr-v3.openapi.json",
               "media": "movie", "port": 7878},
    "sonarr": {"name": "Sonarr", "root": "/api/v3", "version": "4.0.19.2979", "spec": "sonarr-v3.openapi.json",
               "media": "tv", "port": 8989},
    "lidarr": {"name": "Lidarr", "root": "/api/v1", "version": "2.14.5.4836", "spec": "lidarr-v1.openapi.json",
               "media": "music", "port": 8686},
    "prowlarr": {"name": "Prowlarr", "root": "/api/v1", "version": "2.3.5.5327", "spec": "prowlarr-v1.openapi.json",
                 "media": None, "port": 9696},
}

VALIDATION_FAILURE = {
    "type": "object",
    "required": ["propertyName", "errorMessage", "severity", "isWarning"],
    "properties": {
        "propertyName": {"type": "string"}, "errorMessage": {"type": "string"},
        "attemptedValue": {}, "severity": {"enum": ["error", "warning", "info"]},
        "isWarning": {"type": "boolean"}, "infoLink": {"type": ["string", "null"]},
        "detailedDescription": {"type": ["string", "null"]},
    },
    "additionalProperties": False,
}
ERROR_400 = {"oneOf": [{"type": "array", "minItems": 1, "items": VALIDATION_FAILURE},
                       {"type": "object", "required": ["message"]}]}


# -- schema data ---------------------------------------------------------------
def field(order, name, label, kind="textbox", value=None, privacy="normal", advanced=False, options=None,
          help_text=None):
    out = {"order": order, "name": name, "label": label, "type": kind, "advanced": advanced, "privacy": privacy,
           "isFloat": False}
    if value is not None:
        out["value"] = value
    if options is not None:
        out["selectOptions"] = [{"value": v, "name": n, "order": i}
                                for i, (v, n) in enumerate(options)]
    if help_text:
        out["helpText"] = help_text
    return out


PRIORITIES = [(0, "Last"), (1, "First")]


def download_client_schema(media):
    """The four download clients every media app has, with the app's field names."""
    cap = {"movie": "Movie", "tv": "Tv", "music": "Music"}[media]
    default_cat = {"movie": "radarr", "tv": "tv-sonarr", "music": "lidarr"}[media]

    def common(port, url_base=""):
        return [field(0, "host", "Host", value="localhost"), field(1, "port", "Port", "number", port),
                field(2, "useSsl", "Use SSL", "checkbox", False),
                field(3, "urlBase", "URL Base", value=url_base or None, advanced=True)]

    def cats(start, imported=True):
        out = [field(start, media + "Category", "Category", value=default_cat)]
        if imported:
            out.append(field(start + 1, media + "ImportedCategory", "Post-Import Category", advanced=True))
        n = len(out) + start
        out += [field(n, "recent%sPriority" % cap, "Recent Priority", "select", 0, options=PRIORITIES),
                field(n + 1, "older%sPriority" % cap, "Older Priority", "select", 0, options=PRIORITIES)]
        return out

    user = [field(4, "username", "Username", privacy="userName"),
            field(5, "password", "Password", "password", privacy="password")]
    qbit = common(8080) + user + cats(6) + [
        field(10, "initialState", "Initial State", "select", 0, options=[(0, "Start"), (1, "ForceStart"), (2, "Pause")]),
        field(11, "sequentialOrder", "Sequential Order", "checkbox", False),
        field(12, "firstAndLast", "First and Last First", "checkbox", False),
        field(13, "contentLayout", "Content Layout", "select", 0, options=[(0, "Default"), (1, "Original"), (2, "Subfolder")])]
    trans = common(9091, "/transmission/") + user + cats(6, imported=False)[:1] + [
        field(7, media + "Directory", "Directory", advanced=True)] + cats(8, imported=False)[1:] + [
        field(10, "addPaused", "Add Paused", "checkbox", False)]
    sab = common(8080) + [field(4, "apiKey", "API Key", privacy="apiKey"),
                          field(5, "username", "Username", privacy="userName"),
                          field(6, "password", "Password", "password", privacy="password")] + cats(7, imported=False)
    nzbget = common(6789) + [field(4, "username", "Username", value="nzbget", privacy="userName"),
                             field(5, "password", "Password", "password", "tegbzn6789", privacy="password")] + \
        cats(6, imported=False) + [field(9, "addPaused", "Add Paused", "checkbox", False)]
    base = {"enable": False, "priority": 1, "removeCompletedDownloads": True, "removeFailedDownloads": True,
            "tags": [], "presets": []}
    return [
        dict(base, implementation="QBittorrent", implementationName="qBittorrent", configContract="QBittorrentSettings",
             protocol="torrent", infoLink="https://wiki.servarr.com/qbittorrent", fields=qbit),
        dict(base, implementation="Transmission", implementationName="Transmission",
             configContract="TransmissionSettings", protocol="torrent",
             infoLink="https://wiki.servarr.com/transmission", fields=trans),
        dict(base, implementation="Sabnzbd", implementationName="SABnzbd", configContract="SabnzbdSettings",
             protocol="usenet", infoLink="https://wiki.servarr.com/sabnzbd", fields=sab),
        dict(base, implementation="Nzbget", implementationName="NZBGet", configContract="NzbgetSettings",
             protocol="usenet", infoLink="https://wiki.servarr.com/nzbget", fields=nzbget),
    ]


def application_schema():
    def app(name, port, cats, extra=()):
        fields = [field(0, "prowlarrUrl", "Prowlarr Server", value="http://localhost:9696"),
                  field(1, "baseUrl", "%s Server" % name, value="http://localhost:%d" % port),
                  field(2, "apiKey", "ApiKey", privacy="apiKey"),
                  field(3, "syncCategories", "Sync Categories", "select", cats, advanced=True)]
        fields += list(extra)
        fields.append(field(len(fields), "syncRejectBlocklistedTorrentHashesOnce",
                            "Sync Reject Blocklisted Torrent Hashes", "checkbox", False, advanced=True))
        return {"implementation": name, "implementationName": name, "configContract": name + "Settings",
                "infoLink": "https://wiki.servarr.com/prowlarr/supported#%s" % name.lower(),
                "syncLevel": "fullSync", "tags": [], "presets": [], "fields": fields}

    return [
        app("Radarr", 7878, [2000, 2010, 2020, 2030, 2040, 2045, 2050, 2060, 2070, 2080]),
        app("Sonarr", 8989, [5000, 5010, 5020, 5030, 5040, 5045, 5050, 5090],
            [field(4, "animeSyncCategories", "Anime Sync Categories", "select", [5070], advanced=True),
             field(5, "syncAnimeStandardFormatSearch", "Sync Anime Standard Format Search", "checkbox", False)]),
        app("Lidarr", 8686, [3000, 3010, 3030, 3040, 3050, 3060]),
        app("Readarr", 8787, [3030, 7000, 7010, 7020, 7030, 7040, 7050, 7060]),
    ]


def indexer_proxy_schema():
    base = {"tags": [], "presets": [], "onHealthIssue": False, "supportsOnHealthIssue": False,
            "includeHealthWarnings": False}
    return [
        dict(base, implementation="FlareSolverr", implementationName="FlareSolverr", configContract="FlareSolverrSettings",
             infoLink="https://wiki.servarr.com/prowlarr/supported#flaresolverr",
             fields=[field(0, "host", "Host", value="http://localhost:8191/"),
                     field(1, "requestTimeout", "Request Timeout", "number", 60)]),
        dict(base, implementation="Http", implementationName="Http", configContract="HttpSettings",
             infoLink="https://wiki.servarr.com/prowlarr/supported#http",
             fields=[field(0, "host", "Host"), field(1, "port", "Port", "number", 8080),
                     field(2, "username", "Username", privacy="userName"),
                     field(3, "password", "Password", "password", privacy="password")]),
    ]


# Notifications ("Connect"): the media servers' implementations, and a webhook as any other one. Names, fields,
# defaults and privacy: Radarr src/NzbDrone.Core/Notifications/MediaBrowser/MediaBrowserSettings.cs:31-61 and
# Notifications/Plex/Server/PlexServerSettings.cs:32-66 at v6.0.3.10276 (Sonarr the same lines at v4.0.19.2979;
# Lidarr v2.14.5.4836 has no mapFrom/mapTo in MediaBrowserSettings.cs:29-51 and updateLibrary defaults to false).
# The on* flags each app's resource has come from its OpenAPI document (NotificationResource); which events an
# implementation acts on (supportsOn*, true where the class overrides the event: NotificationBase.cs:92-103) from
# MediaBrowser.cs and PlexServer.cs of each app (docs/upstream-facts.md).
NOTIFICATION_SUPPORT = {
    ("radarr", "MediaBrowser"): ("Grab", "Download", "Upgrade", "Rename", "MovieDelete", "MovieFileDelete",
                                 "MovieFileDeleteForUpgrade", "HealthIssue", "HealthRestored", "ApplicationUpdate"),
    ("sonarr", "MediaBrowser"): ("Grab", "Download", "Upgrade", "ImportComplete", "Rename", "SeriesAdd", "SeriesDelete",
                                 "EpisodeFileDelete", "EpisodeFileDeleteForUpgrade", "HealthIssue", "HealthRestored",
                                 "ApplicationUpdate"),
    ("lidarr", "MediaBrowser"): ("Grab", "ReleaseImport", "Upgrade", "Rename", "ArtistAdd", "ArtistDelete", "AlbumDelete",
                                 "HealthIssue", "HealthRestored", "TrackRetag", "ApplicationUpdate"),
    ("radarr", "PlexServer"): ("Download", "Upgrade", "Rename", "MovieDelete", "MovieFileDelete",
                               "MovieFileDeleteForUpgrade"),
    ("sonarr", "PlexServer"): ("Download", "Upgrade", "ImportComplete", "Rename", "SeriesAdd", "SeriesDelete",
                               "EpisodeFileDelete", "EpisodeFileDeleteForUpgrade"),
    ("lidarr", "PlexServer"): ("ReleaseImport", "Upgrade", "Rename", "TrackRetag", "ArtistAdd", "ArtistDelete",
                               "AlbumDelete"),
}


def notification_flags(spec_path):
    """The on* flags (and includeHealthWarnings) of the app's NotificationResource, from its OpenAPI document."""
    import json
    with open(spec_path, encoding="utf-8") as handle:
        props = json.load(handle)["components"]["schemas"]["NotificationResource"]["properties"]
    return sorted(k for k in props if k.startswith("on") or k == "includeHealthWarnings")


def notification_schema(app, spec_path):
    flags = notification_flags(spec_path)
    events = [f[2:] for f in flags if f.startswith("on")]

    def template(implementation, name, contract, link, fields, supported):
        out = {"implementation": implementation, "implementationName": name, "configContract": contract,
               "infoLink": link, "name": "", "tags": [], "presets": [], "fields": fields, "link": None,
               "testCommand": None}
        out.update((flag, False) for flag in flags)
        out.update(("supportsOn" + event, event in supported) for event in events)
        return out

    mapping = [] if app == "lidarr" else [field(7, "mapFrom", "Map Paths From", advanced=True),
                                          field(8, "mapTo", "Map Paths To", advanced=True)]
    emby = [field(0, "host", "Host"), field(1, "port", "Port", "number", 8096),
            field(2, "useSsl", "Use SSL", "checkbox", False), field(3, "urlBase", "URL Base", advanced=True),
            field(4, "apiKey", "API Key", privacy="apiKey"), field(5, "notify", "Send Notifications", "checkbox", False),
            field(6, "updateLibrary", "Update Library", "checkbox", app != "lidarr")] + mapping
    plex = [field(0, "host", "Host", value=None if app == "lidarr" else ""), field(1, "port", "Port", "number", 32400),
            field(2, "useSsl", "Use SSL", "checkbox", False), field(3, "urlBase", "URL Base", advanced=True),
            field(4, "authToken", "Auth Token", privacy="apiKey", advanced=True),
            field(5, "signIn", "Authenticate with Plex.tv", "oAuth", "startOAuth"),
            field(6, "updateLibrary", "Update Library", "checkbox", True),
            field(7, "mapFrom", "Map Paths From", advanced=True), field(8, "mapTo", "Map Paths To", advanced=True)]
    hook = [field(0, "url", "Webhook URL"), field(1, "method", "Method", "select", 1, options=[(1, "POST"), (2, "PUT")]),
            field(2, "username", "Username", privacy="userName"),
            field(3, "password", "Password", "password", privacy="password")]
    return [
        template("MediaBrowser", "Emby / Jellyfin", "MediaBrowserSettings", "https://wiki.servarr.com/%s/supported#mediabrowser" % app,
                 emby, NOTIFICATION_SUPPORT[(app, "MediaBrowser")]),
        template("PlexServer", "Plex Media Server", "PlexServerSettings", "https://wiki.servarr.com/%s/supported#plexserver" % app,
                 plex, NOTIFICATION_SUPPORT[(app, "PlexServer")]),
        template("Webhook", "Webhook", "WebhookSettings", "https://wiki.servarr.com/%s/supported#webhook" % app,
                 hook, events),
    ]


# -- helpers -------------------------------------------------------------------
def failure(prop, message, value=None, warning=False, detail=None):
    out = {"propertyName": prop, "errorMessage": message, "attemptedValue": value,
           "severity": "warning" if warning else "error", "isWarning": warning}
    if detail:
        out["detailedDescription"] = detail
    return out


def pascal(name):
    return name[:1].upper() + name[1:]


def is_loopback(host):
    """True when ``host`` resolves only to loopback addresses (the double never talks further)."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


class Unreachable(Exception):
    pass


def _http(method, url, **kwargs):
    from tests.doubles import _net  # in-cluster names of the doubles that stand in for pods
    url, kwargs = _net.resolve(url, kwargs)
    host = urlsplit(url).hostname or ""
    if not is_loopback(host):
        raise Unreachable("%s: name or address not reachable from this app" % host)
    try:
        return httpx.request(method, url, timeout=5.0, **kwargs)
    except httpx.HTTPError as exc:
        raise Unreachable(str(exc) or exc.__class__.__name__)


class ServarrDouble(DoubleApp):
    """One Radarr, Sonarr, Lidarr or Prowlarr."""

    error_schemas = {400: ERROR_400}

    def __init__(self, app="radarr", api_key="0123456789abcdef0123456789abcdef", version=None, url_base="",
                 strict=True, auth_method_env=None, auth_required_env=None):
        info = APPS[app]
        self.kind = app
        self.name = info["name"]
        self.version = version or info["version"]
        self.spec = os.path.join(SPECS, info["spec"])
        self.root = info["root"]
        self.media = info["media"]
        self.api_key = api_key
        self.url_base = url_base
        super().__init__(auth=api_key_auth(api_key), credentials={"header": {"X-Api-Key": api_key}}, strict=strict)
        self.schemas = {}
        self.store = {}  # resource -> {id: stored resource, secrets in clear}
        self.next_id = {}
        self.health = []
        # UI login state (see the "host config" section below): what config.xml holds, what the
        # environment variables force, the one user of the Users table, and what each write touched.
        self.config_xml = {}
        self.auth_env = {"method": auth_method_env, "required": auth_required_env}
        self.user = None
        self.config_writes = []  # config.xml keys written, in order
        self.user_writes = 0  # inserts and updates of the Users table
        self._login_method = None
        r = self.root
        self.add_route("GET", "/ping", lambda req: Reply(200, {"status": "OK"}), public=True)
        self.add_route("GET", r + "/config/host", lambda req: Reply(200, self.host_config()))
        self.add_route("GET", r + "/config/host/{id}", lambda req: Reply(200, self.host_config()))
        self.add_route("PUT", r + "/config/host/{id}", self.save_host_config)
        # The OpenAPI documents list /login as multipart only; the app binds [FromForm], and its own
        # login page posts a urlencoded form (Radarr frontend/src/login.html:218-223 at v6.0.3.10276).
        self.add_route("POST", "/login", self.login, public=True, documented=False)
        self.add_route("GET", "/api", lambda req: Reply(200, {"current": r.rsplit("/", 1)[1], "deprecated": []}))
        self.add_route("GET", r + "/system/status", self.system_status)
        self.add_route("GET", r + "/health", lambda req: Reply(200, self.health))
        self.add_route("GET", r + "/tag", lambda req: Reply(200, self._list("tag")))
        self.add_route("POST", r + "/tag", self.create_tag)
        self.add_route("GET", r + "/tag/{id}", lambda req: Reply(200, self._get("tag", req)))
        self.add_route("DELETE", r + "/tag/{id}", self.delete_plain("tag"))
        providers = []
        if self.media:
            self.schemas["downloadclient"] = download_client_schema(self.media)
            self.schemas["notification"] = notification_schema(app, self.spec)
            providers += ["downloadclient", "notification"]
            self.media_server_calls = []   # (method, url, headers) the notifications' tests sent
            self.add_route("GET", r + "/rootfolder", lambda req: Reply(200, [self.root_folder_view(f) for f in self._list("rootfolder")]))
            self.add_route("POST", r + "/rootfolder", self.create_root_folder)
            self.add_route("GET", r + "/rootfolder/{id}", lambda req: Reply(200, self.root_folder_view(self._get("rootfolder", req))))
            self.add_route("DELETE", r + "/rootfolder/{id}", self.delete_plain("rootfolder"))
            self.store["qualityprofile"] = {1: {"id": 1, "name": "Any"}, 4: {"id": 4, "name": "HD-1080p"},
                                            5: {"id": 5, "name": "Ultra-HD"}}
            self.add_route("GET", r + "/qualityprofile", lambda req: Reply(200, self._list("qualityprofile")))
            if app == "lidarr":
                self.add_route("PUT", r + "/rootfolder/{id}", self.update_root_folder)
                self.store["qualityprofile"] = {1: {"id": 1, "name": "Any"}, 2: {"id": 2, "name": "Lossless"}}
                self.store["metadataprofile"] = {1: {"id": 1, "name": "Standard"}, 2: {"id": 2, "name": "None"}}
                self.add_route("GET", r + "/metadataprofile", lambda req: Reply(200, self._list("metadataprofile")))
        else:
            self.schemas["applications"] = application_schema()
            self.schemas["indexerproxy"] = indexer_proxy_schema()
            providers += ["applications", "indexerproxy"]
        for res in providers:
            self.add_route("GET", "%s/%s" % (r, res), self.provider_list(res))
            self.add_route("GET", "%s/%s/schema" % (r, res), self.provider_schema(res))
            self.add_route("POST", "%s/%s" % (r, res), self.provider_create(res))
            self.add_route("POST", "%s/%s/test" % (r, res), self.provider_test(res))
            self.add_route("GET", "%s/%s/{id}" % (r, res), self.provider_get(res))
            self.add_route("PUT", "%s/%s/{id}" % (r, res), self.provider_update(res))
            self.add_route("DELETE", "%s/%s/{id}" % (r, res), self.provider_delete(res))

    # -- storage ---------------------------------------------------------------
    def _list(self, res):
        return [copy.deepcopy(v) for k, v in sorted(self.store.get(res, {}).items())]

    def _get(self, res, req):
        try:
            return copy.deepcopy(self.store.get(res, {})[int(req.params["id"])])
        except (KeyError, ValueError):
            raise HttpError(404, {"message": "NotFound"})

    def _insert(self, res, item):
        new_id = self.next_id.get(res, 1)
        self.next_id[res] = new_id + 1
        item["id"] = new_id
        self.store.setdefault(res, {})[new_id] = item
        return item

    def delete_plain(self, res):
        def handler(req):
            self._get(res, req)
            del self.store[res][int(req.params["id"])]
            return Reply(200, None)
        return handler

    def system_status(self, req):
        return Reply(200, {"appName": self.name, "instanceName": self.name, "version": self.version,
                           "isDocker": False, "isLinux": True, "urlBase": self.url_base,
                           "authentication": self.auth_method(), "branch": "master"})

    # -- tags ------------------------------------------------------------------
    def create_tag(self, req):
        label = str((req.json or {}).get("label") or "").lower()
        if not label or not all(c.isalnum() and c.isascii() or c == "-" for c in label):
            return Reply(400, [failure("Label", "Allowed characters a-z, 0-9 and -", label)])
        for tag in self.store.get("tag", {}).values():
            if tag["label"] == label:
                return Reply(201, dict(tag))
        return Reply(201, dict(self._insert("tag", {"label": label})))

    def tag_ids(self):
        return set(self.store.get("tag", {}))

    # -- providers -------------------------------------------------------------
    def template(self, res, implementation):
        for item in self.schemas[res]:
            if item["implementation"] == implementation:
                return copy.deepcopy(item)
        return None

    def masked(self, item):
        out = copy.deepcopy(item)
        for f in out.get("fields", []):
            if f.get("privacy") in ("password", "apiKey") and f.get("value") not in (None, ""):
                f["value"] = MASK
            if f.get("value") is None:
                f.pop("value", None)
        return out

    def provider_list(self, res):
        return lambda req: Reply(200, [self.masked(i) for i in self._list(res)])

    def provider_get(self, res):
        return lambda req: Reply(200, self.masked(self._get(res, req)))

    def provider_schema(self, res):
        return lambda req: Reply(200, copy.deepcopy(self.schemas[res]))

    def to_model(self, res, body, existing=None):
        """What the app makes of a posted resource: schema fields, values sent (else defaults)."""
        if not isinstance(body, dict):
            raise HttpError(400, {"message": "A resource object is required"})
        template = self.template(res, body.get("implementation"))
        if template is None:
            raise HttpError(400, [failure("Implementation", "Unknown implementation '%s'" % body.get("implementation"),
                                          body.get("implementation"))])
        sent = dict((f.get("name"), f) for f in body.get("fields") or [])
        old = dict((f["name"], f.get("value")) for f in (existing or {}).get("fields", []))
        for f in template["fields"]:
            if f["name"] in sent:
                value = sent[f["name"]].get("value")
                if existing is not None and f["privacy"] in ("password", "apiKey") and value == MASK:
                    value = old.get(f["name"])  # the mask sent back keeps the stored secret
                if value is None:
                    f.pop("value", None)
                else:
                    f["value"] = value
        item = template
        item.pop("presets", None)
        for key in ("name", "enable", "priority", "removeCompletedDownloads", "removeFailedDownloads", "syncLevel",
                    "onHealthIssue", "includeHealthWarnings"):
            if key in body:
                item[key] = body[key]
            elif res == "downloadclient" and key in ("enable", "priority"):
                item[key] = False if key == "enable" else 0  # left out: C# default, fails validation
        if res == "notification":   # the flags as sent; supportsOn* stay the implementation's (never stored)
            item.update((k, bool(body[k])) for k in template if k.startswith("on") and k in body)
            if "includeHealthWarnings" in body:
                item["includeHealthWarnings"] = bool(body["includeHealthWarnings"])
        item["tags"] = sorted(set(body.get("tags") or []))
        if existing is not None:
            item["id"] = existing["id"]
        return item

    def enabled(self, res, item):
        if res == "downloadclient":
            return bool(item.get("enable"))
        if res == "applications":
            return item.get("syncLevel") != "disabled"
        if res == "notification":   # any event on (NotificationDefinition.cs:64 at Radarr v6.0.3.10276)
            return any(v for k, v in item.items() if k.startswith("on"))
        return True

    def values(self, item):
        return dict((f["name"], f.get("value")) for f in item.get("fields", []))

    def hard_checks(self, res, item):
        errors = []
        name = item.get("name")
        if not name or not str(name).strip():
            errors.append(failure("Name", "'Name' must not be empty.", name))
        else:
            for other in self.store.get(res, {}).values():
                if other["id"] != item.get("id") and other["name"].casefold() == str(name).casefold():
                    errors.append(failure("Name", "Should be unique", name))
        if res == "downloadclient":
            prio = item.get("priority")
            if not isinstance(prio, int) or not 1 <= prio <= 50:
                errors.append(failure("Priority", "'Priority' must be between 1 and 50. You entered %s." % prio, prio))
        values = self.values(item)
        if "host" in values and not values["host"]:
            errors.append(failure("Host", "'Host' must not be empty.", values["host"]))
        port = values.get("port")
        if "port" in values and (not isinstance(port, int) or not 1 <= port <= 65535):
            errors.append(failure("Port", "'Port' must be between 1 and 65535. You entered %s." % port, port))
        if res == "notification" and self.enabled(res, item):
            errors += self.notification_checks(item, values)
        if res == "applications":
            for key in ("prowlarrUrl", "baseUrl"):
                url = values.get(key) or ""
                if not urlsplit(url).scheme in ("http", "https") or not urlsplit(url).hostname:
                    errors.append(failure(pascal(key), "'%s' must be a valid URL" % pascal(key), url))
        return errors

    def warnings(self, res, item):
        if res != "downloadclient":
            return []
        values = self.values(item)
        cat = self.media + "Category"
        if cat in values and not values.get(cat):
            return [failure(pascal(cat), "Category is recommended", None, warning=True,
                            detail="Using a category is recommended to keep the download client tidy")]
        return []

    def save(self, res, req, existing=None):
        item = self.to_model(res, req.json, existing)
        errors = self.hard_checks(res, item)
        if errors:
            return Reply(400, errors)
        force = req.flag("forceSave")
        changed = existing is None or self._comparable(item) != self._comparable(existing)
        # ProviderControllerBase.cs:78-122 at Radarr v6.0.3.10276: a POST tests an enabled provider even with
        # forceSave (which only lets warnings pass); a PUT tests it only when it changed and forceSave is not set.
        errors = [] if force else self.warnings(res, item)
        if not errors and self.enabled(res, item) and changed and (existing is None or not force):
            errors = [e for e in self.connection_test(res, item) if not (force and e.get("isWarning"))]
        if errors:
            return Reply(400, errors)
        if existing is None:
            stored = self._insert(res, item)
            return Reply(201, self.masked(stored))
        if changed:
            self.store[res][existing["id"]] = item
        return Reply(202, self.masked(self.store[res][existing["id"]]))

    @staticmethod
    def _comparable(item):
        return dict((k, v) for k, v in item.items() if k != "id")

    def provider_create(self, res):
        return lambda req: self.save(res, req)

    def provider_update(self, res):
        return lambda req: self.save(res, req, existing=self._get(res, req))

    def provider_delete(self, res):
        def handler(req):
            self._get(res, req)
            del self.store[res][int(req.params["id"])]
            return Reply(200, {})
        return handler

    def provider_test(self, res):
        def handler(req):
            body = req.json or {}
            existing = self.store.get(res, {}).get(body.get("id")) if body.get("id") else None
            item = self.to_model(res, body, existing)
            errors = self.hard_checks(res, item) + self.warnings(res, item) + self.connection_test(res, item)
            if errors:
                return Reply(400, errors)
            return Reply(200, None)
        return handler

    def add_provider(self, res, name, implementation, enable=True, priority=1, tags=(), **values):
        """Store a resource directly (as if made by hand in the UI), bypassing every check."""
        item = self.template(res, implementation)
        item.pop("presets", None)
        item.update(name=name, tags=sorted(tags))
        if res == "downloadclient":
            item.update(enable=enable, priority=priority)
        for f in item["fields"]:
            if f["name"] in values:
                f["value"] = values[f["name"]]
        return copy.deepcopy(self._insert(res, item))

    def secret(self, res, name, field_name):
        """The secret stored in a resource's field, in clear (for tests)."""
        for item in self.store.get(res, {}).values():
            if item["name"] == name:
                return self.values(item).get(field_name)
        raise KeyError(name)

    # -- connection tests ---------------------------------------------------------
    HOST = re.compile(r"^[-_a-z0-9.]+$", re.IGNORECASE)

    def notification_checks(self, item, values):
        """MediaBrowserSettings.cs:13-17 and PlexServerSettings.cs:13-16 (Radarr v6.0.3.10276; Lidarr checks no
        mapping), with RuleBuilderExtensions.cs:28-45's host and URL base rules."""
        errors = []
        impl = item["implementation"]
        if impl not in ("MediaBrowser", "PlexServer"):
            return errors
        host = values.get("host") or ""
        try:
            ipaddress.ip_address(host)
            valid = True
        except ValueError:
            valid = bool(self.HOST.match(host))
        if not host:
            errors.append(failure("Host", "'Host' must not be empty.", host))
        elif not valid:
            errors.append(failure("Host", "must be valid Host without http://", host))
        if impl == "MediaBrowser":
            if not values.get("apiKey"):
                errors.append(failure("ApiKey", "'Api Key' must not be empty.", values.get("apiKey")))
            if re.match(r"^/?https?://[-_a-z0-9.]+", values.get("urlBase") or "", re.IGNORECASE):
                errors.append(failure("UrlBase", "Must be a valid URL path (ie: '/radarr')", values.get("urlBase")))
        if "mapFrom" in values and bool(values.get("mapFrom")) != bool(values.get("mapTo")):
            prop = "MapTo" if values.get("mapFrom") else "MapFrom"
            errors.append(failure(prop, "'%s' must not be empty." % prop.replace("Map", "Map "), None))
        return errors

    def connection_test(self, res, item):
        impl = item["implementation"]
        values = self.values(item)
        try:
            if res == "notification":
                return self._test_notification(impl, values)
            if res == "downloadclient":
                return getattr(self, "_test_" + impl.lower())(values)
            if res == "applications":
                return self._test_application(impl, values)
            if res == "indexerproxy" and impl == "FlareSolverr":
                _http("GET", values.get("host") or "")
            return []
        except Unreachable as exc:
            label = {"QBittorrent": "qBittorrent", "Sabnzbd": "SABnzbd", "Nzbget": "NZBGet"}.get(impl, impl)
            if res == "applications":
                return [failure("BaseUrl", "Unable to complete application test, cannot connect to %s" % impl,
                                values.get("baseUrl"), detail=str(exc))]
            return [failure("Host", "Unable to connect to %s" % label, values.get("host"),
                            detail="Please verify the hostname and port. %s" % exc)]

    def _test_notification(self, impl, values):
        """What the media servers' notifications test (docs/upstream-facts.md): Emby / Jellyfin posts a message
        to /Notifications/Admin with X-MediaBrowser-Token (MediaBrowserProxy.cs:23-51, Lidarr under /mediabrowser)
        and fails only on 401 or no answer (MediaBrowserService.cs:58-80); Plex lists the server's libraries with
        the token in the query and needs one of the app's type (PlexServerService.cs:151-183)."""
        if impl == "MediaBrowser":
            path = ("/mediabrowser" if self.kind == "lidarr" else "") + "/Notifications/Admin"
            url = self._client_url(values, path)
            headers = {"X-MediaBrowser-Token": values.get("apiKey") or "", "Content-Type": "application/json"}
            self.media_server_calls.append(("POST", url, headers))
            try:
                resp = _http("POST", url, headers=headers, json={
                    "name": "Test from %s" % self.name,
                    "description": "Success! MediaBrowser has been successfully configured!"})
            except Unreachable as exc:
                return [failure("Host", "Unable to send test message: %s" % exc, values.get("host"))]
            if resp.status_code == 401:
                return [failure("ApiKey", "API Key is invalid", MASK)]
            return []
        if impl == "PlexServer":
            if not values.get("authToken"):
                # Ping(authToken) uses the token as a cache key and throws on an empty one: a 500, not a failure.
                raise HttpError(500, {"message": "Value cannot be null or whitespace. (Parameter 'key')"})
            url = self._client_url(values, "/library/sections")
            self.media_server_calls.append(("GET", url, {}))
            try:
                resp = _http("GET", url, params={"X-Plex-Token": values["authToken"], "X-Plex-Product": self.name},
                             headers={"Accept": "application/json"})
            except Unreachable as exc:
                return [failure("Host", "Unable to connect to Plex Media Server", values.get("host"), detail=str(exc))]
            if resp.status_code == 401:
                return [failure("AuthToken", "Authentication Token is invalid", None)]
            kind, label = {"radarr": ("movie", "Movie"), "sonarr": ("show", "TV"), "lidarr": ("artist", "Music")}[self.kind]
            sections = ((resp.json() if resp.status_code == 200 else {}).get("MediaContainer") or {}).get("Directory") or []
            if not any(d.get("type") == kind for d in sections):
                return [failure("Host", "At least one %s library is required" % label, None)]
            return []
        return []

    @staticmethod
    def _client_url(values, path):
        scheme = "https" if values.get("useSsl") else "http"
        base = "/" + (values.get("urlBase") or "").strip("/")
        return "%s://%s:%s%s%s" % (scheme, values.get("host"), values.get("port"), base.rstrip("/"), path)

    def _test_qbittorrent(self, values):
        url = self._client_url(values, "/api/v2/auth/login")
        origin = self._client_url(values, "")
        resp = _http("POST", url, data={"username": values.get("username") or "", "password": values.get("password") or ""},
                     headers={"Referer": origin})
        if resp.status_code == 403:
            return [failure("Username", "Authentication failure", values.get("username"),
                            detail="qBittorrent has banned this address after too many failed logins")]
        if resp.status_code != 200 or resp.text.strip() != "Ok.":
            return [failure("Username", "Authentication failure", values.get("username"),
                            detail="Please verify your username and password.")]
        return []

    def _test_transmission(self, values):
        url = self._client_url(values, "/rpc") if values.get("urlBase") else self._client_url(values, "/transmission/rpc")
        auth = (values.get("username") or "", values.get("password") or "")
        resp = _http("POST", url, json={"method": "session-get"}, auth=auth)
        if resp.status_code == 409:
            resp = _http("POST", url, json={"method": "session-get"}, auth=auth,
                         headers={"X-Transmission-Session-Id": resp.headers.get("X-Transmission-Session-Id", "")})
        if resp.status_code == 401:
            return [failure("Username", "Authentication failure", values.get("username"))]
        if resp.status_code != 200:
            return [failure("Host", "Unable to connect to Transmission", values.get("host"),
                            detail="Transmission answered %d" % resp.status_code)]
        return []

    def _test_nzbget(self, values):
        url = self._client_url(values, "/jsonrpc")
        resp = _http("POST", url, json={"method": "version", "params": [], "id": 1},
                     auth=(values.get("username") or "", values.get("password") or ""))
        if resp.status_code == 401:
            return [failure("Username", "Authentication failed", values.get("username"))]
        if resp.status_code != 200:
            return [failure("Host", "Unable to connect to NZBGet", values.get("host"))]
        return []

    def _test_sabnzbd(self, values):
        url = self._client_url(values, "/api")
        resp = _http("GET", url, params={"mode": "get_config", "apikey": values.get("apiKey") or "", "output": "json"})
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200:
            return [failure("Host", "Unable to connect to SABnzbd", values.get("host"))]
        if isinstance(body, dict) and "api key" in str(body.get("error", "")).lower():
            return [failure("APIKey", "API Key Incorrect", None)]
        return []

    def _test_application(self, impl, values):
        root = "/api/v1" if impl in ("Lidarr", "Readarr") else "/api/v3"
        resp = _http("GET", (values.get("baseUrl") or "").rstrip("/") + root + "/system/status",
                     headers={"X-Api-Key": values.get("apiKey") or ""})
        if resp.status_code == 401:
            return [failure("ApiKey", "API Key is invalid", None, detail="Unauthorized: API key is invalid")]
        if resp.status_code != 200:
            return [failure("BaseUrl", "Unable to complete application test, cannot connect to %s" % impl,
                            values.get("baseUrl"), detail="%s answered %d" % (impl, resp.status_code))]
        return []

    # -- host config and the UI login -------------------------------------------------
    # Upstream (Radarr v6.0.3.10276; Sonarr v4.0.19.2979, Lidarr v2.14.5.4836 and Prowlarr
    # v2.3.5.5327 have the same code at nearby lines):
    # - ConfigFileProvider.cs:201-233: the method and the requirement come from the environment
    #   (AuthOptions, section "<App>:Auth", case-sensitive enum names) when it parses, else from
    #   config.xml, defaulting to None and Enabled. Radarr 6 and Prowlarr turn Basic into Forms.
    # - ConfigFileProvider.cs:131-159: a save writes only the keys whose value differs (ApiKey never).
    # - HostConfigController.cs:98-111: GET returns the user's name and its stored *hash* as
    #   "password", and an empty passwordConfirmation.
    # - HostConfigController.cs:43-53 and 76-91: Forms needs a username and a password; the
    #   confirmation must match unless the password sent is the stored hash.
    # - HostConfigController.cs:113-129 and UserService.cs:61-78: with both set, the user is
    #   upserted - rehashed only when the password sent differs from the stored hash - and always
    #   updated; the answer (202) is the host config read again (RestController.cs:143-147).
    # - UserService.cs:26-28, 125-160: PBKDF2-HMAC-SHA512, 10000 iterations, 16-byte random
    #   salt, 32-byte key, base64; names stored lower-case (UserService.cs:48, 75).
    # - AuthenticationController.cs:35-43 and AuthenticationService.cs:21-47: POST /login
    #   (form) redirects to ~/login?...&loginFailed=true on failure, to the URL base on success;
    #   the method is read once, when the service is first built: None then means every sign-in fails.
    ENUM_NAMES = {"none": "None", "basic": "Basic", "forms": "Forms", "external": "External",
                  "enabled": "Enabled", "disabledforlocaladdresses": "DisabledForLocalAddresses"}

    def _basic_is_forms(self):
        return self.kind in ("radarr", "prowlarr")

    def auth_method(self):
        """The effective AuthenticationMethod, as the API spells it (camelCase)."""
        env = self.auth_env["method"]
        value = env if env in ("None", "Basic", "Forms", "External") else self.config_xml.get("AuthenticationMethod", "none")
        value = value.lower()
        if value == "basic" and self._basic_is_forms():
            return "forms"
        return value

    def auth_required(self):
        env = self.auth_env["required"]
        if env in ("Enabled", "DisabledForLocalAddresses"):
            return env[:1].lower() + env[1:]
        value = self.config_xml.get("AuthenticationRequired", "Enabled")
        return "disabledForLocalAddresses" if value.lower() == "disabledforlocaladdresses" else "enabled"

    def host_config(self):
        ports = {"radarr": 9898, "sonarr": 9898, "lidarr": 6868, "prowlarr": 6969}
        out = {"id": 1, "bindAddress": "*", "port": APPS[self.kind]["port"], "sslPort": ports[self.kind],
               "enableSsl": False, "launchBrowser": True, "authenticationMethod": self.auth_method(),
               "authenticationRequired": self.auth_required(), "analyticsEnabled": True,
               "username": self.user["username"] if self.user else "",
               "password": self.user["password"] if self.user else "", "passwordConfirmation": "",
               "logLevel": "debug", "logSizeLimit": 1, "consoleLogLevel": "", "branch": "master",
               "apiKey": self.api_key, "sslCertPath": "", "sslCertPassword": "", "urlBase": self.url_base,
               "instanceName": self.name, "applicationUrl": "", "updateAutomatically": False,
               "updateMechanism": "docker", "updateScriptPath": "", "proxyEnabled": False, "proxyType": "http",
               "proxyHostname": "", "proxyPort": 8080, "proxyUsername": "", "proxyPassword": "",
               "proxyBypassFilter": "", "proxyBypassLocalAddresses": True, "certificateValidation": "enabled",
               "backupFolder": "Backups", "backupInterval": 7, "backupRetention": 28,
               "trustCgnatIpAddresses": False}
        if self.kind == "prowlarr":
            out["historyCleanupDays"] = 365
        return out

    @staticmethod
    def hash_password(password, salt, iterations=10000):
        return base64.b64encode(hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, 32)).decode()

    def set_user(self, username, password):
        """Store the UI user directly (as UserService.Add does), bypassing the API."""
        salt = os.urandom(16)
        self.user = {"username": username.lower(), "salt": base64.b64encode(salt).decode(), "iterations": 10000,
                     "password": self.hash_password(password, salt)}
        self.user_writes += 1

    def password_is(self, password):
        """True when ``password`` is the stored user's password (for tests)."""
        if not self.user:
            return False
        salt = base64.b64decode(self.user["salt"])
        return self.hash_password(password, salt, self.user["iterations"]) == self.user["password"]

    def ui_auth(self):
        """What a browser meets: method, requirement and user name (None without a user)."""
        return {"method": self.auth_method(), "required": self.auth_required(),
                "username": self.user["username"] if self.user else None}

    def save_host_config(self, req):
        body = req.json
        if not isinstance(body, dict):
            raise HttpError(400, {"message": "A resource object is required"})
        method = str(body.get("authenticationMethod") or "none").lower()
        username, password = body.get("username") or "", body.get("password") or ""
        errors = []
        needs_user = ("forms",) if self._basic_is_forms() else ("forms", "basic")
        if method in needs_user and not username.strip():
            errors.append(failure("Username", "'Username' must not be empty.", username))
        if method in needs_user and not password.strip():
            errors.append(failure("Password", "'Password' must not be empty.", password))
        if method == "basic" and self._basic_is_forms():
            errors.append(failure("AuthenticationMethod", "'Basic' is no longer supported, switch to 'Forms' instead.",
                                  method))
        matching = (self.user and self.user["password"] == password) or password == (body.get("passwordConfirmation") or "")
        if not matching:
            errors.append(failure("PasswordConfirmation", "Must match Password", body.get("passwordConfirmation")))
        if errors:
            return Reply(400, errors)
        wanted = {"AuthenticationMethod": (method, self.auth_method()),
                  "AuthenticationRequired": (str(body.get("authenticationRequired") or "enabled"), self.auth_required())}
        for key, (value, current) in wanted.items():
            if value.lower() != current.lower():
                self.config_xml[key] = self.ENUM_NAMES.get(value.lower(), value)
                self.config_writes.append(key)
        if username.strip() and password.strip():
            if self.user is None:
                self.set_user(username, password)
            else:
                if self.user["password"] != password:
                    salt = os.urandom(16)
                    self.user.update(salt=base64.b64encode(salt).decode(), iterations=10000,
                                     password=self.hash_password(password, salt))
                self.user["username"] = username.lower()
                self.user_writes += 1
        return Reply(202, self.host_config())

    def login(self, req):
        form = dict(parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
        if self._login_method is None:
            self._login_method = self.auth_method()
        base = self.url_base.rstrip("/")
        ok = (self._login_method != "none" and self.user is not None
              and (form.get("username") or "").lower() == self.user["username"]
              and self.password_is(form.get("password") or ""))
        location = base + "/" if ok else base + "/login?returnUrl=&loginFailed=true"
        return Reply(302, None, headers={"Location": location})

    # -- root folders ----------------------------------------------------------------
    def root_folder_view(self, item):
        out = dict(item)
        path = out["path"]
        out["accessible"] = os.path.isdir(path)
        try:
            stat = os.statvfs(path)
            out["freeSpace"] = stat.f_bavail * stat.f_frsize
            if self.kind == "lidarr":
                out["totalSpace"] = stat.f_blocks * stat.f_frsize
        except OSError:
            out["freeSpace"] = None
        if self.kind != "lidarr":
            out["unmappedFolders"] = []
        return out

    def root_folder_checks(self, item, existing_id=None):
        path = item.get("path") or ""
        norm = path.rstrip("/") or "/"
        if not path or not os.path.isabs(path):
            return [failure("Path", "Invalid Path: '%s'" % path, path)]
        others = [f for f in self.store.get("rootfolder", {}).values() if f["id"] != existing_id]
        for other in others:
            if other["path"].rstrip("/") == norm:
                return [failure("Path", "Path is already configured as a root folder", path)]
        for other in others:
            o = other["path"].rstrip("/")
            if norm.startswith(o + "/") or o.startswith(norm + "/"):
                return [failure("Path", "Path '%s' is a parent or child of root folder '%s'" % (path, other["path"]), path)]
        if not os.path.isdir(path):
            return [failure("Path", "Path '%s' does not exist" % path, path)]
        if not os.access(path, os.W_OK):
            return [failure("Path", "Folder '%s' is not writable by user '%s'" % (path, os.environ.get("USER", "root")), path)]
        return []

    def lidarr_checks(self, item, existing_id=None):
        errors = []
        name = item.get("name")
        if not name:
            errors.append(failure("Name", "'Name' must not be empty.", name))
        for other in self.store.get("rootfolder", {}).values():
            if other["id"] != existing_id and name and other["name"].casefold() == name.casefold():
                errors.append(failure("Name", "Should be unique", name))
        if item.get("defaultQualityProfileId") not in self.store["qualityprofile"]:
            errors.append(failure("DefaultQualityProfileId", "Quality profile does not exist",
                                  item.get("defaultQualityProfileId")))
        if item.get("defaultMetadataProfileId") not in self.store["metadataprofile"]:
            errors.append(failure("DefaultMetadataProfileId", "Metadata profile does not exist",
                                  item.get("defaultMetadataProfileId")))
        return errors

    def root_folder_model(self, body):
        if not isinstance(body, dict):
            raise HttpError(400, {"message": "A resource object is required"})
        item = {"path": body.get("path")}
        if self.kind == "lidarr":
            item.update(name=body.get("name"), defaultQualityProfileId=body.get("defaultQualityProfileId", 0),
                        defaultMetadataProfileId=body.get("defaultMetadataProfileId", 0),
                        defaultMonitorOption=body.get("defaultMonitorOption", "all"),
                        defaultNewItemMonitorOption=body.get("defaultNewItemMonitorOption", "all"),
                        defaultTags=sorted(set(body.get("defaultTags") or [])))
        return item

    def create_root_folder(self, req):
        item = self.root_folder_model(req.json)
        errors = self.root_folder_checks(item) + (self.lidarr_checks(item) if self.kind == "lidarr" else [])
        if errors:
            return Reply(400, errors)
        return Reply(201, self.root_folder_view(self._insert("rootfolder", item)))

    def update_root_folder(self, req):
        existing = self._get("rootfolder", req)
        item = self.root_folder_model(req.json)
        errors = []
        if item["path"] != existing["path"]:
            errors = self.root_folder_checks(item, existing["id"])
        errors += self.lidarr_checks(item, existing["id"])
        if errors:
            return Reply(400, errors)
        item["id"] = existing["id"]
        self.store["rootfolder"][existing["id"]] = item
        return Reply(202, self.root_folder_view(item))


def main(argv=None):
    def options(parser):
        parser.add_argument("--app", choices=sorted(APPS), required=True)
        parser.add_argument("--api-key", required=True)
        parser.add_argument("--version", dest="app_version", help="X-Application-Version to announce")

    return run_cli(lambda args: ServarrDouble(args.app, api_key=args.api_key, version=args.app_version), argv,
                   description="Test double of a Servarr app's API", add_arguments=options)


if __name__ == "__main__":
    sys.exit(main())
