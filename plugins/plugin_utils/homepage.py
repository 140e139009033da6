# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Homepage (gethomepage): a dashboard with a tile per app instance, its configuration made from the stack.

Each instance with a web UI gets a tile - its ingress URL, its icon, a description - in a group (Media, Library,
Downloads), with the service widget of its kind calling the instance's in-cluster URL. Keys and passwords are never
in the configuration: a widget names them ``{{HOMEPAGE_VAR_<INSTANCE>_<KEY>}}``, which Homepage replaces with the
environment variable of that name, and the pod reads each variable from the instance's Secret (``secretKeyRef``).

Upstream facts (docs/upstream-facts.md, "Homepage v1.12.3"): the configuration is the YAML files of ``/app/config``,
any missing one is copied in from the image (a read-only folder without it stops Homepage), so every file is given;
``{{HOMEPAGE_VAR_X}}`` is replaced, as text, before the YAML is parsed; requests to ``/api/...`` (the widgets'
proxy, the probes' ``/api/healthcheck``) must carry a Host header of ``HOMEPAGE_ALLOWED_HOSTS`` or localhost, and
the kubelet's probes send ``<pod IP>:<port>``; run as a non-root uid with ``PUID`` unset, the image's entrypoint
changes no ownership and starts as that uid.
"""

from __future__ import annotations

import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import kube, sso

KIND = "homepage"

#: The groups of tiles, in page order, with the kinds of each.
GROUPS = (("Media", ("jellyfin", "plex", "seerr")),
          ("Library", ("radarr", "sonarr", "lidarr", "bazarr", "prowlarr")),
          ("Downloads", ("qbittorrent", "sabnzbd", "transmission", "nzbget")))
#: Kinds with a web UI that get no tile: Homepage itself and the sign-on services (their page is the sign-in).
NO_TILE = (KIND,) + sso.PROVIDERS

#: The tile of each kind: its name, its icon (a name of homarr-labs/dashboard-icons, which Homepage loads by name) and
#: its description.
TILES = {
    "jellyfin": ("Jellyfin", "jellyfin.png", "Movies, shows and music"),
    "plex": ("Plex", "plex.png", "Movies, shows and music"),
    "seerr": ("Seerr", "jellyseerr.png", "Requests"),
    "radarr": ("Radarr", "radarr.png", "Movies"),
    "sonarr": ("Sonarr", "sonarr.png", "Shows"),
    "lidarr": ("Lidarr", "lidarr.png", "Music"),
    "bazarr": ("Bazarr", "bazarr.png", "Subtitles"),
    "prowlarr": ("Prowlarr", "prowlarr.png", "Indexers"),
    "qbittorrent": ("qBittorrent", "qbittorrent.png", "Torrents"),
    "sabnzbd": ("SABnzbd", "sabnzbd.png", "Usenet"),
    "transmission": ("Transmission", "transmission.png", "Torrents"),
    "nzbget": ("NZBGet", "nzbget.png", "Usenet"),
}

#: The service widget of each kind: Homepage's widget type, and each field that holds a secret with the key of the
#: instance's Secret it comes from (the rest of a widget is its ``type`` and ``url``). The fields each type reads
#: are checked against upstream in tests/unit/plugins/plugin_utils/test_homepage.py.
#: Jellyfin has none: its widget needs an API key, which only the wiring phase makes and keeps in the Secret, after
#: Homepage started. A variable read from it would be missing at the first start (``optional``) and come only with
#: a restart; restarting on it (``reads_at_start``) would change the Deployment on the second run of the playbook.
#: Its tile links to it without a widget.
WIDGETS = {
    "prowlarr": ("prowlarr", {"key": "api_key"}),
    "radarr": ("radarr", {"key": "api_key"}),
    "sonarr": ("sonarr", {"key": "api_key"}),
    "lidarr": ("lidarr", {"key": "api_key"}),
    "bazarr": ("bazarr", {"key": "api_key"}),
    "qbittorrent": ("qbittorrent", {"username": "username", "password": "password"}),
    "sabnzbd": ("sabnzbd", {"key": "api_key"}),
    "seerr": ("seerr", {"key": "api_key"}),
    # The plex.tv account's token, which only the Plex sign-in puts in the Secret (given_credentials): optional, so
    # that the pod starts before it; the run after the sign-in restarts Homepage with it (reads_at_start).
    "plex": ("plex", {"key": "account_token"}),
    "transmission": ("transmission", {"username": "username", "password": "password"}),
    "nzbget": ("nzbget", {"username": "username", "password": "password"}),
}

#: Where Homepage's Host check lets the kubelet's probes in: the pod's IP (the downward API) and the port.
POD_IP = "POD_IP"
#: Next.js's cache folder, writable whatever the uid (the image gives /app/.next to 1000:1000).
NEXT_CACHE = "/app/.next/cache"


def _group(kind):
    for group, kinds in GROUPS:
        if kind in kinds:
            return group
    return None


def _href(app):
    """Where a tile links to: the ingress, or for an app not deployed here the URL it was given."""
    if app["external"]:
        return app["controller_url"] or app["url"]
    return app["web_url"]


def shown(apps):
    """The instances that get a tile, in stack order: every app of a kind of :data:`GROUPS` with a web UI (its
    ingress) or outside the cluster (a download client on the NAS)."""
    return [a for a in apps if a["kind"] not in NO_TILE and _group(a["kind"]) and _href(a)]


def _widget_secrets(app):
    """``[(field, Secret key)]`` of the instance's widget; none without a widget or a Secret."""
    if app["kind"] not in WIDGETS or not app["secret"] or not app["url"]:
        return []
    return sorted(WIDGETS[app["kind"]][1].items())


def variable(app, key):
    """The environment variable that holds ``key`` of the instance's Secret: ``HOMEPAGE_VAR_<INSTANCE>_<KEY>``."""
    return "HOMEPAGE_VAR_%s_%s" % (re.sub(r"[^A-Z0-9]", "_", app["name"].upper()), key.upper())


def instances(apps):
    """What each Homepage shows and the keys it reads from the other instances' Secrets at start - decided once, in
    the model: a rotated key restarts it (``reads_at_start``, as ``[instance, key]``)."""
    tiles = shown(apps)
    for app in apps:
        if app["kind"] == KIND:
            app["shows"] = [a["name"] for a in tiles]
            app["reads_at_start"] = [[a["name"], key] for a in tiles for dummy, key in _widget_secrets(a)]


def _quote(value):
    """A YAML single-quoted scalar: nothing in it is read as YAML (a ``'`` is doubled)."""
    return "'%s'" % str(value).replace("'", "''")


def tiles(stack):
    """``[(group, [tile])]`` of the page, groups in :data:`GROUPS` order: each tile ``{name, href, icon, description}``
    and, for an instance of a kind of :data:`WIDGETS`, its ``widget`` (type, in-cluster url, secrets by name)."""
    out = []
    for group, kinds in GROUPS:
        made = []
        for app in shown(stack["apps"]):
            if app["kind"] not in kinds:
                continue
            title, icon, description = TILES[app["kind"]]
            tile = {"name": title if app["name"] == app["kind"] else app["name"], "href": _href(app), "icon": icon,
                    "description": description + (" (4K)" if app["wiring"].get("is_4k") else "")}
            secrets = _widget_secrets(app)
            if secrets:
                tile["widget"] = dict([("type", WIDGETS[app["kind"]][0]), ("url", app["url"])]
                                      + [(field, "{{%s}}" % variable(app, key)) for field, key in secrets])
            made.append(tile)
        if made:
            out.append((group, made))
    monitoring = stack["platform"]["monitoring"]
    if monitoring["enabled"]:
        # Grafana of the monitoring stack: a link only (its admin login is a Secret of another namespace).
        out.append(("Monitoring", [{"name": "Grafana", "href": "%s://%s" % (
            "https" if stack["tls_secret"] else "http", monitoring["grafana_hostname"]), "icon": "grafana.png",
            "description": "Dashboards and alerts"}]))
    return out


def services(stack):
    """services.yaml: :func:`tiles` as Homepage reads them, every value single-quoted."""
    lines = ["# Made by arrkestra.homelab from the stack: a tile per app instance. No key or password is written here:",
             "# each HOMEPAGE_VAR_ name is an environment variable of Homepage's pod, read from the instance's Secret."]
    for group, made in tiles(stack):
        lines.append("- %s:" % _quote(group))
        for tile in made:
            lines.append("    - %s:" % _quote(tile["name"]))
            lines += ["        %s: %s" % (k, _quote(tile[k])) for k in ("href", "icon", "description")]
            if tile.get("widget"):
                lines.append("        widget:")
                lines += ["          %s: %s" % (k, _quote(v)) for k, v in tile["widget"].items()]
    if len(lines) == 2:
        lines.append("[]")
    return "\n".join(lines) + "\n"


def files(stack, app):
    """Every file Homepage reads from its config folder (one it lacks, it would try to copy in and stop)."""
    return {
        "settings.yaml": "# Made by arrkestra.homelab from the stack.\ntitle: 'Arrkestra'\n"
                         "# The version is the collection's pin: no check of GitHub's releases.\ndisableUpdateCheck: true\n",
        "services.yaml": services(stack),
        "widgets.yaml": "[]\n",
        "bookmarks.yaml": "[]\n",
        # No discovery: the tiles are the stack's, and the pod has no ServiceAccount token nor Docker socket.
        "kubernetes.yaml": "mode: disabled\n",
        "docker.yaml": "{}\n",
        "proxmox.yaml": "{}\n",
        "custom.css": "",
        "custom.js": "",
    }


def config_map_name(stack, app):
    """The ConfigMap's name, with a digest of its files: a new configuration is a new name in the pod template,
    which restarts Homepage; the apps phase prunes the old one."""
    return kube.digest_name(app["name"] + "-config", files(stack, app))


def config_objects(stack, app):
    """Homepage's configuration, applied before its Deployment."""
    if app["kind"] != KIND:
        return []
    return [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": kube.meta(config_map_name(stack, app), stack["namespace"], app, "config"),
             "data": files(stack, app)}]


