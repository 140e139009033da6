# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every link of the media stack, derived from the set of apps.

Pure functions, no I/O: the wiring phase gives :func:`derive` the apps of the
stack model and gets back the links to make - one function per family of links,
in the order of the link table (``plugins/module_utils/link_table.py``) - each
one an item for one of the collection's links modules; :func:`plan` adds what the previous run made and is now
gone (removed apps or instances, links switched off) as items to delete, and
groups everything by the app whose API is called, so the phase needs one task
per app.

An app, as this file reads it (the stack model gives more)::

    {"name": "radarr-4k",            # instance name, unique in the stack
     "kind": "radarr",               # catalog app it is an instance of
     "url": "http://radarr-4k.media.svc.cluster.local:7878",   # as the other apps reach it
     "wiring": {...}}                # optional per-instance settings, see INSTANCE_OPTIONS

A link::

    {"id": "radarr-4k/download_clients/qbittorrent",   # stable: the record of what was made
     "app": "radarr-4k",        # the app whose API makes the link
     "group": "download_clients",   # list of the module that makes it
     "to": "qbittorrent",       # the app it points at (None: none)
     "item": {...},             # options of the item, secrets as references
     "secrets": {"password": ["qbittorrent", "password"]},   # option -> [app, credential]
     "prune": True}             # removed from the app once no longer derived (plugins/module_utils/link_table.py)

Secrets are never in a link: ``secrets`` names the credential of an app that
the wiring phase puts in the option when it calls the module.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections import namedtuple
from urllib.parse import urlsplit

from ansible_collections.arrkestra.homelab.plugins.module_utils import link_table
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import gpu, kube

ARR_KINDS = link_table.ARR
SERVARR_KINDS = ARR_KINDS + ("prowlarr",)

DownloadClient = namedtuple("DownloadClient", ("implementation", "protocol", "credentials"))
#: The download clients the arr apps link to: their implementation in the arr apps, protocol, and the credentials
#: they log in with.
DOWNLOAD_CLIENTS = {
    "qbittorrent": DownloadClient("QBittorrent", "torrent", ("username", "password")),
    "transmission": DownloadClient("Transmission", "torrent", ("username", "password")),
    "sabnzbd": DownloadClient("Sabnzbd", "usenet", ("api_key",)),
    "nzbget": DownloadClient("Nzbget", "usenet", ("username", "password")),
}
Media = namedtuple("Media", ("folder", "collection_type", "library", "prowlarr_app", "categories", "plex_type"))
#: What each arr kind keeps: its folder under the media root, its Jellyfin collection type and library, its name as
#: a Prowlarr application, the newznab categories Prowlarr syncs to it, and its Plex library section type.
MEDIA = {
    "radarr": Media("movies", "movies", "Movies", "Radarr", [2000, 2010, 2020, 2030, 2040, 2045, 2050, 2060, 2070, 2080],
                    "movie"),
    "sonarr": Media("tv", "tvshows", "Shows", "Sonarr", [5000, 5010, 5020, 5030, 5040, 5045, 5050, 5090], "show"),
    "lidarr": Media("music", "music", "Music", "Lidarr", [3000, 3010, 3020, 3030, 3040, 3050, 3060], "artist"),
}

#: The media servers the arr apps tell about each import: their notification in the arr apps, the option of the
#: notification that carries the server's key, and the credential of the server that holds it.
MediaServer = namedtuple("MediaServer", ("implementation", "secret_option", "credential"))
MEDIA_SERVERS = {"jellyfin": MediaServer("MediaBrowser", "server_api_key", "api_key"),
                 "plex": MediaServer("PlexServer", "auth_token", "account_token")}
#: Credentials a person gives rather than the collection makes (Plex's plex.tv token, from the Plex sign-in): a link
#: that needs one which is not known yet is left for the run after the sign-in (``wiring_resolve``), not failed.
GIVEN_CREDENTIALS = ("account_token",)
#: The events of each arr kind that change what is on disk - an import, an upgrade, a rename, a deletion - on which
#: it asks the media server to look at the folder again (the events both Emby / Jellyfin and Plex Media Server act
#: on in each app; docs/upstream-facts.md).
LIBRARY_EVENTS = {
    "radarr": ["download", "upgrade", "rename", "movie_delete", "movie_file_delete", "movie_file_delete_for_upgrade"],
    "sonarr": ["download", "upgrade", "rename", "series_delete", "episode_file_delete", "episode_file_delete_for_upgrade"],
    "lidarr": ["release_import", "upgrade", "rename", "artist_delete", "album_delete"],
}

