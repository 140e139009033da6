# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Radarr, Sonarr, Lidarr, Readarr and Prowlarr: their provider resources, root folders and tags.

What differs between the apps is data (:data:`APPS`, :data:`CLIENT_OPTION_FIELDS`);
the work is done by three reconcilers on top of :mod:`._reconcile`:

- :class:`ProviderReconciler` - download clients, Prowlarr applications and
  indexer proxies: built from ``GET /<resource>/schema``, ``fields`` always
  sent complete, secrets recognised by the schema's ``privacy`` and never
  compared (they read back masked), tags by label, the app's own connection
  test (``verify``), ``forceSave`` only on request;
- :class:`RootFolderReconciler` - root folders (Lidarr's have a name and
  defaults);
- :class:`TagReconciler` - tags;
- :class:`AuthReconciler` - the UI login (``/config/host``: authentication
  method, requirement and the one user).

A :class:`ServarrSession` reads every collection at most once per run.
"""

from __future__ import annotations

import copy
import functools
import re

from . import link_table
from ._http import ApiError, default_error_parser
from ._module import client_from_module, new_module, require_api_key, run_in_session, run_links_module, run_reconciler
from ._reconcile import HIDDEN, MASK, Plan, Reconciler, find_by_name


class App:
    """What the collection knows of one Servarr app."""

    def __init__(self, key, title, api_version, media=None, port=None):
        self.key = key
        self.title = title
        self.api_version = api_version
        self.media = media  # field prefix of the download client's category (movieCategory...)
        self.port = port

    @property
    def api_root(self):
        return "/api/" + self.api_version

    @property
    def category_field(self):
        return self.media + "Category" if self.media else None


APPS = {
    "radarr": App("radarr", "Radarr", "v3", "movie", 7878),
    "sonarr": App("sonarr", "Sonarr", "v3", "tv", 8989),
    "lidarr": App("lidarr", "Lidarr", "v1", "music", 8686),
    "readarr": App("readarr", "Readarr", "v1", "book", 8787),
    "prowlarr": App("prowlarr", "Prowlarr", "v1", None, 9696),
}

SECRET_PRIVACY = ("password", "apiKey")

# Module option -> field name of the download client settings (None: the app's category field).
CLIENT_OPTION_FIELDS = {
    "host": "host", "port": "port", "url_base": "urlBase", "use_ssl": "useSsl",
    "username": "username", "password": "password", "client_api_key": "apiKey", "category": None,
}
CLIENT_TOP_LEVEL = {"enable": "enable", "priority": "priority",
                    "remove_completed": "removeCompletedDownloads", "remove_failed": "removeFailedDownloads"}

APPLICATION_OPTION_FIELDS = {"prowlarr_url": "prowlarrUrl", "base_url": "baseUrl", "app_api_key": "apiKey",
                             "sync_categories": "syncCategories"}
SYNC_LEVELS = {"disabled": "disabled", "add_only": "addOnly", "full_sync": "fullSync"}

PROXY_OPTION_FIELDS = {"host": "host", "request_timeout": "requestTimeout"}

# Module option -> field of the media servers' notifications (Emby / Jellyfin, Plex Media Server): the names of
# MediaBrowserSettings.cs and PlexServerSettings.cs (docs/upstream-facts.md); other implementations take `fields`.
NOTIFICATION_OPTION_FIELDS = {
    "host": "host", "port": "port", "use_ssl": "useSsl", "url_base": "urlBase", "server_api_key": "apiKey",
    "auth_token": "authToken", "update_library": "updateLibrary", "notify": "notify", "map_from": "mapFrom",
    "map_to": "mapTo",
}

AUTH_WORDS = ("authentic", "unauthori", "api key", "apikey", "password", "credentials")


# -- argument specs ------------------------------------------------------------
def provider_spec(implementation_default=None):
    """Options every provider module has."""
    return {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "implementation": {"type": "str", "default": implementation_default},
        "tags": {"type": "list", "elements": "str"},
        "fields": {"type": "dict"},
        "update_secrets": {"type": "bool", "default": False},
        "verify": {"type": "bool", "default": False},
        "force_save": {"type": "bool", "default": False},
    }


def notification_spec():
    spec = provider_spec()
    spec.update({
        "events": {"type": "list", "elements": "str"},
        "include_health_warnings": {"type": "bool"},
        "host": {"type": "str"},
        "port": {"type": "int"},
        "use_ssl": {"type": "bool"},
        "url_base": {"type": "str"},
        "server_api_key": {"type": "str", "no_log": True},
        "auth_token": {"type": "str", "no_log": True},
        "update_library": {"type": "bool"},
        "notify": {"type": "bool"},
        "map_from": {"type": "str"},
        "map_to": {"type": "str"},
    })
    return spec


def download_client_spec():
    spec = provider_spec()
    spec.update({
        "enable": {"type": "bool"},
        "priority": {"type": "int"},
        "remove_completed": {"type": "bool"},
        "remove_failed": {"type": "bool"},
        "host": {"type": "str"},
        "port": {"type": "int"},
        "url_base": {"type": "str"},
        "use_ssl": {"type": "bool"},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "client_api_key": {"type": "str", "no_log": True},
        "category": {"type": "str"},
    })
    return spec


# -- errors ----------------------------------------------------------------------
def servarr_error_parser(response):
    """``(message, details)`` of a Servarr error: the validation array verbatim, else the generic parser."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, list) and body and all(isinstance(item, dict) for item in body):
        return "; ".join(describe_failure(item) for item in body), body
    return default_error_parser(response)


