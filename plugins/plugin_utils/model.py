# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack model: the apps of the inventory and the platform they run on, checked and computed once.

:func:`build` turns the inventory's ``arrkestra_*`` variables into the model every phase reads: the apps phase
makes its objects from it (:mod:`workloads`, :mod:`credentials`), the platform phase its own (:mod:`platform`),
the wiring phase each app's URLs and Secret, the summary each hostname. Nothing else derives names or URLs.

Pure functions, no I/O: errors are :class:`StackError` with the inventory variable to fix in the message.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    catalog, checks, gpu, homepage, links, network, platform, sso, unpackerr)

NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
TAG_RE = re.compile(r"^[^:@\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")

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
             "size": "1Ti", "storage_class": "", "sub_path": ""},
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
NOT_STACK_VARIABLES = ("kubeconfig", "kube_context", "reset_confirm", "reset_answer", "node_timeout",
                       "remove_stack_confirm", "remove_stack_answer", "remove_stack_data")
CONTROLLER_ACCESS = ("apiserver_proxy", "direct")

#: The stack the inventory's own ``arrkestra_*`` variables describe; ``arrkestra_stacks`` declares more.
MAIN = "main"
#: What a stack of ``arrkestra_stacks`` may set over the main stack's variables (without the prefix): what lives in
#: its own namespace. The rest is the cluster's, one for every stack (:data:`CLUSTER_WIDE`).
STACK_OPTIONS = ("apps", "namespace", "domain", "uid", "gid", "timezone", "config_storage_class",
                 "config_storage_class_is_nfs", "config_on_nfs_forced", "config_size", "data", "data_mount",
                 "tls_secret", "recyclarr_schedule", "controller_access", "images", "sso", "backups",
                 "network_policies", "vpn")
#: Settings of the cluster, not of a stack: one value for every stack.
CLUSTER_WIDE = ("distribution", "load_balancer", "ingress", "certificates", "storage", "monitoring",
                "cluster_cidrs", "helm_controller", "kubernetes_version", "cluster_domain", "ingress_class",
                "kubeconfig", "kube_context", "node_timeout")
#: What a stack may set of ``arrkestra_vpn``: whether its apps go through the tunnel, and which. The provider, its
#: servers and credentials are the inventory's (a secret the platform phase reads once), the same for every stack.
VPN_STACK_OPTIONS = ("enabled", "apps")
#: Options of a stack's own that are merged key by key over the main stack's (the rest replace it whole).
MERGED_OPTIONS = ("data", "images", "sso", "backups", "network_policies", "vpn")
SUB_PATH_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$")


#: The inventory describes a stack that cannot run; the message names the variable to fix (a bad value of one
#: variable, from :mod:`checks`, or two that do not go together).
StackError = checks.InputError

#: The most a uid or gid may be in a pod's securityContext (Kubernetes validates runAsUser/runAsGroup so).
MAX_ID = 2147483647
#: An instance's hostname is <name>.<domain>: the domain leaves room for the longest name (40) and its dot.
MAX_DOMAIN = 253 - 41
DATA_TYPES = ("hostpath", "nfs", "pvc")


