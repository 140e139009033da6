# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack model: the apps of the inventory, and every Kubernetes object that runs them.

Computed once, from the inventory's variables, by :func:`build`; the apps
phase turns it into objects (:func:`objects`, :func:`secret_objects`) to
apply or to render, the wiring phase reads each app's URLs and Secret, the
summary its hostname. Nothing else derives names or URLs.

Pure functions, no I/O: errors are :class:`StackError` with the inventory
variable to fix in the message.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from urllib.parse import urlsplit

from ansible_collections.arrkestra.homelab.plugins.module_utils import _checks

MANAGED_BY = "arrkestra"
NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
TAG_RE = re.compile(r"^[^:@\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
SERVARR = ("prowlarr", "radarr", "sonarr", "lidarr")

#: The catalog: what each app needs, sized so that the default stack fits a 4 GB Raspberry Pi 4.
#: Images are multi-arch (amd64 + arm64) and run as a non-root user; tags are pinned, never "latest".
CATALOG = {
    "prowlarr": {"image": "ghcr.io/home-operations/prowlarr:2.3.5", "port": 9696, "probe": "/ping",
                 "requests": ("50m", "128Mi"), "limits": ("500m", "384Mi"), "data": False,
                 "credentials": ("api_key", "username", "password"), "env_key": "PROWLARR__AUTH__APIKEY",
                 "reads_at_start": ("api_key",)},
    "radarr": {"image": "ghcr.io/home-operations/radarr:6.0.3", "port": 7878, "probe": "/ping",
               "requests": ("50m", "192Mi"), "limits": ("1", "512Mi"), "data": True,
               "credentials": ("api_key", "username", "password"), "env_key": "RADARR__AUTH__APIKEY",
               "reads_at_start": ("api_key",)},
    "sonarr": {"image": "ghcr.io/home-operations/sonarr:4.0.19", "port": 8989, "probe": "/ping",
               "requests": ("50m", "192Mi"), "limits": ("1", "512Mi"), "data": True,
               "credentials": ("api_key", "username", "password"), "env_key": "SONARR__AUTH__APIKEY",
               "reads_at_start": ("api_key",)},
    "lidarr": {"image": "ghcr.io/home-operations/lidarr:2.14.5", "port": 8686, "probe": "/ping",
               "requests": ("50m", "192Mi"), "limits": ("1", "512Mi"), "data": True,
               "credentials": ("api_key", "username", "password"), "env_key": "LIDARR__AUTH__APIKEY",
               "reads_at_start": ("api_key",)},
    # Bazarr 1.5.1 has no /api/system/ping (1.5.2 added it); "/" answers 200 without a key (docs/upstream-facts.md).
    "bazarr": {"image": "ghcr.io/home-operations/bazarr:1.5.1", "port": 6767, "probe": "/",
               "requests": ("25m", "128Mi"), "limits": ("500m", "384Mi"), "data": True,
               "credentials": ("api_key", "username", "password"), "seed": "bazarr"},
    "qbittorrent": {"image": "ghcr.io/home-operations/qbittorrent:5.1.2", "port": 8080,
                    "probe": "/api/v2/app/version", "probe_any_status": True,
                    "requests": ("100m", "256Mi"), "limits": ("2", "1Gi"), "data": True,
                    "credentials": ("username", "password"), "seed": "qbittorrent",
                    "reads_at_start": ("username", "password_pbkdf2")},
    "sabnzbd": {"image": "ghcr.io/home-operations/sabnzbd:4.5.1", "port": 8080, "probe": "/api?mode=version",
                "requests": ("100m", "256Mi"), "limits": ("2", "1Gi"), "data": True,
                "credentials": ("api_key", "username", "password"), "seed": "sabnzbd"},
    # FlareSolverr has no authentication at all: in-cluster only (Prowlarr calls it), never on the ingress.
    "flaresolverr": {"image": "ghcr.io/flaresolverr/flaresolverr:v3.3.21", "port": 8191, "probe": "/health",
                     "requests": ("50m", "256Mi"), "limits": ("1", "768Mi"), "data": False, "config": False,
                     "credentials": (), "ingress": False, "controller_calls": False},
    # Jellyfin's image keeps its cache and transcodes in /cache (JELLYFIN_CACHE_DIR): a scratch volume, not the image.
    "jellyfin": {"image": "docker.io/jellyfin/jellyfin:10.11.11", "port": 8096, "probe": "/health",
                 "requests": ("250m", "512Mi"), "limits": ("3", "2Gi"), "data": True,
                 "credentials": ("username", "password"), "scratch": "/cache"},
    # Seerr keeps settings.json and its database in CONFIG_DIRECTORY, default /app/config (docs/upstream-facts.md).
    "seerr": {"image": "ghcr.io/seerr-team/seerr:v3.1.0", "port": 5055, "probe": "/api/v1/status",
              "requests": ("50m", "192Mi"), "limits": ("500m", "512Mi"), "data": False,
              "credentials": ("api_key",), "seed": "seerr", "config_dir": "/app/config",
              "reads_at_start": ("api_key",)},
    # Wired, never deployed: a client on the NAS or a seedbox (give its url in arrkestra_apps).
    "transmission": {"image": None, "port": 9091, "probe": "/transmission/rpc", "requests": ("0", "0"),
                     "limits": ("0", "0"), "data": False, "credentials": ("username", "password"), "external_only": True},
    "nzbget": {"image": None, "port": 6789, "probe": "/jsonrpc/version", "requests": ("0", "0"), "limits": ("0", "0"),
               "data": False, "credentials": ("username", "password"), "external_only": True},
    "recyclarr": {"image": "ghcr.io/recyclarr/recyclarr:7.4.1", "port": None, "probe": None,
                  "requests": ("25m", "64Mi"), "limits": ("250m", "256Mi"), "data": False, "cronjob": True,
                  "credentials": ()},
}
#: The stack the local inventory runs when it names no app.
DEFAULT_STACK = ("prowlarr", "radarr", "sonarr", "bazarr", "qbittorrent", "flaresolverr", "jellyfin", "seerr",
                 "recyclarr")
#: What a user may set per app in arrkestra_apps.
APP_OPTIONS = ("kind", "enabled", "external", "image", "port", "url", "controller_url", "hostname", "ingress", "wiring",
               "requests", "limits", "config_size", "env", "schedule", "node_selector")
#: A small image with a shell, to create the data layout and pre-seed config files.
HELPER_IMAGE = "docker.io/library/busybox:1.37.0"

DEFAULTS = {
    "namespace": "media",
    "domain": "media.home.arpa",
    "uid": 1000,
    "gid": 1000,
    "timezone": "Etc/UTC",
    "config_storage_class": "local-path",
    "config_storage_class_is_nfs": False,
    "config_on_nfs_forced": False,
    "config_size": "2Gi",
    "data": {"type": "hostpath", "path": "/srv/arrkestra/data", "server": None, "export": None, "claim": None,
             "size": "1Ti", "storage_class": ""},
    "data_mount": "/data",
    "ingress_class": "traefik",
    "tls_secret": None,
    "cluster_domain": "cluster.local",
    "kubernetes_version": "1.33",
    "recyclarr_schedule": "@daily",
    # How the controller reaches the apps: through the Kubernetes API server's service proxy (only the kubeconfig is
    # needed: no DNS, no trust in the cluster's CA) or "direct" at each app's hostname or controller_url.
    "controller_access": "apiserver_proxy",
    # Replacements for the images of the collection's own containers (a private registry, a mirror).
    "images": {},
}
#: arrkestra_* variables that other phases read and the stack model does not.
NOT_STACK_VARIABLES = ("kubeconfig", "kube_context", "reset_confirm", "reset_answer", "node_timeout")
CONTROLLER_ACCESS = ("apiserver_proxy", "direct")


#: The inventory describes a stack that cannot run; the message names the variable to fix (a bad value of one
#: variable, from ``_checks``, or two that do not go together).
StackError = _checks.InputError


def _platform():
    # _platform builds on this module (labels, memory); imported when used, never at load time.
    from ansible_collections.arrkestra.homelab.plugins.module_utils import _platform as platform
    return platform


def _platform_options():
    return set(_platform().DEFAULTS)


def _quantity_mib(value, variable="a memory quantity"):
    """Mebibytes of a Kubernetes memory quantity ("192Mi", "1Gi", "512M")."""
    return _checks.quantity(value, variable, "memory") / 1048576.0


#: The most a uid or gid may be in a pod's securityContext (Kubernetes validates runAsUser/runAsGroup so).
MAX_ID = 2147483647
#: An instance's hostname is <name>.<domain>: the domain leaves room for the longest name (40) and its dot.
MAX_DOMAIN = 253 - 41
DATA_TYPES = ("hostpath", "nfs", "pvc")


def _settings(variables):
    settings = copy.deepcopy(DEFAULTS)
    known = set(DEFAULTS) | _platform_options() | set(NOT_STACK_VARIABLES) | {"apps"}
    for key, value in (variables or {}).items():
        if key not in known:
            raise StackError("arrkestra_%s is not a variable of the collection%s (known: %s)"
                             % (key, _checks.closest("arrkestra_" + key, ["arrkestra_" + k for k in known]),
                                ", ".join("arrkestra_" + k for k in sorted(known))))
        if key == "apps" or key in _platform_options() or key in NOT_STACK_VARIABLES or value is None:
            continue
        if key == "data":
            settings["data"].update(_checks.mapping(value, "arrkestra_data", DEFAULTS["data"]))
        else:
            settings[key] = value
    check = _checks
    settings["namespace"] = check.dns_label(settings["namespace"], "arrkestra_namespace", what="namespace name")
    settings["domain"] = check.hostname(settings["domain"], "arrkestra_domain")
    if len(settings["domain"]) > MAX_DOMAIN:
        raise StackError("arrkestra_domain: %d characters is too long; the apps' hostnames (<app>.<domain>) must "
                         "fit in 253, so give at most %d" % (len(settings["domain"]), MAX_DOMAIN))
    settings["cluster_domain"] = check.hostname(settings["cluster_domain"], "arrkestra_cluster_domain")
    # Every pod runs as non-root (runAsNonRoot): uid 0 would not start.
    settings["uid"] = check.integer(settings["uid"], "arrkestra_uid", 1, MAX_ID)
    settings["gid"] = check.integer(settings["gid"], "arrkestra_gid", 1, MAX_ID)
    settings["timezone"] = _timezone(settings["timezone"])
    for key in ("config_storage_class_is_nfs", "config_on_nfs_forced"):
        settings[key] = check.boolean(settings[key], "arrkestra_" + key)
    if settings["config_storage_class"] not in (None, ""):
        _subdomain(settings["config_storage_class"], "arrkestra_config_storage_class")
    check.quantity(settings["config_size"], "arrkestra_config_size", "storage")
    settings["ingress_class"] = _subdomain(settings["ingress_class"], "arrkestra_ingress_class")
    if settings["tls_secret"] is not None:
        _subdomain(settings["tls_secret"], "arrkestra_tls_secret")
    settings["kubernetes_version"] = check.text(
        str(settings["kubernetes_version"]), "arrkestra_kubernetes_version", r"^v?1\.[0-9]+(\.[0-9]+)?$",
        "not a Kubernetes version; give its minor version, like 1.33")
    check.cron(settings["recyclarr_schedule"], "arrkestra_recyclarr_schedule")
    data = settings["data"]
    if data["type"] not in DATA_TYPES:
        raise StackError("arrkestra_data.type must be hostpath, nfs or pvc, not %r" % data["type"])
    if data["type"] == "nfs" and not (data.get("server") and data.get("export")):
        raise StackError("arrkestra_data.type is nfs: give arrkestra_data.server (the NAS) and arrkestra_data.export")
    if data["type"] == "pvc" and not data.get("claim"):
        raise StackError("arrkestra_data.type is pvc: give arrkestra_data.claim, an existing PersistentVolumeClaim")
    if data["type"] == "hostpath":
        _absolute(data["path"], "arrkestra_data.path")
    if data["type"] == "nfs":
        _server(data["server"], "arrkestra_data.server")
        _absolute(data["export"], "arrkestra_data.export")
    if data["type"] == "pvc":
        _subdomain(data["claim"], "arrkestra_data.claim")
    check.quantity(data["size"], "arrkestra_data.size", "storage")
    if data["storage_class"]:
        _subdomain(data["storage_class"], "arrkestra_data.storage_class")
    settings["data_mount"] = _absolute(settings["data_mount"], "arrkestra_data_mount")
    if settings["data_mount"].rstrip("/") in ("", "/config", "/app", "/cache"):
        raise StackError("arrkestra_data_mount %r would hide the apps' own folders; give a folder of its own, like "
                         "/data" % settings["data_mount"])
    is_nfs = settings["config_storage_class_is_nfs"] or "nfs" in str(settings["config_storage_class"]).lower()
    if is_nfs and not settings["config_on_nfs_forced"]:
        raise StackError(
            "arrkestra_config_storage_class %r is an NFS class: the apps keep SQLite databases in their config "
            "volume and SQLite on NFS corrupts them. Use a node-local class (local-path), or set "
            "arrkestra_config_on_nfs_forced: true if you accept the risk." % settings["config_storage_class"])
    if settings["controller_access"] not in CONTROLLER_ACCESS:
        raise StackError("arrkestra_controller_access must be %s, not %r"
                         % (" or ".join(CONTROLLER_ACCESS), settings["controller_access"]))
    settings["images"] = _images(settings["images"])
    return settings


def _subdomain(value, variable):
    """A DNS-1123 subdomain: the name of most Kubernetes objects (StorageClass, Secret, claim)."""
    if not isinstance(value, str) or not _is_subdomain(value):
        raise StackError("%s: %r is not a Kubernetes object name; give lower-case letters, digits, '-' and '.', "
                         "starting and ending with a letter or digit" % (variable, value))
    return value


def _absolute(value, variable):
    if not isinstance(value, str) or not value.startswith("/") or "\n" in value or ".." in value.split("/"):
        raise StackError("%s: %r is not an absolute path (like /srv/arrkestra/data)" % (variable, value))
    return value


def _server(value, variable):
    """A host the nodes reach: an IP address or a DNS name."""
    try:
        return _checks.address(value, variable)
    except _checks.InputError:
        return _checks.hostname(value, variable)


def _timezone(value):
    """An IANA time zone (the apps' TZ); checked against the controller's zone database when it has one."""
    try:
        import zoneinfo
        zones = zoneinfo.available_timezones()
    except ImportError:   # pragma: no cover - Python 3.9+
        zones = set()
    if not isinstance(value, str) or (zones and value not in zones) or not re.match(r"^[A-Za-z0-9_+/-]+$", value):
        raise StackError("arrkestra_timezone: %r is not a time zone; give an IANA name like Europe/Paris or "
                         "Etc/UTC%s" % (value, _checks.closest(str(value), zones)))
    return value


def support_images():
    """The images of the collection's own containers, by the name ``arrkestra_images`` replaces them with."""
    platform = _platform()
    return {"helper": HELPER_IMAGE, "sqlite": platform.SQLITE_IMAGE, "exportarr": platform.EXPORTARR_IMAGE,
            "gluetun": platform.GLUETUN_IMAGE, "helm_controller": platform.HELM_CONTROLLER_IMAGE}


def _pinned(image):
    tag = (image or "").rsplit("/", 1)[-1]
    return bool(image) and bool(TAG_RE.match(image)) and (":" in tag or "@" in tag) and not tag.endswith(":latest")


def _images(given):
    """``arrkestra_images`` over :func:`support_images`: every name known, every image pinned."""
    if not isinstance(given, dict):
        raise StackError("arrkestra_images must be a mapping of name to image (names: %s)"
                         % ", ".join(sorted(support_images())))
    images = support_images()
    unknown = sorted(set(given) - set(images))
    if unknown:
        raise StackError("arrkestra_images: unknown name(s) %s (known: %s; the apps' images are "
                         "arrkestra_apps.<name>.image)" % (", ".join(unknown), ", ".join(sorted(images))))
    for name, image in given.items():
        if not _pinned(image):
            raise StackError("arrkestra_images.%s %r must name a pinned tag or digest (never latest)" % (name, image))
        images[name] = image
    return images


def _app(name, given, settings):
    check, where = _checks, "arrkestra_apps.%s" % name
    given = dict(check.mapping(given, where, APP_OPTIONS))
    if not NAME_RE.match(str(name)):
        raise StackError("%s: an instance name must be lower-case letters, digits and '-', at most 40 characters, "
                         "starting with a letter" % where)
    kind = given.get("kind") or name
    if kind not in CATALOG:
        raise StackError("%s: no app %r in the catalog%s (give `kind` for an instance such as radarr-4k; apps: %s)"
                         % (where, kind, check.closest(str(kind), CATALOG), ", ".join(sorted(CATALOG))))
    entry = CATALOG[kind]
    for key in ("external", "ingress"):
        if given.get(key) is not None:
            given[key] = check.boolean(given[key], "%s.%s" % (where, key))
    external = bool(given.get("external") or entry.get("external_only"))
    if external and not given.get("url"):
        raise StackError("%s: %s is not deployed by the collection (external); give its `url` (as "
                         "the apps reach it) and `controller_url` to wire it" % (where, kind))
    for key in ("url", "controller_url"):
        if given.get(key) is not None:
            _url(given[key], "%s.%s" % (where, key))
    image = given.get("image") or entry["image"]
    if not external and not _pinned(image):
        raise StackError("%s.image %r must name a pinned tag or digest (never latest)" % (where, image))
    port = check.port(given["port"], where + ".port") if given.get("port") is not None else (entry["port"] or 0)
    if given.get("hostname") is not None:
        check.hostname(given["hostname"], where + ".hostname")
    resources = dict((key, _resources(given.get(key), entry[key], "%s.%s" % (where, key)))
                     for key in ("requests", "limits"))
    for resource in ("cpu", "memory"):
        low, high = (check.quantity(resources[k][resource], "%s.%s.%s" % (where, k, resource),
                                    resource) for k in ("requests", "limits"))
        if low > high and high > 0:
            raise StackError("%s.requests.%s %s is more than %s.limits.%s %s: a pod never gets more than its limit; "
                             "lower the request or raise the limit"
                             % (where, resource, resources["requests"][resource], where, resource,
                                resources["limits"][resource]))
    if given.get("config_size") is not None:
        check.quantity(given["config_size"], where + ".config_size", "storage")
    if given.get("schedule") is not None:
        check.cron(given["schedule"], where + ".schedule")
    for key, value in check.mapping(given.get("env"), where + ".env").items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(key)) or isinstance(value, (dict, list)):
            raise StackError("%s.env: %r: %r is not an environment variable; give NAME: value (letters, digits and _ "
                             "in the name, a plain value)" % (where, key, value))
    for key, value in check.mapping(given.get("node_selector"), where + ".node_selector").items():
        _label(key, value, where + ".node_selector")
    check.mapping(given.get("wiring"), where + ".wiring")
    namespace, domain = settings["namespace"], settings["domain"]
    hostname = given.get("hostname") or ("%s.%s" % (name, domain))
    app = {
        "name": name, "kind": kind, "image": image, "port": port or None,
        "url": given.get("url") or (("http://%s.%s.svc.%s:%d" % (name, namespace, settings["cluster_domain"], port))
                                    if port else None),
        "hostname": hostname if port else None,
        "ingress": bool(given.get("ingress", entry.get("ingress", bool(port)))) and bool(port),
        "secret": "%s-credentials" % name if entry["credentials"] else None,
        "credentials": list(entry["credentials"]),
        "probe": entry["probe"], "probe_any_status": entry.get("probe_any_status", False),
        "requests": resources["requests"], "limits": resources["limits"],
        "data": entry["data"], "config": entry.get("config", True), "config_dir": entry.get("config_dir", "/config"),
        "config_size": given.get("config_size") or settings["config_size"],
        "cronjob": entry.get("cronjob", False), "schedule": given.get("schedule") or settings["recyclarr_schedule"],
        "env": dict(given.get("env") or {}), "env_key": entry.get("env_key"), "seed": entry.get("seed"),
        # What the app reads from its Secret when it starts (env, or a file its seed writes on every start): a
        # change restarts it. The rest (a login the wiring sets through the API) needs no restart.
        "reads_at_start": list(entry.get("reads_at_start", ())),
        "node_selector": dict(given.get("node_selector") or {}),
        "wiring": dict(given.get("wiring") or {}),
        "external": external,
    }
    if external:
        app.update(ingress=False, config=False, data=False, hostname=None)
    # What a person opens (the ingress), and how the controller calls the app's API: at the controller_url given,
    # or through the API server's service proxy (the wiring phase puts the kubeconfig's server before proxy_path),
    # or directly at the ingress hostname.
    scheme = "https" if settings.get("tls_secret") else "http"
    app["web_url"] = ("%s://%s" % (scheme, hostname)) if app["ingress"] else None
    app["wired"] = bool(app["url"])
    app["proxy_path"] = None
    if given.get("controller_url") or external or not port:
        app["controller_access"] = "direct"
        app["controller_url"] = given.get("controller_url") or (app["url"] if external else None)
    elif settings["controller_access"] == "apiserver_proxy":
        app["controller_access"] = "apiserver_proxy"
        app["proxy_path"] = "/api/v1/namespaces/%s/services/http:%s:%d/proxy" % (namespace, name, port)
        app["controller_url"] = None
    else:
        app["controller_access"] = "direct"
        app["controller_url"] = app["web_url"]
        if not app["web_url"] and app["wired"] and entry.get("controller_calls", True):
            raise StackError("arrkestra_apps.%s: with arrkestra_controller_access: direct the controller calls each "
                             "app at its ingress hostname, and %s has no ingress: give it a controller_url, or use "
                             "arrkestra_controller_access: apiserver_proxy" % (name, name))
    return app


