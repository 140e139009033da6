# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Seerr's API (v3, successor of Jellyseerr and Overseerr): setup with Jellyfin, Radarr/Sonarr services."""

from __future__ import annotations

from ._http import ApiError
from ._module import client_from_module, link_groups, new_module, require_api_key, run_links_module, run_reconciler
from ._reconcile import Reconciler, find_by_name

JELLYFIN = 2   # Seerr's serverType for Jellyfin
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
class SetupReconciler(Reconciler):
    """Initialisation with Jellyfin (once) and the libraries Seerr scans (checked every run)."""

    result_key = "setup"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.client = session.client
        self.signed_in = False

    def _sign_in(self, with_server):
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

    # Seerr 3.1.0, server/routes/settings/index.ts: GET /settings/jellyfin (270-274) only reads the settings,
    # libraries included; GET /settings/jellyfin/library (333-394) *saves* on every call: ``?sync`` replaces the
    # list with Jellyfin's, then every library whose id is not in ``?enable=`` is disabled - no ``enable`` at all
    # disables them all. So read through the first, and call the second only to change something.
    def _libraries(self):
        return (self.client.get("/settings/jellyfin") or {}).get("libraries") or []

    def _set_libraries(self, ids, sync=False):
        params = {"sync": "true"} if sync else {}
        if ids:
            params["enable"] = ",".join(ids)
        return self.client.get("/settings/jellyfin/library", params=params) or []

    def fetch(self):
        initialized = bool((self.client.get("/settings/public") or {}).get("initialized"))
        state = {"initialized": initialized, "libraries": []}
        if initialized:
            if not self.params.get("api_key"):
                self._sign_in(with_server=False)
            state["libraries"] = sorted(l["name"] for l in self._libraries() if l.get("enabled"))
        return state

    def build(self, current):
        return {"initialized": True, "libraries": sorted(self.params["libraries"])}

    def compare(self, current, wanted):
        found = [] if current["initialized"] else ["initialized"]
        if set(wanted["libraries"]) - set(current["libraries"]):
            found.append("libraries")
        return found

    def _enable(self, names):
        """Enable ``names`` besides the libraries enabled already (the module never disables one)."""
        libraries = self._libraries()
        enabled = [l["id"] for l in libraries if l.get("enabled")]
        if not set(names) <= set(l["name"] for l in libraries):
            # Learn Jellyfin's libraries; the ones enabled now are named again so that the sync keeps them.
            libraries = self._set_libraries(enabled, sync=True)
        missing = sorted(set(names) - set(l["name"] for l in libraries))
        if missing:
            raise ApiError("Jellyfin has no movie or show library named %s (it has: %s)." % (
                ", ".join(missing), ", ".join(sorted(l["name"] for l in libraries)) or "none"),
                hint="Create the libraries in Jellyfin first (jellyfin_library); Seerr lists only movie and show libraries.")
        ids = [l["id"] for l in libraries if l["name"] in names or l.get("enabled")]
        if set(ids) != set(l["id"] for l in libraries if l.get("enabled")):
            self._set_libraries(ids)

    def update(self, current, wanted):
        if not current["initialized"]:
            self._sign_in(with_server=True)
            self._enable(wanted["libraries"])
            self.client.post("/settings/initialize")
        else:
            self._enable(wanted["libraries"])
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
    return {
        "jellyfin_hostname": {"type": "str", "required": True},
        "jellyfin_port": {"type": "int", "default": 8096},
        "jellyfin_use_ssl": {"type": "bool", "default": False},
        "jellyfin_url_base": {"type": "str", "default": ""},
        "jellyfin_username": {"type": "str", "required": True},
        "jellyfin_password": {"type": "str", "required": True, "no_log": True},
        "email": {"type": "str", "required": True},
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
    "setup": (_setup_with_key, lambda p: "set up with Jellyfin"),
    "services": (ServiceReconciler, lambda p: "%s %s" % (p["kind"], p["name"])),
}


def run_links(module):
    """The setup with Jellyfin, then the Radarr and Sonarr servers, in one session, each read once. Without
    Seerr's key (given or made by the setup), the servers wait: in check mode before the setup."""
    def skip(name, result):
        return name == "services" and not module.params.get("api_key") and not (result.get("setup") or {}).get("api_key")

    def finish(result):
        key = (result.get("setup") or {}).get("api_key")
        if key:
            result["api_key"] = key
    run_links_module(module, SeerrSession,
                     lambda session: link_groups(module, session, "seerr_links", LINK_RECONCILERS), skip, finish)
