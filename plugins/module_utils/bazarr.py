# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bazarr's settings API: its links to Radarr and Sonarr."""

from __future__ import annotations

from ._module import client_from_module, link_groups, new_module, require_api_key, run_links_module, run_reconciler
from ._reconcile import HIDDEN, MASK, Reconciler

KINDS = {"radarr": ("Radarr", 7878), "sonarr": ("Sonarr", 8989)}


def bazarr_module(argument_spec):
    module = new_module(argument_spec)
    require_api_key(module, "Settings > General > Security > API Key")
    return module


class BazarrSession:
    """The client of one run, and Bazarr's settings, read once (again after a write)."""

    def __init__(self, module, client=None):
        self.client = client or client_from_module(module, "Bazarr", headers={"X-API-KEY": module.params["api_key"]})
        self._settings = None

    def settings(self):
        if self._settings is None:
            self._settings = self.client.get("/api/system/settings") or {}
        return self._settings

    def save(self, form):
        self._settings = None
        self.client.request("POST", "/api/system/settings", data=form)

    def close(self):
        self.client.close()


class ConnectionReconciler(Reconciler):
    """The Radarr or Sonarr section of Bazarr's settings, and its ``use_<kind>`` switch."""

    result_key = "connection"
    secret_keys = ("api_key",)

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.kind = self.params["kind"]
        self.settings = None

    def fetch(self):
        self.settings = self.session.settings()
        section = self.settings.get(self.kind) or {}
        return {"enabled": bool((self.settings.get("general") or {}).get("use_" + self.kind)),
                "host": section.get("ip"), "port": int(section.get("port") or 0),
                "base_url": section.get("base_url") or "/", "use_ssl": bool(section.get("ssl")),
                "api_key": section.get("apikey") or ""}

    def plan(self):
        plan = super().plan()
        if self.params["state"] == "absent":
            # "absent" switches the link off; the settings stay for the user to switch it on again.
            current = plan.before
            if not current["enabled"]:
                plan.action, plan.after = None, current
            else:
                plan.action, plan.after = "update", dict(current, enabled=False)
                plan.changes = ["enabled"]
        return plan

    def build(self, current):
        wanted = dict(current)
        wanted["enabled"] = self.params["enabled"]
        for option in ("host", "port", "use_ssl"):
            if self.params.get(option) is not None:
                wanted[option] = self.params[option]
        if self.params.get("base_url") is not None:
            wanted["base_url"] = "/" + self.params["base_url"].strip("/")
        key = self.params.get("app_api_key")
        stored = current.get("api_key")
        if key and (stored in ("", None) or (stored not in (MASK, HIDDEN) and stored != key)
                    or self.params["update_secrets"]):
            wanted["api_key"] = key
        return wanted

    def compare(self, current, wanted):
        found = [k for k in ("enabled", "host", "port", "base_url", "use_ssl") if current.get(k) != wanted.get(k)]
        if wanted.get("api_key") != current.get("api_key") or (
                self.params["update_secrets"] and self.params.get("app_api_key")):
            found.append("api_key")
        return found

    def update(self, current, wanted):
        form = {"settings-general-use_%s" % self.kind: "true" if wanted["enabled"] else "false"}
        if self.params["state"] == "present":
            prefix = "settings-%s-" % self.kind
            form.update({prefix + "ip": wanted["host"], prefix + "port": str(wanted["port"]),
                         prefix + "base_url": wanted["base_url"], prefix + "ssl": "true" if wanted["use_ssl"] else "false"})
            if self.params.get("app_api_key") and (wanted["api_key"] != current.get("api_key")
                                                   or self.params["update_secrets"]):
                form[prefix + "apikey"] = wanted["api_key"]
        self.session.save(form)
        return wanted

    def create(self, wanted):  # pragma: no cover - the sections always exist
        return self.update({}, wanted)

    def remove(self, current):  # pragma: no cover - "absent" is an update (see plan)
        return None


def run_connection(module):
    run_reconciler(module, BazarrSession, lambda session: ConnectionReconciler(module, session))


def connection_spec():
    return {
        "kind": {"type": "str", "required": True, "choices": ["radarr", "sonarr"]},
        "host": {"type": "str"},
        "port": {"type": "int"},
        "base_url": {"type": "str"},
        "use_ssl": {"type": "bool"},
        "app_api_key": {"type": "str", "no_log": True},
        "update_secrets": {"type": "bool", "default": False},
        "enabled": {"type": "bool", "default": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


LINK_RECONCILERS = {"connections": (ConnectionReconciler, lambda p: "%s connection" % p["kind"])}


def run_links(module):
    """Bazarr's Radarr and Sonarr connections in one session, its settings read once."""
    run_links_module(module, BazarrSession,
                     lambda session: link_groups(module, session, "bazarr_links", LINK_RECONCILERS))
