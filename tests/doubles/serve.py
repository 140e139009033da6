"""One test double as its app's container runs it: the ``doubles`` image's entrypoint (tests/controlplane/images.py).

    serve.py <kind> [--port N] [--host H] [--check]

``kind`` is radarr, sonarr, lidarr, prowlarr, bazarr, sabnzbd, flaresolverr,
jellyfin, seerr, tinyauth or ingress (or ``$ARRKESTRA_DOUBLE``). The double listens on
``0.0.0.0:<the app's port>`` and takes its credentials where the app reads them in
its real image, so that a pod whose seed container wrote the config file (the
collection's ``SEED_SCRIPTS``, plugins/plugin_utils/workloads.py) or whose env
carries the key works as the app would:

- Radarr, Sonarr, Lidarr, Prowlarr: ``<APP>__AUTH__APIKEY`` (what the collection
  sets), else ``<ApiKey>`` of ``/config/config.xml``; ``__AUTH__METHOD`` /
  ``__AUTH__REQUIRED`` and the file's ``AuthenticationMethod`` /
  ``AuthenticationRequired`` as upstream reads them.
- SABnzbd: ``[misc]`` of ``/config/sabnzbd.ini`` (the seed writes it), with the
  image's ``SABNZBD__API_KEY`` / ``SABNZBD__HOST_WHITELIST_ENTRIES`` edits.
- Bazarr: ``auth`` of ``/config/config/config.yaml`` (the seed writes it).
- Seerr: ``$CONFIG_DIRECTORY/settings.json`` and ``API_KEY``, as
  tests/doubles/seerr.py ``load_settings`` reads them (the collection sets both); it
  opens its SQLite database where Seerr keeps it (``db/db.sqlite3``), for the backups.
- Jellyfin: none - a fresh server; the wiring's first-run wizard makes the admin.
- FlareSolverr: none (it has no authentication).
- tinyauth (tests/doubles/tinyauth.py, port 3000): the image's environment - ``TINYAUTH_APPURL``,
  ``TINYAUTH_AUTH_USERSFILE`` (a file of ``user:bcrypt-hash`` lines) and/or ``TINYAUTH_AUTH_USERS``,
  ``TINYAUTH_AUTH_SECURECOOKIE``, ``TINYAUTH_AUTH_SESSIONEXPIRY``, ``TINYAUTH_SERVER_PORT``; it opens its SQLite
  database at ``TINYAUTH_DATABASE_PATH`` (the image's default ``/data/tinyauth.db``), so an unwritable data
  volume fails the pod as it would fail tinyauth.
- ingress (tests/doubles/forward_auth.py, port 80): a stand-in of Traefik with forwardAuth Middlewares, routing
  the Ingresses of the rendered objects in the JSON/YAML file ``$ARRKESTRA_INGRESS_OBJECTS`` to their Services at
  ``<service>.<namespace>.svc.cluster.local:<port>``.

Where the real app would start with a key nobody knows (no file, no key in it, the
file the seed should have written missing), the double exits 1 with a message on
stderr, so that a broken seed shows as a failing pod. ``--check`` reads the
credentials, builds the double (its OpenAPI document included) and exits 0.

In a pod the double reaches the other apps by their pod and service addresses:
the doubles' loopback-only guard (servarr ``is_loopback``, seerr ``_loopback``)
then accepts private addresses too (:func:`allow_pod_network`).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from xml.etree import ElementTree

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import run_cli  # noqa: E402 pylint: disable=wrong-import-position

#: kind -> the port the app listens on in its image
PORTS = {"radarr": 7878, "sonarr": 8989, "lidarr": 8686, "prowlarr": 9696, "bazarr": 6767, "sabnzbd": 8080,
         "flaresolverr": 8191, "jellyfin": 8096, "seerr": 5055, "tinyauth": 3000, "ingress": 80}
SERVARR = ("radarr", "sonarr", "lidarr", "prowlarr")


class StartError(Exception):
    """The app would not come up usable with this configuration."""


def _path(root, path):
    return os.path.join(root, path.lstrip("/"))


# -- Radarr, Sonarr, Lidarr, Prowlarr ------------------------------------------------------------------
# home-operations/containers apps/radarr/entrypoint.sh:3-7 (same for sonarr, lidarr, prowlarr): --data=/config, so the
# config file is /config/config.xml (Radarr src/NzbDrone.Host/Bootstrap.cs:249-260 at v6.0.3.10276). The section
# "<App>:Auth" of the environment binds AuthOptions (Bootstrap.cs:110; src/NzbDrone.Common/Options/AuthOptions.cs:3-10),
# and each getter takes the option when set, else config.xml (src/NzbDrone.Core/Configuration/ConfigFileProvider.cs:
# 185-233: ApiKey = _authOptions.ApiKey ?? GetValue("ApiKey", GenerateApiKey()); Method/Required by Enum.TryParse,
# case-sensitive, else config.xml). The port: ServerOptions.Port ?? <Port> (ConfigFileProvider.cs, Port getter).
def read_config_xml(path):
    """``{element: text}`` of the ``<Config>`` of a Servarr config.xml."""
    tree = ElementTree.parse(path)
    config = tree.getroot()
    if config.tag != "Config":
        config = config.find(".//Config")
        if config is None:
            raise StartError("%s has no <Config> element" % path)
    return dict((child.tag, (child.text or "").strip()) for child in config)


def servarr(kind, env, root):
    from tests.doubles.servarr import ServarrDouble

    path = _path(root, "/config/config.xml")
    prefix = kind.upper() + "__"
    config = read_config_xml(path) if os.path.exists(path) else {}
    api_key = env.get(prefix + "AUTH__APIKEY") or config.get("ApiKey")
    if not api_key:
        raise StartError("no API key: %sAUTH__APIKEY is not set and %s %s - %s would generate a key nobody knows"
                         % (prefix, path, "holds no <ApiKey>" if os.path.exists(path) else "is missing",
                            kind.title()))
    port = int(env.get(prefix + "SERVER__PORT") or config.get("Port") or PORTS[kind])
    app = ServarrDouble(kind, api_key=api_key, auth_method_env=env.get(prefix + "AUTH__METHOD"),
                        auth_required_env=env.get(prefix + "AUTH__REQUIRED"))
    for key in ("AuthenticationMethod", "AuthenticationRequired"):
        if config.get(key):
            app.config_xml[key] = config[key]
    return app, port, "API key from %s" % ("%sAUTH__APIKEY" % prefix if env.get(prefix + "AUTH__APIKEY") else path)


# -- SABnzbd -------------------------------------------------------------------------------------------
# home-operations/containers apps/sabnzbd/entrypoint.sh:20-27 runs SABnzbd.py --config-file /config/sabnzbd.ini
# --server ${SABNZBD__ADDRESS}:${SABNZBD__PORT} (Dockerfile:18-19: "[::]" and 8080); entrypoint.sh:3-13 makes the file
# with random keys when it is missing, 15 and 17 edit existing "api_key =" / "host_whitelist =" lines from
# SABNZBD__API_KEY / SABNZBD__HOST_WHITELIST_ENTRIES (the latter prefixed with ${HOSTNAME:-sabnzbd}). The keys are
# [misc] api_key, host_whitelist, username, password (sabnzbd/cfg.py:351-352, 493, 525 at 4.5.1).
def sabnzbd(env, root):
    from tests.doubles.sabnzbd import SabnzbdDouble

    path = _path(root, "/config/sabnzbd.ini")
    if not os.path.exists(path):
        raise StartError("%s is missing - the image would write one with a random API key nobody knows" % path)
    app = SabnzbdDouble.from_ini(path)
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()

    def has(key):
        return any(line.split("=", 1)[0].strip() == key for line in lines if "=" in line)

    source = path
    if env.get("SABNZBD__API_KEY") and has("api_key"):
        app.api_key, source = env["SABNZBD__API_KEY"], "SABNZBD__API_KEY"
    if env.get("SABNZBD__HOST_WHITELIST_ENTRIES") and has("host_whitelist"):
        names = [env.get("HOSTNAME") or "sabnzbd"] + env["SABNZBD__HOST_WHITELIST_ENTRIES"].split(",")
        app.host_whitelist = [n.strip().lower() for n in names if n.strip()]
    if not app.api_key:
        raise StartError("%s holds no api_key in [misc] - SABnzbd would generate one nobody knows" % path)
    return app, int(env.get("SABNZBD__PORT") or PORTS["sabnzbd"]), "API key from %s" % source


# -- Bazarr --------------------------------------------------------------------------------------------
# home-operations/containers apps/bazarr/entrypoint.sh:3-9: bazarr.py --config /config --port ${BAZARR__PORT}
# (Dockerfile:20: 6767). The settings are <config>/config/config.yaml (morpheus65535/bazarr bazarr/app/config.py:
# 432-439 at v1.5.1, created empty when missing), auth.apikey / type / username / password - the MD5 hex digest
# (config.py:156-161; a missing apikey gets 32 random hex characters).
def bazarr(env, root):
    import yaml

    from tests.doubles.bazarr import BazarrDouble

    path = _path(root, "/config/config/config.yaml")
    if not os.path.exists(path):
        raise StartError("%s is missing - Bazarr would start with a random API key nobody knows" % path)
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    auth = data.get("auth") if isinstance(data, dict) else None
    if not isinstance(auth, dict) or not auth.get("apikey"):
        raise StartError("%s holds no auth.apikey - Bazarr would generate one nobody knows" % path)
    port = int(env.get("BAZARR__PORT") or PORTS["bazarr"])
    app = BazarrDouble(api_key=str(auth["apikey"]))
    kind = auth.get("type")
    app.settings["auth"].update(type=kind if kind in ("basic", "form") else None,  # config.py validator: else default
                                username=str(auth.get("username") or ""), password=str(auth.get("password") or ""))
    app.settings["general"]["port"] = port
    return app, port, "API key from %s" % path


# -- Seerr, Jellyfin, FlareSolverr -----------------------------------------------------------------------
def seerr(env, root):
    from tests.doubles.seerr import SeerrDouble, SeerrStartError, load_settings

    try:
        settings = load_settings(env, root)
    except (SeerrStartError, ValueError) as exc:
        raise StartError("%s: %s" % (env.get("CONFIG_DIRECTORY") or "/app/config", exc))
    app = SeerrDouble(api_key=settings["api_key"])
    app.initialized = settings["initialized"]
    _database(os.path.join(os.path.dirname(settings["path"]), "db", "db.sqlite3"))
    return app, PORTS["seerr"], "API key from %s" % ("API_KEY" if env.get("API_KEY") else settings["path"])


_DATABASES = []


def _database(path):
    """Seerr keeps its data in a SQLite database beside its settings (docs/upstream-facts.md: server/datasource.ts:
    43-45, 57-59): the double opens one there too, and keeps it open, so that a backup copies a live database."""
    import sqlite3

    os.makedirs(os.path.dirname(path), exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("CREATE TABLE IF NOT EXISTS double_starts (at TEXT NOT NULL)")
    connection.execute("INSERT INTO double_starts VALUES (datetime('now'))")
    connection.commit()
    _DATABASES.append(connection)


def jellyfin(env, root):
    from tests.doubles.jellyfin import JellyfinDouble

    return JellyfinDouble(), PORTS["jellyfin"], "a fresh server: the first-run wizard makes the admin"


def flaresolverr(env, root):
    from tests.doubles.flaresolverr import FlareSolverrDouble

    return FlareSolverrDouble(), PORTS["flaresolverr"], "no authentication"


# -- tinyauth, the ingress -------------------------------------------------------------------------------
# steveiliop56/tinyauth v5.0.7: configuration from TINYAUTH_* variables (.env.example; internal/config/config.go);
# Dockerfile:58 sets TINYAUTH_DATABASE_PATH=/data/tinyauth.db, and the database's folder is made and the file opened
# at start (internal/bootstrap/db_bootstrap.go:17-28); a users file that cannot be read stops the start
# (internal/utils/user_utils.go:44-49).
def tinyauth(env, root):
    from tests.doubles.tinyauth import TinyauthStartError, from_env

    env = dict(env)
    if env.get("TINYAUTH_AUTH_USERSFILE"):
        env["TINYAUTH_AUTH_USERSFILE"] = _path(root, env["TINYAUTH_AUTH_USERSFILE"])
    try:
        app, port = from_env(env)
    except TinyauthStartError as exc:
        raise StartError(str(exc))
    _database(_path(root, env.get("TINYAUTH_DATABASE_PATH") or "/data/tinyauth.db"))
    source = "users from %s" % ("TINYAUTH_AUTH_USERSFILE" if env.get("TINYAUTH_AUTH_USERSFILE") else "TINYAUTH_AUTH_USERS")
    return app, port, "%s, app URL %s, cookie domain %s" % (source, app.app_url, app.cookie_domain)


def ingress(env, root):
    from tests.doubles.forward_auth import IngressProxy, cluster_resolve, load_objects, routes_from_objects

    path = env.get("ARRKESTRA_INGRESS_OBJECTS")
    if not path:
        raise StartError("ARRKESTRA_INGRESS_OBJECTS is not set: the file of the rendered objects to route")
    try:
        routes = routes_from_objects(load_objects(_path(root, path)), cluster_resolve)
    except ValueError as exc:
        raise StartError(str(exc))
    guarded = sum(1 for r in routes if r.middlewares)
    return IngressProxy(routes), PORTS["ingress"], "%d routes (%d behind forward-auth) from %s" % (
        len(routes), guarded, path)


def make(kind, env=None, root="/"):
    """``(double, port, where its credentials came from)`` for ``kind``, as its container would start."""
    env = dict(os.environ if env is None else env)
    if kind in SERVARR:
        return servarr(kind, env, root)
    makers = {"sabnzbd": sabnzbd, "bazarr": bazarr, "seerr": seerr, "jellyfin": jellyfin, "flaresolverr": flaresolverr,
              "tinyauth": tinyauth, "ingress": ingress}
    if kind not in makers:
        raise StartError("no double of kind %r (known: %s)" % (kind, ", ".join(sorted(PORTS))))
    return makers[kind](env, root)


# -- the pod network -------------------------------------------------------------------------------------
def pod_reachable(host):
    """True when ``host`` resolves only to loopback or private (pod, service) addresses."""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return False
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    return bool(addresses) and all(a.is_loopback or a.is_private for a in addresses)


def allow_pod_network():
    """Let the doubles call the other apps' pods: private addresses pass their loopback-only guards."""
    from tests.doubles import seerr as seerr_module, servarr as servarr_module

    servarr_module.is_loopback = pod_reachable
    seerr_module._loopback = pod_reachable  # pylint: disable=protected-access


