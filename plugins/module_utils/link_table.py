# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every kind of link between the apps, as one ordered table; data only.

Each row is a group of links: the list option of the links module that makes them, the app kinds that have it,
whether a link of the group that is no longer derived is removed from the app, and whether the app masks the
secret of a link (then a rotated secret is written again with ``update_secrets``). The order of the rows is the
order in which the wiring makes the links: the app kinds in the order of their first row (download clients first:
the arr apps test them when a link is saved; Jellyfin and Plex before the arr apps: their notifications carry the
API key Jellyfin's wiring makes and the server Plex's claims, and are tested on save; Prowlarr after the arr apps: it tests their API keys), and each module's
lists in the order of its rows.

The wiring phase (``plugins/plugin_utils/links.py`` and the ``wiring`` role) and the links modules
(``servarr_links``, ``qbittorrent_links``...) read it; nothing else writes an order of groups.
"""

from __future__ import annotations

from collections import namedtuple

LinkGroup = namedtuple("LinkGroup", ("group", "module", "kinds", "prunes", "masks_secrets"))

ARR = ("radarr", "sonarr", "lidarr")

TABLE = (
    LinkGroup("categories", "qbittorrent_links", ("qbittorrent",), True, False),
    LinkGroup("categories", "sabnzbd_links", ("sabnzbd",), True, False),
    LinkGroup("startup", "jellyfin_links", ("jellyfin",), False, False),
    LinkGroup("api_keys", "jellyfin_links", ("jellyfin",), False, False),
    LinkGroup("libraries", "jellyfin_links", ("jellyfin",), False, False),
    LinkGroup("encoding", "jellyfin_links", ("jellyfin",), False, False),
    LinkGroup("preferences", "plex_links", ("plex",), False, False),
    LinkGroup("libraries", "plex_links", ("plex",), False, False),
    LinkGroup("tags", "servarr_links", ARR, False, False),
    LinkGroup("root_folders", "servarr_links", ARR, False, False),
    LinkGroup("download_clients", "servarr_links", ARR, True, True),
    LinkGroup("notifications", "servarr_links", ARR, True, True),
    LinkGroup("tags", "servarr_links", ("prowlarr",), False, False),
    LinkGroup("applications", "servarr_links", ("prowlarr",), True, True),
    LinkGroup("indexer_proxies", "servarr_links", ("prowlarr",), True, True),
    LinkGroup("setup", "seerr_links", ("seerr",), False, False),
    LinkGroup("services", "seerr_links", ("seerr",), True, False),
    LinkGroup("connections", "bazarr_links", ("bazarr",), True, True),
)


def _unique(values):
    return tuple(dict.fromkeys(values))


def kinds():
    """The app kinds that have links, in the order the wiring calls them."""
    return _unique(kind for row in TABLE for kind in row.kinds)


def module(kind):
    """The links module of an app kind (None: the kind has no links)."""
    return next((row.module for row in TABLE if kind in row.kinds), None)


def groups(kind=None, module_name=None):
    """The groups of an app kind, or of a links module, in the order they are made."""
    return _unique(row.group for row in TABLE
                   if (kind is None or kind in row.kinds) and (module_name is None or row.module == module_name))


def kinds_of(group, module_name=None):
    """The app kinds that have ``group`` (of ``module_name``: ``categories`` is qBittorrent's and SABnzbd's)."""
    return _unique(kind for row in TABLE if row.group == group and (module_name is None or row.module == module_name)
                   for kind in row.kinds)


def row(kind, group):
    """The row of ``group`` of an app kind, or None."""
    return next((r for r in TABLE if r.group == group and kind in r.kinds), None)
