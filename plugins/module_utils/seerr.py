# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seerr's API (v3, successor of Jellyseerr and Overseerr): setup with Jellyfin or Plex, Radarr/Sonarr services."""

from __future__ import annotations

from ._http import ApiError
from ._module import client_from_module, link_groups, new_module, require_api_key, run_links_module, run_reconciler
from ._reconcile import Reconciler, find_by_name

# Seerr 3.1.0's settings.main.mediaServerType (server/constants/server.ts:1-6): NOT_CONFIGURED until the first
# sign-in with a media server chooses one for good.
PLEX, JELLYFIN, EMBY, NOT_CONFIGURED = 1, 2, 3, 4
#: media_server -> (its name, Seerr's mediaServerType, the options a setup with it needs)
MEDIA_SERVERS = {
    "jellyfin": ("Jellyfin", JELLYFIN, ("jellyfin_hostname", "jellyfin_username", "jellyfin_password", "email")),
    "plex": ("Plex", PLEX, ("plex_hostname", "plex_token")),
}
SERVICE_FIELDS = {
    # option -> Seerr's field
    "name": "name", "hostname": "hostname", "port": "port", "use_ssl": "useSsl", "base_url": "baseUrl",
    "is_4k": "is4k", "is_default": "isDefault", "root_folder": "activeDirectory", "quality_profile": "activeProfileName",
    "minimum_availability": "minimumAvailability", "enable_season_folders": "enableSeasonFolders",
    "sync_enabled": "syncEnabled", "prevent_search": "preventSearch", "external_url": "externalUrl",
}


def seerr_client(module):
    headers = {"X-Api-Key": module.params["api_key"]} if module.params.get("api_key") else {}
    return client_from_module(module, "Seerr", api_root="/api/v1", headers=headers)


class SeerrSession:
    """The client of one run (its cookie keeps a sign-in), and Seerr's services, read once per kind."""

    def __init__(self, module, client=None):
        self.client = client or seerr_client(module)
        self._services = {}

    def use_key(self, api_key):
        self.client.headers["X-Api-Key"] = api_key

    def services(self, kind):
        if kind not in self._services:
            self._services[kind] = self.client.get("/settings/%s" % kind) or []
        return self._services[kind]

    def forget(self, kind):
        self._services.pop(kind, None)

    def close(self):
        self.client.close()


# -- setup -------------------------------------------------------------------------------
def media_server(params):
    """The media server of a setup: ``media_server``, else Plex when a Plex host or token is given, else Jellyfin."""
    if params.get("media_server"):
        return params["media_server"]
    return "plex" if params.get("plex_hostname") or params.get("plex_token") else "jellyfin"


def check_setup(params):
    """The media server of a setup whose options say it: those it needs given, none of the other server's."""
    server = media_server(params)
    title, dummy, needs = MEDIA_SERVERS[server]
    missing = [o for o in needs if not params.get(o)]
    if missing:
        raise ApiError("Seerr set up with %s needs %s; missing: %s." % (title, ", ".join(needs), ", ".join(missing)),
                       hint="Give them, or `media_server` for the server Seerr is set up with.")
    others = [o for name, (dummy, dummy2, options) in sorted(MEDIA_SERVERS.items()) if name != server
              for o in options if o != "email" and params.get(o)]
    if others:
        raise ApiError("Seerr is set up with one media server; %s is for %s, not %s." % (
            ", ".join(others), "Plex" if server == "jellyfin" else "Jellyfin", title),
            hint="Leave out the options of the other server, or set `media_server`.")
    return server


def _said(body):
    """Seerr's own words in an error body: ``message`` (its error handler, server/index.ts:250-261), or ``error``
    (the answers a route writes itself, server/routes/auth.ts:66)."""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or "")
    return str(body or "")