#: The prefix of the lines a double in a pod prints for each request it serves: its pod's log is the request
#: log a test reads through the API (``REQUEST <method> <path> <status>``), and a contract violation is a line too.
REQUEST, VIOLATION = "REQUEST", "VIOLATION"


def log_requests(app, out=None):
    """Print one line per request ``app`` serves, and one per contract violation it records."""
    handle = app.handle

    def logged(request):
        seen = len(app.violations)
        reply = handle(request)
        stream = out or sys.stdout
        stream.write("%s %s %s %d\n" % (REQUEST, request.method, request.path, reply.status))
        for problem in app.violations[seen:]:
            stream.write("%s %s %s: %s\n" % (VIOLATION, request.method, request.path, problem))
        stream.flush()
        return reply

    app.handle = logged
    return app


def main(argv=None, env=None, root="/"):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", default=(env if env is not None else os.environ).get("ARRKESTRA_DOUBLE"),
                        help="one of: %s" % ", ".join(sorted(PORTS)))
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to bind (default: the app's)")
    parser.add_argument("--check", action="store_true", help="read the credentials, build the double, exit")
    args = parser.parse_args(argv)
    if args.kind not in PORTS:
        parser.error("kind must be one of: %s" % ", ".join(sorted(PORTS)))
    try:
        app, port, source = make(args.kind, env, root)
    except (StartError, OSError, ElementTree.ParseError) as exc:
        sys.stderr.write("%s double: cannot start: %s\n" % (args.kind, exc))
        return 1
    port = args.port or port
    sys.stderr.write("%s double (%s %s) on %s:%d; %s\n"
                     % (args.kind, app.name, app.version or "", args.host, port, source))
    if args.check:
        return 0
    allow_pod_network()
    return run_cli(lambda _: log_requests(app), ["--host", args.host, "--port", str(port)])


if __name__ == "__main__":
    sys.exit(main())