def describe_failure(item):
    text = "%s: %s" % (item.get("propertyName") or "-", item.get("errorMessage") or "")
    if item.get("isWarning"):
        text += " (warning)"
    if item.get("detailedDescription"):
        text += " - %s" % item["detailedDescription"]
    return text


def is_auth_failure(failures, secret_fields=()):
    """True when the app's validation failures say the credentials are wrong."""
    secret = set(name.lower() for name in secret_fields) | {"username", "password", "apikey"}
    for item in failures or ():
        prop = str(item.get("propertyName") or "").lower()
        text = ("%s %s" % (item.get("errorMessage") or "", item.get("detailedDescription") or "")).lower()
        if prop in secret or any(word in text for word in AUTH_WORDS):
            return True
    return False


# -- session -----------------------------------------------------------------------
class ServarrSession:
    """One app, one run: an HttpClient and a cache of every collection read."""

    def __init__(self, module, app, client=None):
        self.module = module
        self.app = APPS[app] if isinstance(app, str) else app
        self.client = client or client_from_module(
            module, self.app.title, api_root=self.app.api_root,
            headers={"X-Api-Key": module.params["api_key"] or "", "Accept": "application/json"},
            error_parser=servarr_error_parser)
        self._cache = {}
        self._checked = False

    def get(self, path):
        """``GET path``, read once per run."""
        if path not in self._cache:
            try:
                self._cache[path] = self.client.get(path)
            except ApiError as exc:
                if exc.status == 404 and not self._checked:
                    raise self._explain_404(exc)
                raise
            self._checked = True
        return self._cache[path]

    def forget(self, path):
        self._cache.pop(path, None)

    def close(self):
        self.client.close()

    def _explain_404(self, exc):
        """A 404 on the first read: wrong URL, URL base or app? Ask ``GET /api`` which API it has."""
        self._checked = True
        try:
            info = self.client.get("/api", raw_path=True)
        except ApiError:
            info = None
        current = info.get("current") if isinstance(info, dict) else None
        if current and current != self.app.api_version:
            return ApiError(
                "The app at %s has API %s, not %s: it is not %s."
                % (self.client.base_url, current, self.app.api_version, self.app.title),
                hint="Check that `url` points at %s (Radarr and Sonarr use /api/v3; Lidarr, Readarr and "
                     "Prowlarr /api/v1)." % self.app.title, status=404)
        return ApiError(
            "%s answered 404 for %s%s: there is no %s API %s at %s." % (
                self.app.title, self.app.api_root, exc.url.rsplit(self.app.api_root, 1)[-1] if exc.url else "",
                self.app.title, self.app.api_version, self.client.base_url),
            hint="Check `url`, including the app's URL base (e.g. http://host:7878/radarr when %s runs "
                 "under /radarr)." % self.app.title, status=404, method=exc.method, url=exc.url)

    # tags ------------------------------------------------------------------------
    def tags(self):
        """The app's tags (the cached list itself: tags created during the run are added to it)."""
        if self.get("/tag") is None:
            self._cache["/tag"] = []
        return self._cache["/tag"]

    def tag_labels(self):
        return dict((tag["id"], tag["label"]) for tag in self.tags())

    def create_tag(self, label):
        tag = self.client.post("/tag", {"label": label})
        self.tags().append(tag)
        return tag


class TagResolver:
    """Tag labels to ids. Labels that do not exist get a placeholder id (< 0) until ``create_missing``."""

    def __init__(self, session):
        self.session = session
        self.pending = {}  # placeholder id -> label

    def ids(self, labels):
        if labels is None:
            return None
        out = []
        for label in labels:
            label = label.strip().lower()
            if not re.match(r"^[a-z0-9-]+$", label):
                raise ApiError("The tag %r is not valid: %s tags hold only a-z, 0-9 and -." % (label, self.session.app.title))
            found = find_by_name(self.session.tags(), label, key="label")
            if found:
                out.append(found["id"])
                continue
            for pid, plabel in self.pending.items():
                if plabel == label:
                    out.append(pid)
                    break
            else:
                pid = -(len(self.pending) + 1)
                self.pending[pid] = label
                out.append(pid)
        return sorted(set(out))

    def create_missing(self, ids):
        """``ids`` with every placeholder replaced by the id of a newly created tag."""
        real = []
        for tag_id in ids or ():
            if tag_id < 0:
                tag_id = self.session.create_tag(self.pending[tag_id])["id"]
            real.append(tag_id)
        return sorted(set(real))

    def labels(self, ids):
        known = self.session.tag_labels() if ids else {}
        return sorted(self.pending.get(i) or known.get(i, str(i)) for i in ids or ())


# -- field values ----------------------------------------------------------------------
def _norm(value):
    if value == "":
        return None
    if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
        return sorted(value, key=str)
    return value