class SetupReconciler(Reconciler):
    """Initialisation with Jellyfin or Plex (once), Plex's address (checked every run) and the libraries Seerr scans
    (checked every run)."""

    result_key = "setup"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.client = session.client
        self.signed_in = False
        self.server = check_setup(self.params)
        self.title, self.server_type = MEDIA_SERVERS[self.server][:2]

    def _sign_in(self, with_server):
        if self.server == "plex":
            self._sign_in_plex()
            return
        p = self.params
        body = {"username": p["jellyfin_username"], "password": p["jellyfin_password"], "email": p["email"]}
        if with_server:
            body.update(hostname=p["jellyfin_hostname"], port=p["jellyfin_port"], useSsl=p["jellyfin_use_ssl"],
                        urlBase=p["jellyfin_url_base"] or "", serverType=JELLYFIN)
        resp = self.client.request("POST", "/auth/jellyfin", json_body=body, expect=(401, 403))
        if resp.status in (401, 403):
            raise ApiError("Seerr could not sign in to Jellyfin as %r (%d): wrong user name or password%s." % (
                p["jellyfin_username"], resp.status, "" if with_server else ", or the user may not use Seerr"),
                hint="Give the Jellyfin administrator the wizard made (jellyfin_startup).", status=resp.status)
        self.signed_in = True

    # Seerr 3.1.0, server/routes/auth.ts:49-220: POST /auth/plex asks plex.tv for the token's account; on an empty
    # database that account becomes the admin (with plex.tv's token for it) and Plex the media server, for good.
    def _sign_in_plex(self):
        resp = self.client.request("POST", "/auth/plex", json_body={"authToken": self.params["plex_token"]},
                                   expect=(403, 500))
        said = _said(resp.body)
        if resp.status == 500 and "disabled" in said:       # auth.ts:61-67
            raise ApiError("Seerr refused the sign-in with Plex (500: %s): its sign-in with the media server is turned "
                           "off, or it is set up with another media server." % said,
                           hint="Give `api_key` (Seerr's key, which the apps phase writes into its settings): the "
                                "module then needs no sign-in.", status=500)
        if resp.status == 403:                              # auth.ts:185-200
            raise ApiError("Seerr refused the plex.tv account (403: %s): it is not the account Seerr was set up with, "
                           "nor one that shares its Plex server." % said,
                           hint="Give the plex.tv token of the account that owns the Plex server.", status=403)
        if resp.status == 500:                              # auth.ts:209-218: plex.tv did not give the account
            raise ApiError("Seerr could not sign in with the plex.tv token (500: %s): plex.tv did not accept the "
                           "token, or Seerr cannot reach plex.tv." % said,
                           hint="Give the token of the plex.tv account that owns the Plex server (the Plex sign-in, "
                                "playbooks/plex_signin.yml, keeps it); Seerr asks https://plex.tv for the account, so "
                                "it needs a way out to the internet.", status=500)
        self.signed_in = True

    def _check_media_server(self, kind):
        """Seerr keeps the media server of its first sign-in (auth.ts:61-67, 240-250): another one is an error."""
        names = {PLEX: "Plex", JELLYFIN: "Jellyfin", EMBY: "Emby"}
        if kind in names and kind != self.server_type and not (self.server == "jellyfin" and kind == EMBY):
            raise ApiError("Seerr is set up with %s, not %s: its media server is chosen for good at the first "
                           "sign-in." % (names[kind], self.title),
                           hint="Give this Seerr the options of %s, or start it afresh (without its settings.json and "
                                "database) to set it up with %s." % (names[kind], self.title))

    # Seerr 3.1.0, server/routes/settings/index.ts: GET /settings/<server> (Jellyfin 270-274, Plex 112-116) only
    # reads the settings, libraries included; GET /settings/<server>/library (Jellyfin 333-394, Plex 232-255) *saves*
    # on every call: ``?sync`` replaces the list with the server's, then every library whose id is not in
    # ``?enable=`` is disabled - no ``enable`` at all disables them all. So read through the first, and call the
    # second only to change something.
    def _settings(self):
        return self.client.get("/settings/%s" % self.server) or {}

    def _libraries(self):
        return self._settings().get("libraries") or []

    def _set_libraries(self, ids, sync=False):
        params = {"sync": "true"} if sync else {}
        if ids:
            params["enable"] = ",".join(ids)
        return self.client.get("/settings/%s/library" % self.server, params=params) or []

    @staticmethod
    def _address(settings):
        """Where Seerr reaches Plex (settings.plex: ip, port, useSsl; server/lib/settings/index.ts:30-38)."""
        if not settings.get("ip"):
            return None
        return {"hostname": settings["ip"], "port": settings.get("port"), "use_ssl": bool(settings.get("useSsl"))}

    def fetch(self):
        public = self.client.get("/settings/public") or {}
        self._check_media_server(public.get("mediaServerType"))
        initialized = bool(public.get("initialized"))
        state = {"media_server": self.server, "initialized": initialized, "libraries": []}
        if self.server == "plex":
            state["server"] = None
        if initialized:
            if not self.params.get("api_key"):
                self._sign_in(with_server=False)
            settings = self._settings()
            state["libraries"] = sorted(l["name"] for l in settings.get("libraries") or [] if l.get("enabled"))
            if self.server == "plex":
                state["server"] = self._address(settings)
        return state

    def build(self, current):
        wanted = {"media_server": self.server, "initialized": True, "libraries": sorted(self.params["libraries"])}
        if self.server == "plex":
            p = self.params
            wanted["server"] = {"hostname": p["plex_hostname"], "port": p["plex_port"], "use_ssl": p["plex_use_ssl"]}
        return wanted

    def compare(self, current, wanted):
        found = [] if current["initialized"] else ["initialized"]
        if self.server == "plex" and current.get("server") != wanted["server"]:
            found.append("server")
        if set(wanted["libraries"]) - set(current["libraries"]):
            found.append("libraries")
        return found

    def _enable(self, names):
        """Enable ``names`` besides the libraries enabled already (the module never disables one)."""
        libraries = self._libraries()
        enabled = [l["id"] for l in libraries if l.get("enabled")]
        if not set(names) <= set(l["name"] for l in libraries):
            # Learn the server's libraries; the ones enabled now are named again so that the sync keeps them.
            libraries = self._set_libraries(enabled, sync=True)
        missing = sorted(set(names) - set(l["name"] for l in libraries))
        if missing:
            if self.server == "plex":
                hint = ("Create the libraries in Plex first (plex_links); Seerr lists only movie and show libraries "
                        "that have a metadata agent. None at all can also mean that Seerr could not read Plex's "
                        "libraries with the token of its plex.tv account.")
            else:
                hint = "Create the libraries in Jellyfin first (jellyfin_library); Seerr lists only movie and show libraries."
            raise ApiError("%s has no movie or show library named %s (it has: %s)." % (
                self.title, ", ".join(missing), ", ".join(sorted(l["name"] for l in libraries)) or "none"), hint=hint)
        ids = [l["id"] for l in libraries if l["name"] in names or l.get("enabled")]
        if set(ids) != set(l["id"] for l in libraries if l.get("enabled")):
            self._set_libraries(ids)

    # Seerr 3.1.0, server/routes/settings/index.ts:118-153: POST /settings/plex lays the body over settings.plex,
    # then asks Plex (GET /, with the admin's plex.tv token) for its machine id; "Unable to connect to Plex." when
    # that fails.
    def _connect(self, server):
        body = {"ip": server["hostname"], "port": server["port"], "useSsl": server["use_ssl"]}
        try:
            self.client.post("/settings/plex", body)
        except ApiError as exc:
            if exc.status != 500:
                raise
            raise ApiError("Seerr cannot reach Plex at %s://%s:%s (500: %s)" % (
                "https" if server["use_ssl"] else "http", server["hostname"], server["port"],
                _said(exc.details) or exc.message),
                hint="The host must be reachable from Seerr (an in-cluster service name such as "
                     "plex.media.svc.cluster.local), not from the controller; check `plex_port` and `plex_use_ssl`. "
                     "Seerr calls Plex with the token of its plex.tv account: a claimed server takes its owner's.",
                status=exc.status)

    def update(self, current, wanted):
        if self.server == "plex":
            if not current["initialized"]:
                self._sign_in_plex()        # before it, Seerr has no admin: its API key opens nothing
            if not current["initialized"] or current["server"] != wanted["server"]:
                self._connect(wanted["server"])
        elif not current["initialized"]:
            self._sign_in(with_server=True)
        self._enable(wanted["libraries"])
        if not current["initialized"]:
            self.client.post("/settings/initialize")
        return wanted

    def create(self, wanted):  # pragma: no cover - the setup state always exists
        return self.update(None, wanted)

    def remove(self, current):  # pragma: no cover - no state: absent
        return None

    def reconcile(self):
        plan = self.plan()
        after = self.apply(plan) or plan.after
        self.result.update(changed=plan.changed, changes=plan.changes, setup=after)
        if self.module._diff:
            self.result["diff"] = {"before": plan.before, "after": plan.after}
        if not self.module.check_mode or not plan.changed:
            self.result["api_key"] = self.params.get("api_key") or (
                self.client.get("/settings/main") or {}).get("apiKey")
        elif self.params.get("api_key"):
            self.result["api_key"] = self.params["api_key"]
        if self.result.get("api_key") and not self.params.get("api_key"):
            self.session.use_key(self.result["api_key"])     # what follows in the session calls with Seerr's key
        return self.result


