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
import re

MANAGED_BY = "arrkestra"
NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
TAG_RE = re.compile(r"^[^:@\s]+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$")
SERVARR = ("prowlarr", "radarr", "sonarr", "lidarr")

#: The catalog: what each app needs, sized so that the default stack fits a 4 GB Raspberry Pi 4.
#: Images are multi-arch (amd64 + arm64) and run as a non-root user; tags are pinned, never "latest".
CATALOG = {
    "prowlarr": {"image": "ghcr.io/home-operations/prowlarr:2.3.5", "port": 9696, "probe": "/ping",
                 "requests": ("50m", "128Mi"), "limits": ("500m", "384Mi"), "data": False,
                 "credentials": ("api_key",), "env_key": "PROWLARR__AUTH__APIKEY"},
    "radarr": {"image": "ghcr.io/home-operations/radarr:6.0.3", "port": 7878, "probe": "/ping",
               "requests": ("50m", "192Mi"), "limits": ("1", "512Mi"), "data": True,
               "credentials": ("api_key",), "env_key": "RADARR__AUTH__APIKEY"},
    "sonarr": {"image": "ghcr.io/home-operations/sonarr:4.0.19", "port": 8989, "probe": "/ping",
               "requests": ("50m", "192Mi"), "limits": ("1", "512Mi"), "data": True,
               "credentials": ("api_key",), "env_key": "SONARR__AUTH__APIKEY"},
    "lidarr": {"image": "ghcr.io/home-operations/lidarr:2.14.5", "port": 8686, "probe": "/ping",
               "requests": ("50m", "192Mi"), "limits": ("1", "512Mi"), "data": True,
               "credentials": ("api_key",), "env_key": "LIDARR__AUTH__APIKEY"},
    "bazarr": {"image": "ghcr.io/home-operations/bazarr:1.5.1", "port": 6767, "probe": "/api/system/ping",
               "requests": ("25m", "128Mi"), "limits": ("500m", "384Mi"), "data": True,
               "credentials": ("api_key",), "seed": "bazarr"},
    "qbittorrent": {"image": "ghcr.io/home-operations/qbittorrent:5.1.2", "port": 8080,
                    "probe": "/api/v2/app/version", "probe_any_status": True,
                    "requests": ("100m", "256Mi"), "limits": ("2", "1Gi"), "data": True,
                    "credentials": ("username", "password"), "seed": "qbittorrent"},
    "sabnzbd": {"image": "ghcr.io/home-operations/sabnzbd:4.5.1", "port": 8080, "probe": "/api?mode=version",
                "requests": ("100m", "256Mi"), "limits": ("2", "1Gi"), "data": True,
                "credentials": ("api_key",), "seed": "sabnzbd"},
    "flaresolverr": {"image": "ghcr.io/flaresolverr/flaresolverr:v3.3.21", "port": 8191, "probe": "/health",
                     "requests": ("50m", "256Mi"), "limits": ("1", "768Mi"), "data": False, "config": False,
                     "credentials": ()},
    "jellyfin": {"image": "docker.io/jellyfin/jellyfin:10.11.11", "port": 8096, "probe": "/health",
                 "requests": ("250m", "512Mi"), "limits": ("3", "2Gi"), "data": True,
                 "credentials": ("username", "password")},
    "seerr": {"image": "ghcr.io/seerr-team/seerr:v3.1.0", "port": 5055, "probe": "/api/v1/status",
              "requests": ("50m", "192Mi"), "limits": ("500m", "512Mi"), "data": False,
              "credentials": ("api_key",), "seed": "seerr"},
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
}


class StackError(ValueError):
    """The inventory describes a stack that cannot run; the message names the variable to fix."""