def _resources(given, default, variable):
    """``{cpu, memory}`` of an app's requests or limits: the catalog's, with what the inventory gives over them."""
    out = dict(zip(("cpu", "memory"), default))
    if isinstance(given, (list, tuple)) and len(given) == 2:
        given = dict(zip(("cpu", "memory"), given))
    out.update(_checks.mapping(given, variable + " (cpu and memory)", ("cpu", "memory")))
    return dict((k, str(v)) for k, v in out.items())


def _url(value, variable):
    """An http(s) URL with a host."""
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        good = parts and parts.scheme in ("http", "https") and parts.hostname and (parts.port or 1)
    except ValueError:
        good = False
    if not good:
        raise StackError("%s: %r is not an http(s) URL with a host (like http://192.168.1.10:9091)" % (variable, value))
    return value


def _label(key, value, variable):
    """A Kubernetes label: an optional DNS prefix and '/', a name of 63 characters; a value of 63."""
    name_re = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
    prefix, dummy, name = str(key).rpartition("/")
    good = bool(name) and re.match(name_re, name) and (not prefix or _is_subdomain(prefix)) and \
        isinstance(value, (str, int, bool)) and re.match(name_re, str(value).lower() if isinstance(value, bool) else str(value))
    if not good:
        raise StackError("%s: %r: %r is not a node label; give key: value like kubernetes.io/arch: arm64 (names and "
                         "values of at most 63 letters, digits, '-', '_' and '.')" % (variable, key, value))