#: Per-instance settings an app may carry under ``wiring``.
INSTANCE_OPTIONS = ("root_folder", "category", "is_4k", "default", "quality_profile", "enabled")

#: Defaults of :func:`derive`'s settings.
DEFAULT_SETTINGS = {
    "media_root": "/data/media",
    "torrents_root": "/data/torrents",
    "usenet_root": "/data/usenet",
    "jellyfin_server_name": "Arrkestra",
    "jellyfin_api_key_name": "arrkestra",
    "plex_server_name": "Arrkestra",
    "disabled": [],
    "extra": [],
    "item_specs": None,
}


#: What a link of ``wiring_extra_links`` may be, per kind of app and group: (options it needs to be made, options
#: it may have besides). The arr apps and Prowlarr take their modules' whole item specs (``servarr.links_spec``);
#: the others the options the wiring role hands to their modules. Startup, API keys and Seerr's setup are made once
#: per app by the collection: no extra link of theirs.
EXTRA_GROUPS = {
    "qbittorrent": {"categories": (("name",), ("save_path",))},
    "sabnzbd": {"categories": (("name",), ("dir",))},
    "jellyfin": {"libraries": (("name", "collection_type", "paths"), ())},
    "plex": {"preferences": (("id", "value"), ()), "libraries": (("name", "type", "paths"), ("agent", "scanner", "language"))},
    "seerr": {"services": (("kind", "name", "hostname", "port", "root_folder", "app_api_key"),
                           ("use_ssl", "base_url", "is_4k", "is_default", "quality_profile"))},
    "bazarr": {"connections": (("kind", "host", "port", "app_api_key"), ("use_ssl", "base_url"))},
}
#: What the arr apps' and Prowlarr's modules need to make an item, beyond their specs' required options.
SERVARR_NEEDS = {
    "download_clients": ("implementation",),
    "applications": ("implementation", "base_url", "prowlarr_url", "app_api_key"),
    "indexer_proxies": ("host",),
}


class LinkError(ValueError):
    """The apps or settings cannot be wired; the message says which and why."""