def _quantity_mib(value):
    """Mebibytes of a Kubernetes memory quantity ("192Mi", "1Gi", "512M")."""
    units = {"Ki": 1 / 1024.0, "Mi": 1, "Gi": 1024, "Ti": 1024 * 1024, "K": 1000 / 1048576.0, "M": 1000000 / 1048576.0,
             "G": 1e9 / 1048576.0}
    match = re.match(r"^([0-9.]+)([A-Za-z]*)$", str(value))
    if not match or match.group(2) not in units and match.group(2) != "":
        raise StackError("%r is not a memory quantity (like 256Mi or 1Gi)" % (value,))
    number = float(match.group(1))
    return number * units[match.group(2)] if match.group(2) else number / 1048576.0


def _settings(variables):
    settings = copy.deepcopy(DEFAULTS)
    for key, value in (variables or {}).items():
        if key == "apps" or value is None:
            continue
        if key == "data":
            settings["data"].update(value)
        elif key in settings:
            settings[key] = value
        else:
            raise StackError("arrkestra_%s is not a setting of the stack (known: %s)"
                             % (key, ", ".join("arrkestra_" + k for k in sorted(DEFAULTS))))
    data = settings["data"]
    if data["type"] not in ("hostpath", "nfs", "pvc"):
        raise StackError("arrkestra_data.type must be hostpath, nfs or pvc, not %r" % data["type"])
    if data["type"] == "nfs" and not (data.get("server") and data.get("export")):
        raise StackError("arrkestra_data.type is nfs: give arrkestra_data.server (the NAS) and arrkestra_data.export")
    if data["type"] == "pvc" and not data.get("claim"):
        raise StackError("arrkestra_data.type is pvc: give arrkestra_data.claim, an existing PersistentVolumeClaim")
    if not str(settings["data_mount"]).startswith("/"):
        raise StackError("arrkestra_data_mount must be an absolute path, not %r" % settings["data_mount"])
    is_nfs = settings["config_storage_class_is_nfs"] or "nfs" in str(settings["config_storage_class"]).lower()
    if is_nfs and not settings["config_on_nfs_forced"]:
        raise StackError(
            "arrkestra_config_storage_class %r is an NFS class: the apps keep SQLite databases in their config "
            "volume and SQLite on NFS corrupts them. Use a node-local class (local-path), or set "
            "arrkestra_config_on_nfs_forced: true if you accept the risk." % settings["config_storage_class"])
    if not NAME_RE.match(str(settings["namespace"])):
        raise StackError("arrkestra_namespace %r is not a valid namespace name" % settings["namespace"])
    return settings


def _app(name, given, settings):
    given = dict(given or {})
    unknown = sorted(set(given) - set(APP_OPTIONS))
    if unknown:
        raise StackError("arrkestra_apps.%s: unknown option(s) %s (known: %s)"
                         % (name, ", ".join(unknown), ", ".join(APP_OPTIONS)))
    kind = given.get("kind") or name
    if kind not in CATALOG:
        raise StackError("arrkestra_apps.%s: no app %r in the catalog (give `kind` for an instance such as "
                         "radarr-4k; apps: %s)" % (name, kind, ", ".join(sorted(CATALOG))))
    if not NAME_RE.match(name):
        raise StackError("arrkestra_apps.%s: an instance name must be lower-case letters, digits and '-', "
                         "at most 40 characters, starting with a letter" % name)
    entry = CATALOG[kind]
    external = bool(given.get("external") or entry.get("external_only"))
    if external and not given.get("url"):
        raise StackError("arrkestra_apps.%s: %s is not deployed by the collection (external); give its `url` (as "
                         "the apps reach it) and `controller_url` to wire it" % (name, kind))
    image = given.get("image") or entry["image"]
    tag = (image or "").rsplit("/", 1)[-1]
    if not external and (not TAG_RE.match(image) or (":" not in tag and "@" not in tag) or tag.endswith(":latest")):
        raise StackError("arrkestra_apps.%s.image %r must name a pinned tag or digest (never latest)" % (name, image))
    port = int(given.get("port") or entry["port"] or 0)
    namespace, domain = settings["namespace"], settings["domain"]
    hostname = given.get("hostname") or ("%s.%s" % (name, domain))
    app = {
        "name": name, "kind": kind, "image": image, "port": port or None,
        "url": given.get("url") or (("http://%s.%s.svc.%s:%d" % (name, namespace, settings["cluster_domain"], port))
                                    if port else None),
        "hostname": hostname if port else None,
        "ingress": bool(given.get("ingress", bool(port))) and bool(port),
        "secret": "%s-credentials" % name if entry["credentials"] else None,
        "credentials": list(entry["credentials"]),
        "probe": entry["probe"], "probe_any_status": entry.get("probe_any_status", False),
        "requests": dict(zip(("cpu", "memory"), given.get("requests") or entry["requests"]))
        if not isinstance(given.get("requests"), dict) else dict(given["requests"]),
        "limits": dict(zip(("cpu", "memory"), given.get("limits") or entry["limits"]))
        if not isinstance(given.get("limits"), dict) else dict(given["limits"]),
        "data": entry["data"], "config": entry.get("config", True), "config_size": given.get("config_size")
        or settings["config_size"],
        "cronjob": entry.get("cronjob", False), "schedule": given.get("schedule") or settings["recyclarr_schedule"],
        "env": dict(given.get("env") or {}), "env_key": entry.get("env_key"), "seed": entry.get("seed"),
        "node_selector": dict(given.get("node_selector") or {}),
        "wiring": dict(given.get("wiring") or {}),
        "external": external,
    }
    if external:
        app.update(ingress=False, config=False, data=False, hostname=None)
    scheme = "https" if settings.get("tls_secret") else "http"
    app["controller_url"] = given.get("controller_url") or (("%s://%s" % (scheme, hostname)) if port else None)
    for key in ("requests", "limits"):
        _quantity_mib(app[key]["memory"])
    return app