def _settings(variables):
    settings = copy.deepcopy(DEFAULTS)
    known = set(DEFAULTS) | set(platform.DEFAULTS) | set(NOT_STACK_VARIABLES) | {"apps", "stack", "stacks"}
    for key, value in (variables or {}).items():
        if key not in known:
            raise StackError("arrkestra_%s is not a variable of the collection%s (known: %s)"
                             % (key, checks.closest("arrkestra_" + key, ["arrkestra_" + k for k in known]),
                                ", ".join("arrkestra_" + k for k in sorted(known))))
        if key in ("apps", "stack", "stacks") or key in platform.DEFAULTS or key in NOT_STACK_VARIABLES or value is None:
            continue
        if key == "data":
            settings["data"].update(checks.mapping(value, "arrkestra_data", DEFAULTS["data"]))
        else:
            settings[key] = value
    settings["namespace"] = checks.dns_label(settings["namespace"], "arrkestra_namespace", what="namespace name")
    settings["domain"] = checks.hostname(settings["domain"], "arrkestra_domain")
    if len(settings["domain"]) > MAX_DOMAIN:
        raise StackError("arrkestra_domain: %d characters is too long; the apps' hostnames (<app>.<domain>) must "
                         "fit in 253, so give at most %d" % (len(settings["domain"]), MAX_DOMAIN))
    settings["cluster_domain"] = checks.hostname(settings["cluster_domain"], "arrkestra_cluster_domain")
    # Every pod runs as non-root (runAsNonRoot): uid 0 would not start.
    settings["uid"] = checks.integer(settings["uid"], "arrkestra_uid", 1, MAX_ID)
    settings["gid"] = checks.integer(settings["gid"], "arrkestra_gid", 1, MAX_ID)
    settings["timezone"] = checks.timezone(settings["timezone"], "arrkestra_timezone")
    for key in ("config_storage_class_is_nfs", "config_on_nfs_forced"):
        settings[key] = checks.boolean(settings[key], "arrkestra_" + key)
    if settings["config_storage_class"] not in (None, ""):
        checks.subdomain(settings["config_storage_class"], "arrkestra_config_storage_class")
    checks.quantity(settings["config_size"], "arrkestra_config_size", "storage")
    settings["ingress_class"] = checks.subdomain(settings["ingress_class"], "arrkestra_ingress_class")
    if settings["tls_secret"] is not None:
        checks.subdomain(settings["tls_secret"], "arrkestra_tls_secret")
    settings["kubernetes_version"] = checks.text(
        str(settings["kubernetes_version"]), "arrkestra_kubernetes_version", r"^v?1\.[0-9]+(\.[0-9]+)?$",
        "not a Kubernetes version; give its minor version, like 1.33")
    checks.cron(settings["recyclarr_schedule"], "arrkestra_recyclarr_schedule")
    data = settings["data"]
    if data["type"] not in DATA_TYPES:
        raise StackError("arrkestra_data.type must be hostpath, nfs or pvc, not %r" % data["type"])
    if data["type"] == "nfs" and not (data.get("server") and data.get("export")):
        raise StackError("arrkestra_data.type is nfs: give arrkestra_data.server (the NAS) and arrkestra_data.export")
    if data["type"] == "pvc" and not data.get("claim"):
        raise StackError("arrkestra_data.type is pvc: give arrkestra_data.claim, an existing PersistentVolumeClaim")
    if data["type"] == "hostpath":
        checks.absolute_path(data["path"], "arrkestra_data.path")
    if data["type"] == "nfs":
        checks.server(data["server"], "arrkestra_data.server")
        checks.absolute_path(data["export"], "arrkestra_data.export")
    if data["type"] == "pvc":
        checks.subdomain(data["claim"], "arrkestra_data.claim")
    checks.quantity(data["size"], "arrkestra_data.size", "storage")
    if data["storage_class"]:
        checks.subdomain(data["storage_class"], "arrkestra_data.storage_class")
    data["sub_path"] = str(data.get("sub_path") or "").strip("/")
    if data["sub_path"] and (not SUB_PATH_RE.match(data["sub_path"]) or ".." in data["sub_path"].split("/")):
        raise StackError("arrkestra_data.sub_path %r is not a folder inside the data volume; give a relative path "
                         "like dev (letters, digits, '.', '_', '-'; no '..')" % data["sub_path"])
    settings["data_mount"] = checks.absolute_path(settings["data_mount"], "arrkestra_data_mount")
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
    settings["images"] = images(settings["images"])
    return settings


def pinned(image):
    tag = (image or "").rsplit("/", 1)[-1]
    return bool(image) and bool(TAG_RE.match(image)) and (":" in tag or "@" in tag) and not tag.endswith(":latest")


def images(given):
    """``arrkestra_images`` over :data:`catalog.SUPPORT_IMAGES` (and the GPU device plugins'): every name known,
    every image pinned."""
    if not isinstance(given, dict):
        raise StackError("arrkestra_images must be a mapping of name to image (names: %s)"
                         % ", ".join(sorted(dict(catalog.SUPPORT_IMAGES, **gpu.IMAGES))))
    out = dict(catalog.SUPPORT_IMAGES, **gpu.IMAGES)
    unknown = sorted(set(given) - set(out))
    if unknown:
        raise StackError("arrkestra_images: unknown name(s) %s (known: %s; the apps' images are "
                         "arrkestra_apps.<name>.image)" % (", ".join(unknown), ", ".join(sorted(out))))
    for name, image in given.items():
        if not pinned(image):
            raise StackError("arrkestra_images.%s %r must name a pinned tag or digest (never latest)" % (name, image))
        out[name] = image
    return out


