# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apps' workloads: each app's config volume, Deployment (or CronJob), Service and Ingress, the seed that
writes its first config file, the shared data volume and its layout Job, and the stack's Namespace.

The features add to them, each from its own file: every module of :data:`FEATURES` may give ``pod(stack, app,
spec)`` (containers, volumes of the app's pod), ``service_ports(stack, app)``, ``config_objects(stack, app)`` (what
the pod reads, applied before it), ``app_objects(stack, app)`` (the app's other objects) and ``stack_objects(stack)``
(objects of the namespace). Adding a feature means adding a file and its
name here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    backups, catalog, checks, gpu, homepage, kube, metrics, network, plex, recyclarr, sso, unpackerr, vpn)

#: The features, in the order their objects are applied after an app's Deployment and Service.
FEATURES = (metrics, vpn, recyclarr, unpackerr, plex, gpu, homepage, sso, network, backups)


def _hooks(name):
    return [getattr(feature, name) for feature in FEATURES if hasattr(feature, name)]


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


def seed_container(stack, app):
    env = []
    if "api_key" in app["credentials"]:
        env.append(kube.secret_env(app, "api_key", "API_KEY"))
    if app["kind"] == "qbittorrent":
        env += [kube.secret_env(app, "username", "USERNAME"), kube.secret_env(app, "password_pbkdf2", "PASSWORD_PBKDF2"),
                {"name": "TORRENTS_ROOT", "value": stack["data"]["torrents_root"]}]
    if app["kind"] == "bazarr":
        env += [kube.secret_env(app, "username", "USERNAME"), kube.secret_env(app, "password_md5", "PASSWORD_MD5")]
    if app["kind"] == "sabnzbd":
        names = [app["name"], "%s.%s" % (app["name"], stack["namespace"]), "%s.%s.svc" % (app["name"], stack["namespace"]),
                 urlsplit(app["url"]).hostname]
        if app["hostname"]:
            names.append(app["hostname"])
        env += [{"name": "HOST_WHITELIST", "value": ", ".join(sorted(set(names), key=names.index))},
                {"name": "DOWNLOAD_DIR", "value": stack["data"]["usenet_root"] + "/incomplete"},
                {"name": "COMPLETE_DIR", "value": stack["data"]["usenet_root"] + "/complete"},
                kube.secret_env(app, "username", "USERNAME"), kube.secret_env(app, "password", "PASSWORD")]
    return {"name": "seed-config", "image": stack["images"]["helper"], "command": ["sh", "-c", SEED_SCRIPTS[app["seed"]]],
            "env": env, "securityContext": kube.security(stack),
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "32Mi"}},
            "volumeMounts": [{"name": "config", "mountPath": "/config"}]}