def build(variables):
    """The stack of the inventory: ``variables`` are the ``arrkestra_*`` variables without the prefix."""
    variables = dict(variables or {})
    settings = _settings(variables)
    given_apps = variables.get("apps")
    if given_apps is None:
        given_apps = dict((name, {}) for name in DEFAULT_STACK)
    if isinstance(given_apps, list):
        names = [a if isinstance(a, str) else a.get("name") for a in given_apps]
        duplicates = sorted(set(n for n in names if names.count(n) > 1))
        if duplicates:
            raise StackError("arrkestra_apps names %s twice: each instance needs its own name" % ", ".join(duplicates))
        given_apps = dict((a, {}) if isinstance(a, str) else (a["name"], dict((k, v) for k, v in a.items() if k != "name"))
                          for a in given_apps)
    if not isinstance(given_apps, dict):
        raise StackError("arrkestra_apps must be a mapping of instance name to options")

    def catalog_order(name):
        kind = (given_apps[name] or {}).get("kind") or name
        return (list(CATALOG).index(kind) if kind in CATALOG else len(CATALOG), name)

    apps = []
    for name in sorted(given_apps, key=catalog_order):
        given = given_apps[name] or {}
        if given.get("enabled", True) is False:
            continue
        apps.append(_app(name, dict((k, v) for k, v in given.items() if k != "enabled"), settings))
    hostnames = [a["hostname"] for a in apps if a["hostname"]]
    clash = sorted(set(h for h in hostnames if hostnames.count(h) > 1))
    if clash:
        raise StackError("arrkestra_apps: two apps have the hostname %s" % ", ".join(clash))
    data = dict(settings["data"])
    mount = settings["data_mount"].rstrip("/")
    return {
        "namespace": settings["namespace"], "domain": settings["domain"], "uid": int(settings["uid"]),
        "gid": int(settings["gid"]), "timezone": settings["timezone"],
        "config_storage_class": settings["config_storage_class"], "ingress_class": settings["ingress_class"],
        "tls_secret": settings["tls_secret"], "kubernetes_version": str(settings["kubernetes_version"]),
        "data": dict(data, mount=mount, media_root=mount + "/media", torrents_root=mount + "/torrents",
                     usenet_root=mount + "/usenet"),
        "apps": apps,
    }


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


