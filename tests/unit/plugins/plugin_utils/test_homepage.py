# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Homepage's configuration and pod, made from the stack, checked against what Homepage v1.12.3 reads
(docs/upstream-facts.md, "Homepage v1.12.3"): every widget the generator writes has only fields its type documents
and its code reads, and no key or password is ever in the configuration."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.filter.stack import stack_restart_on_credentials
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    catalog, credentials as app_credentials, homepage, model as stack_model, network, workloads)
from tests.lab import schemas

#: The fields of each widget type the generator writes, read in gethomepage/homepage at v1.12.3: those its page
#: documents (docs/widgets/services/<type>.md) and those its code reads from the widget's configuration (the proxy
#: handler and the type's api template; formatApiCall fills ``{url}``, ``{key}``... from the widget's fields,
#: src/utils/proxy/api-helpers.js:1-13). ``type`` picks the widget (src/widgets/widgets.js). A field the generator
#: writes must be in both; a type not listed here fails.
UPSTREAM_FIELDS = {
    "radarr": {"documented": ("type", "url", "key", "enableQueue"),
               "docs": "docs/widgets/services/radarr.md:15-19",
               "read": ("type", "url", "key", "enableQueue"),
               "code": "src/widgets/radarr/widget.js:5; src/utils/proxy/handlers/generic.js:14-22; "
                       "src/utils/config/service-helpers.js:555-557"},
    "sonarr": {"documented": ("type", "url", "key", "enableQueue"),
               "docs": "docs/widgets/services/sonarr.md:15-19",
               "read": ("type", "url", "key", "enableQueue"),
               "code": "src/widgets/sonarr/widget.js:5; src/utils/proxy/handlers/generic.js:14-22; "
                       "src/utils/config/service-helpers.js:555-557"},
    "lidarr": {"documented": ("type", "url", "key"), "docs": "docs/widgets/services/lidarr.md:13-16",
               "read": ("type", "url", "key"),
               "code": "src/widgets/lidarr/widget.js:4; src/utils/proxy/handlers/generic.js:14-22"},
    "prowlarr": {"documented": ("type", "url", "key"), "docs": "docs/widgets/services/prowlarr.md:13-16",
                 "read": ("type", "url", "key"),
                 "code": "src/widgets/prowlarr/widget.js:4; src/utils/proxy/handlers/generic.js:14-22"},
    "bazarr": {"documented": ("type", "url", "key"), "docs": "docs/widgets/services/bazarr.md:13-16",
               "read": ("type", "url", "key"),
               "code": "src/widgets/bazarr/widget.js:5; src/utils/proxy/handlers/generic.js:14-22"},
    "sabnzbd": {"documented": ("type", "url", "key"), "docs": "docs/widgets/services/sabnzbd.md:13-16",
                "read": ("type", "url", "key"),
                "code": "src/widgets/sabnzbd/widget.js:4; src/utils/proxy/handlers/generic.js:14-22"},
    "qbittorrent": {"documented": ("type", "url", "username", "password", "enableLeechProgress", "enableLeechSize"),
                    "docs": "docs/widgets/services/qbittorrent.md:13-20",
                    "read": ("type", "url", "username", "password", "enableLeechProgress", "enableLeechSize"),
                    "code": "src/widgets/qbittorrent/proxy.js:10-11, 37; src/utils/config/service-helpers.js:534-537"},
    # The type is seerr (jellyseerr and overseerr are aliases of it: src/widgets/widgets.js:216, 248, 276).
    "seerr": {"documented": ("type", "url", "key"), "docs": "docs/widgets/services/seerr.md:10, 16-19",
              "read": ("type", "url", "key"),
              "code": "src/widgets/seerr/widget.js:4; src/utils/proxy/handlers/credentialed.js:31, 133"},
    "plex": {"documented": ("type", "url", "key"), "docs": "docs/widgets/services/plex.md:13-16",
             "read": ("type", "url", "key"), "code": "src/widgets/plex/widget.js:4; src/widgets/plex/proxy.js:41"},
    "transmission": {"documented": ("type", "url", "username", "password", "rpcUrl"),
                     "docs": "docs/widgets/services/transmission.md:13-19",
                     "read": ("type", "url", "username", "password", "rpcUrl"),
                     "code": "src/widgets/transmission/proxy.js:36, 42; src/widgets/transmission/widget.js:4"},
    "nzbget": {"documented": ("type", "url", "username", "password"), "docs": "docs/widgets/services/nzbget.md:13-18",
               "read": ("type", "url", "username", "password"),
               "code": "src/widgets/nzbget/widget.js:4; src/utils/proxy/handlers/jsonrpc.js:17-18, 81"},
}
#: The fields of a tile (a service) the generator writes: docs/configs/services.md:71-80 (icon, href, description,
#: widget); the name is the entry's key (src/utils/config/service-helpers.js:27-41).
SERVICE_FIELDS = ("href", "icon", "description", "widget")
#: Every file Homepage copies into its config folder when missing (src/utils/config/config.js:29-39, exiting when it
#: cannot): settings, services, bookmarks, widgets, docker, kubernetes, proxmox (src/pages/api/validate.js:3,
#: src/utils/config/widget-helpers.js:9) and custom.css / custom.js (src/pages/api/hash.js:7-15, 25).
CONFIG_FILES = ("settings.yaml", "services.yaml", "bookmarks.yaml", "widgets.yaml", "docker.yaml", "kubernetes.yaml",
                "proxmox.yaml", "custom.css", "custom.js")

