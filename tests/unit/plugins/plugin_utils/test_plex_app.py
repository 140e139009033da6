# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plex in the stack model: its pod (the image's environment, docs/upstream-facts.md "Plex Media Server: the
image"), its credential nobody makes, and the links a Plex stack derives."""

from __future__ import annotations

from ansible_collections.arrkestra.homelab.plugins.filter.wiring import FilterModule
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    credentials, links, model as stack_model, workloads)

F = FilterModule().filters()
APPS = {"prowlarr": {}, "radarr": {}, "radarr-4k": {"kind": "radarr", "wiring": {"is_4k": True}}, "sonarr": {},
        "lidarr": {}, "qbittorrent": {}, "plex": {}, "seerr": {}}


def objects(stack):
    return dict(((o["kind"], o["metadata"]["name"]), o) for o in workloads.objects(stack))


def test_the_pod_accepts_the_eula_advertises_the_ingress_and_has_its_folders():
    stack = stack_model.build({"apps": APPS, "domain": "example.org", "tls_secret": "tls"})
    spec = objects(stack)[("Deployment", "plex")]["spec"]["template"]["spec"]
    container = spec["containers"][0]
    env = dict((e["name"], e.get("value")) for e in container["env"])
    assert env["PLEX_PREFERENCE_ARRKESTRA_EULA"] == "AcceptedEULA=1"
    assert env["PLEX_ADVERTISE_URL"] == "https://plex.example.org:443"
    # no claim token (it lives 4 minutes) and no network allowed without a token
    assert not set(env) & {"PLEX_CLAIM_TOKEN", "PLEX_NO_AUTH_NETWORKS", "ALLOWED_NETWORKS"}
    # the value of a PLEX_PREFERENCE_ holds no "=" (entrypoint.sh:97-98 splits at the first and the last)
    assert all(v.count("=") == 1 for k, v in env.items() if k.startswith("PLEX_PREFERENCE_"))
    mounts = dict((m["mountPath"], m["name"]) for m in container["volumeMounts"])
    assert mounts == {"/config": "config", "/data": "data", "/transcode": "scratch"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/identity"
    assert container["ports"][0]["containerPort"] == 32400


def test_the_inventory_env_wins_and_no_ingress_advertises_nothing():
    plex = {"ingress": False, "env": {"PLEX_PREFERENCE_ARRKESTRA_EULA": "AcceptedEULA=0"}}
    stack = stack_model.build({"apps": dict(APPS, plex=plex)})
    env = objects(stack)[("Deployment", "plex")]["spec"]["template"]["spec"]["containers"][0]["env"]
    names = [e["name"] for e in env]
    assert names.count("PLEX_PREFERENCE_ARRKESTRA_EULA") == 1 and "PLEX_ADVERTISE_URL" not in names
    assert dict((e["name"], e.get("value")) for e in env)["PLEX_PREFERENCE_ARRKESTRA_EULA"] == "AcceptedEULA=0"


def test_the_account_token_is_never_made_and_kept_when_given():
    stack = stack_model.build({"apps": APPS})
    plex = next(a for a in stack["apps"] if a["name"] == "plex")
    assert plex["secret"] == "plex-credentials" and plex["given_credentials"] == ["account_token"]
    made = credentials.complete_credentials(stack, {}, lambda n: b"\x01" * n)
    assert "plex" not in made      # nothing to keep yet: an empty Secret
    assert "plex" not in credentials.missing_credentials(stack, {})
    kept = credentials.complete_credentials(stack, {"plex": {"account_token": "tok"}}, lambda n: b"\x01" * n)
    assert kept["plex"] == {"account_token": "tok"}
    secret = [s for s in credentials.secret_objects(stack, kept) if s["metadata"]["name"] == "plex-credentials"][0]
    assert secret["stringData"] == {"account_token": "tok"}


def test_plex_gets_a_library_per_media_type_and_the_arr_apps_a_plex_notification():
    stack = stack_model.build({"apps": APPS})
    made = dict((link["id"], link) for link in links.derive(stack["apps"]))
    assert made["plex/libraries/Movies"]["item"] == {
        "name": "Movies", "type": "movie", "paths": ["/data/media/movies", "/data/media/movies-4k"]}
    assert made["plex/libraries/Shows"]["item"]["type"] == "show"
    assert made["plex/libraries/Music"]["item"]["type"] == "artist"
    assert made["plex/preferences/FriendlyName"]["item"] == {"id": "FriendlyName", "value": "Arrkestra"}
    for arr in ("radarr", "radarr-4k", "sonarr", "lidarr"):
        link = made["%s/notifications/plex" % arr]
        assert link["item"]["implementation"] == "PlexServer" and link["item"]["port"] == 32400
        assert link["item"]["update_library"] and "notify" not in link["item"]
        assert link["secrets"] == {"auth_token": ["plex", "account_token"]}
    assert made["seerr/setup/plex"]["secrets"] == {"plex_token": ["plex", "account_token"]}
    assert made["seerr/setup/plex"]["item"]["libraries"] == ["Movies", "Shows"]
    # NetworkPolicy: the apps that call Plex
    plex = next(a for a in stack["apps"] if a["name"] == "plex")
    assert plex["callers"] == ["lidarr", "radarr", "radarr-4k", "seerr", "sonarr"]


def test_seerr_takes_jellyfin_when_the_stack_has_both():
    stack = stack_model.build({"apps": dict(APPS, jellyfin={})})
    assert links.seerr_media_server(stack["apps"])["name"] == "jellyfin"
    ids = [link["id"] for link in links.derive(stack["apps"])]
    assert "seerr/setup/jellyfin" in ids and "seerr/setup/plex" not in ids
    assert "radarr/notifications/plex" in ids and "radarr/notifications/jellyfin" in ids
    assert any("your plex.tv account" in line for line in stack_model.summary(stack))


def test_without_the_account_token_what_needs_it_waits_and_nothing_fails():
    stack = stack_model.build({"apps": APPS})
    plan = F["wiring_plan"](links.derive(stack["apps"]), stack["apps"])
    creds = {"plex": {}, "radarr": {"api_key": "k"}}
    assert F["wiring_resolve"](plan["radarr"]["notifications"], creds) == []
    assert F["wiring_single"](plan["seerr"]["setup"], creds) is None
    with_token = F["wiring_resolve"](plan["radarr"]["notifications"], {"plex": {"account_token": "tok"}})
    assert [i["auth_token"] for i in with_token] == ["tok"]


def test_a_preference_of_the_users_own_is_a_link_by_its_id():
    stack = stack_model.build({"apps": APPS})
    made = links.derive(stack["apps"], {"extra": [
        {"app": "plex", "group": "preferences", "item": {"id": "ManualPortMappingPort", "value": 443}}]})
    assert "plex/preferences/ManualPortMappingPort" in [link["id"] for link in made]