def _data_volume(stack):
    return {"name": "data", "persistentVolumeClaim": {"claimName": stack["data"].get("claim") or "arrkestra-data"}}


def _secret_env(app, key, var):
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": app["secret"], "key": key}}}


SEED_SCRIPTS = {
    # Written once, before the app's first start; an existing file is never touched.
    "bazarr": ('f=/config/config/config.yaml; [ -e "$f" ] || { mkdir -p /config/config && '
               'printf "auth:\\n  apikey: %s\\n" "$API_KEY" > "$f"; }'),
    "sabnzbd": ('f=/config/sabnzbd.ini; [ -e "$f" ] || printf "[misc]\\napi_key = %s\\nhost_whitelist = %s\\n" '
                '"$API_KEY" "$HOST_WHITELIST" > "$f"'),
    "seerr": ('f=/config/settings.json; [ -e "$f" ] || printf \'{"main": {"apiKey": "%s"}}\\n\' "$API_KEY" > "$f"'),
    "qbittorrent": ('f=/config/qBittorrent/qBittorrent.conf; [ -e "$f" ] || { mkdir -p /config/qBittorrent && '
                    'printf "[LegalNotice]\\nAccepted=true\\n\\n[Preferences]\\nWebUI\\\\\\\\Username=%s\\n'
                    'WebUI\\\\\\\\Password_PBKDF2=\\"%s\\"\\nWebUI\\\\\\\\HostHeaderValidation=false\\n" '
                    '"$USERNAME" "$PASSWORD_PBKDF2" > "$f"; }'),
}


def _seed_container(stack, app):
    env = []
    if "api_key" in app["credentials"]:
        env.append(_secret_env(app, "api_key", "API_KEY"))
    if app["kind"] == "qbittorrent":
        env += [_secret_env(app, "username", "USERNAME"), _secret_env(app, "password_pbkdf2", "PASSWORD_PBKDF2")]
    if app["kind"] == "sabnzbd":
        env.append({"name": "HOST_WHITELIST", "value": "%s, %s.%s.svc" % (app["name"], app["name"], stack["namespace"])})
    return {"name": "seed-config", "image": HELPER_IMAGE, "command": ["sh", "-c", SEED_SCRIPTS[app["seed"]]],
            "env": env, "securityContext": _security(stack),
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}},
            "volumeMounts": [{"name": "config", "mountPath": "/config"}]}


def _container(stack, app):
    env = [{"name": "TZ", "value": stack["timezone"]}]
    if app["env_key"]:
        env.append(_secret_env(app, "api_key", app["env_key"]))
    env += [{"name": k, "value": str(v)} for k, v in sorted(app["env"].items())]
    mounts = []
    if app["config"]:
        mounts.append({"name": "config", "mountPath": "/config"})
    if app["data"]:
        mounts.append({"name": "data", "mountPath": stack["data"]["mount"]})
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
    spec = {"securityContext": {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "fsGroup": stack["gid"],
                                "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [_container(stack, app)], "volumes": volumes, "automountServiceAccountToken": False}
    if app["seed"]:
        spec["initContainers"] = [_seed_container(stack, app)]
    if app["node_selector"]:
        spec["nodeSelector"] = dict(app["node_selector"])
    return spec


def app_objects(stack, app):
    """The objects of one app: config volume, Deployment (or CronJob), Service, Ingress."""
    ns, name = stack["namespace"], app["name"]
    selector = {"app.kubernetes.io/instance": name, "app.kubernetes.io/name": app["kind"]}
    out = []
    if app["config"]:
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(name + "-config", ns, app, "config"),
                    "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": stack["config_storage_class"],
                             "resources": {"requests": {"storage": app["config_size"]}}}})
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
        out.append({"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, ns, app),
                    "spec": {"selector": selector, "ports": [{"name": "http", "port": app["port"],
                                                              "targetPort": "http", "protocol": "TCP"}]}})
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