def field_values(resource):
    return dict((f.get("name"), f.get("value")) for f in (resource or {}).get("fields") or [])


def secret_field_names(resource):
    return [f.get("name") for f in (resource or {}).get("fields") or [] if f.get("privacy") in SECRET_PRIVACY]


class ProviderReconciler(Reconciler):
    """A provider resource (download client, application, indexer proxy) of a Servarr app.

    :param resource: the API path (``downloadclient``, ``applications``, ``indexerproxy``).
    :param label: what users call it ("download client").
    :param option_fields: module option -> field name (None value: the app's category field).
    :param top_level: module option -> key of the resource.
    :param defaults: keys of a new resource when the module does not set them.
    """

    def __init__(self, module, session, resource, label, result_key, option_fields=None, top_level=None,
                 defaults=None, values=None, params=None):
        super().__init__(module, params)
        self.session = session
        self.app = session.app
        self.resource = "/" + resource
        self.label = label
        self.result_key = result_key
        self.top_level = top_level or {}
        self.defaults = defaults or {}
        self.tags = TagResolver(session)
        self.rewrite_secrets = bool(self.params.get("update_secrets"))
        self.template = None
        self.secret_names = ()
        wanted = {}
        for option, name in (option_fields or {}).items():
            if self.params.get(option) is not None:
                wanted[name or self.app.category_field] = self.params[option]
        wanted.update((values or {}))
        wanted.update(self.params.get("fields") or {})
        self.wanted_fields = wanted

    # reading -------------------------------------------------------------------------
    def schema_for(self, implementation):
        schema = self.session.get(self.resource + "/schema") or []
        wanted = (implementation or "").casefold()
        for item in schema:
            if wanted in (str(item.get("implementation")).casefold(), str(item.get("implementationName")).casefold()):
                return item
        valid = ", ".join(sorted(str(item.get("implementation")) for item in schema))
        if not implementation:
            raise ApiError("`implementation` is required to create the %s %r." % (self.label, self.params["name"]),
                           hint="%s offers: %s." % (self.app.title, valid))
        raise ApiError("%s has no %s implementation %r." % (self.app.title, self.label, implementation),
                       hint="Use one of: %s." % valid)

    def fetch(self):
        current = find_by_name(self.session.get(self.resource), self.params["name"])
        if current is not None and self.params.get("state") != "absent":
            implementation = self.params.get("implementation")
            if implementation and implementation.casefold() not in (
                    str(current.get("implementation")).casefold(), str(current.get("implementationName")).casefold()):
                raise ApiError(
                    "The %s %r exists in %s as %s, not %s."
                    % (self.label, current.get("name"), self.app.title, current.get("implementation"), implementation),
                    hint="A provider cannot change its implementation: delete it first (state: absent) "
                         "or choose another name.")
        return current

    # building ------------------------------------------------------------------------
    def build(self, current):
        if current is None:
            base = copy.deepcopy(self.schema_for(self.params.get("implementation")))
            for key in ("presets", "id", "message"):
                base.pop(key, None)
            base.update(self.defaults)
        else:
            base = copy.deepcopy(current)
        fields = base.get("fields") or []
        known = dict((f.get("name"), f) for f in fields)
        self.secret_names = secret_field_names(base)
        unknown = sorted(set(self.wanted_fields) - set(known))
        if unknown:
            raise ApiError("The %s %s of %s has no field %s." % (base.get("implementationName"), self.label,
                                                                 self.app.title, ", ".join(unknown)),
                           hint="Its fields are: %s." % ", ".join(sorted(known)))
        for name in self.secret_names:
            value = self.wanted_fields.get(name)
            if value == MASK:
                raise ApiError("The value given for the secret field %r is the mask %s sends back, not a secret."
                               % (name, self.app.title), hint="Give the real secret, or leave the option out.")
            if value not in (None, ""):
                self.module.no_log_values.add(str(value))
        for name, value in self.wanted_fields.items():
            f = known[name]
            if name in self.secret_names and current is not None and not self.rewrite_secrets:
                continue  # keep what is stored: the mask sent back by a PUT keeps the secret
            if value is None:
                f.pop("value", None)
            else:
                f["value"] = value
        if current is None:
            for f in fields:  # a POST never stores the mask
                if f.get("name") in self.secret_names and f.get("value") == MASK:
                    f.pop("value", None)
        base["name"] = self.params["name"]
        for option, key in self.top_level.items():
            value = self.params.get(option)
            if option == "sync_level" and value is not None:
                value = SYNC_LEVELS[value]
            if value is not None:
                base[key] = value
        tags = self.tags.ids(self.params.get("tags"))
        if tags is not None:
            base["tags"] = tags
        return base

    def compare(self, current, wanted):
        changes = []
        for key in ["name"] + sorted(set(self.top_level.values())):
            if key in wanted and wanted.get(key) != current.get(key):
                changes.append(key)
        if sorted(wanted.get("tags") or []) != sorted(current.get("tags") or []):
            changes.append("tags")
        have = field_values(current)
        for name, value in field_values(wanted).items():
            if name in self.secret_names:
                if self.rewrite_secrets and name in self.wanted_fields:
                    changes.append("fields.%s (secret, rewritten)" % name)
                continue
            if _norm(value) != _norm(have.get(name)):
                changes.append("fields." + name)
        return changes

    # verifying -----------------------------------------------------------------------
    def plan(self):
        plan = super().plan()
        if not self.params.get("verify") or self.params.get("state") == "absent" or plan.action == "create":
            return plan
        if self.rewrite_secrets:
            return plan  # the secrets are written anyway; the app tests them on save
        if self.module.check_mode:
            # The app's connection test is a POST: check mode sends none, and cannot tell whether a secret is stale.
            self.module.warn("%s: verify's connection test is a POST to the app, not sent in check mode"
                             % self.params.get("name"))
            return plan
        try:
            self.session.client.post(self.resource + "/test", plan.before)
            return plan
        except ApiError as exc:
            failures = exc.details if isinstance(exc.details, list) else None
            if exc.status != 400 or failures is None:
                raise
            given = [n for n in self.secret_names if self.wanted_fields.get(n) not in (None, "")]
            if is_auth_failure(failures, self.secret_names) and given:
                self.rewrite_secrets = True
                wanted = self.build(plan.before)
                return Plan("update", before=plan.before, after=wanted, changes=self.compare(plan.before, wanted))
            raise self.explain(exc, plan.before, verb="failed its connection test in")

    # writing -------------------------------------------------------------------------
    def _params(self):
        return {"forceSave": "true"} if self.params.get("force_save") else None

    def create(self, wanted):
        body = copy.deepcopy(wanted)
        body["tags"] = self.tags.create_missing(body.get("tags"))
        try:
            return self.session.client.post(self.resource, body, params=self._params())
        except ApiError as exc:
            raise self.explain(exc, body)

    def update(self, current, wanted):
        body = copy.deepcopy(wanted)
        body["tags"] = self.tags.create_missing(body.get("tags"))
        try:
            return self.session.client.put("%s/%s" % (self.resource, current["id"]), body, params=self._params())
        except ApiError as exc:
            raise self.explain(exc, body)

    def remove(self, current):
        self.session.client.delete("%s/%s" % (self.resource, current["id"]))

    def explain(self, exc, resource, verb="rejected"):
        """``exc`` with the resource named and a hint drawn from the app's validation failures."""
        failures = exc.details if isinstance(exc.details, list) else None
        if exc.status != 400 or not failures:
            return exc
        impl = resource.get("implementationName") or resource.get("implementation")
        said = "; ".join(describe_failure(f) for f in failures)
        message = "%s %s the %s %r (%s): %s" % (self.app.title, verb, self.label, resource.get("name"), impl, said)
        return ApiError(message, hint=self.hint(failures, resource), status=exc.status, details=failures,
                        method=exc.method, url=exc.url)

    def hint(self, failures, resource):
        values = field_values(resource)
        impl = resource.get("implementationName") or resource.get("implementation")
        first = failures[0]
        prop = str(first.get("propertyName") or "").lower()
        text = str(first.get("errorMessage") or "").lower()
        if all(f.get("isWarning") for f in failures):
            return ("%s only gave warnings: fix them, or set `force_save: true` to save anyway."
                    % self.app.title)
        if "unique" in text:
            return "Names are unique ignoring case: another %s already has this name." % self.label
        if prop in ("host", "baseurl") or "connect" in text:
            if "baseUrl" in values:
                where = values.get("baseUrl")
            else:
                where = "%s://%s:%s%s" % ("https" if values.get("useSsl") else "http", values.get("host"),
                                          values.get("port"), values.get("urlBase") or "")
            return ("%s cannot reach %s at %s - the address must be reachable from %s, not from the "
                    "controller (in a cluster, the service name of %s)."
                    % (self.app.title, impl, where, self.app.title, impl))
        if is_auth_failure(failures, self.secret_names):
            return ("%s reached %s but the credentials were refused: check them; if only the stored secret is "
                    "wrong, run with `update_secrets: true` or `verify: true`." % (self.app.title, impl))
        if prop == "priority":
            return "`priority` must be between 1 (highest) and 50."
        return "The messages above are %s's own; `fields` sets any field of the implementation." % self.app.title

    # showing -------------------------------------------------------------------------
    def present_view(self, resource):
        return provider_view(resource, self.tags, self.secret_names)


