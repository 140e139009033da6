# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack model: inventory variables in, each app's names, URLs, folders and resources out, checked."""

from __future__ import annotations

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    catalog, links as link_model, model as stack_model, platform as platform_model, recyclarr, workloads)


def by_name(stack):
    return dict((a["name"], a) for a in stack["apps"])


METALLB = {"type": "metallb", "addresses": ["192.168.1.240-192.168.1.250"], "networks": ["192.168.1.0/24"]}


VPN = {"enabled": True, "provider": "mullvad", "credentials": {"WIREGUARD_PRIVATE_KEY": "wg-private-key"},
       "settings": {"SERVER_HOSTNAMES": "nl-ams-wg-001"}, "endpoints": ["193.32.249.66/32"]}


def test_default_stack_with_in_cluster_and_controller_urls():
    stack = stack_model.build({})
    apps = by_name(stack)
    assert set(apps) == set(catalog.DEFAULT_STACK)
    assert apps["radarr"]["url"] == "http://radarr.media.svc.cluster.local:7878"
    # The controller goes through the API server's service proxy: no DNS, no trust in the cluster's CA needed.
    assert apps["radarr"]["controller_access"] == "apiserver_proxy" and apps["radarr"]["controller_url"] is None
    assert apps["radarr"]["proxy_path"] == "/api/v1/namespaces/media/services/http:radarr:7878/proxy"
    assert apps["radarr"]["web_url"] == "https://radarr.media.home.arpa"   # the platform's certificate
    assert apps["radarr"]["wired"] and not apps["recyclarr"]["wired"]
    assert apps["radarr"]["secret"] == "radarr-credentials" and apps["radarr"]["credentials"] == [
        "api_key", "username", "password"]   # a login of its own: the UI is never open
    assert apps["recyclarr"]["url"] is None and apps["recyclarr"]["cronjob"]
    assert stack["data"]["media_root"] == "/data/media"


def test_instances_each_with_their_own_volume_url_and_key():
    stack = stack_model.build({"apps": {"radarr": {}, "radarr-4k": {"kind": "radarr", "wiring": {"is_4k": True}},
                                        "qbittorrent": {"url": "http://127.0.0.1:8080", "controller_url": "http://q"}},
                               "domain": "example.org"})
    apps = by_name(stack)
    assert apps["radarr-4k"]["kind"] == "radarr" and apps["radarr-4k"]["secret"] == "radarr-4k-credentials"
    assert apps["radarr-4k"]["hostname"] == "radarr-4k.example.org" and apps["radarr-4k"]["wiring"] == {
        "is_4k": True, "root_folder": "/data/media/movies-4k", "category": "radarr-4k"}
    assert apps["qbittorrent"]["url"] == "http://127.0.0.1:8080" and apps["qbittorrent"]["controller_url"] == "http://q"
    assert apps["qbittorrent"]["controller_access"] == "direct"
    claims = [o["metadata"]["name"] for o in workloads.objects(stack) if o["kind"] == "PersistentVolumeClaim"]
    assert "radarr-config" in claims and "radarr-4k-config" in claims


def test_direct_access_goes_through_the_ingress_and_needs_one():
    stack = stack_model.build({"controller_access": "direct"})
    apps = by_name(stack)
    assert apps["radarr"]["controller_url"] == "https://radarr.media.home.arpa"
    assert apps["flaresolverr"]["controller_url"] is None      # only Prowlarr calls it
    with pytest.raises(stack_model.StackError) as err:
        stack_model.build({"controller_access": "direct", "apps": {"radarr": {"ingress": False}}})
    assert "arrkestra_apps.radarr: with arrkestra_controller_access: direct" in str(err.value)


def test_the_4k_flag_and_root_folders_are_decided_once():
    """The layout Job makes every root folder the wiring phase gives Radarr, and Recyclarr and Seerr agree on 4K."""
    stack = stack_model.build({"apps": {"radarr": {}, "movies4k": {"kind": "radarr"}, "radarr-uhd": {
        "kind": "radarr", "wiring": {"is_4k": True, "root_folder": "/data/uhd"}}, "sonarr-4k": {"kind": "sonarr"}}})
    apps = by_name(stack)
    layout = [o for o in workloads.objects(stack) if o["kind"] == "Job"][0]
    made = layout["spec"]["template"]["spec"]["containers"][0]["args"]
    links = link_model.derive([a for a in stack["apps"] if a["wired"]], {"media_root": stack["data"]["media_root"]})
    for link in links:
        if link["group"] == "root_folders":
            assert link["item"]["path"] in made
        if link["group"] == "services":
            assert link["item"]["is_4k"] == apps[link["item"]["name"]]["wiring"]["is_4k"]
    assert "/data/uhd" in made
    config, dummy = recyclarr.config(stack)
    assert "radarr-quality-profile-uhd-bluray-web" in config.split("radarr-uhd:")[1].split("sonarr:")[0]
    assert not apps["movies4k"]["wiring"]["is_4k"]       # "4k" counts only as a part of the instance's suffix
    with pytest.raises(stack_model.StackError) as err:
        stack_model.build({"apps": {"radarr": {"wiring": {"root_folder": "/movies"}}}})
    assert "arrkestra_apps.radarr.wiring.root_folder '/movies' is outside the data volume" in str(err.value)