def _is_4k(app):
    if app["wiring"].get("is_4k") is not None:
        return bool(app["wiring"]["is_4k"])
    return "4k" in app["name"][len(app["kind"]):].lower().split("-")


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
            lines += ["      - template: %s" % t for t in TRASH_TEMPLATES[(kind, _is_4k(app))]]
    return "\n".join(lines) + "\n", env


def objects(stack):
    """Every object of the stack except Secrets, in the order to apply them."""
    ns, data = stack["namespace"], stack["data"]
    # The API server sets kubernetes.io/metadata.name itself; naming it here keeps the second
    # server-side apply from taking the field over (a write on an unchanged stack).
    out = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": dict(
        _labels(), **{"pod-security.kubernetes.io/enforce": "restricted", "kubernetes.io/metadata.name": ns})}}]
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
    folders += sorted(set("%s/%s%s" % (data["media_root"], {"radarr": "movies", "sonarr": "tv", "lidarr": "music"}[a["kind"]],
                                       a["name"][len(a["kind"]):] if a["name"].startswith(a["kind"]) else "-" + a["name"])
                          for a in stack["apps"] if a["kind"] in ("radarr", "sonarr", "lidarr")))
    layout = {"restartPolicy": "OnFailure", "automountServiceAccountToken": False,
              "securityContext": {"runAsUser": stack["uid"], "runAsGroup": stack["gid"], "fsGroup": stack["gid"],
                                  "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
              "containers": [{"name": "layout", "image": HELPER_IMAGE, "command": ["mkdir", "-p"] + sorted(set(folders)),
                              "securityContext": _security(stack),
                              "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                            "limits": {"cpu": "100m", "memory": "32Mi"}},
                              "volumeMounts": [{"name": "data", "mountPath": data["mount"]}]}],
              "volumes": [_data_volume(stack)]}
    digest = hashlib.sha256(" ".join(sorted(set(folders))).encode()).hexdigest()[:8]
    out.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta("arrkestra-data-layout-" + digest, ns,
                                                                           component="data"),
                "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 86400,
                         "template": {"metadata": {"labels": _labels(component="data")}, "spec": layout}}})
    for app in stack["apps"]:
        if not app["external"]:
            out.extend(app_objects(stack, app))
    return out


# -- credentials --------------------------------------------------------------------------
def qbittorrent_pbkdf2(password, salt):
    """qBittorrent's ``WebUI\\Password_PBKDF2``: PBKDF2-HMAC-SHA512, 100000 rounds, 16-byte salt, 64-byte key."""
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, 100000, 64)
    return "@ByteArray(%s:%s)" % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


def missing_credentials(stack, existing):
    """``{app: [keys]}`` the Secrets lack; ``existing`` is ``{app: {key: value}}`` read back from the cluster."""
    missing = {}
    for app in stack["apps"]:
        have = (existing or {}).get(app["name"]) or {}
        keys = [k for k in app["credentials"] if not have.get(k)]
        if app["kind"] == "qbittorrent" and not have.get("password_pbkdf2"):
            keys.append("password_pbkdf2")
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
        if app["kind"] == "qbittorrent" and not have.get("password_pbkdf2"):
            have["password_pbkdf2"] = qbittorrent_pbkdf2(have["password"], random_bytes(16))
        if have:
            out[app["name"]] = have
    return out


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
    """One line per app: where to open it and how to read its credentials."""
    lines = []
    for app in stack["apps"]:
        where = app["controller_url"] or "(no web UI: %s)" % ("CronJob" if app["cronjob"] else "internal")
        if app["external"]:
            where += "  (external, not deployed)"
        line = "%-14s %s" % (app["name"], where)
        if app["secret"]:
            line += "  credentials: kubectl -n %s get secret %s -o jsonpath='{.data.%s}' | base64 -d" % (
                stack["namespace"], app["secret"], app["credentials"][-1])
        lines.append(line)
    return lines


def memory(stack):
    """``[(app, requests MiB, limits MiB)]`` of the stack's long-running apps."""
    return [(a["name"], _quantity_mib(a["requests"]["memory"]), _quantity_mib(a["limits"]["memory"]))
            for a in stack["apps"] if not a["external"]]