class NotificationReconciler(ProviderReconciler):
    """A notification ("Connect") of Radarr, Sonarr or Lidarr: a provider whose events are flags of the resource
    (``onDownload``, ``onRename``...). ``events`` names the ones that are on, as snake case words of the flags the
    app has (``download``, ``movie_file_delete``...); every other flag is off. The app's flags and the events each
    implementation acts on (``supportsOn*``) are read from the app, never listed here."""

    def __init__(self, module, session, params=None):
        super().__init__(module, session, "notification", "notification", "notification",
                         option_fields=NOTIFICATION_OPTION_FIELDS,
                         top_level={"include_health_warnings": "includeHealthWarnings"}, params=params)

    @staticmethod
    def flags(resource):
        return sorted(k for k in resource if re.match(r"^on[A-Z]", k))

    @staticmethod
    def event(flag):
        return re.sub(r"(?<!^)([A-Z])", r"_\1", flag[2:]).lower()

    def build(self, current):
        wanted = super().build(current)
        events = self.params.get("events")
        if events is None:
            return wanted
        flags = dict((self.event(f), f) for f in self.flags(wanted))
        unknown = sorted(set(events) - set(flags))
        if unknown:
            raise ApiError("%s has no notification event %s." % (self.app.title, ", ".join(unknown)),
                           hint="Its events: %s." % ", ".join(sorted(flags)))
        idle = sorted(e for e in events if wanted.get("supports" + flags[e][0].upper() + flags[e][1:]) is False)
        if idle:
            raise ApiError("The %s notification of %s does not act on %s." % (
                wanted.get("implementationName") or wanted.get("implementation"), self.app.title, ", ".join(idle)),
                hint="Leave them out of `events`: %s would store them and do nothing." % self.app.title)
        for event, flag in flags.items():
            wanted[flag] = event in events
        return wanted

    def compare(self, current, wanted):
        return super().compare(current, wanted) + [f for f in self.flags(wanted) if bool(wanted[f]) != bool(current.get(f))]

    def present_view(self, resource):
        view = provider_view(resource, self.tags, self.secret_names)
        view["events"] = [self.event(f) for f in self.flags(resource) if resource.get(f)]
        return dict((k, v) for k, v in view.items() if not re.match(r"^(on|supportsOn)[A-Z]", k))