@pytest.mark.parametrize("variables, message", [
    ({"apps": {"emby": {}}}, "arrkestra_apps.emby: no app 'emby' in the catalog"),
    ({"apps": ["radarr", "radarr"]}, "arrkestra_apps names radarr twice"),
    ({"apps": {"radarr": {"image": "ghcr.io/home-operations/radarr:latest"}}}, "must name a pinned tag"),
    ({"apps": {"radarr": {"image": "ghcr.io/home-operations/radarr"}}}, "must name a pinned tag"),
    ({"apps": {"Radarr_4K": {"kind": "radarr"}}}, "an instance name must be lower-case"),
    ({"apps": {"radarr": {"colour": "red"}}}, "arrkestra_apps.radarr: unknown option 'colour'"),
    ({"data": {"type": "nfs"}}, "give arrkestra_data.server"),
    ({"config_storage_class": "nfs-client", "config_storage_class_is_nfs": True}, "SQLite on NFS corrupts"),
    ({"colour": "red"}, "arrkestra_colour is not a variable"),
    ({"controller_access": "dns"}, "arrkestra_controller_access must be apiserver_proxy or direct"),
    ({"apps": {"radarr": {"wiring": {"4k": True}}}}, "arrkestra_apps.radarr.wiring: unknown option(s) 4k"),
    ({"apps": {"radarr": {"requests": {"cpu": "1", "memory": "lots"}}}}, "'lots' is not a Kubernetes quantity of memory"),
])
def test_bad_input_names_the_variable(variables, message):
    with pytest.raises(stack_model.StackError) as err:
        stack_model.build(variables)
    assert message in str(err.value)


def test_nfs_for_config_only_when_forced():
    stack = stack_model.build({"config_storage_class": "nfs-client", "config_storage_class_is_nfs": True,
                               "config_on_nfs_forced": True})
    assert stack["config_storage_class"] == "nfs-client"


def test_empty_config_storage_class_is_the_clusters_default():
    stack = stack_model.build({"distribution": "existing", "config_storage_class": ""})
    claims = [o for a in stack["apps"] for o in workloads.app_objects(stack, a) if o["kind"] == "PersistentVolumeClaim"]
    assert claims and all("storageClassName" not in c["spec"] for c in claims)


def test_images_of_the_collections_own_containers_can_be_replaced():
    images = {"helper": "registry.lan/busybox:1.37.0", "sqlite": "registry.lan/sqlite3:3.47.2",
              "gluetun": "registry.lan/gluetun:v3.40.0", "exportarr": "registry.lan/exportarr:v2.3.0",
              "helm_controller": "registry.lan/helm-controller:v0.16.5"}
    stack = stack_model.build({"distribution": "talos", "images": images, "vpn": VPN, "monitoring": {"enabled": True},
                               "backups": {"enabled": True},
                               "load_balancer": METALLB})
    everything = platform_model.objects(stack) + workloads.objects(stack)
    used = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("image"), str):
                used.add(node["image"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(everything)
    apps_images = set(a["image"] for a in stack["apps"])
    assert set(catalog.SUPPORT_IMAGES.values()).isdisjoint(used)
    assert used - apps_images <= set(images.values())
    assert {"registry.lan/sqlite3:3.47.2", "registry.lan/gluetun:v3.40.0", "registry.lan/helm-controller:v0.16.5",
            "registry.lan/exportarr:v2.3.0", "registry.lan/busybox:1.37.0"} <= used


@pytest.mark.parametrize("images, message", [
    ({"busybox": "x/busybox:1"}, "arrkestra_images: unknown name(s) busybox"),
    ({"helper": "x/busybox:latest"}, "arrkestra_images.helper 'x/busybox:latest' must name a pinned tag"),
    (["x/busybox:1"], "arrkestra_images must be a mapping"),
])
def test_bad_images_name_the_variable(images, message):
    with pytest.raises(stack_model.StackError) as raised:
        stack_model.build({"images": images})
    assert message in str(raised.value)