def container(stack, app):
    env = [{"name": "TZ", "value": stack["timezone"]}]
    if app["env_key"]:
        # Servarr apps: the API key, and Forms sign-in required from the first start (the default, None, shows
        # every visitor a setup dialog and the API key); the wiring phase creates the user (servarr_auth). Behind
        # the sign-on: External, the login left to it (the API still wants the key).
        prefix = app["env_key"][:-len("APIKEY")]
        env += [kube.secret_env(app, "api_key", app["env_key"]), {"name": prefix + "METHOD", "value": app["auth_method"]},
                {"name": prefix + "REQUIRED", "value": "Enabled"}]
    if app["kind"] == "seerr":
        # Seerr reads CONFIG_DIRECTORY (default /app/config) and takes API_KEY as its key on every start.
        env += [{"name": "CONFIG_DIRECTORY", "value": app["config_dir"]}, kube.secret_env(app, "api_key", "API_KEY")]
    env += [{"name": k, "value": str(v)} for k, v in sorted(app["env"].items())]
    mounts = []
    if app["config"]:
        mounts.append({"name": "config", "mountPath": app["config_dir"]})
    if app["data"]:
        mounts.append(kube.data_mount(stack))
    if catalog.CATALOG[app["kind"]].get("scratch"):
        mounts.append({"name": "scratch", "mountPath": catalog.CATALOG[app["kind"]]["scratch"]})
    container = {"name": app["kind"], "image": app["image"], "imagePullPolicy": "IfNotPresent", "env": env,
                 "securityContext": kube.security(stack),
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


def pod_spec(stack, app):
    """The app's pod: its container (and seed), its volumes, and what the features add."""
    volumes = []
    if app["config"]:
        volumes.append(kube.config_volume(app))
    if app["data"]:
        volumes.append(kube.data_volume(stack))
    if catalog.CATALOG[app["kind"]].get("scratch"):
        volumes.append({"name": "scratch", "emptyDir": {}})
    spec = {"securityContext": kube.pod_security(stack),
            "containers": [container(stack, app)], "volumes": volumes, "automountServiceAccountToken": False}
    if app["seed"]:
        spec["initContainers"] = [seed_container(stack, app)]
    if app["node_selector"]:
        spec["nodeSelector"] = dict(app["node_selector"])
    if app["cronjob"]:
        spec["restartPolicy"] = "OnFailure"
        spec["containers"][0]["args"] = ["sync"]
    for add in _hooks("pod"):
        add(stack, app, spec)
    return spec


def app_objects(stack, app):
    """The objects of one app: config volume, Deployment (or CronJob), Service, what the features add, Ingress."""
    ns, name = stack["namespace"], app["name"]
    out = []
    if app["config"]:
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": kube.meta(name + "-config", ns, app, "config"),
                    "spec": kube.storage_claim_spec(stack, app["config_size"])})
    for more in _hooks("config_objects"):
        out += more(stack, app)
    pod = {"metadata": {"labels": kube.labels(app)}, "spec": pod_spec(stack, app)}
    if app["cronjob"]:
        out.append({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": kube.meta(name, ns, app),
                    "spec": {"schedule": app["schedule"], "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 1,
                             "failedJobsHistoryLimit": 2, "jobTemplate": {"spec": {"backoffLimit": 1, "template": pod}}}})
    else:
        out.append({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": kube.meta(name, ns, app),
                    "spec": {"replicas": 1, "strategy": {"type": "Recreate"}, "revisionHistoryLimit": 2,
                             "selector": {"matchLabels": kube.selector(app)}, "template": pod}})
    if app["port"]:
        ports = [{"name": "http", "port": app["port"], "targetPort": "http", "protocol": "TCP"}]
        for more in _hooks("service_ports"):
            ports += more(stack, app)
        out.append({"apiVersion": "v1", "kind": "Service", "metadata": kube.meta(name, ns, app),
                    "spec": {"selector": kube.selector(app), "ports": ports}})
    for more in _hooks("app_objects"):
        out += more(stack, app)
    if app["ingress"]:
        rule = {"host": app["hostname"], "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
            "service": {"name": name, "port": {"name": "http"}}}}]}}
        ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": kube.meta(name, ns, app),
                   "spec": {"ingressClassName": stack["ingress_class"], "rules": [rule]}}
        if app["sso"]:
            ingress["metadata"]["annotations"] = sso.annotations(stack, ns)
        if stack["tls_secret"]:
            ingress["spec"]["tls"] = [{"hosts": [app["hostname"]], "secretName": stack["tls_secret"]}]
        out.append(ingress)
    return out


def namespace_object(stack):
    """The stack's Namespace, with its pod security level."""
    ns = stack["namespace"]
    # The API server sets kubernetes.io/metadata.name itself; naming it here keeps the second
    # server-side apply from taking the field over (a write on an unchanged stack).
    labels = dict(kube.labels(), **{"pod-security.kubernetes.io/enforce": "restricted", "kubernetes.io/metadata.name": ns})
    for more in _hooks("namespace_labels"):
        labels.update(more(stack))
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}


def layout_script(stack):
    """``mkdir -p`` of the data tree's folders (the arguments), or a log line saying what to fix: the tree's
    top must be writable by the apps' user, which only whoever makes it can do (the nodes phase on k3s)."""
    data = stack["data"]
    where = {"hostpath": "the host folder %s on the node" % data["path"],
             "nfs": "the NFS export %s:%s" % (data["server"], data["export"])}.get(
                 data["type"], "the volume of the claim %s" % (data.get("claim") or "arrkestra-data"))
    return ('mkdir -p "$@" && exit 0; echo "arrkestra: the apps (uid %d, gid %d: arrkestra_uid, arrkestra_gid) '
            'cannot write into %s; make it owned by %d:%d (chown %d:%d), then the Job retries" >&2; exit 1'
            % (stack["uid"], stack["gid"], where, stack["uid"], stack["gid"], stack["uid"], stack["gid"]))