def _is_subdomain(value):
    return len(value) <= 253 and all(_checks._LABEL_RE.match(p) for p in value.split("."))


def build(variables, nodes=None):
    """The stack of the inventory: ``variables`` are the ``arrkestra_*`` variables without the prefix; ``nodes``
    ``{name: address}`` of the cluster's hosts, when the inventory has them."""
    variables = dict(variables or {})
    settings = _settings(variables)
    platform = _platform().settings(dict((k, v) for k, v in variables.items() if k in _platform_options()), settings)
    if platform["certificates"]["enabled"] and not settings["tls_secret"]:
        settings["tls_secret"] = "arrkestra-tls"     # the wildcard certificate the platform makes
    given_apps = variables.get("apps")
    if given_apps is None:
        given_apps = dict((name, {}) for name in DEFAULT_STACK)
    if isinstance(given_apps, list):
        wrong = [a for a in given_apps if not isinstance(a, str) and not (isinstance(a, dict) and a.get("name"))]
        if wrong:
            raise StackError("arrkestra_apps: %r is not an app; give each as its name, or a mapping with a name"
                             % (wrong[0],))
        names = [a if isinstance(a, str) else a.get("name") for a in given_apps]
        duplicates = sorted(set(n for n in names if names.count(n) > 1))
        if duplicates:
            raise StackError("arrkestra_apps names %s twice: each instance needs its own name" % ", ".join(duplicates))
        given_apps = dict((a, {}) if isinstance(a, str) else (a["name"], dict((k, v) for k, v in a.items() if k != "name"))
                          for a in given_apps)
    if not isinstance(given_apps, dict):
        raise StackError("arrkestra_apps: %r is not a mapping of instance name to options (like radarr: {})"
                         % (given_apps,))
    for name, given in given_apps.items():
        _checks.mapping(given, "arrkestra_apps.%s" % name)

    def catalog_order(name):
        kind = str((given_apps[name] or {}).get("kind") or name)
        return (list(CATALOG).index(kind) if kind in CATALOG else len(CATALOG), name)

    apps = []
    for name in sorted(given_apps, key=catalog_order):
        given = given_apps[name] or {}
        if not _checks.boolean(given.get("enabled", True), "arrkestra_apps.%s.enabled" % name):
            continue
        apps.append(_app(name, dict((k, v) for k, v in given.items() if k != "enabled"), settings))
    hostnames = [a["hostname"] for a in apps if a["hostname"]]
    clash = sorted(set(h for h in hostnames if hostnames.count(h) > 1))
    if clash:
        raise StackError("arrkestra_apps: two apps have the hostname %s" % ", ".join(clash))
    data = dict(settings["data"])
    mount = settings["data_mount"].rstrip("/")
    _wiring_facts(apps, mount)
    model = {
        "namespace": settings["namespace"], "domain": settings["domain"], "uid": int(settings["uid"]),
        "gid": int(settings["gid"]), "timezone": settings["timezone"],
        "config_storage_class": settings["config_storage_class"], "ingress_class": settings["ingress_class"],
        "tls_secret": settings["tls_secret"], "kubernetes_version": str(settings["kubernetes_version"]),
        "images": settings["images"],
        "data": dict(data, mount=mount, media_root=mount + "/media", torrents_root=mount + "/torrents",
                     usenet_root=mount + "/usenet"),
        "apps": apps,
        "platform": platform,
    }
    _platform().check(model, nodes)
    return model