def _app(name, given, settings):
    where = "arrkestra_apps.%s" % name
    given = dict(checks.mapping(given, where, catalog.APP_OPTIONS))
    if not NAME_RE.match(str(name)):
        raise StackError("%s: an instance name must be lower-case letters, digits and '-', at most 40 characters, "
                         "starting with a letter" % where)
    kind = given.get("kind") or name
    if kind not in catalog.CATALOG:
        raise StackError("%s: no app %r in the catalog%s (give `kind` for an instance such as radarr-4k; apps: %s)"
                         % (where, kind, checks.closest(str(kind), catalog.CATALOG), ", ".join(sorted(catalog.CATALOG))))
    entry = catalog.CATALOG[kind]
    for key in ("external", "ingress", "sso"):
        if given.get(key) is not None:
            given[key] = checks.boolean(given[key], "%s.%s" % (where, key))
    external = bool(given.get("external") or entry.get("external_only"))
    if external and not given.get("url"):
        raise StackError("%s: %s is not deployed by the collection (external); give its `url` (as "
                         "the apps reach it) and `controller_url` to wire it" % (where, kind))
    for key in ("url", "controller_url"):
        if given.get(key) is not None:
            checks.url(given[key], "%s.%s" % (where, key))
    image = given.get("image") or entry["image"]
    if not external and not pinned(image):
        raise StackError("%s.image %r must name a pinned tag or digest (never latest)" % (where, image))
    port = checks.port(given["port"], where + ".port") if given.get("port") is not None else (entry["port"] or 0)
    if given.get("hostname") is not None:
        checks.hostname(given["hostname"], where + ".hostname")
    resources = dict((key, _resources(given.get(key), entry[key], "%s.%s" % (where, key)))
                     for key in ("requests", "limits"))
    for resource in ("cpu", "memory"):
        low, high = (checks.quantity(resources[k][resource], "%s.%s.%s" % (where, k, resource),
                                     resource) for k in ("requests", "limits"))
        if low > high and high > 0:
            raise StackError("%s.requests.%s %s is more than %s.limits.%s %s: a pod never gets more than its limit; "
                             "lower the request or raise the limit"
                             % (where, resource, resources["requests"][resource], where, resource,
                                resources["limits"][resource]))
    if given.get("config_size") is not None:
        checks.quantity(given["config_size"], where + ".config_size", "storage")
    if given.get("schedule") is not None:
        checks.cron(given["schedule"], where + ".schedule")
    for key, value in checks.mapping(given.get("env"), where + ".env").items():
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", str(key)) or isinstance(value, (dict, list)):
            raise StackError("%s.env: %r: %r is not an environment variable; give NAME: value (letters, digits and _ "
                             "in the name, a plain value)" % (where, key, value))
    for key, value in checks.mapping(given.get("node_selector"), where + ".node_selector").items():
        checks.label(key, value, where + ".node_selector")
    checks.mapping(given.get("wiring"), where + ".wiring")
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
        # Credentials a person gives (Plex's plex.tv token, from the sign-in): kept in the Secret, never made.
        "given_credentials": list(entry.get("given_credentials", ())),
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
        "sso_given": given.get("sso"),      # decided by sso.decide, with the stack's apps
    }
    if given.get("transcoding") is not None or kind in gpu.KINDS:
        app["transcoding"] = gpu.options(given.get("transcoding"), where, kind)
    if external:
        app.update(ingress=False, config=False, data=False, hostname=None)
    # What a person opens (the ingress), and how the controller calls the app's API: at the controller_url given,
    # or through the API server's service proxy (the wiring phase puts the kubeconfig's server before proxy_path),
    # or directly at the ingress hostname.
    scheme = "https" if settings.get("tls_secret") else "http"
    app["web_url"] = ("%s://%s" % (scheme, hostname)) if app["ingress"] else None
    app["wired"] = bool(app["url"]) and entry.get("wired", True)
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
    out.update(checks.mapping(given, variable + " (cpu and memory)", ("cpu", "memory")))
    return dict((k, str(v)) for k, v in out.items())


def build(variables, nodes=None, gpu_nodes=None):
    """The stack of the inventory a run is for: ``variables`` are the ``arrkestra_*`` variables without the prefix;
    ``nodes`` ``{name: address}`` of the cluster's hosts, when the inventory has them; ``gpu_nodes`` ``{name: labels}``
    of the cluster's nodes (or the nodes phase's GPU facts), when known: the apps' GPUs are decided from them.

    ``arrkestra_stack`` (``stack``) names the stack: ``main`` (the inventory's own variables, the default) or one of
    ``arrkestra_stacks`` (:func:`stacks`). Every stack of the inventory is checked; the model is the one selected,
    with its name (``stack``) and every stack's namespace and domain (``stacks``)."""
    variables = dict(variables or {})
    selected = variables.get("stack")
    selected = MAIN if selected in (None, "") else selected
    every = stacks(variables)
    if not isinstance(selected, str) or selected not in every:
        raise StackError("arrkestra_stack: the inventory has no stack %r; give one of its stacks: %s (main is the one "
                         "the arrkestra_* variables describe, the others are in arrkestra_stacks)"
                         % (selected, ", ".join(every)))
    models = {}
    for name, (stack_variables, given) in every.items():
        try:
            models[name] = _build(stack_variables, nodes, gpu_nodes if name == selected else None)
        except StackError as exc:
            if name == MAIN:
                raise
            raise StackError(_in_stack(name, given, str(exc)))
    for key, what in (("namespace", "namespace"), ("domain", "domain")):
        seen = {}
        for name, built in models.items():
            if built[key] in seen:
                raise StackError("arrkestra_stacks.%s: its %s %s is also the stack %s's; each stack needs its own - give "
                                 "arrkestra_stacks.%s.%s" % (name, what, built[key], seen[built[key]], name, key))
            seen[built[key]] = name
    model = models[selected]
    model["stack"] = selected
    model["stacks"] = dict((name, {"namespace": built["namespace"], "domain": built["domain"]})
                           for name, built in models.items())
    return model


