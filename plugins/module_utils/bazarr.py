# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bazarr's settings API: its links to Radarr and Sonarr."""

from __future__ import annotations

from ._module import client_from_module, new_module, require_api_key, run
from ._reconcile import HIDDEN, MASK, Reconciler

KINDS = {"radarr": ("Radarr", 7878), "sonarr": ("Sonarr", 8989)}


def bazarr_module(argument_spec):
    module = new_module(argument_spec)
    require_api_key(module, "Settings > General > Security > API Key")
    return module


class ConnectionReconciler(Reconciler):
    """The Radarr or Sonarr section of Bazarr's settings, and its ``use_<kind>`` switch."""

    result_key = "connection"
    secret_keys = ("api_key",)

    def __init__(self, module, client):
        super().__init__(module)
        self.client = client
        self.kind = module.params["kind"]
        self.settings = None

    def fetch(self):
        self.settings = self.client.get("/api/system/settings") or {}
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
        self.client.request("POST", "/api/system/settings", data=form)
        return wanted

    def create(self, wanted):  # pragma: no cover - the sections always exist
        return self.update({}, wanted)

    def remove(self, current):  # pragma: no cover - "absent" is an update (see plan)
        return None


def run_connection(module):
    def body():
        with client_from_module(module, "Bazarr", headers={"X-API-KEY": module.params["api_key"]}) as client:
            ConnectionReconciler(module, client).run()
    run(module, body)