DEFAULT = dict((name, {}) for name in catalog.DEFAULT_STACK)
EVERY = dict(DEFAULT, **{"lidarr": {}, "sabnzbd": {}, "plex": {}, "radarr-4k": {"kind": "radarr", "wiring": {"is_4k": True}},
                         "transmission": {"url": "http://nas.lan:9091", "controller_url": "http://nas.lan:9091"},
                         "nzbget": {"url": "http://nas.lan:6789"}, "homepage": {}})


def build(apps, **variables):
    return stack_model.build(dict(variables, apps=apps))


def objects(stack):
    return dict(((o["kind"], o["metadata"]["name"]), o) for o in workloads.objects(stack))


def config_map(stack, name="homepage"):
    found = [o for (kind, dummy), o in objects(stack).items() if kind == "ConfigMap"
             and o["metadata"]["labels"]["app.kubernetes.io/instance"] == name]
    assert len(found) == 1, found
    return found[0]


def page(stack):
    """services.yaml as Homepage loads it: ``{group: {tile: fields}}``."""
    loaded = yaml.safe_load(config_map(stack)["data"]["services.yaml"]) or []
    return dict((list(g)[0], dict(list(t.items())[0] for t in list(g.values())[0])) for g in loaded)


def pod(stack, name="homepage"):
    return objects(stack)[("Deployment", name)]["spec"]["template"]["spec"]


def test_the_catalog_entry_is_upstreams():
    entry = catalog.CATALOG["homepage"]
    assert entry["image"] == "ghcr.io/gethomepage/homepage:v1.12.3"
    assert (entry["port"], entry["probe"], entry["config_dir"]) == (3000, "/api/healthcheck", "/app/config")
    assert entry["credentials"] == () and entry["wired"] is False and entry["controller_calls"] is False
    assert "homepage" not in catalog.DEFAULT_STACK
    # It calls exactly the kinds it has a widget for: their NetworkPolicies let it in.
    assert sorted(entry["calls"]) == sorted(homepage.WIDGETS)
    # Every kind with a web UI has a group, or is left out on purpose.
    for kind, other in catalog.CATALOG.items():
        if other.get("ingress", bool(other["port"])) and not other.get("cronjob"):
            assert kind in homepage.NO_TILE or homepage._group(kind), kind


def test_every_widget_has_only_fields_its_type_documents_and_reads():
    stack = build(EVERY, monitoring={"enabled": True})
    made = page(stack)
    types = set()
    for group, tiles in made.items():
        for name, tile in tiles.items():
            assert set(tile) <= set(SERVICE_FIELDS), (group, name, tile)
            if "widget" not in tile:
                continue
            widget = tile["widget"]
            assert widget["type"] in UPSTREAM_FIELDS, "widget type %r not read upstream" % widget["type"]
            known = UPSTREAM_FIELDS[widget["type"]]
            unknown = set(widget) - (set(known["documented"]) & set(known["read"]))
            assert not unknown, "%s: %s not documented and read by Homepage (%s; %s)" % (
                name, sorted(unknown), known["docs"], known["code"])
            assert widget["url"].startswith("http://") and ".svc.cluster.local:" in widget["url"] or name in (
                "Transmission", "NZBGet"), widget
            types.add(widget["type"])
    assert types == set(UPSTREAM_FIELDS)      # every type of the table is made by some stack: none is stale


