# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SABnzbd's API: ``/api?mode=...&apikey=...&output=json``, and its categories."""

from __future__ import annotations

from ._http import ApiError
from ._module import client_from_module, link_groups, new_module, require_api_key, run_links_module, run_reconciler
from ._reconcile import Reconciler

PRIORITIES = {"default": -100, "paused": -2, "low": -1, "normal": 0, "high": 1, "force": 2}
POST_PROCESSING = {"default": "", "download": "0", "repair": "1", "unpack": "2", "delete": "3"}


def sabnzbd_module(argument_spec):
    module = new_module(argument_spec)
    require_api_key(module, "Config > General > Security > API Key")
    return module


class SabnzbdSession:
    """Calls of one run. SABnzbd 4.5 refuses a request with ``403`` and a line of text (a Host it does not know, a
    missing or wrong API key, an address outside ``inet_exposure``); a mode that fails answers HTTP 200 with
    ``status: false``."""

    def __init__(self, module, client=None):
        self.client = client or client_from_module(module, "SABnzbd")
        self.api_key = module.params["api_key"]
        self._categories = None

    def call(self, mode, **args):
        if mode != "get_config":
            self._categories = None     # a write: read them again
        params = dict(args, mode=mode, output="json", apikey=self.api_key)
        resp = self.client.request("GET", "/api", params=params, expect=(403,))
        if resp.status == 403:
            self._refused(mode, str(resp.body or "").strip())
        body = resp.body
        if isinstance(body, dict) and body.get("status") is False:
            error = body.get("error") or "unknown error"
            hint = None
            if "API Key" in error:
                hint = "Give the API key SABnzbd has (Config > General > Security; the apps phase writes it to sabnzbd.ini)."
            raise ApiError("SABnzbd refused mode=%s%s: %s" % (
                mode, " for %r" % args["keyword"] if args.get("keyword") else "", error), hint=hint)
        if not isinstance(body, dict):
            raise ApiError("SABnzbd at %s answered mode=%s with something that is not JSON: %r"
                           % (self.client.base_url, mode, str(body)[:80]),
                           hint="Check that `url` points at SABnzbd (including its URL base).")
        return body

    def _refused(self, mode, text):
        hint = None
        if "API Key" in text:
            hint = "Give the API key SABnzbd has (Config > General > Security; the apps phase writes it to sabnzbd.ini)."
        elif "Hostname verification" in text:
            hint = ("SABnzbd accepts only an IP address, localhost, a name ending in .local or a name in [misc] "
                    "host_whitelist of sabnzbd.ini (comma-separated, compared without the port): add %s there, "
                    "or use an IP address in `url`." % self.client.base_url.split("://", 1)[-1].split("/")[0]
                    .rsplit(":", 1)[0])
        elif "access denied" in text.lower():
            hint = ("SABnzbd answers only local addresses ([misc] inet_exposure = 0): call it from a private "
                    "address or set local_ranges / inet_exposure in sabnzbd.ini.")
        raise ApiError("SABnzbd refused mode=%s (403): %s" % (mode, text or "no reason given"), hint=hint, status=403)

    def categories(self):
        """The categories, read once per run (again after a write)."""
        if self._categories is None:
            self._categories = self.call("get_config", section="categories").get("config", {}).get("categories", [])
        return self._categories

    def close(self):
        self.client.close()


class CategoryReconciler(Reconciler):
    """A category, by name (SABnzbd stores names in lower case)."""

    result_key = "category"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.name = self.params["name"].strip().lower()

    def fetch(self):
        found = next((c for c in self.session.categories() if str(c.get("name", "")).lower() == self.name), None)
        return self._view(found) if found else None

    @staticmethod
    def _view(raw):
        priority = dict((v, k) for k, v in PRIORITIES.items()).get(int(raw.get("priority", -100)), str(raw.get("priority")))
        pp = dict((v, k) for k, v in POST_PROCESSING.items()).get(str(raw.get("pp", "")), str(raw.get("pp")))
        return {"name": raw["name"], "dir": raw.get("dir", ""), "priority": priority, "pp": pp,
                "script": raw.get("script", "Default")}

    def build(self, current):
        wanted = dict(current or {"name": self.name, "dir": "", "priority": "default", "pp": "default",
                                  "script": "Default"})
        for key in ("dir", "priority", "pp", "script"):
            if self.params.get(key) is not None:
                wanted[key] = self.params[key].rstrip("/") if key == "dir" and self.params[key] != "/" else self.params[key]
        return wanted

    def _send(self, wanted):
        self.session.call("set_config", section="categories", keyword=self.name, dir=wanted["dir"],
                          priority=PRIORITIES[wanted["priority"]], pp=POST_PROCESSING[wanted["pp"]],
                          script=wanted["script"])
        return wanted

    def create(self, wanted):
        return self._send(wanted)

    def update(self, current, wanted):
        return self._send(wanted)

    def remove(self, current):
        self.session.call("del_config", section="categories", keyword=self.name)


def check_category_name(module, name):
    if name.strip() == "*":
        module.fail_json(msg="The category '*' is SABnzbd's default; it cannot be managed by name. "
                             "Give the categories of the apps instead (radarr, sonarr, ...).")


def run_category(module):
    check_category_name(module, module.params["name"])
    run_reconciler(module, SabnzbdSession, lambda session: CategoryReconciler(module, session))


def category_spec():
    return {
        "name": {"type": "str", "required": True},
        "dir": {"type": "str"},
        "priority": {"type": "str", "choices": list(PRIORITIES)},
        "pp": {"type": "str", "choices": list(POST_PROCESSING)},
        "script": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


LINK_RECONCILERS = {"categories": (CategoryReconciler, lambda p: "category %s" % p["name"])}


def run_links(module):
    """Every category in one session, the categories read once."""
    for item in module.params["categories"]:
        check_category_name(module, item["name"])
    run_links_module(module, SabnzbdSession,
                     lambda session: link_groups(module, session, "sabnzbd_links", LINK_RECONCILERS))