def _host_port(url):
    parts = urlsplit(url)
    if not parts.hostname:
        raise LinkError("%r is not a URL with a host" % url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port, parts.scheme == "https", parts.path.rstrip("/")


def _suffix(app):
    """What an instance adds to its kind's name: "-4k" for radarr-4k, "" for radarr."""
    name, kind = app["name"], app["kind"]
    return name[len(kind):] if name.startswith(kind) else "-" + name


def is_4k(app):
    """Whether an instance serves 4K: ``wiring.is_4k``, else a "4k" part in its suffix (radarr-4k)."""
    wiring = app.get("wiring") or {}
    if wiring.get("is_4k") is not None:
        return bool(wiring["is_4k"])
    return "4k" in _suffix(app).lower().split("-")


def root_folder(app, settings):
    """Where an arr instance keeps its media: <media_root>/<movies|tv|music><suffix>."""
    wiring = app.get("wiring") or {}
    if wiring.get("root_folder"):
        return wiring["root_folder"]
    return "%s/%s%s" % (settings["media_root"].rstrip("/"), MEDIA[app["kind"]].folder, _suffix(app))


def category(app):
    """The download category of an arr instance: its name, so instances never share one."""
    return (app.get("wiring") or {}).get("category") or app["name"]


def _link(app, group, name, item, to=None, secrets=None):
    """A link of ``app``'s ``group``; whether it is removed once no longer derived comes from :mod:`link_table`."""
    row = link_table.row(app["kind"], group)
    return {"id": "%s/%s/%s" % (app["name"], group, name), "app": app["name"], "group": group,
            "to": to, "item": item, "secrets": secrets or {}, "prune": bool(row and row.prunes)}


def _validate(apps):
    seen = {}
    for index, app in enumerate(apps):
        for key in ("name", "kind", "url"):
            if not app.get(key):
                raise LinkError("app #%d (%s) has no %r" % (index, app.get("name", "?"), key))
        if app["name"] in seen:
            raise LinkError("two apps are named %r" % app["name"])
        seen[app["name"]] = app
        _host_port(app["url"])
        unknown = sorted(set(app.get("wiring") or {}) - set(INSTANCE_OPTIONS))
        if unknown:
            raise LinkError("app %r: unknown wiring option(s) %s; known: %s"
                            % (app["name"], ", ".join(unknown), ", ".join(INSTANCE_OPTIONS)))


# -- one function per family of links: (the apps, settings) -> links -------------------------
def _by_kind(apps):
    out = {}
    for app in apps:
        out.setdefault(app["kind"], []).append(app)
    return out


def _categories(apps, settings):
    """A download category per arr instance in each qBittorrent and SABnzbd, saved under the shared tree."""
    of = _by_kind(apps)
    links = []
    for kind, root, option in (("qbittorrent", "torrents_root", "save_path"), ("sabnzbd", "usenet_root", "dir")):
        for client in of.get(kind, []):
            for arr in [a for a in apps if a["kind"] in ARR_KINDS]:
                links.append(_link(client, "categories", category(arr), {
                    "name": category(arr), option: "%s/%s" % (settings[root].rstrip("/"), category(arr))},
                    to=arr["name"]))
    return links


def _arr_links(apps, settings):
    """Each arr instance's root folder, and every download client of the stack."""
    links = []
    clients = [a for a in apps if a["kind"] in DOWNLOAD_CLIENTS]
    for arr in [a for a in apps if a["kind"] in ARR_KINDS]:
        folder = {"path": root_folder(arr, settings)}
        if arr["kind"] == "lidarr":   # Lidarr names its root folders
            folder["name"] = MEDIA["lidarr"].library + _suffix(arr)
        links.append(_link(arr, "root_folders", folder["path"], folder))
        for client in clients:
            kind = DOWNLOAD_CLIENTS[client["kind"]]
            host, port, tls, base = _host_port(client["url"])
            item = {"name": client["name"], "implementation": kind.implementation, "host": host, "port": port,
                    "use_ssl": tls, "category": category(arr), "enable": True}
            if base:
                item["url_base"] = base
            secrets = dict(("client_api_key" if credential == "api_key" else credential, [client["name"], credential])
                           for credential in kind.credentials)
            links.append(_link(arr, "download_clients", client["name"], item, to=client["name"], secrets=secrets))
    return links


def _notification_links(apps, settings):
    """Each arr instance tells every media server of the stack about each import, upgrade, rename and deletion, so
    the library updates at once (no scan; file watching does not work on NFS)."""
    servers = [a for a in apps if a["kind"] in MEDIA_SERVERS]
    links = []
    for arr in [a for a in apps if a["kind"] in ARR_KINDS]:
        for server in servers:
            kind = MEDIA_SERVERS[server["kind"]]
            host, port, tls, base = _host_port(server["url"])
            item = {"name": server["name"], "implementation": kind.implementation, "host": host, "port": port,
                    "use_ssl": tls, "update_library": True, "events": list(LIBRARY_EVENTS[arr["kind"]])}
            if kind.implementation == "MediaBrowser":
                item["notify"] = False      # Jellyfin has no notification endpoint (docs/upstream-facts.md)
            if base:
                item["url_base"] = base
            links.append(_link(arr, "notifications", server["name"], item, to=server["name"],
                               secrets={kind.secret_option: [server["name"], kind.credential]}))
    return links


def _prowlarr_links(apps, settings):
    """Every arr instance as an application of Prowlarr; FlareSolverr as its indexer proxy, for indexers tagged so."""
    of = _by_kind(apps)
    links = []
    for prowlarr in of.get("prowlarr", []):
        for arr in [a for a in apps if a["kind"] in ARR_KINDS]:
            media = MEDIA[arr["kind"]]
            links.append(_link(prowlarr, "applications", arr["name"], {
                "name": arr["name"], "implementation": media.prowlarr_app, "sync_level": "full_sync",
                "prowlarr_url": prowlarr["url"], "base_url": arr["url"], "sync_categories": list(media.categories)},
                to=arr["name"], secrets={"app_api_key": [arr["name"], "api_key"]}))
        for solver in of.get("flaresolverr", [])[:1]:
            links.append(_link(prowlarr, "tags", "flaresolverr", {"label": "flaresolverr"}))
            links.append(_link(prowlarr, "indexer_proxies", solver["name"], {
                "name": solver["name"], "host": solver["url"].rstrip("/") + "/", "tags": ["flaresolverr"]},
                to=solver["name"]))
    return links


def _jellyfin_links(apps, settings):
    """Jellyfin's wizard, the stack's API key, and a library per media type with every instance's folder."""
    of = _by_kind(apps)
    links = []
    for jellyfin in of.get("jellyfin", []):
        links.append(_link(jellyfin, "startup", "wizard", {"server_name": settings["jellyfin_server_name"]},
                           secrets={"admin_user": [jellyfin["name"], "username"],
                                    "admin_password": [jellyfin["name"], "password"]}))
        links.append(_link(jellyfin, "api_keys", settings["jellyfin_api_key_name"],
                           {"name": settings["jellyfin_api_key_name"]}))
        for kind in ARR_KINDS:
            instances = of.get(kind, [])
            if instances:
                media = MEDIA[kind]
                links.append(_link(jellyfin, "libraries", media.library, {
                    "name": media.library, "collection_type": media.collection_type,
                    "paths": [root_folder(a, settings) for a in instances]}))
        # Hardware transcoding as the apps phase gave the pod its GPU (plugins/plugin_utils/gpu.py), or none.
        encoding = gpu.encoding(jellyfin)
        if encoding:
            links.append(_link(jellyfin, "encoding", "transcoding", encoding))
    return links


def _plex_links(apps, settings):
    """Each Plex server's name and a library per media type with every instance's folder (the claim with the plex.tv
    account is the links module's own step: it needs the token, not a link)."""
    of = _by_kind(apps)
    links = []
    for plex in of.get("plex", []):
        links.append(_link(plex, "preferences", "FriendlyName", {"id": "FriendlyName",
                                                                 "value": settings["plex_server_name"]}))
        for kind in ARR_KINDS:
            instances = of.get(kind, [])
            if instances:
                media = MEDIA[kind]
                links.append(_link(plex, "libraries", media.library, {
                    "name": media.library, "type": media.plex_type,
                    "paths": [root_folder(a, settings) for a in instances]}))
    return links


def seerr_media_server(apps):
    """The media server Seerr is set up with: the stack's first Jellyfin (no plex.tv account needed), else its first
    Plex; None when there is neither."""
    of = _by_kind(apps)
    servers = of.get("jellyfin", []) or of.get("plex", [])
    return servers[0] if servers else None


def _seerr_links(apps, settings):
    """Seerr set up with the stack's media server (:func:`seerr_media_server`), and every Radarr and Sonarr instance
    (one default per resolution)."""
    of = _by_kind(apps)
    links = []
    server = seerr_media_server(apps)
    libraries = [MEDIA[k].library for k in ("radarr", "sonarr") if of.get(k)]
    for seerr in of.get("seerr", []):
        if server and server["kind"] == "jellyfin":
            host, port, tls, base = _host_port(server["url"])
            links.append(_link(seerr, "setup", "jellyfin", {
                "jellyfin_hostname": host, "jellyfin_port": port, "jellyfin_use_ssl": tls,
                "jellyfin_url_base": base, "libraries": libraries},
                to=server["name"], secrets={"jellyfin_username": [server["name"], "username"],
                                            "jellyfin_password": [server["name"], "password"]}))
        elif server:
            host, port, tls, base = _host_port(server["url"])
            links.append(_link(seerr, "setup", "plex", {
                "media_server": "plex", "plex_hostname": host, "plex_port": port, "plex_use_ssl": tls,
                "libraries": libraries}, to=server["name"], secrets={"plex_token": [server["name"], "account_token"]}))
        for kind in ("radarr", "sonarr"):
            defaults = set()
            for arr in of.get(kind, []):
                host, port, tls, base = _host_port(arr["url"])
                wiring = arr.get("wiring") or {}
                four_k = is_4k(arr)
                default = wiring.get("default")
                if default is None:
                    default = four_k not in defaults
                if default:
                    defaults.add(four_k)
                item = {"kind": kind, "name": arr["name"], "hostname": host, "port": port, "use_ssl": tls,
                        "base_url": base, "is_4k": four_k, "is_default": bool(default),
                        "root_folder": root_folder(arr, settings)}
                if wiring.get("quality_profile"):
                    item["quality_profile"] = wiring["quality_profile"]
                links.append(_link(seerr, "services", "%s/%s" % (kind, arr["name"]), item, to=arr["name"],
                                   secrets={"app_api_key": [arr["name"], "api_key"]}))
    return links


def _bazarr_links(apps, settings):
    """Bazarr talks to one Radarr and one Sonarr: the first that is not a 4K instance."""
    of = _by_kind(apps)
    links = []
    for bazarr in of.get("bazarr", []):
        for kind in ("radarr", "sonarr"):
            candidates = sorted(of.get(kind, []), key=is_4k)
            if candidates:
                arr = candidates[0]
                host, port, tls, base = _host_port(arr["url"])
                links.append(_link(bazarr, "connections", kind, {
                    "kind": kind, "host": host, "port": port, "use_ssl": tls, "base_url": base},
                    to=arr["name"], secrets={"app_api_key": [arr["name"], "api_key"]}))
    return links


FAMILIES = (_categories, _arr_links, _notification_links, _prowlarr_links, _jellyfin_links, _plex_links, _seerr_links,
            _bazarr_links)


def order(apps, links):
    """``links`` in the order the wiring makes them: app kinds and groups as :mod:`link_table` orders them,
    instances of a kind in the order of ``apps``, items of a group as they came."""
    kinds = link_table.kinds()
    position = dict((a["name"], (kinds.index(a["kind"]) if a["kind"] in kinds else len(kinds), index))
                    for index, a in enumerate(apps))
    kind_of = dict((a["name"], a["kind"]) for a in apps)

    def key(link):
        groups = link_table.groups(kind_of.get(link["app"]))
        return position.get(link["app"], (len(kinds), 0)) + (
            groups.index(link["group"]) if link["group"] in groups else len(groups),)
    return sorted(links, key=key)


def derive(apps, settings=None):
    """The links between ``apps``, in the order they must be made."""
    settings = dict(DEFAULT_SETTINGS, **(settings or {}))
    _validate(apps)
    apps = [a for a in apps if (a.get("wiring") or {}).get("enabled", True)]
    links = [link for family in FAMILIES for link in family(apps, settings)]
    return order(apps, _apply_user_choices(links, apps, settings))


def _switched_off(link_id, choice):
    """Whether ``choice`` (an id or an id prefix such as ``radarr/download_clients``) names ``link_id``."""
    return link_id == choice or link_id.startswith(choice.rstrip("/") + "/")


def _apply_user_choices(links, apps, settings):
    disabled = set(settings.get("disabled") or ())
    unknown = sorted(d for d in disabled if not any(_switched_off(link["id"], d) for link in links))
    if unknown:
        raise LinkError("wiring_disabled_links names links that do not exist: %s (ids look like "
                        "'radarr/download_clients/qbittorrent'; a prefix such as 'radarr/download_clients' "
                        "switches off a whole group)" % ", ".join(unknown))
    kept = [link for link in links if not any(_switched_off(link["id"], d) for d in disabled)]
    extras = settings.get("extra") or ()
    if not isinstance(extras, (list, tuple)):
        raise LinkError("wiring_extra_links: %r is not a list of links ({app, group, item})" % (extras,))
    for index, extra in enumerate(extras):
        _check_extra(index, extra, apps, settings.get("item_specs"))
        item = copy.deepcopy(extra["item"])
        name = item.get("name") or item.get("path") or item.get("label") or item.get("id") or str(index)
        kept.append({"id": "%s/%s/%s" % (extra["app"], extra["group"], name), "app": extra["app"],
                     "group": extra["group"], "to": extra.get("to"), "item": item, "extra": True,
                     "secrets": copy.deepcopy(extra.get("secrets") or {})})
    ids = [link["id"] for link in kept]
    duplicates = sorted(set(i for i in ids if ids.count(i) > 1))
    if duplicates:
        raise LinkError("links defined twice: %s" % ", ".join(duplicates))
    return kept


def _check_extra(index, extra, apps, item_specs):
    """A link of ``wiring_extra_links``, checked before the wiring makes any call: its app, its group, its
    item's options and the credentials its secrets name. ``item_specs``: ``{group: argument spec}`` of the arr
    apps' and Prowlarr's groups (the wiring filter gives them; None skips the type checks)."""
    where = "wiring_extra_links[%d]" % index
    if not isinstance(extra, dict):
        raise LinkError("%s: %r is not a link; give a mapping with app, group and item" % (where, extra))
    unknown = sorted(set(extra) - {"app", "group", "item", "to", "secrets"})
    missing = [k for k in ("app", "group", "item") if not extra.get(k)]
    if unknown or missing:
        wrong = (["unknown key(s) %s" % ", ".join(unknown)] if unknown else []) + \
            (["no %s" % ", ".join(missing)] if missing else [])
        raise LinkError("%s: %s (a link has app, group, item, and optionally to and secrets)" % (where, "; ".join(wrong)))
    of = dict((a["name"], a) for a in apps)
    if extra["app"] not in of:
        raise LinkError("%s.app: no app is named %r (apps: %s)" % (where, extra["app"], ", ".join(sorted(of))))
    kind = of[extra["app"]]["kind"]
    groups = EXTRA_GROUPS.get(kind, {})
    if kind in SERVARR_KINDS:
        groups = dict((g, None) for g in link_table.groups(kind))
    if extra["group"] not in groups:
        raise LinkError("%s.group: %s (%s) has no group %r; its groups: %s"
                        % (where, extra["app"], kind, extra["group"], ", ".join(sorted(groups)) or "none"))
    item, secrets = extra["item"], extra.get("secrets") or {}
    if not isinstance(item, dict) or not isinstance(secrets, dict):
        raise LinkError("%s: item and secrets are mappings of option to value" % where)
    for option, ref in secrets.items():
        if not (isinstance(ref, (list, tuple)) and len(ref) == 2 and ref[0] in of
                and ref[1] in (of[ref[0]].get("credentials") or ("api_key", "username", "password"))):
            raise LinkError("%s.secrets.%s: %r is not [app, credential] of an app of the stack (like [radarr, api_key])"
                            % (where, option, ref))
    given = set(item) | set(secrets)
    if kind in SERVARR_KINDS:
        spec = (item_specs or {}).get(extra["group"]) or {}
        needed = [k for k, v in spec.items() if v.get("required")] + list(SERVARR_NEEDS.get(extra["group"], ()))
        allowed = set(spec) - {"state"} if spec else given
    else:
        needed, optional = groups[extra["group"]]
        allowed = set(needed) | set(optional)
    wrong = sorted(given - allowed)
    if wrong:
        raise LinkError("%s.item: unknown option(s) %s for %s's %s; known: %s"
                        % (where, ", ".join(wrong), kind, extra["group"], ", ".join(sorted(allowed))))
    lacking = [k for k in needed if k not in given]
    if lacking:
        raise LinkError("%s.item: a %s link of %s needs %s" % (where, extra["group"], kind, ", ".join(lacking)))
    if kind in SERVARR_KINDS and item_specs:
        from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
        spec = dict((k, dict(v, required=False)) for k, v in item_specs[extra["group"]].items())
        errors = ArgumentSpecValidator(spec).validate(dict(item)).error_messages
        if errors:
            raise LinkError("%s.item: %s" % (where, "; ".join(errors)))


def identity(link):
    """What finds a link's resource again: the item's name, path or label (and kind for Seerr)."""
    item = link["item"]
    keep = dict((k, item[k]) for k in ("name", "path", "label", "kind") if k in item)
    return keep


def _records(previous):
    """The links of a record: version 1 was the list itself, version 2 has ``links`` and ``fingerprints``."""
    if isinstance(previous, dict):
        return list(previous.get("links") or ())
    return list(previous or ())


def _digest(key, values):
    key = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(key, json.dumps(values, sort_keys=True).encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def secrets_fingerprint(secrets, credentials, key):
    """The keyed fingerprint of what a link's ``secrets`` (``{option: [app, credential]}``) hand to its app now."""
    return _digest(key, dict((option, str(((credentials or {}).get(app) or {}).get(name)))
                             for option, (app, name) in secrets.items()))


def fingerprints(links, logins, credentials, key):
    """``{id: HMAC}`` of the secrets each link hands to its app (``link["secrets"]``), and of the login of each app
    in ``logins`` (``login/<app>``): what the record keeps instead of the secrets. ``key`` is the wiring's own
    random key (kept in a Secret, or a file beside the record): a reader of the record cannot test a guess."""
    out = {}
    for link in links:
        if link["secrets"]:
            out[link["id"]] = secrets_fingerprint(link["secrets"], credentials, key)
    for app in logins or ():
        values = (credentials or {}).get(app) or {}
        out["login/%s" % app] = _digest(key, [values.get("username"), values.get("password")])
    return out


def rotated(previous, current):
    """Ids of ``current`` fingerprints the ``previous`` record has not seen (a rotated secret, or a link made
    without a record of its secret)."""
    known = (previous.get("fingerprints") or {}) if isinstance(previous, dict) else {}
    return sorted(i for i, value in current.items() if known.get(i) != value)


def needs_rewrite(item, credentials, key):
    """Whether a planned item's secrets differ from what the previous run pushed (its ``_rotation``: the
    fingerprint the record kept) - decided when the item is sent, with the credentials known then: a key the run
    itself made (Jellyfin's) is known by then. A secret still unknown (check mode) tells nothing: no rewrite."""
    rotation = item.get("_rotation")
    if not rotation or item.get("state") == "absent":
        return False
    secrets = item.get("_secrets") or {}
    if any(((credentials or {}).get(app) or {}).get(name) in (None, "") for app, name in secrets.values()):
        return False
    return secrets_fingerprint(secrets, credentials, key) != rotation.get("was")


def _masks_secrets(link, kinds):
    row = link_table.row(kinds.get(link["app"]), link["group"])
    return bool(row and row.masks_secrets)


def plan(apps, links, previous=None):
    """Links to make, plus deletions of what ``previous`` made and ``links`` no longer has.

    ``previous`` is the record the last run kept (:func:`record`); an item whose app masks its secrets carries
    ``_rotation`` (the fingerprint the record kept) for :func:`needs_rewrite`. A link whose
    app is gone is not deleted (the app and its data went with it); a link
    that points to another app (``to``) or that the user added
    (``wiring_extra_links``), and is gone or switched off, is deleted from the app that still has it - by name, so a
    resource the user made by hand is never touched. What points to no app
    (root folders, Jellyfin libraries, tags) holds the user's data or choices
    and is left in place when it is no longer derived. Returns ``{app name: {group: [items]}}`` in link order, each item
    with ``state`` and its secrets still as references under ``_secrets``.
    """
    names = set(a["name"] for a in apps)
    kinds = dict((a["name"], a["kind"]) for a in apps)
    current = set(link["id"] for link in links)
    known = (previous.get("fingerprints") or {}) if isinstance(previous, dict) else {}
    calls = {}
    for link in links:
        item = dict(link["item"], state="present")
        if link["secrets"]:
            item["_secrets"] = link["secrets"]
            if _masks_secrets(link, kinds):     # the app masks it: written again once it changed
                item["_rotation"] = {"id": link["id"], "was": known.get(link["id"])}
        calls.setdefault(link["app"], {}).setdefault(link["group"], []).append(item)
    for old in _records(previous):
        if old["id"] in current or old["app"] not in names or not old.get("prune"):
            continue
        item = dict(old["identity"], state="absent")
        calls.setdefault(old["app"], {}).setdefault(old["group"], []).append(item)
    return calls


def record(links, fingerprints_now=None):
    """What the next run needs to know of this one: each link's id, whether it is removed once no longer derived,
    and how to find it again, and the keyed fingerprints of the secrets it pushed (never the secrets)."""
    return {"version": 2,
            "links": [{"id": link["id"], "app": link["app"], "group": link["group"],
                       "prune": bool(link.get("prune") or link.get("extra")), "identity": identity(link)}
                      for link in links],
            "fingerprints": dict(sorted((fingerprints_now or {}).items()))}


#: The ConfigMap where the wiring phase keeps its :func:`record` (no secret: ids, names, keyed fingerprints), and
#: the Secret of the same name that keeps the key of the fingerprints.
RECORD_OBJECT = "arrkestra-wiring"


def record_object(stack, content, key=None):
    """The wiring record as a ConfigMap of the stack's namespace, so that any controller finds it; with ``key``,
    the Secret of the same name that keeps the key of its fingerprints."""
    meta = kube.meta(RECORD_OBJECT, stack["namespace"], component="wiring")
    if key is not None:
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta,
                "stringData": {"fingerprint_key": key}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {"record.json": json.dumps(content, indent=1, sort_keys=True) + "\n"}}