def objects(stack):
    """Every object of the stack except Secrets, in the order to apply them."""
    ns, data = stack["namespace"], stack["data"]
    out = [namespace_object(stack)]
    for more in _hooks("stack_objects"):
        out += more(stack)
    if data["type"] != "pvc":
        source = ({"hostPath": {"path": data["path"], "type": "DirectoryOrCreate"}} if data["type"] == "hostpath"
                  else {"nfs": {"server": data["server"], "path": data["export"]}})
        out.append({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {
            "name": "arrkestra-%s-data" % ns, "labels": kube.labels(component="data")},
            "spec": dict(source, capacity={"storage": data["size"]}, accessModes=["ReadWriteMany"],
                         persistentVolumeReclaimPolicy="Retain", storageClassName=data["storage_class"] or "",
                         claimRef={"namespace": ns, "name": "arrkestra-data"})})
        out.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": kube.meta("arrkestra-data", ns, component="data"),
                    "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": data["storage_class"] or "",
                             "volumeName": "arrkestra-%s-data" % ns, "resources": {"requests": {"storage": data["size"]}}}})
    folders = [data["media_root"] + "/" + f for f in ("movies", "tv", "music")]
    folders += [data["torrents_root"], data["usenet_root"] + "/complete", data["usenet_root"] + "/incomplete"]
    folders += [a["wiring"]["root_folder"] for a in stack["apps"] if a["wiring"].get("root_folder")]
    if data.get("sub_path"):
        # A stack's folder of the volume (its apps mount it with subPath): the Job sees the whole volume and makes the
        # folder itself, as the apps' user - a folder the kubelet makes for a subPath belongs to root.
        mount = data["mount"]
        folders = [mount + "/" + data["sub_path"] + f[len(mount):] for f in folders]
    layout = {"restartPolicy": "OnFailure", "automountServiceAccountToken": False,
              "securityContext": kube.pod_security(stack),
              "containers": [{"name": "layout", "image": stack["images"]["helper"],
                              "command": ["sh", "-c", layout_script(stack), "arrkestra-data-layout"],
                              "args": sorted(set(folders)),
                              "securityContext": kube.security(stack),
                              "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                            "limits": {"cpu": "100m", "memory": "32Mi"}},
                              "volumeMounts": [{"name": "data", "mountPath": data["mount"]}]}],
              "volumes": [kube.data_volume(stack)]}
    # A Job's pod template cannot change: a new layout (or script) is a new Job.
    name = kube.digest_name("arrkestra-data-layout", layout["containers"][0])
    out.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": kube.meta(name, ns, component="data"),
                "spec": {"backoffLimit": 3, "ttlSecondsAfterFinished": 86400,
                         "template": {"metadata": {"labels": kube.labels(component="data")}, "spec": layout}}})
    for app in stack["apps"]:
        if not app["external"]:
            out.extend(app_objects(stack, app))
    return out


def memory(stack):
    """``[(app, requests MiB, limits MiB)]`` of the stack's apps, the features' sidecars included (not the seeds,
    which have ended before the app starts)."""
    out = []
    for app in stack["apps"]:
        if app["external"]:
            continue
        spec = pod_spec(stack, app)
        containers = spec["containers"] + [c for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always"]
        out.append((app["name"], sum(checks.memory_mib(c["resources"]["requests"]["memory"]) for c in containers),
                    sum(checks.memory_mib(c["resources"]["limits"]["memory"]) for c in containers)))
    return out


def check_memory(stack, node_memory_mib):
    """Fail when the monitoring stack is on and the cluster's nodes (their allocatable MiB) cannot hold it."""
    return metrics.check_memory(stack, node_memory_mib, sum(requests for dummy, requests, dummy in memory(stack)))
