# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unpackerr's environment, made from the stack, checked against what Unpackerr v0.15.2 reads
(docs/upstream-facts.md, "Unpackerr v0.15.2")."""

from __future__ import annotations

import re

from ansible_collections.arrkestra.homelab.plugins.filter.stack import stack_restart_on_credentials
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model as stack_model, network, workloads

APPS = {"radarr": {}, "radarr-4k": {"kind": "radarr"}, "sonarr": {}, "lidarr": {}, "qbittorrent": {},
        "jellyfin": {}, "unpackerr": {}}


def objects(stack):
    return dict(((o["kind"], o["metadata"]["name"]), o) for o in workloads.objects(stack))


def container(stack):
    return objects(stack)[("Deployment", "unpackerr")]["spec"]["template"]["spec"]["containers"][0]


def test_every_arr_instance_numbered_from_zero_per_app_with_its_key_by_reference():
    stack = stack_model.build({"apps": APPS})
    env = container(stack)["env"]
    values = dict((e["name"], e.get("value")) for e in env)
    keys = dict((e["name"], e["valueFrom"]["secretKeyRef"]) for e in env if "valueFrom" in e)
    assert values["UN_RADARR_0_URL"] == "http://radarr.media.svc.cluster.local:7878"
    assert values["UN_RADARR_1_URL"] == "http://radarr-4k.media.svc.cluster.local:7878"
    assert values["UN_RADARR_1_PATHS_0"] == "/data/torrents/radarr-4k"      # the category's folder of qBittorrent
    assert values["UN_LIDARR_0_PATHS_0"] == "/data/torrents/lidarr"
    assert keys["UN_SONARR_0_API_KEY"] == {"name": "sonarr-credentials", "key": "api_key"}
    assert values["UN_WEBSERVER_METRICS"] == "true" and values["UN_WEBSERVER_LISTEN_ADDR"] == "0.0.0.0:5656"
    # What Unpackerr needs of its variables: a list without a gap from 0 (a later number is ignored), every URL
    # with its scheme (else dropped), no empty value (it stops), no name twice.
    for app in ("RADARR", "SONARR", "LIDARR"):
        numbers = sorted(int(m.group(1)) for m in (re.match(r"UN_%s_(\d+)_URL$" % app, e["name"]) for e in env) if m)
        assert numbers == list(range(len(numbers)))
    assert all(v.startswith(("http://", "https://")) for k, v in values.items() if k.endswith("_URL"))
    assert all(e.get("value") != "" for e in env) and len(values) == len(env)


def test_it_is_not_wired_nor_on_the_ingress_and_reaches_only_the_arr_apps():
    stack = stack_model.build({"apps": APPS, "network_policies": {"enabled": True}})
    apps = dict((a["name"], a) for a in stack["apps"])
    unpackerr = apps["unpackerr"]
    assert not unpackerr["wired"] and not unpackerr["ingress"] and not unpackerr["config"]
    assert unpackerr["unpacks_for"] == ["radarr", "radarr-4k", "sonarr", "lidarr"]
    for name in ("radarr", "radarr-4k", "sonarr", "lidarr"):
        assert "unpackerr" in apps[name]["callers"]
    assert "unpackerr" not in apps["jellyfin"]["callers"] and "unpackerr" not in apps["qbittorrent"]["callers"]
    policy = network.policy(stack, unpackerr)
    assert "ingress" not in policy["spec"]             # nobody calls it
    made = objects(stack)
    assert ("Ingress", "unpackerr") not in made and ("PersistentVolumeClaim", "unpackerr-config") not in made
    pod = made[("Deployment", "unpackerr")]["spec"]["template"]["spec"]
    assert pod["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert {"name": "data", "mountPath": "/data"} in pod["containers"][0]["volumeMounts"]
    assert pod["securityContext"]["runAsNonRoot"]       # the image has no USER: the pod says who it runs as


def test_a_rotated_arr_key_restarts_it_and_nothing_else_does():
    stack = stack_model.build({"apps": APPS})
    deployment = [o for o in workloads.objects(stack) if o["kind"] == "Deployment" and o["metadata"]["name"] == "unpackerr"]
    keys = dict((n, {"api_key": n[0] * 32}) for n in ("radarr", "radarr-4k", "sonarr", "lidarr"))

    def digest(credentials):
        (obj,) = stack_restart_on_credentials(deployment, stack, credentials)
        return obj["spec"]["template"]["metadata"]["annotations"]["arrkestra.io/credentials-digest"]

    before = digest(keys)
    assert digest(dict(keys, jellyfin={"api_key": "j" * 32})) == before
    assert digest(dict(keys, sonarr={"api_key": "t" * 32})) != before


def test_the_inventory_env_wins_and_no_name_is_given_twice():
    given = {"env": {"UN_RADARR_0_PATHS_0": "/data/other", "UN_INTERVAL": "5m"}}
    stack = stack_model.build({"apps": dict(APPS, unpackerr=given)})
    env = container(stack)["env"]
    names = [e["name"] for e in env]
    assert len(names) == len(set(names))
    assert {"name": "UN_RADARR_0_PATHS_0", "value": "/data/other"} in env and {"name": "UN_INTERVAL", "value": "5m"} in env


def test_without_arr_apps_it_has_nothing_to_watch():
    stack = stack_model.build({"apps": {"qbittorrent": {}, "unpackerr": {}}})
    assert [e["name"] for e in container(stack)["env"] if e["name"].endswith("_URL")] == []
