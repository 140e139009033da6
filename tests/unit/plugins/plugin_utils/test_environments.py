# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several stacks from one inventory (arrkestra_stacks, arrkestra_stack): derived names, overrides, refusals, the
data sub-tree, the platform objects of another stack, and the main stack unchanged."""

from __future__ import annotations

import copy
import glob
import json
import os

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    model as stack_model, network, platform as platform_model, workloads)
from ansible_collections.arrkestra.homelab.plugins.filter import stack as stack_filters

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
APPS = {"prowlarr": {}, "radarr": {}, "qbittorrent": {}}
VPN = {"enabled": True, "provider": "mullvad", "credentials": {"WIREGUARD_PRIVATE_KEY": "wg-private-key"},
       "settings": {"SERVER_HOSTNAMES": "nl-ams-wg-001"}, "endpoints": ["193.32.249.66/32"]}
TWO = {"apps": APPS, "stacks": {"dev": {"apps": {"prowlarr": {}, "radarr": {}, "qbittorrent": {}}, "timezone": "Europe/Paris"}}}


def by_kind_name(objects):
    return dict(((o["kind"], o["metadata"]["name"]), o) for o in objects)


def test_a_stack_gets_its_namespace_domain_and_data_folder():
    main = stack_model.build(TWO)
    dev = stack_model.build(dict(TWO, stack="dev"))
    assert (main["stack"], main["namespace"], main["domain"], main["data"]["sub_path"]) == ("main", "media", "media.home.arpa", "")
    assert (dev["stack"], dev["namespace"], dev["domain"], dev["data"]["sub_path"]) == ("dev", "media-dev", "dev.media.home.arpa", "dev")
    assert dev["stacks"] == main["stacks"] == {"main": {"namespace": "media", "domain": "media.home.arpa"},
                                               "dev": {"namespace": "media-dev", "domain": "dev.media.home.arpa"}}
    radarr = [a for a in dev["apps"] if a["name"] == "radarr"][0]
    assert radarr["hostname"] == "radarr.dev.media.home.arpa"
    assert radarr["url"] == "http://radarr.media-dev.svc.cluster.local:7878"
    assert radarr["proxy_path"] == "/api/v1/namespaces/media-dev/services/http:radarr:7878/proxy"
    assert dev["timezone"] == "Europe/Paris" and main["timezone"] == "Etc/UTC"
    # The apps' folders inside their pods are the same in every stack: the sub-tree is the volume's subPath.
    assert radarr["wiring"]["root_folder"] == "/data/media/movies"
    assert dev["data"]["media_root"] == main["data"]["media_root"] == "/data/media"


def test_a_stack_overrides_the_main_stacks_values_key_by_key():
    variables = {"namespace": "arr", "domain": "example.org", "uid": 1001, "images": {"helper": "mirror/busybox:1.37.0"},
                 "data": {"type": "nfs", "server": "nas.lan", "export": "/media"},
                 "sso": {"enabled": True, "hostname": "auth.example.org", "users": {}},
                 "stacks": {"dev": {"apps": {"radarr": {}}, "namespace": "arr-test", "uid": 1002,
                                    "data": {"size": "100Gi"}}, "qa": {"apps": ["sonarr"], "domain": "qa.lan.example.org"}}}
    dev = stack_model.build(dict(variables, stack="dev"))
    assert (dev["namespace"], dev["domain"], dev["uid"], dev["gid"]) == ("arr-test", "dev.example.org", 1002, 1000)
    assert dev["data"]["server"] == "nas.lan" and dev["data"]["size"] == "100Gi" and dev["data"]["sub_path"] == "dev"
    assert dev["images"]["helper"] == "mirror/busybox:1.37.0"
    # The sign-on's page is under the stack's own domain, not the main one's hostname.
    assert dev["platform"]["sso"]["hostname"] == "auth.dev.example.org"
    qa = stack_model.build(dict(variables, stack="qa"))
    assert (qa["namespace"], qa["domain"]) == ("arr-qa", "qa.lan.example.org")
    assert [a["name"] for a in qa["apps"] if not a["external"]] == ["sonarr", "tinyauth"]


def test_the_data_sub_tree_is_mounted_by_every_pod_and_made_by_the_layout_job():
    dev = stack_model.build(dict(TWO, stack="dev", backups={"enabled": True}))
    objects = workloads.objects(dev)
    for obj in objects:
        spec = (obj["spec"].get("template") or obj["spec"].get("jobTemplate", {}).get("spec", {}).get("template") or {}
                ).get("spec") if obj["kind"] in ("Deployment", "CronJob", "Job") else None
        for container in (spec or {}).get("containers", []):
            for mount in container.get("volumeMounts", []):
                if mount["name"] != "data":
                    continue
                if obj["metadata"]["name"].startswith("arrkestra-data-layout-"):
                    assert "subPath" not in mount      # the Job makes the folder: it sees the whole volume
                else:
                    assert mount == {"name": "data", "mountPath": "/data", "subPath": "dev"}, obj["metadata"]["name"]
    job = [o for o in objects if o["kind"] == "Job"][0]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "/data/dev/media/movies", "/data/dev/media/music", "/data/dev/media/tv", "/data/dev/torrents",
        "/data/dev/usenet/complete", "/data/dev/usenet/incomplete"]
    # Its own PersistentVolume (cluster-wide: named after the namespace), on the same host folder as main's.
    volumes = [o for o in objects if o["kind"] == "PersistentVolume"]
    assert [v["metadata"]["name"] for v in volumes] == ["arrkestra-media-dev-data"]
    assert volumes[0]["spec"]["hostPath"]["path"] == "/srv/arrkestra/data"
    assert volumes[0]["spec"]["claimRef"] == {"namespace": "media-dev", "name": "arrkestra-data"}
    for obj in objects:
        assert obj["kind"] == "PersistentVolume" or obj["metadata"].get("namespace", obj["metadata"]["name"]) == "media-dev"
    assert stack_filters.stack_data_folder(dev["data"]) == "/srv/arrkestra/data/dev on the node"


def test_another_stacks_platform_is_its_namespace_alone():
    variables = dict(TWO, monitoring={"enabled": True}, sso={"enabled": True},
                     load_balancer={"type": "metallb", "addresses": ["192.168.1.240-192.168.1.250"],
                                    "networks": ["192.168.1.0/24"]})
    main = platform_model.objects(stack_model.build(variables))
    dev_model = stack_model.build(dict(variables, stack="dev"))
    dev = platform_model.objects(dev_model)
    assert [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in dev] == [
        ("Namespace", None, "media-dev"), ("Middleware", "media-dev", "arrkestra-sso"),
        ("Certificate", "media-dev", "arrkestra-tls")]
    assert dev[2]["spec"]["dnsNames"] == ["dev.media.home.arpa", "*.dev.media.home.arpa"]
    assert "tinyauth.media-dev.svc" in dev[1]["spec"]["forwardAuth"]["address"]
    # Nothing of main's (charts, issuers, the CA, monitoring, main's namespace) is in another stack's run.
    main_names = set((o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in main)
    assert not main_names & set((o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in dev)
    assert platform_model.waits(dev_model) == [("cert-manager", "cert-manager-webhook")]
    assert platform_model.secret_names(dev_model) == []


def test_network_policies_of_a_stack_stay_in_its_namespace():
    dev = stack_model.build(dict(TWO, stack="dev"))
    for obj in workloads.objects(dev):
        if obj["kind"] != "NetworkPolicy":
            continue
        assert obj["metadata"]["namespace"] == "media-dev"
        for rule in obj["spec"].get("ingress", []):
            for peer in rule["from"]:
                # A peer with a pod selector alone is of the policy's own namespace: main's pods are not dev's callers.
                assert "namespaceSelector" not in peer or peer["namespaceSelector"]["matchLabels"] == {
                    "kubernetes.io/metadata.name": "kube-system"}, peer
    assert network.enabled(dev)


def _inventory_variables(name):
    out = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "inventories", name, "group_vars", "all", "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            out.update(yaml.safe_load(handle) or {})
    variables = dict((k[len("arrkestra_"):], v) for k, v in out.items() if k.startswith("arrkestra_"))
    # What Jinja would resolve in the inventory: the secrets of the example's vault, the kubeconfig's home.
    text = json.dumps(variables)
    for key, value in out.items():
        if not key.startswith("arrkestra_") and isinstance(value, str):
            text = text.replace("{{ %s }}" % key, value)
    return json.loads(text.replace("{{ lookup('ansible.builtin.env', 'HOME') }}", "/home/someone"))


@pytest.mark.parametrize("inventory", ["local", "example"])
def test_the_main_stack_is_unchanged_by_another_stack(inventory):
    variables = _inventory_variables(inventory)
    alone = stack_model.build(copy.deepcopy(variables))
    with_dev = stack_model.build(dict(copy.deepcopy(variables), stack="main", stacks={
        "dev": {"apps": {"radarr": {}}, "vpn": {"enabled": False}}}))
    assert json.dumps(workloads.objects(alone), sort_keys=True) == json.dumps(workloads.objects(with_dev), sort_keys=True)
    assert json.dumps(platform_model.objects(alone), sort_keys=True) == json.dumps(platform_model.objects(with_dev), sort_keys=True)
    # The main stack mounts the whole volume, as before stacks existed.
    for obj in workloads.objects(alone):
        assert "subPath" not in json.dumps(obj), obj["metadata"]["name"]


@pytest.mark.parametrize("variables, message", [
    ({"stack": "prod"}, "arrkestra_stack: the inventory has no stack 'prod'; give one of its stacks: main"),
    (dict(TWO, stack="qa"), "give one of its stacks: main, dev"),
    ({"stacks": {"main": {}}}, "arrkestra_stacks.main: main is the stack the arrkestra_* variables describe"),
    ({"stacks": {"Dev": {}}}, "arrkestra_stacks.Dev: a stack's name must be lower-case"),
    ({"stacks": {"a-very-long-stack-name-x": {}}}, "at most 20 characters"),
    ({"stacks": ["dev"]}, "arrkestra_stacks"),
    ({"stacks": {"dev": {"monitoring": {"enabled": True}}}},
     "arrkestra_stacks.dev.monitoring: arrkestra_monitoring is a setting of the cluster"),
    ({"stacks": {"dev": {"load_balancer": {}}}}, "arrkestra_stacks.dev.load_balancer: arrkestra_load_balancer is a setting of the cluster"),
    ({"stacks": {"dev": {"vpn": {"provider": "mullvad"}}}}, "arrkestra_stacks.dev.vpn.provider: the VPN's provider"),
    ({"vpn": VPN, "apps": APPS, "stacks": {"dev": {"apps": {"radarr": {}}}}},
     "(stack dev) arrkestra_stacks.dev.vpn.apps: qbittorrent is not an app the stack deploys"),
    ({"stacks": {"dev": {"kubernetes_version": "1.34"}}}, "arrkestra_stacks.dev.kubernetes_version"),
    ({"stacks": {"dev": {"domian": "x.org"}}}, "arrkestra_stacks.dev: unknown option domian (did you mean domain?)"),
    ({"stacks": {"dev": {"namespace": "media"}}},
     "arrkestra_stacks.dev: its namespace media is also the stack main's; each stack needs its own - give arrkestra_stacks.dev.namespace"),
    ({"stacks": {"dev": {"domain": "media.home.arpa"}}}, "its domain media.home.arpa is also the stack main's"),
    ({"stacks": {"dev": {}, "qa": {"namespace": "media-dev"}}}, "arrkestra_stacks.qa: its namespace media-dev is also the stack dev's"),
    ({"stacks": {"dev": {"apps": {"radar": {}}}}}, "(stack dev) arrkestra_stacks.dev.apps.radar: no app 'radar' in the catalog"),
    ({"stacks": {"dev": {"uid": 0}}}, "(stack dev) arrkestra_stacks.dev.uid: 0 is out of range"),
    ({"stacks": {"dev": {"data": {"sub_path": "../main"}}}}, "(stack dev) arrkestra_stacks.dev.data.sub_path '../main' is not a folder"),
    ({"stacks": {"dev": {"namespace": "Dev_NS"}}}, "(stack dev) arrkestra_stacks.dev.namespace"),
    ({"namespace": "a" * 60, "stacks": {"dev": {}}}, "(stack dev) arrkestra_stacks.dev.namespace"),
])
def test_bad_stacks_name_the_variable(variables, message):
    with pytest.raises(stack_model.StackError) as err:
        stack_model.build(variables)
    assert message in str(err.value)


def test_a_stack_may_keep_its_apps_off_the_vpn():
    variables = dict(TWO, vpn=VPN)
    dev = stack_model.build(dict(variables, stack="dev"))
    assert dev["platform"]["vpn"]["enabled"] and platform_model.secret_names(dev) == [("media-dev", "vpn-credentials")]
    off = stack_model.build(dict(variables, stack="dev", stacks={"dev": dict(TWO["stacks"]["dev"], vpn={"enabled": False})}))
    assert not off["platform"]["vpn"]["enabled"] and platform_model.secret_names(off) == []
    assert stack_model.build(variables)["platform"]["vpn"]["enabled"]


def test_removal_keeps_what_the_collection_did_not_make():
    ours = {"kind": "Secret", "metadata": {"name": "radarr-credentials", "labels": {"app.kubernetes.io/managed-by": "arrkestra"}}}
    theirs = {"kind": "ConfigMap", "metadata": {"name": "my-notes", "labels": {}}}
    cluster = {"kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}}
    going = {"kind": "Service", "metadata": {"name": "old", "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert stack_filters.stack_not_ours([ours, theirs, cluster, going]) == ["ConfigMap/my-notes"]
    assert stack_filters.stack_removal_item(dict(ours, apiVersion="v1")) == {
        "kind": "Secret", "name": "radarr-credentials", "api_version": "v1"}