def _links_module():
    from ansible_collections.arrkestra.homelab.plugins.module_utils import _links
    return _links


def _wiring_facts(apps, mount):
    """Each arr instance's 4K flag, root folder and download category, decided here once: the data layout, Recyclarr,
    Seerr, Bazarr and the wiring phase all read them from the instance's ``wiring``."""
    links = _links_module()
    for app in apps:
        unknown = sorted(set(app["wiring"]) - set(links.INSTANCE_OPTIONS))
        if unknown:
            raise StackError("arrkestra_apps.%s.wiring: unknown option(s) %s (known: %s)"
                             % (app["name"], ", ".join(unknown), ", ".join(links.INSTANCE_OPTIONS)))
        if app["kind"] not in links.ARR_KINDS:
            continue
        wiring = app["wiring"]
        where = "arrkestra_apps.%s.wiring" % app["name"]
        for key in ("is_4k", "default", "enabled"):
            if wiring.get(key) is not None:
                wiring[key] = _checks.boolean(wiring[key], "%s.%s" % (where, key))
        for key in ("category", "quality_profile"):
            if wiring.get(key) is not None:
                _checks.text(wiring[key], "%s.%s" % (where, key))
        if wiring.get("root_folder") is not None:
            _absolute(wiring["root_folder"], where + ".root_folder")
        wiring["is_4k"] = links.is_4k(app)
        wiring["root_folder"] = links.root_folder(app, {"media_root": mount + "/media"}).rstrip("/")
        wiring["category"] = links.category(app)
        if not (wiring["root_folder"] + "/").startswith(mount + "/"):
            raise StackError("arrkestra_apps.%s.wiring.root_folder %r is outside the data volume (mounted at %s): "
                             "the app would not find it" % (app["name"], wiring["root_folder"], mount))
    for key, what in (("root_folder", "media folder"), ("category", "download category")):
        seen = {}
        for app in apps:
            value = app["wiring"].get(key)
            if value is None or app["kind"] not in links.ARR_KINDS:
                continue
            if value in seen:
                raise StackError("arrkestra_apps.%s.wiring.%s: %r is also %s's %s; two instances would file each other's "
                                 "media - give each its own" % (app["name"], key, value, seen[value], what))
            seen[value] = app["name"]


# -- objects ------------------------------------------------------------------------------
def _labels(app=None, component=None):
    labels = {"app.kubernetes.io/managed-by": MANAGED_BY, "app.kubernetes.io/part-of": "arrkestra"}
    if app:
        labels.update({"app.kubernetes.io/name": app["kind"], "app.kubernetes.io/instance": app["name"]})
    if component:
        labels["app.kubernetes.io/component"] = component
    return labels


def _meta(name, namespace, app=None, component=None):
    return {"name": name, "namespace": namespace, "labels": _labels(app, component)}


def _security(stack):
    return {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "runAsNonRoot": True,
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def _layout_script(stack):
    """``mkdir -p`` of the data tree's folders (the arguments), or a log line saying what to fix: the tree's
    top must be writable by the apps' user, which only whoever makes it can do (the nodes phase on k3s)."""
    data = stack["data"]
    where = {"hostpath": "the host folder %s on the node" % data["path"],
             "nfs": "the NFS export %s:%s" % (data["server"], data["export"])}.get(
                 data["type"], "the volume of the claim %s" % (data.get("claim") or "arrkestra-data"))
    return ('mkdir -p "$@" && exit 0; echo "arrkestra: the apps (uid %d, gid %d: arrkestra_uid, arrkestra_gid) '
            'cannot write into %s; make it owned by %d:%d (chown %d:%d), then the Job retries" >&2; exit 1'
            % (stack["uid"], stack["gid"], where, stack["uid"], stack["gid"], stack["uid"], stack["gid"]))


def _data_volume(stack):
    return {"name": "data", "persistentVolumeClaim": {"claimName": stack["data"].get("claim") or "arrkestra-data"}}


def _secret_env(app, key, var):
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": app["secret"], "key": key}}}


SEED_SCRIPTS = {
    # Written once, before the app's first start; an existing file is never touched. Every key is an upstream fact
    # (docs/upstream-facts.md). The seed container mounts the config volume at /config, whatever the app's path.
    # Bazarr: its key and a form login (the password as Bazarr stores it: the MD5 hex digest); missing keys are
    # filled with Bazarr's defaults at start.
    "bazarr": ('f=/config/config/config.yaml; [ -e "$f" ] || { mkdir -p /config/config && '
               'printf "auth:\\n  apikey: \\"%s\\"\\n  type: form\\n  username: \\"%s\\"\\n  password: \\"%s\\"\\n" '
               '"$API_KEY" "$USERNAME" "$PASSWORD_MD5" > "$f"; }'),
    # SABnzbd: the Host check (every name the apps and the ingress use), the download folders on the data volume
    # (not Downloads/ under the config folder) and the web UI's login.
    "sabnzbd": ('f=/config/sabnzbd.ini; [ -e "$f" ] || printf "[misc]\\napi_key = %s\\nhost_whitelist = %s\\n'
                'download_dir = %s\\ncomplete_dir = %s\\nusername = %s\\npassword = %s\\n" "$API_KEY" '
                '"$HOST_WHITELIST" "$DOWNLOAD_DIR" "$COMPLETE_DIR" "$USERNAME" "$PASSWORD" > "$f"'),
    "seerr": ('f=/config/settings.json; [ -e "$f" ] || printf \'{"main": {"apiKey": "%s"}}\\n\' "$API_KEY" > "$f"'),
    # qBittorrent: downloads under the torrents root with automatic torrent management, so that a category's
    # folder is <save path>/<category> on the data volume; the WebUI login.
    "qbittorrent": ('f=/config/qBittorrent/qBittorrent.conf; [ -e "$f" ] || { mkdir -p /config/qBittorrent && '
                    'printf "[LegalNotice]\\nAccepted=true\\n\\n[BitTorrent]\\nSession\\\\\\\\DefaultSavePath=%s\\n'
                    'Session\\\\\\\\TempPathEnabled=false\\nSession\\\\\\\\DisableAutoTMMByDefault=false\\n\\n'
                    '[Preferences]\\nWebUI\\\\\\\\Username=%s\\n'
                    'WebUI\\\\\\\\Password_PBKDF2=\\"%s\\"\\nWebUI\\\\\\\\HostHeaderValidation=false\\n" '
                    '"$TORRENTS_ROOT" "$USERNAME" "$PASSWORD_PBKDF2" > "$f"; }; '
                    # On every start (qBittorrent is not running): the login of the Secret, rotated there or not.
                    'sed -i -e \'s|^WebUI\\\\Username=.*|WebUI\\\\Username=\'"$USERNAME"\'|\' '
                    '-e \'s|^WebUI\\\\Password_PBKDF2=.*|WebUI\\\\Password_PBKDF2="\'"$PASSWORD_PBKDF2"\'"|\' "$f"'),
}


def _seed_container(stack, app):
    env = []
    if "api_key" in app["credentials"]:
        env.append(_secret_env(app, "api_key", "API_KEY"))
    if app["kind"] == "qbittorrent":
        env += [_secret_env(app, "username", "USERNAME"), _secret_env(app, "password_pbkdf2", "PASSWORD_PBKDF2"),
                {"name": "TORRENTS_ROOT", "value": stack["data"]["torrents_root"]}]
    if app["kind"] == "bazarr":
        env += [_secret_env(app, "username", "USERNAME"), _secret_env(app, "password_md5", "PASSWORD_MD5")]
    if app["kind"] == "sabnzbd":
        names = [app["name"], "%s.%s" % (app["name"], stack["namespace"]), "%s.%s.svc" % (app["name"], stack["namespace"]),
                 urlsplit(app["url"]).hostname]
        if app["hostname"]:
            names.append(app["hostname"])
        env += [{"name": "HOST_WHITELIST", "value": ", ".join(sorted(set(names), key=names.index))},
                {"name": "DOWNLOAD_DIR", "value": stack["data"]["usenet_root"] + "/incomplete"},
                {"name": "COMPLETE_DIR", "value": stack["data"]["usenet_root"] + "/complete"},
                _secret_env(app, "username", "USERNAME"), _secret_env(app, "password", "PASSWORD")]
    return {"name": "seed-config", "image": stack["images"]["helper"], "command": ["sh", "-c", SEED_SCRIPTS[app["seed"]]],
            "env": env, "securityContext": _security(stack),
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}},
            "volumeMounts": [{"name": "config", "mountPath": "/config"}]}