def provider_view(resource, tags, secret_names=()):
    """A provider resource as results and diffs show it: its fields by name, secrets hidden, tags by label."""
    view = dict((k, v) for k, v in resource.items()
                if k not in ("fields", "presets", "message", "infoLink", "tags"))
    secrets = set(secret_field_names(resource)) | set(secret_names)
    view["fields"] = dict((name, HIDDEN if name in secrets and value not in (None, "") else value)
                          for name, value in sorted(field_values(resource).items()))
    view["tags"] = tags.labels(resource.get("tags"))
    return view


class RootFolderReconciler(Reconciler):
    """A root folder, found by path. Lidarr's also have a name and defaults for new artists."""

    result_key = "root_folder"
    LIDARR_OPTIONS = {"name": "name", "default_monitor": "defaultMonitorOption",
                      "default_new_item_monitor": "defaultNewItemMonitorOption"}

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.app = session.app
        self.lidarr = self.app.key == "lidarr"
        self.tags = TagResolver(session)

    def fetch(self):
        path = self.params["path"].rstrip("/") or "/"
        for item in self.session.get("/rootfolder") or []:
            if (item.get("path") or "").rstrip("/") == path:
                return item
        return None

    def _profile(self, kind, wanted):
        profiles = self.session.get("/%sprofile" % kind) or []
        if wanted is None:
            if not profiles:
                raise ApiError("Lidarr has no %s profile." % kind)
            return sorted(profiles, key=lambda p: p["id"])[0]["id"]
        found = find_by_name(profiles, str(wanted))
        if found is None and str(wanted).isdigit():
            found = next((p for p in profiles if p["id"] == int(wanted)), None)
        if found is None:
            raise ApiError("Lidarr has no %s profile %r." % (kind, wanted),
                           hint="Its %s profiles are: %s." % (kind, ", ".join(p["name"] for p in profiles)))
        return found["id"]

    def build(self, current):
        wanted = copy.deepcopy(current) if current else {"path": self.params["path"]}
        if not self.lidarr:
            return wanted
        if current is None and not self.params.get("name"):
            raise ApiError("Lidarr root folders need a `name`.")
        for option, key in self.LIDARR_OPTIONS.items():
            if self.params.get(option) is not None:
                wanted[key] = self.params[option]
        if current is None or self.params.get("quality_profile") is not None:
            wanted["defaultQualityProfileId"] = self._profile("quality", self.params.get("quality_profile"))
        if current is None or self.params.get("metadata_profile") is not None:
            wanted["defaultMetadataProfileId"] = self._profile("metadata", self.params.get("metadata_profile"))
        tags = self.tags.ids(self.params.get("default_tags"))
        if tags is not None:
            wanted["defaultTags"] = tags
        return wanted

    def compare(self, current, wanted):
        changes = [key for key in sorted(wanted) if key not in ("defaultTags",) and wanted.get(key) != current.get(key)]
        if sorted(wanted.get("defaultTags") or []) != sorted(current.get("defaultTags") or []):
            changes.append("defaultTags")
        return changes

    def _body(self, wanted):
        volatile = ("accessible", "freeSpace", "totalSpace", "unmappedFolders")
        body = dict((k, v) for k, v in wanted.items() if k not in volatile)
        if "defaultTags" in body:
            body["defaultTags"] = self.tags.create_missing(body["defaultTags"])
        return body

    def _explain(self, exc):
        failures = exc.details if isinstance(exc.details, list) else None
        if exc.status != 400 or not failures:
            return exc
        said = "; ".join(describe_failure(f) for f in failures)
        return ApiError("%s rejected the root folder %s: %s" % (self.app.title, self.params["path"], said),
                        hint="The path is checked by %s on its own filesystem (in its container), not on the "
                             "controller: it must exist there and be writable by the app." % self.app.title,
                        status=exc.status, details=failures, method=exc.method, url=exc.url)

    def create(self, wanted):
        try:
            return self.session.client.post("/rootfolder", self._body(wanted))
        except ApiError as exc:
            raise self._explain(exc)

    def update(self, current, wanted):
        if not self.lidarr:  # pragma: no cover - compare() finds nothing to update outside Lidarr
            raise ApiError("%s root folders cannot be changed, only added and deleted." % self.app.title)
        try:
            return self.session.client.put("/rootfolder/%s" % current["id"], self._body(wanted))
        except ApiError as exc:
            raise self._explain(exc)

    def remove(self, current):
        self.session.client.delete("/rootfolder/%s" % current["id"])

    def present_view(self, resource):
        view = dict((k, v) for k, v in resource.items() if k not in ("freeSpace", "totalSpace", "unmappedFolders"))
        if "defaultTags" in view:
            view["defaultTags"] = self.tags.labels(view["defaultTags"])
        return view


