# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""qBittorrent's WebUI API v2: a logged-in session, categories and preferences."""

from __future__ import annotations

import hashlib
import json
import os

from ._http import ApiError
from ._module import client_from_module, link_groups, new_module, run_links_module, run_reconciler
from ._reconcile import Reconciler, differences, redact

#: Preferences qBittorrent accepts but never returns, so that no run could tell whether they differ.
WRITE_ONLY_PREFERENCES = ("web_ui_password",)
#: Preferences that are secrets: hidden in results and diffs.
SECRET_PREFERENCES = ("web_ui_password", "proxy_password", "mail_notification_password", "dyndns_password")


def connection_spec():
    return {
        "username": {"type": "str", "default": "admin"},
        "password": {"type": "str", "no_log": True, "required": True},
        "session_cache": {"type": "path", "default": "~/.cache/arrkestra/qbittorrent"},
    }


def qbittorrent_module(argument_spec):
    spec = dict(connection_spec())
    spec.update(argument_spec)
    return new_module(spec)


class QBittorrentSession:
    """A logged-in WebUI session; every request carries the Referer/Origin its CSRF check wants."""

    def __init__(self, module, client=None):
        url = module.params["url"].rstrip("/")
        self.client = client or client_from_module(module, "qBittorrent", headers={"Referer": url, "Origin": url})
        self._categories = None
        self.username = module.params["username"]
        self.cache = _session_file(module.params.get("session_cache"), url, self.username, module.params["password"])
        if not self._resume():
            self._login(module.params["password"])
            self._keep()

    def _resume(self):
        """Use the session of an earlier sign-in while qBittorrent still knows it: no sign-in request at all."""
        try:
            with open(self.cache, encoding="ascii") as handle:
                name, dummy, value = handle.read().strip().partition("=")
        except (OSError, TypeError, ValueError):
            return False
        if not (name and value):
            return False
        self.client.cookies.set(name, value)
        if self.client.request("GET", "/api/v2/app/version", expect=(401, 403)).status == 200:
            return True
        self.client.cookies.clear()
        return False

    def _keep(self):
        """Keep the session for the next task and the next run: a file only the controller's user can read.

        The session is the one cookie the sign-in set, whatever its name: ``SID`` by default, or the WebAPI session
        cookie name of qBittorrent's settings (src/webui/webapplication.cpp:73, 174-182 at release-5.1.2)."""
        session = [(c.name, c.value) for c in self.client.cookies.jar]
        if not (self.cache and len(session) == 1):
            return
        try:
            os.makedirs(os.path.dirname(self.cache), mode=0o700, exist_ok=True)
            fd = os.open(self.cache + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write("%s=%s" % session[0])
            os.replace(self.cache + ".tmp", self.cache)
        except OSError:
            pass    # no cache: the next task signs in again

    def _login(self, password):
        resp = self.client.request("POST", "/api/v2/auth/login", data={"username": self.username, "password": password},
                                   expect=(403,))
        if resp.status == 403:
            raise ApiError("qBittorrent at %s refused to let this address log in (403): it bans an address after too "
                           "many failed logins." % self.client.base_url,
                           hint="Wait for the ban to expire (WebUI\\BanDuration) or restart qBittorrent, then check "
                                "`username` and `password`.", status=403)
        if (resp.text or "").strip() != "Ok.":
            raise ApiError("qBittorrent at %s refused the login of user %r: wrong username or password (it answered "
                           "%r)." % (self.client.base_url, self.username, (resp.text or "").strip()[:40]),
                           hint="Give the WebUI user and password qBittorrent has (WebUI\\Username and "
                                "WebUI\\Password_PBKDF2 in qBittorrent.conf; the apps phase sets them).")

    def categories(self):
        """The categories, read once per run (again after a write)."""
        if self._categories is None:
            self._categories = self.client.get("/api/v2/torrents/categories") or {}
        return self._categories

    def preferences(self):
        return self.client.get("/api/v2/app/preferences") or {}

    def post_form(self, path, data):
        self._categories = None
        return self.client.request("POST", path, data=data).body

    def close(self):
        self.client.close()


def _session_file(directory, url, username, password):
    """Where the session of ``username`` at ``url`` is kept (None: not kept); another password, another file, so a
    wrong password is never hidden behind a session that still works."""
    if not directory:
        return None
    name = hashlib.sha256(("%s\n%s\n%s" % (url, username, password)).encode("utf-8")).hexdigest()[:32]
    return os.path.join(os.path.expanduser(directory), name)


def _norm_path(path):
    return path.rstrip("/") if path and path != "/" else path


class CategoryReconciler(Reconciler):
    """A category, by name (qBittorrent compares category names exactly)."""

    result_key = "category"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.name = self.params["name"]

    def fetch(self):
        found = self.session.categories().get(self.name)
        if found is None:
            return None
        return {"name": self.name, "save_path": _norm_path(found.get("savePath") or "")}

    def build(self, current):
        wanted = dict(current or {"name": self.name, "save_path": ""})
        if self.params.get("save_path") is not None:
            wanted["save_path"] = _norm_path(self.params["save_path"])
        return wanted

    def create(self, wanted):
        self.session.post_form("/api/v2/torrents/createCategory", {"category": self.name, "savePath": wanted["save_path"]})
        return wanted

    def update(self, current, wanted):
        self.session.post_form("/api/v2/torrents/editCategory", {"category": self.name, "savePath": wanted["save_path"]})
        return wanted

    def remove(self, current):
        self.session.post_form("/api/v2/torrents/removeCategories", {"categories": self.name})


class PreferencesReconciler(Reconciler):
    """The application preferences: only the keys the task names are compared and sent."""

    result_key = "preferences"
    secret_keys = SECRET_PREFERENCES

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.wanted = self.params["preferences"]
        self._all = None

    def fetch(self):
        self._all = self.session.preferences()
        unknown = sorted(k for k in self.wanted if k not in self._all and k not in WRITE_ONLY_PREFERENCES)
        if unknown:
            raise ApiError("qBittorrent %s has no preference %s." % (self.session.client.app_version or "",
                                                                     ", ".join(unknown)),
                           hint="Names are those of GET /api/v2/app/preferences, for example save_path, "
                                "temp_path_enabled, max_ratio, listen_port; check the spelling and the version.")
        write_only = sorted(k for k in self.wanted if k in WRITE_ONLY_PREFERENCES)
        if write_only:
            raise ApiError("qBittorrent never returns %s, so the module cannot tell whether it differs and would "
                           "change it on every run." % ", ".join(write_only),
                           hint="Set the WebUI password before the first start in qBittorrent.conf "
                                "(WebUI\\Password_PBKDF2), as the apps phase does.")
        return dict((k, self._all[k]) for k in self.wanted)

    def build(self, current):
        return dict(self.wanted)

    def compare(self, current, wanted):
        return differences(current, wanted)

    def update(self, current, wanted):
        changed = dict((k, v) for k, v in wanted.items() if current.get(k) != v)
        self.session.post_form("/api/v2/app/setPreferences", {"json": json.dumps(changed)})
        return wanted

    def create(self, wanted):  # pragma: no cover - preferences always exist
        return self.update({}, wanted)

    def remove(self, current):  # pragma: no cover - preferences cannot be deleted
        raise ApiError("qBittorrent preferences cannot be deleted.")

    def present_view(self, resource):
        return redact(resource, self.secret_keys)


def run_with_session(module, make):
    run_reconciler(module, QBittorrentSession, lambda session: make(module, session))


# -- qbittorrent_category and qbittorrent_links -------------------------------------------
def category_spec():
    return {
        "name": {"type": "str", "required": True},
        "save_path": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


LINK_RECONCILERS = {"categories": (CategoryReconciler, lambda p: "category %s" % p["name"])}


def run_links(module):
    """Every category in one session, the categories read once."""
    run_links_module(module, QBittorrentSession,
                     lambda session: link_groups(module, session, "qbittorrent_links", LINK_RECONCILERS))