def _container(stack, app):
    env = [{"name": "TZ", "value": stack["timezone"]}]
    if app["env_key"]:
        # Servarr apps: the API key, and Forms sign-in required from the first start (the default, None, shows
        # every visitor a setup dialog and the API key); the wiring phase creates the user (servarr_auth).
        prefix = app["env_key"][:-len("APIKEY")]
        env += [_secret_env(app, "api_key", app["env_key"]), {"name": prefix + "METHOD", "value": "Forms"},
                {"name": prefix + "REQUIRED", "value": "Enabled"}]
    if app["kind"] == "seerr":
        # Seerr reads CONFIG_DIRECTORY (default /app/config) and takes API_KEY as its key on every start.
        env += [{"name": "CONFIG_DIRECTORY", "value": app["config_dir"]}, _secret_env(app, "api_key", "API_KEY")]
    env += [{"name": k, "value": str(v)} for k, v in sorted(app["env"].items())]
    mounts = []
    if app["config"]:
        mounts.append({"name": "config", "mountPath": app["config_dir"]})
    if app["data"]:
        mounts.append({"name": "data", "mountPath": stack["data"]["mount"]})
    if CATALOG[app["kind"]].get("scratch"):
        mounts.append({"name": "scratch", "mountPath": CATALOG[app["kind"]]["scratch"]})
    container = {"name": app["kind"], "image": app["image"], "imagePullPolicy": "IfNotPresent", "env": env,
                 "securityContext": _security(stack),
                 "resources": {"requests": dict(app["requests"]), "limits": dict(app["limits"])},
                 "volumeMounts": mounts}
    if app["port"]:
        container["ports"] = [{"name": "http", "containerPort": app["port"], "protocol": "TCP"}]
        if app["probe_any_status"]:
            check = {"tcpSocket": {"port": "http"}}
        else:
            check = {"httpGet": {"path": app["probe"], "port": "http"}}
        container["readinessProbe"] = dict(check, periodSeconds=10, timeoutSeconds=5, failureThreshold=3)
        container["livenessProbe"] = dict(check, initialDelaySeconds=60, periodSeconds=30, timeoutSeconds=10,
                                          failureThreshold=5)
        container["startupProbe"] = dict(check, periodSeconds=10, timeoutSeconds=5, failureThreshold=30)
    return container