def stacks(variables):
    """``{name: (variables, given)}`` of every stack of the inventory, main first: the main stack's variables are the
    inventory's (less ``stack`` and ``stacks``); each of ``arrkestra_stacks`` has them with its own (``given``) over
    them, and by default the namespace ``<main namespace>-<name>``, the domain ``<name>.<main domain>`` and the
    folder ``<name>`` of the data volume (``data.sub_path``)."""
    main = dict((k, v) for k, v in (variables or {}).items() if k not in ("stack", "stacks"))
    out = {MAIN: (main, {})}
    declared = checks.mapping((variables or {}).get("stacks"), "arrkestra_stacks")
    for name, given in declared.items():
        where = "arrkestra_stacks.%s" % (name,)
        if name == MAIN:
            raise StackError("arrkestra_stacks.main: main is the stack the arrkestra_* variables describe; give the "
                             "other stacks other names (like dev)")
        if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > 20:
            raise StackError("%s: a stack's name must be lower-case letters, digits and '-', at most 20 characters, "
                             "starting with a letter (it names its namespace and domain, like dev)" % where)
        given = dict(checks.mapping(given, where))
        for key in given:
            if key in CLUSTER_WIDE:
                raise StackError("%s.%s: arrkestra_%s is a setting of the cluster, the same for every stack; set it "
                                 "once as arrkestra_%s (a stack may set: %s)"
                                 % (where, key, key, key, ", ".join(STACK_OPTIONS)))
            if key not in STACK_OPTIONS:
                raise StackError("%s: unknown option %s%s; a stack may set: %s"
                                 % (where, key, checks.closest(str(key), STACK_OPTIONS), ", ".join(STACK_OPTIONS)))
        for key in checks.mapping(given.get("vpn"), where + ".vpn"):
            if key not in VPN_STACK_OPTIONS:
                raise StackError("%s.vpn.%s: the VPN's provider, servers and credentials are the cluster's "
                                 "(arrkestra_vpn), the same for every stack; a stack may set vpn.enabled and vpn.apps"
                                 % (where, key))
        merged = dict(main)
        merged["namespace"] = "%s-%s" % (main.get("namespace") or DEFAULTS["namespace"], name)
        merged["domain"] = "%s.%s" % (name, main.get("domain") or DEFAULTS["domain"])
        merged["data"] = dict(checks.mapping(main.get("data"), "arrkestra_data"), sub_path=name)
        sso_main = dict(checks.mapping(main.get("sso"), "arrkestra_sso"))
        sso_main.pop("hostname", None)      # auth.<the stack's domain>, unless the stack names its own
        merged["sso"] = sso_main
        for key, value in given.items():
            if value is None:
                continue
            if key in MERGED_OPTIONS:
                merged[key] = dict(checks.mapping(merged.get(key), "arrkestra_" + key),
                                   **checks.mapping(value, "%s.%s" % (where, key)))
            else:
                merged[key] = value
        out[name] = (merged, given)
    return out


def _in_stack(name, given, message):
    """A message about the stack ``name`` naming its own variables: ``arrkestra_stacks.<name>.<key>`` for what it
    gives or derives (namespace, domain; the VPN's apps, which must be among its own), and which stack it is about."""
    keys = sorted(set(given) | {"namespace", "domain", "vpn"}, key=len, reverse=True)
    message = re.sub(r"\barrkestra_(%s)\b" % "|".join(re.escape(k) for k in keys),
                     lambda m: "arrkestra_stacks.%s.%s" % (name, m.group(1)), message)
    return "(stack %s) %s" % (name, message)