class TagReconciler(Reconciler):
    """A tag, by label (stored lower-case by the apps)."""

    result_key = "tag"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.label = self.params["label"].strip().lower()

    def fetch(self):
        return find_by_name(self.session.tags(), self.label, key="label")

    def build(self, current):
        return current or {"label": self.label}

    def create(self, wanted):
        return self.session.client.post("/tag", wanted)

    def update(self, current, wanted):  # pragma: no cover - a tag has nothing else to change
        return current

    def remove(self, current):
        self.session.client.delete("/tag/%s" % current["id"])


# -- entry points of the modules ----------------------------------------------------------
def servarr_module(argument_spec):
    """The AnsibleModule of a Servarr module; ``api_key`` is required, from the task or the environment."""
    module = new_module(argument_spec)
    require_api_key(module, "Settings > General > Security")
    return module


def _session_run(module, app, make):
    run_reconciler(module, lambda m: ServarrSession(m, app), make)


# -- one reconciler per kind of resource, for the modules and for servarr_links ----
def download_client_reconciler(module, session, params=None):
    return ProviderReconciler(
        module, session, "downloadclient", "download client", "download_client",
        option_fields=CLIENT_OPTION_FIELDS, top_level=CLIENT_TOP_LEVEL,
        defaults={"enable": True, "priority": 1}, params=params)


def application_reconciler(module, session, params=None):
    return ProviderReconciler(
        module, session, "applications", "application", "application",
        option_fields=APPLICATION_OPTION_FIELDS, top_level={"sync_level": "syncLevel"}, params=params)


def indexer_proxy_reconciler(module, session, params=None):
    params = module.params if params is None else params
    if params["state"] == "present" and not params.get("tags"):
        module.warn("The indexer proxy %r has no tags: Prowlarr uses a proxy only for indexers that share one of "
                    "its tags, so it applies to no indexer." % params["name"])
    return ProviderReconciler(
        module, session, "indexerproxy", "indexer proxy", "indexer_proxy", option_fields=PROXY_OPTION_FIELDS,
        params=params)


def notification_reconciler(module, session, params=None):
    return NotificationReconciler(module, session, params=params)


def run_notification(app, argument_spec):
    module = servarr_module(argument_spec)
    _session_run(module, app, lambda session: notification_reconciler(module, session))


def run_download_client(app, argument_spec):
    module = servarr_module(argument_spec)
    _session_run(module, app, lambda session: download_client_reconciler(module, session))


def run_root_folder(app, argument_spec):
    module = servarr_module(argument_spec)
    _session_run(module, app, lambda session: RootFolderReconciler(module, session))


def run_tag(app, argument_spec):
    module = servarr_module(argument_spec)
    _session_run(module, app, lambda session: TagReconciler(module, session))


def run_application(argument_spec):
    module = servarr_module(argument_spec)
    _session_run(module, "prowlarr", lambda session: application_reconciler(module, session))


def run_indexer_proxy(argument_spec):
    module = servarr_module(argument_spec)
    _session_run(module, "prowlarr", lambda session: indexer_proxy_reconciler(module, session))


# -- servarr_links: every link of one app, in one run --------------------------------------
# What servarr_links makes of each of its lists: the reconciler, and what the diff calls an item. The lists, their
# order (tags first, so that the other resources find the tags they name) and the apps that have each come from the
# link table.
LINK_RECONCILERS = {
    "tags": (TagReconciler, lambda p: "tag %s" % p["label"]),
    "root_folders": (RootFolderReconciler, lambda p: "root folder %s" % p["path"]),
    "download_clients": (download_client_reconciler, lambda p: "download client %s" % p["name"]),
    "notifications": (notification_reconciler, lambda p: "notification %s" % p["name"]),
    "applications": (application_reconciler, lambda p: "application %s" % p["name"]),
    "indexer_proxies": (indexer_proxy_reconciler, lambda p: "indexer proxy %s" % p["name"]),
}
LINK_LISTS = tuple((name,) + LINK_RECONCILERS[name] + (link_table.kinds_of(name, "servarr_links"),)
                   for name in link_table.groups(module_name="servarr_links"))