def _pod_spec(stack, app):
    volumes = []
    if app["config"]:
        volumes.append({"name": "config", "persistentVolumeClaim": {"claimName": "%s-config" % app["name"]}})
    if app["data"]:
        volumes.append(_data_volume(stack))
    if CATALOG[app["kind"]].get("scratch"):
        volumes.append({"name": "scratch", "emptyDir": {}})
    spec = {"securityContext": {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "fsGroup": stack["gid"],
                                "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [_container(stack, app)], "volumes": volumes, "automountServiceAccountToken": False}
    if app["seed"]:
        spec["initContainers"] = [_seed_container(stack, app)]
    if app["node_selector"]:
        spec["nodeSelector"] = dict(app["node_selector"])
    if _metrics(stack, app):
        spec["containers"].append(_exportarr_container(stack, app))
    if app["name"] in _platform().vpn_apps(stack):
        # A native sidecar (an init container that keeps running): the tunnel is up before the app starts.
        spec.setdefault("initContainers", []).append(_gluetun_container(stack, app))
        spec["volumes"].append({"name": "tun", "hostPath": {"path": "/dev/net/tun", "type": "CharDevice"}})
    return spec


def _metrics(stack, app):
    """Whether the app gets an Exportarr sidecar (monitoring on, an app Exportarr knows, an API key)."""
    return (stack["platform"]["monitoring"]["enabled"] and app["kind"] in _platform().EXPORTARR_KINDS
            and "api_key" in app["credentials"] and not app["external"])


def _exportarr_container(stack, app):
    platform = _platform()
    return {"name": "exportarr", "image": stack["images"]["exportarr"], "imagePullPolicy": "IfNotPresent",
            "args": [app["kind"]],
            "env": [{"name": "PORT", "value": str(platform.EXPORTARR_PORT)},
                    {"name": "URL", "value": "http://localhost:%d" % app["port"]},
                    _secret_env(app, "api_key", "APIKEY")],
            "ports": [{"name": "metrics", "containerPort": platform.EXPORTARR_PORT, "protocol": "TCP"}],
            "securityContext": _security(stack),
            "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "96Mi"}},
            "volumeMounts": []}


def _gluetun_container(stack, app):
    """gluetun: the VPN tunnel of the pod, and the first layer of its killswitch (its firewall drops what
    does not go through the tunnel, except the app's own port and the cluster's networks)."""
    platform = _platform()
    vpn = stack["platform"]["vpn"]
    env = [{"name": "TZ", "value": stack["timezone"]},
           {"name": "FIREWALL_INPUT_PORTS", "value": str(app["port"])},
           {"name": "FIREWALL_OUTBOUND_SUBNETS", "value": ",".join(stack["platform"]["cluster_cidrs"])},
           {"name": "HEALTH_SERVER_ADDRESS", "value": "127.0.0.1:9999"}]
    env += [{"name": k, "value": v} for k, v in sorted(vpn["settings"].items())]
    return {"name": "gluetun", "image": stack["images"]["gluetun"], "imagePullPolicy": "IfNotPresent",
            "restartPolicy": "Always", "env": env, "envFrom": [{"secretRef": {"name": "vpn-credentials"}}],
            # gluetun sets up the tunnel and its firewall: root with NET_ADMIN, nothing more.
            "securityContext": {"runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False, "allowPrivilegeEscalation": False,
                                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "resources": {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
            # The app starts once the tunnel works: gluetun's own health check (its health server listens on
            # loopback only, so the kubelet runs the image's healthcheck command rather than an httpGet).
            "startupProbe": {"exec": {"command": ["/gluetun-entrypoint", "healthcheck"]}, "periodSeconds": 5,
                             "timeoutSeconds": 11, "failureThreshold": 60},
            "volumeMounts": [{"name": "tun", "mountPath": "/dev/net/tun"}]}


def callers(stack):
    """``{instance: [instances that call its API]}``, from the links the wiring phase makes (and Recyclarr)."""
    from ansible_collections.arrkestra.homelab.plugins.module_utils import _links
    apps = [{"name": a["name"], "kind": a["kind"], "url": a["url"], "wiring": a["wiring"]}
            for a in stack["apps"] if a["url"]]
    try:
        links = _links.derive(apps)
    except _links.LinkError as exc:
        raise StackError("arrkestra_apps: %s" % exc)
    out = dict((a["name"], set()) for a in stack["apps"])
    for link in links:
        if not link["to"] or link["group"] == "categories":   # the controller sets a client's categories
            continue
        out.setdefault(link["to"], set()).add(link["app"])
        if link["group"] == "applications":                   # Prowlarr pushes indexers; the arr app calls them
            out.setdefault(link["app"], set()).add(link["to"])
    for app in stack["apps"]:
        if app["kind"] == "recyclarr":
            for target in stack["apps"]:
                if target["kind"] in ("radarr", "sonarr"):
                    out[target["name"]].add(app["name"])
    return dict((k, sorted(v)) for k, v in out.items())


def _network_policy(stack, app, callers_of):
    """Who may open a connection to the app: the ingress controller, the apps that call it, Prometheus."""
    platform = stack["platform"]
    selector = {"app.kubernetes.io/instance": app["name"], "app.kubernetes.io/name": app["kind"]}
    http = [{"port": app["port"], "protocol": "TCP"}]
    rules = []
    if app["ingress"] and platform["ingress"]["enabled"]:
        # Traefik's pods only: on k3s its namespace is kube-system, where everything else of the cluster runs too.
        rules.append({"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": platform["ingress"]["namespace"]}},
            "podSelector": {"matchLabels": dict(platform["ingress"]["pod_labels"])}}], "ports": http})
    callers_here = [c for c in callers_of.get(app["name"], []) if c in [a["name"] for a in stack["apps"] if not a["external"]]]
    if callers_here:
        rules.append({"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": c}}} for c in callers_here],
                      "ports": http})
    if platform["network_policies"]["allow_cidrs"]:
        rules.append({"from": [{"ipBlock": {"cidr": c}} for c in platform["network_policies"]["allow_cidrs"]],
                      "ports": http})
    if _metrics(stack, app):
        rules.append({"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                      "ports": [{"port": _platform().EXPORTARR_PORT, "protocol": "TCP"}]})
    spec = {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"]}
    if rules:   # none: nobody may call it. The API server drops an empty list, and an applied one would differ.
        spec["ingress"] = rules
    if app["name"] in _platform().vpn_apps(stack):
        # The second layer of the killswitch: outside the tunnel, the pod reaches only the VPN server and the
        # cluster DNS, whatever happens inside it.
        vpn = platform["vpn"]
        endpoints = []
        for cidr in vpn["endpoints"]:
            block = {"cidr": cidr}
            inside = [c for c in platform["cluster_cidrs"] if _contains(cidr, c)]
            if inside:
                block["except"] = inside
            endpoints.append({"ipBlock": block})
        spec["policyTypes"].append("Egress")
        spec["egress"] = [
            {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                     "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
             "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
            {"to": endpoints, "ports": [{"port": vpn["port"], "protocol": vpn["protocol"]}]},
        ]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(app["name"], stack["namespace"], app),
            "spec": spec}


def _contains(outer, inner):
    import ipaddress
    outer, inner = ipaddress.ip_network(outer, strict=False), ipaddress.ip_network(inner, strict=False)
    return outer.version == inner.version and inner.subnet_of(outer)


def _backup_pod(stack, app, command):
    """A pod beside the app's config volume (local-path pins it to the volume's node), with the NAS mounted."""
    backups = stack["platform"]["backups"]
    env = [{"name": "APP", "value": app["name"]}, {"name": "CONFIG_DIR", "value": "/config"},
           {"name": "BACKUP_DIR", "value": "%s/%s" % (stack["data"]["mount"], backups["dir"].strip("/"))},
           {"name": "KEEP", "value": str(backups["keep"])}, {"name": "TZ", "value": stack["timezone"]}]
    return {"metadata": {"labels": _labels(app, "backup")},
            "spec": {"restartPolicy": "Never", "automountServiceAccountToken": False,
                     "securityContext": {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "fsGroup": stack["gid"],
                                         "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                     "containers": [{"name": "backup", "image": stack["images"]["sqlite"], "imagePullPolicy": "IfNotPresent",
                                     "command": command, "env": env, "securityContext": _security(stack),
                                     "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                                                   "limits": {"cpu": "500m", "memory": "256Mi"}},
                                     "volumeMounts": [{"name": "config", "mountPath": "/config"},
                                                      {"name": "data", "mountPath": stack["data"]["mount"]},
                                                      {"name": "scripts", "mountPath": "/scripts", "readOnly": True}]}],
                     "volumes": [{"name": "config", "persistentVolumeClaim": {"claimName": "%s-config" % app["name"]}},
                                 _data_volume(stack),
                                 {"name": "scripts", "configMap": {"name": "arrkestra-backup", "defaultMode": 0o555}}]}}


def backed_up(stack, app):
    """Whether the app's config volume is backed up (backups on, a config volume, not a CronJob)."""
    return stack["platform"]["backups"]["enabled"] and app["config"] and not app["cronjob"] and not app["external"]


def restore_job(stack, name, archive=""):
    """A Job that puts a backup (``archive``: a file name of the app's backup folder; empty: the newest) back into
    the config volume of instance ``name``. Scale the app to 0 first (playbooks/restore.yml does)."""
    apps = [a for a in stack["apps"] if a["name"] == name]
    if not apps or not backed_up(stack, apps[0]):
        raise StackError("restore_app %r: no app of the stack with backups (apps with backups: %s; arrkestra_backups."
                         "enabled must be on)" % (name, ", ".join(a["name"] for a in stack["apps"] if backed_up(stack, a))
                                                  or "none"))
    app = apps[0]
    pod = _backup_pod(stack, app, ["sh", "/scripts/restore.sh"] + ([archive] if archive else []))
    digest = hashlib.sha256(("%s %s" % (name, archive)).encode()).hexdigest()[:6]
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta("%s-restore-%s" % (name, digest), stack["namespace"],
                                                                       app, "backup"),
            "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": 3600, "template": pod}}


def storage_claim_spec(stack, size):
    """A node-local volume claim of the config storage class (the cluster's default when it is empty)."""
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if stack["config_storage_class"]:
        spec["storageClassName"] = stack["config_storage_class"]
    return spec


def app_objects(stack, app, callers_of=None):
    """The objects of one app: config volume, Deployment (or CronJob), Service, Ingress, policy, backup.
    ``callers_of``: :func:`callers` of the stack, when the caller has it already."""
    ns, name = stack["namespace"], app["name"]
    selector = {"app.kubernetes.io/instance": name, "app.kubernetes.io/name": app["kind"]}
    out = []
    if app["config"]:
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(name + "-config", ns, app, "config"),
                    "spec": storage_claim_spec(stack, app["config_size"])})
    pod = {"metadata": {"labels": _labels(app)}, "spec": _pod_spec(stack, app)}
    if app["cronjob"]:
        pod["spec"]["restartPolicy"] = "OnFailure"
        pod["spec"]["containers"][0]["args"] = ["sync"]
        if app["kind"] == "recyclarr":
            config, env = recyclarr_config(stack)
            out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name + "-configs", ns, app, "config"),
                        "data": {"arrkestra.yml": config}})
            pod["spec"]["containers"][0]["env"].extend(env)
            pod["spec"]["containers"][0]["volumeMounts"].append({"name": "configs", "mountPath": "/config/configs",
                                                                 "readOnly": True})
            pod["spec"]["volumes"].append({"name": "configs", "configMap": {"name": name + "-configs"}})
        out.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta(name, ns, app),
                    "spec": {"schedule": app["schedule"], "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 1,
                             "failedJobsHistoryLimit": 2, "jobTemplate": {"spec": {"backoffLimit": 1, "template": pod}}}})
        return out
    out.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, ns, app),
                "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "revisionHistoryLimit": 2,
                         "selector": {"matchLabels": selector}, "template": pod}})
    if app["port"]:
        ports = [{"name": "http", "port": app["port"], "targetPort": "http", "protocol": "TCP"}]
        if _metrics(stack, app):
            ports.append({"name": "metrics", "port": _platform().EXPORTARR_PORT, "targetPort": "metrics", "protocol": "TCP"})
        out.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, ns, app),
                    "spec": {"selector": selector, "ports": ports}})
    if _metrics(stack, app):
        out.append({"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": _meta(name, ns, app),
                    "spec": {"selector": {"matchLabels": selector},
                             "endpoints": [{"port": "metrics", "interval": "1m", "scrapeTimeout": "30s"}]}})
    if app["port"] and stack["platform"]["network_policies"]["enabled"]:
        out.append(_network_policy(stack, app, callers_of if callers_of is not None else callers(stack)))
    if backed_up(stack, app):
        pod = _backup_pod(stack, app, ["sh", "/scripts/backup.sh"])
        pod["spec"]["restartPolicy"] = "OnFailure"
        out.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": _meta(name + "-backup", ns, app, "backup"),
                    "spec": {"schedule": stack["platform"]["backups"]["schedule"], "concurrencyPolicy": "Forbid",
                             "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 2,
                             "jobTemplate": {"spec": {"backoffLimit": 2, "template": pod}}}})
    if app["ingress"]:
        rule = {"host": app["hostname"], "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": name, "port": {"name": "http"}}}}]}}
        ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": _meta(name, ns, app),
                   "spec": {"ingressClassName": stack["ingress_class"], "rules": [rule]}}
        if stack["tls_secret"]:
            ingress["spec"]["tls"] = [{"hosts": [app["hostname"]], "secretName": stack["tls_secret"]}]
        out.append(ingress)
    return out


