# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection deploys, as data: the apps, the images of its own containers, the platform's charts.

No functions and no imports: every other file of ``plugin_utils`` reads from here, nothing here reads them.
"""

from __future__ import annotations

#: The kinds of the Servarr apps (Radarr, Sonarr, Lidarr and Prowlarr).
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
    # Plex Media Server (home-operations' image: config under /config, transcodes in /transcode, runs as any uid;
    # GET /identity answers without a token, claimed or not - docs/upstream-facts.md). Its one credential is the
    # plex.tv account's token, which nobody can make for the user: the Plex sign-in (playbooks/plex_signin.yml)
    # keeps it in the app's Secret, and the wiring claims the server with it.
    "plex": {"image": "ghcr.io/home-operations/plex:1.43.3.10896", "port": 32400, "probe": "/identity",
             "requests": ("250m", "512Mi"), "limits": ("3", "2Gi"), "data": True,
             "credentials": ("account_token",), "given_credentials": ("account_token",), "scratch": "/transcode"},
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
                  "credentials": (), "calls": ("radarr", "sonarr")},
    # Unpackerr extracts what the torrent clients downloaded as archives, for every arr instance, configured by
    # environment only; its web server (metrics and "/") is on 5656 only with UN_WEBSERVER_METRICS
    # (docs/upstream-facts.md). Nobody calls it: no ingress, not wired.
    "unpackerr": {"image": "ghcr.io/unpackerr/unpackerr:v0.15.2", "port": 5656, "probe": "/",
                  "requests": ("10m", "32Mi"), "limits": ("1", "512Mi"), "data": True, "config": False,
                  "credentials": (), "ingress": False, "controller_calls": False, "wired": False,
                  "calls": ("radarr", "sonarr", "lidarr")},
    # The sign-on services (arrkestra_sso, plugin_utils/sso.py): added to the stack by the model when SSO is on, never
    # behind the middleware themselves (they are the sign-in page). Their users file is a key of their Secret.
    "tinyauth": {"image": "ghcr.io/steveiliop56/tinyauth:v5.0.7", "port": 3000, "probe": "/api/healthz",
                 "requests": ("10m", "32Mi"), "limits": ("500m", "128Mi"), "data": False, "config_dir": "/data",
                 "credentials": ("username", "password"), "wired": False, "controller_calls": False,
                 "reads_at_start": ("users",)},
    "authelia": {"image": "ghcr.io/authelia/authelia:4.39.20", "port": 9091, "probe": "/api/health",
                 "requests": ("25m", "64Mi"), "limits": ("1", "256Mi"), "data": False, "config_dir": "/config",
                 "credentials": ("username", "password", "jwt_secret", "session_secret", "storage_encryption_key"),
                 "wired": False, "controller_calls": False,
                 "reads_at_start": ("jwt_secret", "session_secret", "storage_encryption_key")},
    # Homepage: a dashboard with a tile per app instance and the service widget of its kind, configured from the stack
    # (plugin_utils/homepage.py). Next.js on node 22 (Dockerfile), port 3000, GET /api/healthcheck answers "up" with
    # no key but behind the Host check of HOMEPAGE_ALLOWED_HOSTS; reads its YAML files from /app/config (read-only
    # here: every file it would otherwise copy in is given). Not wired: it only reads the apps' APIs; `calls` are the
    # kinds it has a widget for (their NetworkPolicies let it in) - not Jellyfin, whose key only the wiring makes.
    "homepage": {"image": "ghcr.io/gethomepage/homepage:v1.12.3", "port": 3000, "probe": "/api/healthcheck",
                 "requests": ("25m", "128Mi"), "limits": ("500m", "384Mi"), "data": False, "config": False,
                 "config_dir": "/app/config", "credentials": (), "wired": False, "controller_calls": False,
                 "calls": ("prowlarr", "radarr", "sonarr", "lidarr", "bazarr", "qbittorrent", "sabnzbd", "plex",
                           "seerr", "transmission", "nzbget")},
}
#: The stack the local inventory runs when it names no app.
DEFAULT_STACK = ("prowlarr", "radarr", "sonarr", "bazarr", "qbittorrent", "flaresolverr", "jellyfin", "seerr",
                 "recyclarr")
#: The apps whose web UI sits behind the sign-on when it is on (arrkestra_sso; ``sso: false`` on an instance takes
#: it out). Jellyfin, Plex and Seerr keep their own login: their TV and phone apps cannot follow a browser redirect.
BEHIND_SSO = ("prowlarr", "radarr", "sonarr", "lidarr", "bazarr", "qbittorrent", "sabnzbd", "homepage")
#: What a user may set per app in arrkestra_apps.
APP_OPTIONS = ("kind", "enabled", "external", "image", "port", "url", "controller_url", "hostname", "ingress", "wiring",
               "requests", "limits", "config_size", "env", "schedule", "node_selector", "transcoding", "sso")
#: Images of the collection's own containers, by the name ``arrkestra_images`` replaces them with.
SUPPORT_IMAGES = {
    # A small image with a shell, to create the data layout and pre-seed config files.
    "helper": "docker.io/library/busybox:1.37.0",
    # Alpine: sh, tar, gzip, find from busybox, and sqlite3 for the backups.
    "sqlite": "docker.io/keinos/sqlite3:3.47.2",
    "exportarr": "ghcr.io/onedr0p/exportarr:v2.3.0",
    "gluetun": "ghcr.io/qdm12/gluetun:v3.40.0",
    # Keeps qBittorrent's listening port equal to the port gluetun forwards (arrkestra_vpn.port_forwarding).
    "forwardarr": "ghcr.io/eslutz/forwardarr:v2.1.2",
    "helm_controller": "docker.io/rancher/helm-controller:v0.16.5",
}

#: Charts the platform installs through helm-controller, pinned: (repo, chart, version).
CHARTS = {
    "metallb": ("https://metallb.github.io/metallb", "metallb", "0.15.2"),
    "traefik": ("https://traefik.github.io/charts", "traefik", "37.1.2"),
    "cert-manager": ("https://charts.jetstack.io", "cert-manager", "v1.19.1"),
    "csi-driver-nfs": ("https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts",
                       "csi-driver-nfs", "4.12.1"),
    "kube-prometheus-stack": ("https://prometheus-community.github.io/helm-charts", "kube-prometheus-stack", "79.5.0"),
}