def _build(variables, nodes=None, gpu_nodes=None):
    """The model of one stack from its variables (see :func:`build`)."""
    settings = _settings(variables)
    platform_settings = platform.settings(dict((k, v) for k, v in variables.items() if k in platform.DEFAULTS),
                                          settings)
    if platform_settings["certificates"]["enabled"] and not settings["tls_secret"]:
        settings["tls_secret"] = "arrkestra-tls"     # the wildcard certificate the platform makes
    given_apps = variables.get("apps")
    if given_apps is None:
        given_apps = dict((name, {}) for name in catalog.DEFAULT_STACK)
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
        checks.mapping(given, "arrkestra_apps.%s" % name)
    given_apps = sso.instance(platform_settings["sso"], given_apps)

    def catalog_order(name):
        kind = str((given_apps[name] or {}).get("kind") or name)
        return (list(catalog.CATALOG).index(kind) if kind in catalog.CATALOG else len(catalog.CATALOG), name)

    apps = []
    for name in sorted(given_apps, key=catalog_order):
        given = given_apps[name] or {}
        if not checks.boolean(given.get("enabled", True), "arrkestra_apps.%s.enabled" % name):
            continue
        apps.append(_app(name, dict((k, v) for k, v in given.items() if k != "enabled"), settings))
    hostnames = [a["hostname"] for a in apps if a["hostname"]]
    clash = sorted(set(h for h in hostnames if hostnames.count(h) > 1))
    if clash:
        raise StackError("arrkestra_apps: two apps have the hostname %s" % ", ".join(clash))
    data = dict(settings["data"])
    mount = settings["data_mount"].rstrip("/")
    _wiring_facts(apps, mount)
    unpackerr.instances(apps)
    homepage.instances(apps)
    gpu.resolve(apps, gpu_nodes)
    sso.decide(apps, platform_settings)
    who_calls = network.callers(apps)
    for app in apps:
        app["callers"] = who_calls[app["name"]]     # the apps that call its API: its NetworkPolicy lets them in
    model = {
        "namespace": settings["namespace"], "domain": settings["domain"], "uid": int(settings["uid"]),
        "gid": int(settings["gid"]), "timezone": settings["timezone"],
        "config_storage_class": settings["config_storage_class"], "ingress_class": settings["ingress_class"],
        "tls_secret": settings["tls_secret"], "kubernetes_version": str(settings["kubernetes_version"]),
        "images": settings["images"],
        "data": dict(data, mount=mount, media_root=mount + "/media", torrents_root=mount + "/torrents",
                     usenet_root=mount + "/usenet"),
        "apps": apps,
        "platform": platform_settings,
        # The cluster's hosts in the inventory, {name: address} (none for a cluster you already have): the map's nodes
        "nodes": dict((str(k), str(v) if v else None) for k, v in (nodes or {}).items()),
    }
    platform.check(model, nodes)
    return model


def _wiring_facts(apps, mount):
    """Each arr instance's 4K flag, root folder and download category, decided here once: the data layout, Recyclarr,
    Seerr, Bazarr and the wiring phase all read them from the instance's ``wiring``."""
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
                wiring[key] = checks.boolean(wiring[key], "%s.%s" % (where, key))
        for key in ("category", "quality_profile"):
            if wiring.get(key) is not None:
                checks.text(wiring[key], "%s.%s" % (where, key))
        if wiring.get("root_folder") is not None:
            checks.absolute_path(wiring["root_folder"], where + ".root_folder")
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
            server = links.seerr_media_server(stack["apps"])
            login = "your plex.tv account" if server and server["kind"] == "plex" else "the Jellyfin user and password"
            lines.append("%-14s login: %s" % ("", login))
        elif app["kind"] == "plex" and not app["external"]:
            lines.append("%-14s login: your plex.tv account - sign in once: ansible-playbook "
                         "arrkestra.homelab.plex_signin" % "")
        elif sso.summary(stack, app):
            lines.append("%-14s %s" % ("", sso.summary(stack, app)))
        elif app["sso"] and app.get("auth_method") == "External":
            lines.append("%-14s login: the sign-on (%s)" % ("", sso.provider_app(stack)["web_url"]))
        elif app["secret"] and "password" in app["credentials"] and not app["external"]:
            lines.append("%-14s login: %skubectl -n %s get secret %s -o go-template="
                         "'{{.data.username | base64decode}} {{.data.password | base64decode}}{{\"\\n\"}}'"
                         % ("", "the sign-on, then its own: " if app["sso"] else "", stack["namespace"], app["secret"]))
        if gpu.summary(app):
            lines.append("%-14s %s" % ("", gpu.summary(app)))
    return lines