#: TRaSH guides templates Recyclarr syncs, per kind and resolution.
TRASH_TEMPLATES = {
    ("radarr", False): ["radarr-quality-definition-movie", "radarr-quality-profile-hd-bluray-web",
                        "radarr-custom-formats-hd-bluray-web"],
    ("radarr", True): ["radarr-quality-definition-movie", "radarr-quality-profile-uhd-bluray-web",
                       "radarr-custom-formats-uhd-bluray-web"],
    ("sonarr", False): ["sonarr-quality-definition-series", "sonarr-v4-quality-profile-web-1080p",
                        "sonarr-v4-custom-formats-web-1080p"],
    ("sonarr", True): ["sonarr-quality-definition-series", "sonarr-v4-quality-profile-web-2160p",
                       "sonarr-v4-custom-formats-web-2160p"],
}


def recyclarr_config(stack):
    """Recyclarr's configuration - each Radarr/Sonarr instance with its TRaSH templates - and the env with its keys."""
    lines, env = ["# Made by arrkestra.homelab from the stack: one entry per Radarr/Sonarr instance."], []
    for kind in ("radarr", "sonarr"):
        instances = [a for a in stack["apps"] if a["kind"] == kind]
        if not instances:
            continue
        lines.append("%s:" % kind)
        for app in instances:
            var = re.sub(r"[^A-Z0-9]", "_", app["name"].upper()) + "_API_KEY"
            env.append(_secret_env(app, "api_key", var))
            lines += ["  %s:" % app["name"], "    base_url: %s" % app["url"], "    api_key: !env_var %s" % var,
                      "    include:"]
            lines += ["      - template: %s" % t for t in TRASH_TEMPLATES[(kind, bool(app["wiring"]["is_4k"]))]]
    return "\n".join(lines) + "\n", env


def namespace_object(stack):
    """The stack's Namespace, with its pod security level."""
    ns = stack["namespace"]
    # The API server sets kubernetes.io/metadata.name itself; naming it here keeps the second
    # server-side apply from taking the field over (a write on an unchanged stack).
    labels = dict(_labels(), **{"pod-security.kubernetes.io/enforce": "restricted", "kubernetes.io/metadata.name": ns})
    if _platform().vpn_apps(stack):
        # gluetun needs NET_ADMIN and the tun device, which only the privileged level allows; the apps themselves
        # still meet the restricted level, which the API server warns about and audits.
        labels.update({"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted",
                       "pod-security.kubernetes.io/audit": "restricted"})
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}


def objects(stack):
    """Every object of the stack except Secrets, in the order to apply them."""
    ns, data = stack["namespace"], stack["data"]
    out = [namespace_object(stack)]
    if stack["platform"]["network_policies"]["enabled"]:
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": _meta("default-deny-ingress", ns, component="network"),
                    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
        # The collection's own Jobs (backups, restores, the data layout) work on their volumes alone: no egress.
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": _meta("jobs-deny-egress", ns, component="network"),
                    "spec": {"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/component",
                                                                   "operator": "In", "values": list(JOB_COMPONENTS)}]},
                             "policyTypes": ["Egress"]}})
    if any(backed_up(stack, a) for a in stack["apps"]):
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("arrkestra-backup", ns, component="backup"),
                    "data": {"backup.sh": BACKUP_SCRIPT, "restore.sh": RESTORE_SCRIPT}})
    if data["type"] != "pvc":
        source = ({"hostPath": {"path": data["path"], "type": "DirectoryOrCreate"}} if data["type"] == "hostpath"
                  else {"nfs": {"server": data["server"], "path": data["export"]}})
        out.append({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {
            "name": "arrkestra-%s-data" % ns, "labels": _labels(component="data")},
            "spec": dict(source, capacity={"storage": data["size"]}, accessModes=["ReadWriteMany"],
                         persistentVolumeReclaimPolicy="Retain", storageClassName=data["storage_class"] or "",
                         claimRef={"namespace": ns, "name": "arrkestra-data"})})
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta("arrkestra-data", ns, component="data"),
                    "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": data["storage_class"] or "",
                             "volumeName": "arrkestra-%s-data" % ns, "resources": {"requests": {"storage": data["size"]}}}})
    folders = [data["media_root"] + "/" + f for f in ("movies", "tv", "music")]
    folders += [data["torrents_root"], data["usenet_root"] + "/complete", data["usenet_root"] + "/incomplete"]
    folders += [a["wiring"]["root_folder"] for a in stack["apps"] if a["wiring"].get("root_folder")]
    layout = {"restartPolicy": "OnFailure", "automountServiceAccountToken": False,
              "securityContext": {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "fsGroup": stack["gid"],
                                  "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
              "containers": [{"name": "layout", "image": stack["images"]["helper"],
                              "command": ["sh", "-c", _layout_script(stack), "arrkestra-data-layout"],
                              "args": sorted(set(folders)),
                              "securityContext": _security(stack),
                              "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                            "limits": {"cpu": "100m", "memory": "32Mi"}},
                              "volumeMounts": [{"name": "data", "mountPath": data["mount"]}]}],
              "volumes": [_data_volume(stack)]}
    # A Job's pod template cannot change: a new layout (or script) is a new Job.
    digest = hashlib.sha256(json.dumps(layout["containers"][0], sort_keys=True).encode()).hexdigest()[:8]
    out.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta("arrkestra-data-layout-" + digest, ns,
                                                                           component="data"),
                "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 86400,
                         "template": {"metadata": {"labels": _labels(component="data")}, "spec": layout}}})
    who_calls = callers(stack) if stack["platform"]["network_policies"]["enabled"] else {}
    for app in stack["apps"]:
        if not app["external"]:
            out.extend(app_objects(stack, app, who_calls))
    return out


#: Copies an app's config volume to the NAS: SQLite databases through SQLite's online backup (a consistent copy
#: while the app writes), every other file as it is; keeps the newest $KEEP archives.
BACKUP_SCRIPT = r"""#!/bin/sh
# arrkestra.homelab: back up the config volume of $APP to $BACKUP_DIR/$APP (made by the stack; do not edit).
set -eu
app="${APP:?}"; config="${CONFIG_DIR:-/config}"; dest="${BACKUP_DIR:?}/$app"; keep="${KEEP:-7}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/config" "$dest"
cd "$config"
find . \( -name logs -o -name Backups -o -name MediaCover -o -name cache -o -name transcodes \) -prune \
  -o -type f -print | while IFS= read -r f; do
  case "$f" in *-wal|*-shm|*-journal) continue ;; esac
  mkdir -p "$work/config/$(dirname "$f")"
  if [ "$(head -c 15 "$f")" = "SQLite format 3" ]; then
    sqlite3 "$f" ".timeout 30000" ".backup '$work/config/$f'"
    if [ "$(sqlite3 "$work/config/$f" 'PRAGMA integrity_check;')" != ok ]; then
      echo "$app: the copy of $f fails SQLite's integrity check; the last good backup is kept" >&2
      exit 1
    fi
  else
    cp -p "$f" "$work/config/$f"
  fi
done
tar -czf "$dest/.$app-$stamp.tar.gz" -C "$work/config" .
mv "$dest/.$app-$stamp.tar.gz" "$dest/$app-$stamp.tar.gz"
ls -1 "$dest" | grep -E "^$app-[0-9]{8}T[0-9]{6}Z\.tar\.gz$" | sort -r | tail -n +$((keep + 1)) | while IFS= read -r old; do
  rm -f "$dest/$old"
done
echo "$app: backed up to $dest/$app-$stamp.tar.gz"
"""

