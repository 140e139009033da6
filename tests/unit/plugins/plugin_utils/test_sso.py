# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sign-on (arrkestra_sso): which Ingresses sit behind the middleware, how the arr apps ask for a login, the
provider's app and users file, and the inputs refused before anything is changed."""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    catalog, checks, credentials, metrics, model as stack_model, platform, sso, workloads)
from tests.lab import schemas


#: A bcrypt hash of "alice's password" (cost 4), as htpasswd -nbB makes them.
ALICE = "$2y$04$Lu1bPmocJsWM3jZqO1UgPet5XRnnjk.1UN5zpM.VIo816nHiNGrKq"
ON = {"enabled": True}
APPS = {"prowlarr": {}, "radarr": {}, "radarr-4k": {"kind": "radarr"}, "sonarr": {}, "lidarr": {}, "bazarr": {},
        "qbittorrent": {}, "sabnzbd": {}, "flaresolverr": {}, "jellyfin": {}, "plex": {}, "seerr": {}, "recyclarr": {},
        "homepage": {}}


def objects(stack):
    return dict(((o["kind"], o["metadata"]["name"]), o) for o in workloads.objects(stack))


def env(stack, name):
    container = objects(stack)[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
    return dict((e["name"], e.get("value", e.get("valueFrom"))) for e in container["env"])


def test_the_middleware_sits_on_exactly_the_intended_ingresses():
    stack = stack_model.build({"apps": APPS, "sso": ON})
    ingresses = dict((name, o) for (kind, name), o in objects(stack).items() if kind == "Ingress")
    behind = sorted(n for n, o in ingresses.items() if (o["metadata"].get("annotations") or {}).get(sso.ANNOTATION))
    assert behind == ["bazarr", "homepage", "lidarr", "prowlarr", "qbittorrent", "radarr", "radarr-4k", "sabnzbd",
                      "sonarr"]
    # Jellyfin, Plex and Seerr keep their own login (their TV and phone apps); the sign-in page is not behind itself.
    assert {"jellyfin", "plex", "seerr", "tinyauth"} <= set(ingresses) - set(behind)
    assert ingresses["radarr"]["metadata"]["annotations"] == {sso.ANNOTATION: "media-arrkestra-sso@kubernetescrd"}
    assert ingresses["tinyauth"]["spec"]["rules"][0]["host"] == "auth.media.home.arpa"


def test_without_sso_no_ingress_has_the_annotation_and_no_middleware_is_made():
    stack = stack_model.build({"apps": APPS})
    assert not any(o["metadata"].get("annotations") for (kind, dummy), o in objects(stack).items() if kind == "Ingress")
    assert not [o for o in platform.objects(stack) if o["kind"] == "Middleware"]
    assert "tinyauth" not in [a["name"] for a in stack["apps"]]
    assert env(stack, "radarr")["RADARR__AUTH__METHOD"] == "Forms"


def test_the_arr_apps_leave_their_login_to_the_sign_on_and_keep_their_key():
    stack = stack_model.build({"apps": APPS, "sso": ON})
    for name, var in (("radarr", "RADARR"), ("radarr-4k", "RADARR"), ("sonarr", "SONARR"), ("lidarr", "LIDARR"),
                      ("prowlarr", "PROWLARR")):
        values = env(stack, name)
        assert values[var + "__AUTH__METHOD"] == "External", name
        assert values[var + "__AUTH__REQUIRED"] == "Enabled"
        assert values[var + "__AUTH__APIKEY"] == {"secretKeyRef": {"name": name + "-credentials", "key": "api_key"}}


def test_an_instance_taken_out_of_the_sign_on_keeps_its_forms_login():
    stack = stack_model.build({"apps": dict(APPS, radarr={"sso": False}), "sso": ON})
    assert env(stack, "radarr")["RADARR__AUTH__METHOD"] == "Forms"
    assert not objects(stack)[("Ingress", "radarr")]["metadata"].get("annotations")
    assert env(stack, "sonarr")["SONARR__AUTH__METHOD"] == "External"


def test_on_talos_the_arr_apps_keep_their_login_behind_the_sign_on():
    # Talos's flannel enforces no NetworkPolicy: External would open Radarr (and its key) to every pod.
    stack = stack_model.build({"apps": APPS, "sso": ON, "distribution": "talos",
                               "load_balancer": {"type": "metallb", "addresses": ["192.168.1.240/29"],
                                                 "networks": ["192.168.1.0/24"]}})
    assert env(stack, "radarr")["RADARR__AUTH__METHOD"] == "Forms"
    assert objects(stack)[("Ingress", "radarr")]["metadata"]["annotations"] == {
        sso.ANNOTATION: "media-arrkestra-sso@kubernetescrd"}
    assert "the sign-on, then its own" in "\n".join(stack_model.summary(stack))


def test_one_middleware_per_namespace_with_an_ingress_behind_it_pointing_at_the_provider():
    stack = stack_model.build({"apps": APPS, "sso": ON, "monitoring": {"enabled": True}})
    middlewares = [o for o in platform.objects(stack) if o["kind"] == "Middleware"]
    assert [(m["metadata"]["namespace"], m["metadata"]["name"]) for m in middlewares] == [
        ("media", sso.MIDDLEWARE), ("monitoring", sso.MIDDLEWARE)]
    for middleware in middlewares:
        assert middleware["apiVersion"] == "traefik.io/v1alpha1"
        auth = middleware["spec"]["forwardAuth"]
        assert auth["address"] == "http://tinyauth.media.svc.cluster.local:3000" + sso.FORWARD_AUTH_PATH["tinyauth"]
        assert auth["trustForwardHeader"] is False       # the X-Forwarded-* headers are Traefik's own
        assert "Remote-User" in auth["authResponseHeaders"]
        assert platform.chart_kind(middleware) == sso.CRD     # applied once Traefik's CRD is established
    chart = [o for o in metrics.platform_objects(stack) if o["kind"] == "HelmChart"][0]
    grafana = yaml.safe_load(chart["spec"]["valuesContent"])["grafana"]["ingress"]
    assert grafana["annotations"] == {sso.ANNOTATION: "monitoring-arrkestra-sso@kubernetescrd"}


def test_the_wiring_sets_external_only_where_the_model_says():
    stack = stack_model.build({"apps": APPS, "sso": ON})
    methods = dict((a["name"], a.get("auth_method")) for a in stack["apps"])
    assert methods["radarr"] == "External" and methods["prowlarr"] == "External"
    assert methods["bazarr"] is None and methods["jellyfin"] is None
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "wiring", "tasks", "links",
                           "servarr_links.yml"), encoding="utf-8") as handle:
        assert "wiring_app.auth_method" in handle.read()


