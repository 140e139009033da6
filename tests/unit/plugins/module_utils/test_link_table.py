"""The link table is the one order of the wiring: the modules it names take its groups, in its order."""

from __future__ import annotations

import ast
import os

from ansible_collections.arrkestra.homelab.plugins.module_utils import link_table, servarr
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links

MODULES = os.path.join(os.path.dirname(os.path.abspath(links.__file__)), "..", "modules")


def documented_options(module):
    """The options a module documents, read from its DOCUMENTATION."""
    import yaml
    tree = ast.parse(open(os.path.join(MODULES, module + ".py"), encoding="utf-8").read())
    doc = next(n.value.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "DOCUMENTATION")
    return yaml.safe_load(doc)["options"]


def test_every_module_of_the_table_takes_its_groups():
    for row in link_table.TABLE:
        assert row.group in documented_options(row.module), row


def test_the_apps_are_wired_in_dependency_order():
    order = link_table.kinds()
    # download clients and Jellyfin (whose key their notifications carry) before the arr apps (which test them),
    # the arr apps before Prowlarr (which tests their keys), Jellyfin before Seerr (set up with it), everything
    # Bazarr and Seerr call before them.
    assert order.index("qbittorrent") < order.index("jellyfin") < order.index("radarr") < order.index("prowlarr")
    assert order.index("jellyfin") < order.index("seerr") and order.index("sonarr") < order.index("bazarr")


def test_servarr_links_takes_its_lists_in_the_order_of_the_table():
    assert [name for name, dummy, dummy, dummy in servarr.LINK_LISTS] == list(
        link_table.groups(module_name="servarr_links"))
    assert dict((name, kinds) for name, dummy, dummy, kinds in servarr.LINK_LISTS)["tags"] == (
        "radarr", "sonarr", "lidarr", "prowlarr")


def test_derived_links_come_in_table_order_and_prune_as_the_table_says():
    apps = [{"name": n, "kind": k, "url": "http://%s:80" % n} for n, k in (
        ("bazarr", "bazarr"), ("prowlarr", "prowlarr"), ("radarr", "radarr"), ("qbittorrent", "qbittorrent"),
        ("jellyfin", "jellyfin"), ("seerr", "seerr"), ("flaresolverr", "flaresolverr"))]
    made = links.derive(apps)
    apps_in_order = list(dict.fromkeys(link["app"] for link in made))
    assert apps_in_order == ["qbittorrent", "jellyfin", "radarr", "prowlarr", "seerr", "bazarr"]
    for link in made:
        assert link["prune"] == link_table.row(dict((a["name"], a["kind"]) for a in apps)[link["app"]], link["group"]).prunes
