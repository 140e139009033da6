# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack model: inventory variables in, apps and Kubernetes objects out."""

from __future__ import annotations

import itertools
import subprocess

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    catalog, credentials as app_credentials, links as link_model, model as stack_model, recyclarr, workloads)


def by_name(stack):
    return dict((a["name"], a) for a in stack["apps"])


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
    ({"apps": {"plex": {}}}, "arrkestra_apps.plex: no app 'plex' in the catalog"),
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


def test_every_file_touching_app_mounts_the_same_data_path():
    stack = stack_model.build({"data": {"type": "nfs", "server": "nas.lan", "export": "/volume1/media"}})
    mounts = {}
    for obj in workloads.objects(stack):
        if obj["kind"] == "Deployment":
            for container in obj["spec"]["template"]["spec"]["containers"]:
                for mount in container["volumeMounts"]:
                    if mount["name"] == "data":
                        mounts[obj["metadata"]["name"]] = mount["mountPath"]
    assert set(mounts) == {"radarr", "sonarr", "bazarr", "qbittorrent", "jellyfin"}
    assert set(mounts.values()) == {"/data"}
    pv = next(o for o in workloads.objects(stack) if o["kind"] == "PersistentVolume")
    assert pv["spec"]["nfs"] == {"server": "nas.lan", "path": "/volume1/media"}
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"


def test_credentials_are_kept_and_only_missing_ones_made():
    stack = stack_model.build({"apps": {"radarr": {}, "qbittorrent": {}, "jellyfin": {}}})
    counter = itertools.count(1)

    def random_bytes(n):
        return bytes([next(counter) % 256]) * n

    first = app_credentials.complete_credentials(stack, {}, random_bytes)
    assert len(first["radarr"]["api_key"]) == 32 and first["jellyfin"]["username"] == "admin"
    assert first["qbittorrent"]["password_pbkdf2"].startswith("@ByteArray(")
    again = app_credentials.complete_credentials(stack, first, random_bytes)
    assert again == first
    partial = app_credentials.complete_credentials(stack, {"radarr": {"api_key": "k" * 32}}, random_bytes)
    assert partial["radarr"]["api_key"] == "k" * 32 and partial["radarr"]["password"]   # a Secret of an older run
    assert app_credentials.missing_credentials(stack, first) == {}
    assert app_credentials.missing_credentials(stack, {}) == {
        "radarr": ["api_key", "username", "password"], "qbittorrent": ["username", "password", "password_pbkdf2"],
        "jellyfin": ["username", "password"]}


def test_qbittorrent_hash_matches_what_qbittorrent_checks():
    import base64
    import hashlib
    value = app_credentials.qbittorrent_pbkdf2("secret", b"0123456789abcdef")
    salt, key = value[len("@ByteArray("):-1].split(":")
    assert base64.b64decode(salt) == b"0123456789abcdef"
    assert base64.b64decode(key) == hashlib.pbkdf2_hmac("sha512", b"secret", b"0123456789abcdef", 100000, 64)


def test_default_stack_fits_a_4_gb_pi():
    requests = sum(r for dummy, r, dummy in workloads.memory(stack_model.build({})))
    assert requests <= 2.5 * 1024


def test_recyclarr_syncs_trash_profiles_per_instance():
    stack = stack_model.build({"apps": {"radarr": {}, "radarr-4k": {"kind": "radarr"}, "sonarr": {}, "recyclarr": {}}})
    objs = dict(((o["kind"], o["metadata"]["name"]), o) for o in workloads.objects(stack))
    config = objs[("ConfigMap", "recyclarr-configs")]["data"]["arrkestra.yml"]
    assert "  radarr-4k:\n    base_url: http://radarr-4k.media.svc.cluster.local:7878\n" in config
    assert "api_key: !env_var RADARR_4K_API_KEY" in config and "radarr-quality-profile-uhd-bluray-web" in config
    assert "sonarr-v4-quality-profile-web-1080p" in config
    job = objs[("CronJob", "recyclarr")]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    keys = dict((e["name"], e["valueFrom"]["secretKeyRef"]["name"]) for e in job["env"] if "valueFrom" in e)
    assert keys == {"RADARR_API_KEY": "radarr-credentials", "RADARR_4K_API_KEY": "radarr-4k-credentials",
                    "SONARR_API_KEY": "sonarr-credentials"}


def test_the_data_layout_says_what_to_fix_when_it_cannot_write():
    model = stack_model.build({"apps": {"radarr": {}}, "data": {"type": "hostpath", "path": "/srv/media"}})
    layout = [o for o in workloads.objects(model) if o["kind"] == "Job"][0]["spec"]["template"]["spec"]["containers"][0]
    script = layout["command"][2]
    ok = subprocess.run(["sh", "-c", script, "layout", "/proc/no/such/folder"], capture_output=True, text=True,
                        check=False)
    assert ok.returncode == 1
    assert ("the apps (uid 1000, gid 1000: arrkestra_uid, arrkestra_gid) cannot write into the host folder "
            "/srv/media on the node; make it owned by 1000:1000") in ok.stderr


def test_an_app_restarts_only_when_what_it_reads_at_start_was_rotated():
    from ansible_collections.arrkestra.homelab.plugins.filter.stack import stack_restart_on_credentials
    stack = stack_model.build({})
    objects = [o for o in workloads.objects(stack) if o["kind"] == "Deployment"]
    credentials = app_credentials.complete_credentials(stack, {}, lambda n: bytes(range(n)))

    def digests(creds):
        return dict((o["metadata"]["name"], (o["spec"]["template"]["metadata"].get("annotations") or {}).get(
            app_credentials.CREDENTIALS_ANNOTATION)) for o in stack_restart_on_credentials(objects, stack, creds))

    before = digests(credentials)
    assert before["jellyfin"] is None and before["radarr"] and before["qbittorrent"]   # Jellyfin reads none
    with_key = dict(credentials, jellyfin=dict(credentials["jellyfin"], api_key="made-by-the-wiring"))
    assert digests(with_key) == before
    rotated = dict(credentials, radarr=dict(credentials["radarr"], api_key="f" * 32))
    assert [n for n, d in digests(rotated).items() if d != before[n]] == ["radarr"]
    login = dict(credentials, radarr=dict(credentials["radarr"], password="new"))    # set through the API
    assert digests(login) == before
    assert credentials["radarr"]["api_key"] not in repr(digests(credentials))