def run_setup(module):
    run_reconciler(module, SeerrSession, lambda session: SetupReconciler(module, session))


# -- services ------------------------------------------------------------------------------
class ServiceReconciler(Reconciler):
    """A Radarr or Sonarr server of Seerr, found by name, then by host and port: Seerr's POST always appends."""

    result_key = "service"
    secret_keys = ("apiKey",)

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.client = session.client
        self.kind = self.params["kind"]
        self.title = self.kind.title()

    def fetch(self):
        services = self.session.services(self.kind)
        p = self.params
        found = find_by_name(services, p["name"])
        if found is None and p.get("hostname"):
            found = next((s for s in services if str(s.get("hostname", "")).lower() == p["hostname"].lower()
                          and s.get("port") == p.get("port") and bool(s.get("is4k")) == bool(p.get("is_4k"))), None)
        return found

    def _test(self, wanted):
        body = {"hostname": wanted["hostname"], "port": wanted["port"], "apiKey": wanted["apiKey"],
                "useSsl": wanted["useSsl"], "baseUrl": wanted.get("baseUrl") or ""}
        try:
            return self.client.post("/settings/%s/test" % self.kind, body) or {}
        except ApiError as exc:
            raise ApiError("Seerr cannot reach %s at %s:%s: %s" % (self.title, wanted["hostname"], wanted["port"],
                                                                   exc.message.split(": ", 1)[-1]),
                           hint="The host must be reachable from Seerr (an in-cluster service name such as "
                                "%s.media.svc.cluster.local), not from the controller; check the port and `app_api_key`."
                           % self.kind, status=exc.status)

    def build(self, current):
        p = self.params
        wanted = dict(current or {"name": p["name"], "hostname": None, "port": None, "apiKey": "", "useSsl": False,
                                  "baseUrl": "", "activeProfileId": None, "activeProfileName": None,
                                  "activeDirectory": None, "is4k": False, "isDefault": False, "externalUrl": "",
                                  "syncEnabled": False, "preventSearch": False})
        if self.kind == "radarr":
            wanted.setdefault("minimumAvailability", "released")
        else:
            wanted.setdefault("enableSeasonFolders", True)
            wanted.setdefault("activeLanguageProfileId", 1)
        for option, field in SERVICE_FIELDS.items():
            if p.get(option) is not None and (option not in ("minimum_availability",) or self.kind == "radarr") \
                    and (option != "enable_season_folders" or self.kind == "sonarr"):
                wanted[field] = p[option]
        if p.get("app_api_key"):
            wanted["apiKey"] = p["app_api_key"]
        missing = [o for o, f in (("hostname", "hostname"), ("port", "port"), ("app_api_key", "apiKey"))
                   if not wanted.get(f)]
        if missing:
            raise ApiError("Seerr's %s %r needs %s." % (self.title, p["name"], ", ".join(missing)))
        needs_test = current is None or any(current.get(f) != wanted.get(f) for f in (
            "hostname", "port", "apiKey", "useSsl", "baseUrl", "activeProfileName", "activeDirectory"))
        if needs_test:
            self._resolve(wanted)
        return wanted

    def _resolve(self, wanted):
        """Profile id by name and root folder by path, from what the service itself has (Seerr's test)."""
        found = self._test(wanted)
        profiles, folders = found.get("profiles") or [], [f["path"] for f in found.get("rootFolders") or []]
        name = wanted.get("activeProfileName")
        profile = find_by_name(profiles, name) if name else (profiles[0] if profiles else None)
        if profile is None:
            raise ApiError("%s has no quality profile %r (it has: %s)." % (
                self.title, name, ", ".join(p["name"] for p in profiles) or "none"),
                hint="Give `quality_profile` by one of these names, or leave it out for the first one.")
        wanted["activeProfileId"], wanted["activeProfileName"] = profile["id"], profile["name"]
        directory = wanted.get("activeDirectory")
        if directory is None and folders:
            wanted["activeDirectory"] = folders[0]
        elif directory is None or directory.rstrip("/") not in [f.rstrip("/") for f in folders]:
            if self.module.check_mode:
                # An earlier task of the same run may be about to make it (the wiring phase does).
                self.module.warn("%s has no root folder %r yet; in check mode the module assumes an earlier task "
                                 "makes it." % (self.title, directory))
                return
            raise ApiError("%s has no root folder %r (it has: %s)." % (self.title, directory, ", ".join(folders) or "none"),
                           hint="Add the root folder to %s first (the wiring phase does), or give one of these."
                           % self.title)

    def compare(self, current, wanted):
        return sorted(k for k in wanted if k != "id" and current.get(k) != wanted[k])

    @staticmethod
    def _body(wanted):
        return dict((k, v) for k, v in wanted.items() if k != "id")   # read-only in Seerr's API

    def create(self, wanted):
        self.session.forget(self.kind)
        return self.client.post("/settings/%s" % self.kind, self._body(wanted))

    def update(self, current, wanted):
        self.session.forget(self.kind)
        return self.client.put("/settings/%s/%s" % (self.kind, current["id"]), self._body(wanted))

    def remove(self, current):
        self.session.forget(self.kind)
        self.client.delete("/settings/%s/%s" % (self.kind, current["id"]))