def links_spec():
    item = {"type": "list", "elements": "dict", "default": []}
    login = dict((k, v) for k, v in auth_spec().items() if k != "app")
    return {
        "app": {"type": "str", "required": True, "choices": sorted(k for k in APPS if k != "readarr")},
        "auth": {"type": "dict", "options": login, "required_together": [("username", "password")],
                 "required_if": [("method", "forms", ("username", "password"))]},
        "tags": dict(item, options=tag_spec()),
        "root_folders": dict(item, options=root_folder_spec("lidarr")),
        "download_clients": dict(item, options=download_client_spec()),
        "notifications": dict(item, options=notification_spec()),
        "applications": dict(item, options=application_spec()),
        "indexer_proxies": dict(item, options=indexer_proxy_spec()),
    }


def run_links(argument_spec):
    module = servarr_module(argument_spec)
    app = module.params["app"]
    wrong = ["%s has no %s: give %s only to %s." % (APPS[app].title, name.replace("_", " "), name, "/".join(apps))
             for name, dummy, dummy, apps in LINK_LISTS if module.params[name] and app not in apps]
    if wrong:
        module.fail_json(msg=" ".join(wrong))
    # The login first: it is what a person uses, and it needs nothing else of the app.
    run_links_module(module, lambda m: ServarrSession(m, app),
                     lambda session: [("auth", functools.partial(AuthReconciler, module, session), lambda p: "login")]
                     + [(name, functools.partial(make, module, session), header)
                        for name, make, header, dummy in LINK_LISTS])


# -- servarr_auth: the UI login of one app ------------------------------------------------
AUTH_METHODS = {"forms": "forms", "external": "external", "none": "none"}
AUTH_REQUIRED = {"enabled": "enabled", "disabled_for_local_addresses": "disabledForLocalAddresses"}


def auth_spec():
    return {
        "app": {"type": "str", "required": True, "choices": sorted(k for k in APPS if k != "readarr")},
        "method": {"type": "str", "default": "forms", "choices": sorted(AUTH_METHODS)},
        "required": {"type": "str", "default": "enabled", "choices": sorted(AUTH_REQUIRED)},
        "username": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "update_password": {"type": "str", "default": "on_create", "choices": ["always", "on_create", "verify"]},
    }


class AuthReconciler(Reconciler):
    """The UI login of a Servarr app: ``GET``/``PUT /config/host`` and its one user.

    The apps answer ``GET /config/host`` with the user's name (stored lower-case)
    and, as ``password``, the salted PBKDF2 hash of the password - never the salt -
    so the password itself cannot be compared. ``update_password`` decides:
    ``on_create`` sets it only when the app has no user yet, ``always`` on every
    run, ``verify`` when a sign-in (``POST /login``, which changes nothing) fails.
    Every write sends the whole host config back (the apps save every key of it)
    and, when the password is not to change, the stored hash as the password: the
    apps keep the password when they are sent their own hash.
    """

    result_key = "auth"
    secret_keys = ("password",)

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.app = session.app
        self.config = None
        self.password_reason = None

    @staticmethod
    def _state(config):
        return {"method": str(config.get("authenticationMethod") or "none"),
                "required": str(config.get("authenticationRequired") or "enabled"),
                "username": config.get("username") or "",
                "password": config.get("password") or ""}

    def fetch(self):
        self.config = self.session.get("/config/host") or {}
        return self._state(self.config)

    def _wants_password(self, current, username):
        """Why the password must be written this run, or None."""
        password = self.params.get("password")
        if not password:
            return None
        if not current["password"] or not current["username"]:
            return "the app has no user yet"
        mode = self.params["update_password"]
        if mode == "always":
            return "update_password is always"
        if mode == "verify":
            if current["method"].lower() != "forms":
                return "sign-in cannot be checked while the method is %s" % current["method"]
            if username.lower() != current["username"].lower():
                return "the user name changes"
            if not self._signs_in(username, password):
                return "signing in with it failed"
        return None

    def _signs_in(self, username, password):
        """Whether ``POST /login`` accepts the credentials (a redirect without ``loginFailed``)."""
        resp = self.session.client.request("POST", "/login", raw_path=True, expect=(301, 302, 303, 307, 308),
                                           data={"username": username, "password": password})
        location = resp.headers.get("location") or ""
        return 300 <= resp.status < 400 and "loginfailed=true" not in location.lower()

    def build(self, current):
        username = self.params.get("username")
        wanted = dict(current, method=AUTH_METHODS[self.params["method"]],
                      required=AUTH_REQUIRED[self.params["required"]])
        if username is not None:
            wanted["username"] = username.lower()
        self.password_reason = self._wants_password(current, username or current["username"])
        if self.password_reason:
            wanted["password"] = self.params["password"]
        return wanted

    def compare(self, current, wanted):
        found = [key for key in ("method", "required", "username")
                 if str(current.get(key)).lower() != str(wanted.get(key)).lower()]
        if self.password_reason:
            found.append("password")
        return found

    def create(self, wanted):  # pragma: no cover - the host config always exists
        return self.update(self._state({}), wanted)

    def remove(self, current):  # pragma: no cover - there is no state: absent
        return None

    def update(self, current, wanted):
        body = copy.deepcopy(self.config)
        body.update(authenticationMethod=wanted["method"], authenticationRequired=wanted["required"],
                    username=wanted["username"], password=wanted["password"],
                    passwordConfirmation=wanted["password"])
        try:
            answer = self.session.client.put("/config/host/%s" % body.get("id", 1), body)
        except ApiError as exc:
            failures = exc.details if isinstance(exc.details, list) else None
            if exc.status == 400 and failures:
                raise ApiError("%s refused the login settings: %s" % (
                    self.app.title, "; ".join(describe_failure(f) for f in failures)),
                    hint="Forms needs both `username` and `password`.", status=exc.status, details=failures,
                    method=exc.method, url=exc.url)
            raise
        self.session.forget("/config/host")
        after = self._state(answer if isinstance(answer, dict) and answer else self.session.get("/config/host"))
        stuck = [(key, option) for key, option in (("method", "METHOD"), ("required", "REQUIRED"))
                 if after[key].lower() != wanted[key].lower()]
        if stuck:
            env = " and ".join("%s__AUTH__%s" % (self.app.title.upper(), option) for dummy, option in stuck)
            raise ApiError(
                "%s saved the login settings but still reports %s." % (
                    self.app.title, ", ".join("%s %s" % (key, after[key]) for key, dummy in stuck)),
                hint="The environment variable %s of its container overrides config.xml: set it to the wanted "
                     "value (Forms/External/None, Enabled/DisabledForLocalAddresses; the names are "
                     "case-sensitive) or remove it." % env)
        return after