def test_a_tile_and_a_widget_per_instance_with_secrets_by_name_only():
    stack = build(dict(DEFAULT, homepage={}))
    made = page(stack)
    assert list(made) == ["Media", "Library", "Downloads"]
    assert sorted(made["Library"]) == ["Bazarr", "Prowlarr", "Radarr", "Sonarr"]
    radarr = made["Library"]["Radarr"]
    assert radarr == {"href": "https://radarr.media.home.arpa", "icon": "radarr.png", "description": "Movies",
                      "widget": {"type": "radarr", "url": "http://radarr.media.svc.cluster.local:7878",
                                 "key": "{{HOMEPAGE_VAR_RADARR_API_KEY}}"}}
    assert made["Downloads"]["qBittorrent"]["widget"] == {
        "type": "qbittorrent", "url": "http://qbittorrent.media.svc.cluster.local:8080",
        "username": "{{HOMEPAGE_VAR_QBITTORRENT_USERNAME}}", "password": "{{HOMEPAGE_VAR_QBITTORRENT_PASSWORD}}"}
    assert made["Media"]["Seerr"]["widget"]["key"] == "{{HOMEPAGE_VAR_SEERR_API_KEY}}"
    # Jellyfin's key is made by the wiring phase, after Homepage started: a link, no widget.
    assert "widget" not in made["Media"]["Jellyfin"]
    # No tile for what has no web UI, nor for Homepage itself.
    assert not [n for tiles in made.values() for n in tiles if n.lower() in ("flaresolverr", "recyclarr", "homepage")]
    # Each secret is an environment variable of the pod, read from the instance's Secret.
    container = pod(stack)["containers"][0]
    refs = dict((e["name"], e["valueFrom"]["secretKeyRef"]) for e in container["env"]
                if "secretKeyRef" in e.get("valueFrom", {}))
    assert refs["HOMEPAGE_VAR_RADARR_API_KEY"] == {"name": "radarr-credentials", "key": "api_key"}
    assert refs["HOMEPAGE_VAR_QBITTORRENT_PASSWORD"] == {"name": "qbittorrent-credentials", "key": "password"}
    placeholders = set(v[2:-2] for tiles in made.values() for t in tiles.values()
                       for k, v in t.get("widget", {}).items() if k not in ("type", "url"))
    assert placeholders == set(refs)
    # No value of any Secret, and no credential in clear, anywhere in the ConfigMap or the pod.
    creds = app_credentials.complete_credentials(stack, {}, os.urandom)
    text = yaml.safe_dump([config_map(stack), objects(stack)[("Deployment", "homepage")]])
    values = [v for app in creds.values() for k, v in app.items() if k != "username"]
    assert values and not [v for v in values if v in text]


def test_a_second_instance_adds_its_tile_and_widget():
    one = page(build(dict(DEFAULT, homepage={})))
    two = page(build(dict(DEFAULT, homepage={}, **{"radarr-4k": {"kind": "radarr", "wiring": {"is_4k": True}}})))
    assert set(two["Library"]) - set(one["Library"]) == {"radarr-4k"}
    tile = two["Library"]["radarr-4k"]
    assert tile["href"] == "https://radarr-4k.media.home.arpa" and tile["description"] == "Movies (4K)"
    assert tile["widget"]["url"] == "http://radarr-4k.media.svc.cluster.local:7878"
    assert tile["widget"]["key"] == "{{HOMEPAGE_VAR_RADARR_4K_API_KEY}}"