def test_the_provider_is_added_with_its_secret_and_its_users_file():
    stack = stack_model.build({"apps": {"radarr": {}}, "sso": dict(ON, users={"alice": ALICE})})
    provider = sso.provider_app(stack)
    assert provider["name"] == "tinyauth" and provider["secret"] == "tinyauth-credentials" and not provider["sso"]
    made = credentials.complete_credentials(stack, {}, os.urandom)["tinyauth"]
    assert made["username"] == sso.GENERATED_USER
    import bcrypt  # pylint: disable=import-outside-toplevel
    assert bcrypt.checkpw(made["password"].encode(), made["password_bcrypt"].encode())
    assert made["users"] == "admin:%s\nalice:%s\n" % (made["password_bcrypt"], ALICE)
    # Made once: a second run keeps the hash (bcrypt is salted: made again, the Secret would change every run).
    assert credentials.complete_credentials(stack, {"tinyauth": made}, os.urandom)["tinyauth"] == made
    # A password rotated in the Secret: a new hash for it.
    rotated = credentials.complete_credentials(stack, {"tinyauth": dict(made, password="new")}, os.urandom)["tinyauth"]
    assert rotated["password_bcrypt"] != made["password_bcrypt"]
    assert bcrypt.checkpw(b"new", rotated["password_bcrypt"].encode())
    # The users file is what the provider reads at start: a new user restarts it.
    assert "users" in provider["reads_at_start"]