#: Puts an archive of BACKUP_SCRIPT back into the config volume; the app must be stopped.
RESTORE_SCRIPT = r"""#!/bin/sh
# arrkestra.homelab: restore the config volume of $APP from $BACKUP_DIR/$APP (made by the stack; do not edit).
# Usage: restore.sh [archive]   (a file name in $BACKUP_DIR/$APP; none: the newest). Stop the app first.
set -eu
app="${APP:?}"; config="${CONFIG_DIR:-/config}"; src="${BACKUP_DIR:?}/$app"
archive="${1:-}"
if [ -z "$archive" ]; then
  archive=$(ls -1 "$src" 2>/dev/null | grep -E "^$app-[0-9]{8}T[0-9]{6}Z\.tar\.gz$" | sort -r | head -n 1 || true)
fi
if [ -z "$archive" ]; then echo "$app: no backup in $src" >&2; exit 1; fi
case "$archive" in */*) ;; *) archive="$src/$archive" ;; esac
if [ ! -f "$archive" ]; then echo "$app: $archive does not exist" >&2; exit 1; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tar -xzf "$archive" -C "$work"
(cd "$work" && find . -type f) | while IFS= read -r f; do
  if [ "$(head -c 15 "$work/$f")" = "SQLite format 3" ]; then
    if [ "$(sqlite3 "$work/$f" 'PRAGMA integrity_check;')" != ok ]; then
      echo "$app: $f in $archive fails SQLite's integrity check; nothing was restored" >&2
      exit 1
    fi
    rm -f "$config/$f-wal" "$config/$f-shm" "$config/$f-journal"   # journals of the database being replaced
  fi
done
cp -R "$work/." "$config/"
echo "$app: restored $archive"
"""


# -- credentials --------------------------------------------------------------------------
def qbittorrent_pbkdf2(password, salt):
    """qBittorrent's ``WebUI\\Password_PBKDF2``: PBKDF2-HMAC-SHA512, 100000 rounds, 16-byte salt, 64-byte key."""
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, 100000, 64)
    return "@ByteArray(%s:%s)" % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


def _pbkdf2_matches(stored, password):
    """Whether ``stored`` (``@ByteArray(salt:key)``, as :func:`qbittorrent_pbkdf2` makes it) is ``password``'s."""
    match = re.match(r"^@ByteArray\(([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)\)$", stored or "")
    if not match:
        return False
    return qbittorrent_pbkdf2(password, base64.b64decode(match.group(1))) == stored


#: What the seeds need besides an app's credentials, made from them once (the form each app stores).
DERIVED_CREDENTIALS = {"qbittorrent": ("password_pbkdf2",), "bazarr": ("password_md5",)}


def missing_credentials(stack, existing):
    """``{app: [keys]}`` the Secrets lack; ``existing`` is ``{app: {key: value}}`` read back from the cluster."""
    missing = {}
    for app in stack["apps"]:
        have = (existing or {}).get(app["name"]) or {}
        keys = [k for k in app["credentials"] if not have.get(k)]
        keys += [k for k in DERIVED_CREDENTIALS.get(app["kind"], ()) if not have.get(k)]
        if keys:
            missing[app["name"]] = keys
    return missing


def complete_credentials(stack, existing, random_bytes):
    """Every app's credentials: what ``existing`` holds, the rest made from ``random_bytes(n)``.

    Never replaces a value that exists: the Secrets are the source of truth.
    """
    out = {}
    for app in stack["apps"]:
        have = dict((existing or {}).get(app["name"]) or {})
        for key in app["credentials"]:
            if not have.get(key):
                if key == "api_key":
                    have[key] = random_bytes(16).hex()
                elif key == "username":
                    have[key] = "admin"
                else:
                    have[key] = base64.urlsafe_b64encode(random_bytes(18)).decode().rstrip("=")
        # The forms the seeds store follow the password: made again when it was rotated in the Secret.
        if app["kind"] == "qbittorrent" and not _pbkdf2_matches(have.get("password_pbkdf2"), have["password"]):
            have["password_pbkdf2"] = qbittorrent_pbkdf2(have["password"], random_bytes(16))
        if app["kind"] == "bazarr":
            have["password_md5"] = hashlib.md5(have["password"].encode("utf-8")).hexdigest()
        if have:
            out[app["name"]] = have
    return out


#: The components of the collection's own Jobs' pods (backups and restores, the data layout): no network at all.
JOB_COMPONENTS = ("backup", "data")
#: The pod template annotation that restarts an app when what it reads from its Secret at start changed.
CREDENTIALS_ANNOTATION = "arrkestra.io/credentials-digest"


def credentials_digest(app, credentials):
    """A digest of what ``app`` reads from its Secret at start (its random API key, qBittorrent's salted password
    hash): on its pod template, so that a rotation restarts it; None for an app that reads nothing."""
    values = [(credentials or {}).get(key) for key in app.get("reads_at_start") or ()]
    if not values:
        return None
    return hashlib.sha256(json.dumps(values).encode("utf-8")).hexdigest()[:16]


#: The ConfigMap where the wiring phase keeps what it linked (no secret: ids, names, keyed fingerprints).
WIRING_RECORD = "arrkestra-wiring"


def wiring_record_object(stack, record, key=None):
    """The wiring record as a ConfigMap of the stack's namespace, so that any controller finds it; with ``key``,
    the Secret of the same name that keeps the key of its fingerprints."""
    meta = _meta(WIRING_RECORD, stack["namespace"], component="wiring")
    if key is not None:
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta,
                "stringData": {"fingerprint_key": key}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"record.json": json.dumps(record, indent=1, sort_keys=True) + "\n"}}


def secret_objects(stack, credentials):
    """The Secrets of the apps that have credentials."""
    out = []
    for app in stack["apps"]:
        if not app["secret"]:
            continue
        values = (credentials or {}).get(app["name"]) or {}
        out.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": _meta(app["secret"], stack["namespace"], app, "credentials"),
                    "stringData": dict((k, v) for k, v in sorted(values.items()))})
    return out


def summary(stack):
    """Where to open each app and how to read its login, a line or two per app."""
    lines = []
    for app in stack["apps"]:
        if app["external"]:
            where = "%s  (external, not deployed)" % app["controller_url"]
        elif app["cronjob"]:
            where = "(no web UI: a CronJob)"
        else:
            where = app["web_url"] or "(no web UI: in-cluster only, %s)" % app["url"]
        lines.append("%-14s %s" % (app["name"], where))
        if app["kind"] == "seerr":
            lines.append("%-14s login: the Jellyfin user and password" % "")
        elif app["secret"] and "password" in app["credentials"] and not app["external"]:
            lines.append("%-14s login: kubectl -n %s get secret %s -o go-template="
                         "'{{.data.username | base64decode}} {{.data.password | base64decode}}{{\"\\n\"}}'"
                         % ("", stack["namespace"], app["secret"]))
    return lines


def memory(stack):
    """``[(app, requests MiB, limits MiB)]`` of the stack's apps, their Exportarr and gluetun sidecars included."""
    out = []
    vpn = _platform().vpn_apps(stack)
    for app in stack["apps"]:
        if app["external"]:
            continue
        containers = [_container(stack, app)]
        if _metrics(stack, app):
            containers.append(_exportarr_container(stack, app))
        if app["name"] in vpn:
            containers.append(_gluetun_container(stack, app))
        out.append((app["name"], sum(_quantity_mib(c["resources"]["requests"]["memory"]) for c in containers),
                    sum(_quantity_mib(c["resources"]["limits"]["memory"]) for c in containers)))
    return out