def run_service(module):
    require_api_key(module, "Settings > General > API Key, or the api_key seerr_setup returns")
    run_reconciler(module, SeerrSession, lambda session: ServiceReconciler(module, session))


def setup_module(argument_spec):
    return new_module(argument_spec)


# -- the modules' options, and seerr_links ---------------------------------------------------
def setup_spec():
    """The options of the setup; which are required depends on the media server (:func:`check_setup`)."""
    return {
        "media_server": {"type": "str", "choices": ["jellyfin", "plex"]},
        "jellyfin_hostname": {"type": "str"},
        "jellyfin_port": {"type": "int", "default": 8096},
        "jellyfin_use_ssl": {"type": "bool", "default": False},
        "jellyfin_url_base": {"type": "str", "default": ""},
        "jellyfin_username": {"type": "str"},
        "jellyfin_password": {"type": "str", "no_log": True},
        "email": {"type": "str"},
        "plex_hostname": {"type": "str"},
        "plex_port": {"type": "int", "default": 32400},
        "plex_use_ssl": {"type": "bool", "default": False},
        "plex_token": {"type": "str", "no_log": True},
        "libraries": {"type": "list", "elements": "str", "default": []},
    }


def service_spec():
    return {
        "kind": {"type": "str", "required": True, "choices": ["radarr", "sonarr"]},
        "name": {"type": "str", "required": True},
        "hostname": {"type": "str"},
        "port": {"type": "int"},
        "use_ssl": {"type": "bool"},
        "base_url": {"type": "str"},
        "app_api_key": {"type": "str", "no_log": True},
        "quality_profile": {"type": "str"},
        "root_folder": {"type": "str"},
        "is_4k": {"type": "bool"},
        "is_default": {"type": "bool"},
        "minimum_availability": {"type": "str", "choices": ["announced", "inCinemas", "released"]},
        "enable_season_folders": {"type": "bool"},
        "sync_enabled": {"type": "bool"},
        "prevent_search": {"type": "bool"},
        "external_url": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


def _setup_with_key(module, session, params):
    """The setup, with the key the module knows."""
    return SetupReconciler(module, session, dict(params, api_key=module.params.get("api_key")))


LINK_RECONCILERS = {
    "setup": (_setup_with_key, lambda p: "set up with %s" % MEDIA_SERVERS[media_server(p)][0]),
    "services": (ServiceReconciler, lambda p: "%s %s" % (p["kind"], p["name"])),
}


def run_links(module):
    """The setup with Jellyfin or Plex, then the Radarr and Sonarr servers, in one session, each read once. Without
    Seerr's key (given or made by the setup), the servers wait: in check mode before the setup. So they do in check
    mode on a Seerr still to set up: its key acts as user 1, and before the first sign-in there is none, so the key
    opens nothing (Seerr 3.1.0 server/middleware/auth.ts:13-34)."""
    def skip(name, result):
        setup = result.get("setup") or {}
        if name != "services":
            return False
        if module.check_mode and "initialized" in (setup.get("changes") or ()):
            return True
        return not module.params.get("api_key") and not setup.get("api_key")

    def finish(result):
        key = (result.get("setup") or {}).get("api_key")
        if key:
            result["api_key"] = key
    run_links_module(module, SeerrSession,
                     lambda session: link_groups(module, session, "seerr_links", LINK_RECONCILERS), skip, finish)