def test_the_provider_pod_reads_its_users_from_its_secret_non_root():
    stack = stack_model.build({"apps": {"radarr": {}}, "sso": ON})
    deployment = objects(stack)[("Deployment", "tinyauth")]
    spec = deployment["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    volumes = dict((v["name"], v) for v in spec["volumes"])
    assert volumes["sso-users"]["secret"]["secretName"] == "tinyauth-credentials"
    assert volumes["sso-users"]["secret"]["items"] == [{"key": "users", "path": "users"}]
    values = env(stack, "tinyauth")
    assert values["TINYAUTH_APPURL"] == "https://auth.media.home.arpa"
    assert values["TINYAUTH_AUTH_USERSFILE"] == sso.USERS_DIR + "/users"
    assert values["TINYAUTH_ANALYTICS_ENABLED"] == "false"
    # No secret in the pod's spec: only references.
    assert not [e for e in spec["containers"][0]["env"] if "password" in e["name"].lower()]


def test_authelia_gets_its_configuration_without_a_secret_in_it():
    stack = stack_model.build({"apps": {"radarr": {}}, "sso": dict(ON, provider="authelia", users={"alice": ALICE})})
    found = objects(stack)
    maps = [o for (kind, name), o in found.items() if kind == "ConfigMap" and name.startswith("authelia-config-")]
    assert len(maps) == 1
    config = yaml.safe_load(maps[0]["data"]["configuration.yml"])
    volumes = found[("Deployment", "authelia")]["spec"]["template"]["spec"]["volumes"]
    assert {"name": "sso-config", "configMap": {"name": maps[0]["metadata"]["name"]}} in volumes
    assert config["access_control"] == {"default_policy": "one_factor"} and "totp" not in config
    assert config["session"]["cookies"] == [{"domain": "media.home.arpa", "authelia_url": "https://auth.media.home.arpa"}]
    assert config["authentication_backend"]["file"]["path"] == sso.USERS_DIR + "/users.yml"
    assert "secret" not in yaml.safe_dump(config).replace("secrets", "")
    made = credentials.complete_credentials(stack, {}, os.urandom)["authelia"]
    users = yaml.safe_load(made["users"])["users"]
    # htpasswd's $2y$ is bcrypt as $2b$, the name Authelia's decoder knows (docs/upstream-facts.md).
    assert users["alice"]["password"] == "$2b$" + ALICE[4:] and users["admin"]["password"] == made["password_bcrypt"]
    for key in ("jwt_secret", "session_secret", "storage_encryption_key"):
        assert len(made[key]) >= 20       # Authelia refuses a storage key under 20 characters
    values = env(stack, "authelia")
    assert values["AUTHELIA_SESSION_SECRET_FILE"].startswith(sso.USERS_DIR)
    assert values["X_AUTHELIA_CONFIG"] == sso.AUTHELIA_CONFIG_DIR + "/configuration.yml"
    middleware = [o for o in platform.objects(stack) if o["kind"] == "Middleware"][0]
    assert middleware["spec"]["forwardAuth"]["address"].endswith(":9091" + sso.FORWARD_AUTH_PATH["authelia"])


@pytest.mark.parametrize("variables, variable", [
    ({"sso": {"enabled": "sometimes"}}, "arrkestra_sso.enabled"),
    ({"sso": {"enabled": True, "provider": "keycloak"}}, "arrkestra_sso.provider"),
    ({"sso": {"enabled": True, "two_factor": True}}, "arrkestra_sso.two_factor"),
    ({"sso": {"enabled": True, "users": {"alice": "hunter2"}}}, "arrkestra_sso.users.alice.password_hash"),
    ({"sso": {"enabled": True, "users": {"admin": ALICE}}}, "arrkestra_sso.users.admin"),
    ({"sso": {"enabled": True, "users": {"alice": {"password_hash": ALICE, "mail": "a@b.c"}}}},
     "arrkestra_sso.users.alice"),
    ({"sso": {"enabled": True, "hostname": "auth.example.org"}}, "arrkestra_sso.hostname"),
    # tinyauth's cookie is for its hostname less one label: two labels under the domain would miss the apps.
    ({"sso": {"enabled": True, "hostname": "sso.auth.media.home.arpa"}}, "arrkestra_sso.hostname"),
    ({"sso": {"enabled": True}, "domain": "lan"}, "arrkestra_domain"),
    ({"sso": {"enabled": True}, "apps": {"radarr": {}, "tinyauth": {"hostname": "login.example.net"}}},
     "arrkestra_apps.tinyauth.hostname"),
    ({"sso": {"enabled": True, "provider": "authelia"}, "certificates": {"enabled": False}}, "arrkestra_certificates"),
    ({"sso": {"enabled": True, "provider": "authelia", "users": {"bob": "$2a$10$" + "a" * 53}}},
     "arrkestra_sso.users.bob.password_hash"),
    ({"sso": {"enabled": True}, "ingress": {"enabled": False}}, "arrkestra_ingress.enabled"),
    ({"sso": {"enabled": True}, "network_policies": {"enabled": False}}, "arrkestra_network_policies.enabled"),
    ({"sso": {"enabled": True}, "apps": {"radarr": {"sso": "maybe"}}}, "arrkestra_apps.radarr.sso"),
    ({"sso": {"enabled": True, "provider": "authelia"}, "apps": {"tinyauth": {}}}, "arrkestra_apps.tinyauth"),
])
def test_a_wrong_input_is_refused_naming_the_variable(variables, variable):
    with pytest.raises(checks.InputError) as error:
        stack_model.build(variables)
    assert variable in str(error.value)


def test_the_catalog_keeps_the_media_servers_out_of_the_sign_on():
    assert not {"jellyfin", "plex", "seerr"} & set(catalog.BEHIND_SSO)
    assert set(catalog.BEHIND_SSO) <= set(catalog.CATALOG)


def test_authelia_with_two_factors_a_new_configuration_restarts_it_and_sends_people_home():
    given = {"apps": {"radarr": {}, "homepage": {}}, "sso": dict(ON, provider="authelia")}
    one = objects(stack_model.build(given))
    two = objects(stack_model.build(dict(given, sso=dict(given["sso"], two_factor=True))))
    name = [n for (kind, n) in two if kind == "ConfigMap" and n.startswith("authelia-config-")][0]
    config = yaml.safe_load(two[("ConfigMap", name)]["data"]["configuration.yml"])
    assert config["access_control"] == {"default_policy": "two_factor"}
    assert config["totp"] == {"issuer": "media.home.arpa"}
    assert config["session"]["cookies"][0]["default_redirection_url"] == "https://homepage.media.home.arpa"
    # Authelia reads its configuration once: another file is another ConfigMap, so another pod template.
    assert one[("Deployment", "authelia")]["spec"]["template"] != two[("Deployment", "authelia")]["spec"]["template"]


@pytest.mark.parametrize("provider", sso.PROVIDERS)
def test_every_object_of_a_stack_behind_the_sign_on_is_valid_offline(provider):
    stack = stack_model.build({"apps": APPS, "sso": dict(ON, provider=provider, users={"alice": ALICE}),
                               "monitoring": {"enabled": True}})
    made = credentials.complete_credentials(stack, {}, os.urandom)
    for obj in workloads.objects(stack) + platform.objects(stack) + credentials.secret_objects(stack, made):
        try:
            schemas.validate(obj, "1.33.0")
        except schemas.ValidationError as exc:
            pytest.fail("%s %s: %s" % (obj["kind"], obj["metadata"]["name"], exc))