def run_auth(argument_spec):
    module = new_module(argument_spec, required_if=[("method", "forms", ("username", "password"))],
                        required_together=[("username", "password")])
    require_api_key(module, "Settings > General > Security")
    _session_run(module, module.params["app"], lambda session: AuthReconciler(module, session))


# -- servarr_info ---------------------------------------------------------------------------
INFO_COLLECTIONS = {
    "download_clients": ("/downloadclient", "download client"),
    "notifications": ("/notification", "notification"),
    "root_folders": ("/rootfolder", None),
    "applications": ("/applications", "application"),
    "indexer_proxies": ("/indexerproxy", "indexer proxy"),
}


def gather_info(module, client=None):
    """What ``servarr_info`` returns: which app, its version, health and wiring (secrets hidden)."""
    probe = ServarrSession(module, "radarr", client=client)
    client = probe.client
    api = client.get("/api", raw_path=True)
    version = api.get("current") if isinstance(api, dict) else None
    if version not in ("v1", "v3"):
        raise ApiError("%s does not look like a Servarr app (GET /api gave %r)." % (client.base_url, api),
                       hint="Check `url`, including the app's URL base.")
    client.api_root = "/api/" + version
    status = client.get("/system/status")
    key = str(status.get("appName") or "").lower()
    app = APPS.get(key) or App(key, status.get("appName") or "Servarr", version)
    client.app = app.title
    session = ServarrSession(module, app, client=client)
    result = {"app": app.key, "app_name": app.title, "version": status.get("version") or client.app_version,
              "api_version": version, "status": status, "health": client.get("/health") or []}
    tags = TagResolver(session)
    result["tags"] = sorted(tag["label"] for tag in session.tags())
    if app.key == "prowlarr":
        wanted = ("applications", "indexer_proxies")
    else:
        wanted = ("download_clients", "notifications", "root_folders")
    for name in INFO_COLLECTIONS:
        result[name] = []
    for name in wanted:
        path, label = INFO_COLLECTIONS[name]
        items = session.get(path) or []
        if label:
            result[name] = [provider_view(item, tags) for item in items]
        else:
            result[name] = [dict((k, v) for k, v in item.items() if k != "unmappedFolders") for item in items]
    return result


def run_info(argument_spec):
    module = servarr_module(argument_spec)
    run_in_session(module, lambda m: ServarrSession(m, "radarr"),
                   lambda session: dict(gather_info(module, session.client), changed=False))


def root_folder_spec(app):
    spec = {
        "path": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }
    if app == "lidarr":
        spec.update({
            "name": {"type": "str"},
            "quality_profile": {"type": "str"},
            "metadata_profile": {"type": "str"},
            "default_monitor": {"type": "str", "choices": ["all", "future", "missing", "existing", "latest",
                                                           "first", "none", "unknown"]},
            "default_new_item_monitor": {"type": "str", "choices": ["all", "none", "new"]},
            "default_tags": {"type": "list", "elements": "str"},
        })
    return spec


def tag_spec():
    return {
        "label": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


def application_spec():
    spec = provider_spec()
    spec.update({
        "sync_level": {"type": "str", "choices": sorted(SYNC_LEVELS)},
        "prowlarr_url": {"type": "str"},
        "base_url": {"type": "str"},
        "app_api_key": {"type": "str", "no_log": True},
        "sync_categories": {"type": "list", "elements": "int"},
    })
    return spec


def indexer_proxy_spec():
    spec = provider_spec("FlareSolverr")
    spec.update({
        "host": {"type": "str"},
        "request_timeout": {"type": "int"},
    })
    return spec