def test_external_clients_get_a_tile_with_their_own_url_and_monitoring_a_grafana_link():
    made = page(build(EVERY, monitoring={"enabled": True}))
    assert made["Downloads"]["Transmission"] == {
        "href": "http://nas.lan:9091", "icon": "transmission.png", "description": "Torrents",
        "widget": {"type": "transmission", "url": "http://nas.lan:9091", "username": "{{HOMEPAGE_VAR_TRANSMISSION_USERNAME}}",
                   "password": "{{HOMEPAGE_VAR_TRANSMISSION_PASSWORD}}"}}
    assert made["Monitoring"]["Grafana"]["href"] == "https://grafana.media.home.arpa"
    assert "widget" not in made["Monitoring"]["Grafana"]
    assert "Monitoring" not in page(build(EVERY))


def test_the_pod_runs_as_the_stack_user_without_a_token_reading_its_config_read_only():
    stack = build(EVERY, network_policies={"enabled": True})
    spec = pod(stack)
    container = spec["containers"][0]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 1000
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["automountServiceAccountToken"] is False
    env = dict((e["name"], e.get("value", e.get("valueFrom"))) for e in container["env"])
    # The Host check: the ingress hostname, and the kubelet's probes at <pod IP>:<port>.
    assert env["HOMEPAGE_ALLOWED_HOSTS"].split(",") == ["homepage.media.home.arpa", "$(POD_IP):3000"]
    names = [e["name"] for e in container["env"]]
    assert names.index("POD_IP") < names.index("HOMEPAGE_ALLOWED_HOSTS")     # $(POD_IP) is expanded only so
    assert env["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert env["LOG_TARGETS"] == "stdout" and env["PORT"] == "3000"
    assert "PUID" not in env        # unset: the entrypoint changes no ownership and runs as the pod's uid
    assert container["readinessProbe"]["httpGet"] == {"path": "/api/healthcheck", "port": "http"}
    # Plex's token comes with the sign-in: the pod starts without it.
    plex_token = {"name": "plex-credentials", "key": "account_token", "optional": True}
    assert env["HOMEPAGE_VAR_PLEX_ACCOUNT_TOKEN"]["secretKeyRef"] == plex_token
    assert not [e for e in container["env"] if e["name"] != "HOMEPAGE_VAR_PLEX_ACCOUNT_TOKEN"
                and "optional" in str(e.get("valueFrom"))]
    mounts = dict((m["mountPath"], m) for m in container["volumeMounts"])
    assert mounts["/app/config"]["readOnly"] is True and "/app/.next/cache" in mounts
    volumes = dict((v["name"], v) for v in spec["volumes"])
    made = config_map(stack)
    assert volumes[mounts["/app/config"]["name"]]["configMap"]["name"] == made["metadata"]["name"]
    assert "emptyDir" in volumes[mounts["/app/.next/cache"]["name"]]
    assert sorted(made["data"]) == sorted(CONFIG_FILES)
    for name in CONFIG_FILES:
        if name.endswith(".yaml"):
            yaml.safe_load(made["data"][name])
    assert yaml.safe_load(made["data"]["kubernetes.yaml"]) == {"mode": "disabled"}
    assert yaml.safe_load(made["data"]["settings.yaml"])["title"]
    made_objects = objects(stack)
    assert ("PersistentVolumeClaim", "homepage-config") not in made_objects
    for key, obj in made_objects.items():
        if key[1].startswith("homepage"):
            schemas.validate(obj, "1.33.0")


def test_every_app_with_a_widget_lets_homepage_in():
    stack = build(EVERY, network_policies={"enabled": True})
    apps = dict((a["name"], a) for a in stack["apps"])
    with_widget = [n for n, a in apps.items() if a["kind"] in homepage.WIDGETS]
    assert set(with_widget) >= {"radarr", "radarr-4k", "sonarr", "prowlarr", "bazarr", "qbittorrent", "sabnzbd", "seerr",
                                "plex", "lidarr"}
    for name in with_widget:
        assert "homepage" in apps[name]["callers"], name
        if not apps[name]["external"]:
            rules = network.policy(stack, apps[name])["spec"]["ingress"]
            assert {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "homepage"}}} in [
                peer for rule in rules for peer in rule["from"]], name
    assert "homepage" not in apps["jellyfin"]["callers"] and "homepage" not in apps["flaresolverr"]["callers"]
    policy = network.policy(stack, apps["homepage"])
    assert [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
         "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}}}]     # Traefik only


def test_a_new_configuration_restarts_it_and_the_same_one_does_not():
    one, again = build(dict(DEFAULT, homepage={})), build(dict(DEFAULT, homepage={}))
    name = config_map(one)["metadata"]["name"]
    assert name.startswith("homepage-config-") and name == config_map(again)["metadata"]["name"]
    assert pod(one) == pod(again)
    other = build(dict(DEFAULT, homepage={}, jellyfin={"hostname": "tv.media.home.arpa"}))
    assert config_map(other)["metadata"]["name"] != name
    assert pod(other)["volumes"] != pod(one)["volumes"]


def test_a_rotated_key_restarts_it_and_a_key_the_wiring_adds_does_not():
    stack = build(dict(DEFAULT, homepage={}, plex={}))
    homepage.instances(stack["apps"])      # what model.build does; idempotent
    app = [a for a in stack["apps"] if a["name"] == "homepage"][0]
    assert ["radarr", "api_key"] in app["reads_at_start"] and ["qbittorrent", "password"] in app["reads_at_start"]
    assert ["plex", "account_token"] in app["reads_at_start"]
    assert not [r for r in app["reads_at_start"] if r[0] == "jellyfin"]
    deployment = [o for o in workloads.objects(stack) if o["kind"] == "Deployment" and o["metadata"]["name"] == "homepage"]
    creds = app_credentials.complete_credentials(stack, {}, os.urandom)

    def digest(credentials):
        (obj,) = stack_restart_on_credentials(deployment, stack, credentials)
        return obj["spec"]["template"]["metadata"]["annotations"]["arrkestra.io/credentials-digest"]

    before = digest(creds)
    assert digest(creds) == before
    assert digest(dict(creds, jellyfin=dict(creds["jellyfin"], api_key="j" * 32))) == before
    assert digest(dict(creds, radarr=dict(creds["radarr"], api_key="r" * 32))) != before
    assert digest(dict(creds, plex={"account_token": "signed-in"})) != before


def test_the_model_decides_what_it_shows_and_reads_at_start():
    stack = build(dict(DEFAULT, homepage={}))
    app = [a for a in stack["apps"] if a["name"] == "homepage"][0]
    assert app.get("shows"), "model.build must call homepage.instances(apps), as it calls unpackerr.instances(apps)"
    assert app["shows"] == ["prowlarr", "radarr", "sonarr", "bazarr", "qbittorrent", "jellyfin", "seerr"]
    assert ["sonarr", "api_key"] in app["reads_at_start"]


@pytest.mark.parametrize("password", ["a: b", "#x", "{{", "- y", "123", "true", "~", "@at", "x\\y", '"q"', "-"])
def test_a_secret_value_replaced_into_the_yaml_stays_a_string(password):
    # Homepage replaces {{HOMEPAGE_VAR_X}} in the file's text before it parses it (config.js:64-80): each value is
    # single-quoted, so any value the collection makes (hex keys, base64url passwords) and most a person gives stay
    # the same string.
    text = config_map(build(dict(DEFAULT, homepage={})))["data"]["services.yaml"]
    loaded = yaml.safe_load(text.replace("{{HOMEPAGE_VAR_QBITTORRENT_PASSWORD}}", password))
    widget = [t for g in loaded for t in list(g.values())[0] if "qBittorrent" in t][0]["qBittorrent"]["widget"]
    assert widget["password"] == password


def test_a_single_quote_in_a_secret_is_the_one_character_that_breaks_the_file():
    # The documented limit (docs/apps.md, "Homepage"): a password given with a ' ends the quoted value.
    text = config_map(build(dict(DEFAULT, homepage={})))["data"]["services.yaml"]
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load(text.replace("{{HOMEPAGE_VAR_QBITTORRENT_PASSWORD}}", "it's"))
    generated = app_credentials.complete_credentials(build(dict(DEFAULT, homepage={})), {}, os.urandom)
    assert not [v for app in generated.values() for v in app.values() if "'" in v]


def test_an_empty_stack_has_an_empty_page():
    made = config_map(build({"homepage": {}}))["data"]["services.yaml"]
    assert yaml.safe_load(made) == []