def env(stack, app):
    """The Host check (the ingress hostname and the probes' ``<pod IP>:<port>``), the port, logs on stdout only (not
    a file in the read-only config folder), and each widget's secrets from the instances' Secrets."""
    hosts = ([app["hostname"]] if app["ingress"] else []) + ["$(%s):%d" % (POD_IP, app["port"])]
    out = [{"name": POD_IP, "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
           {"name": "HOMEPAGE_ALLOWED_HOSTS", "value": ",".join(hosts)},
           {"name": "PORT", "value": str(app["port"])},
           {"name": "LOG_TARGETS", "value": "stdout"}]
    for shown_app in shown(stack["apps"]):
        for dummy, key in _widget_secrets(shown_app):
            ref = kube.secret_env(shown_app, key, variable(shown_app, key))
            if key in shown_app.get("given_credentials", ()):
                ref["valueFrom"]["secretKeyRef"]["optional"] = True
            out.append(ref)
    return out


def pod(stack, app, spec):
    """The environment (:func:`kube.feature_env`), the ConfigMap as the config folder (read-only), and an emptyDir
    for Next.js's cache."""
    if app["kind"] != KIND:
        return
    kube.feature_env(app, spec, env(stack, app))
    spec["containers"][0]["volumeMounts"] += [
        {"name": "homepage-config", "mountPath": app["config_dir"], "readOnly": True},
        {"name": "next-cache", "mountPath": NEXT_CACHE}]
    spec["volumes"] += [{"name": "homepage-config", "configMap": {"name": config_map_name(stack, app)}},
                        {"name": "next-cache", "emptyDir": {"sizeLimit": "256Mi"}}]
