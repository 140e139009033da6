# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform: component settings checked before any change, and the objects they make."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    model as stack_model, platform as platform_model, workloads)


METALLB = {"type": "metallb", "addresses": ["192.168.1.240-192.168.1.250"], "networks": ["192.168.1.0/24"]}


VPN = {"enabled": True, "provider": "mullvad", "credentials": {"WIREGUARD_PRIVATE_KEY": "wg-private-key"},
       "settings": {"SERVER_HOSTNAMES": "nl-ams-wg-001"}, "endpoints": ["193.32.249.66/32"]}


LETSENCRYPT = {"issuer": "letsencrypt", "email": "me@example.org", "cloudflare_api_token": "cf-token"}


def kinds(objects):
    return ["%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objects]


def counter():
    numbers = itertools.count(1)
    return lambda n: bytes([next(numbers) % 256]) * n


# -- a cluster the user brings (arrkestra_distribution: existing) -----------------------------------
def _classes(*names, default=None):
    return [{"metadata": {"name": n, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}
                          if n == default else {}}} for n in names]


def test_defaults_on_k3s_configure_what_k3s_ships():
    stack = stack_model.build({})
    platform = stack["platform"]
    assert platform["load_balancer"]["type"] == "servicelb"
    assert platform["monitoring"]["enabled"] is False and platform["network_policies"]["enabled"] is True
    names = kinds(platform_model.objects(stack))
    assert "HelmChartConfig/traefik" in names and "HelmChart/traefik" not in names     # k3s's Traefik, configured
    assert not [n for n in names if n.startswith("CustomResourceDefinition/")]        # k3s has helm-controller
    assert "HelmChart/cert-manager" in names and "ClusterIssuer/arrkestra-ca" in names
    assert stack["tls_secret"] == "arrkestra-tls"


def test_talos_gets_helm_controller_first_traefik_and_metallb():
    stack = stack_model.build({"distribution": "talos", "load_balancer": METALLB})
    objects = platform_model.objects(stack)
    names = kinds(objects)
    assert names[:2] == ["CustomResourceDefinition/helmcharts.helm.cattle.io",
                         "CustomResourceDefinition/helmchartconfigs.helm.cattle.io"]
    assert names.index("Deployment/helm-controller") < names.index("HelmChart/metallb")
    assert "HelmChart/traefik" in names and "HelmChartConfig/traefik" not in names
    pool = [o for o in objects if o["kind"] == "IPAddressPool"][0]
    assert pool["spec"]["addresses"] == ["192.168.1.240-192.168.1.250"]
    assert stack["platform"]["cluster_cidrs"] == ["10.244.0.0/16", "10.96.0.0/12"]


def test_metallb_is_the_default_on_talos_and_needs_a_pool():
    with pytest.raises(stack_model.StackError, match="give arrkestra_load_balancer.addresses"):
        stack_model.build({"distribution": "talos"})


@pytest.mark.parametrize("variables, message", [
    ({"load_balancer": dict(METALLB, addresses=["10.0.0.10-10.0.0.20"])},
     "10.0.0.10-10.0.0.20 is outside the nodes' networks (192.168.1.0/24)"),
    ({"load_balancer": dict(METALLB, addresses=["192.168.1.250-192.168.1.240"])}, "is not an address range"),
    ({"load_balancer": dict(METALLB, networks=[])}, "give arrkestra_load_balancer.networks"),
    ({"load_balancer": {"type": "servicelb"}, "distribution": "talos"}, "servicelb is k3s's own"),
    ({"certificates": {"issuer": "letsencrypt", "email": "me@example.org"}, "domain": "media.example.org"},
     "give arrkestra_certificates.cloudflare_api_token"),
    ({"certificates": dict(LETSENCRYPT, email=None), "domain": "media.example.org"}, "give arrkestra_certificates.email"),
    ({"certificates": LETSENCRYPT}, "is not a public domain"),
    ({"certificates": {"issuer": "acme"}}, "must be selfsigned or letsencrypt"),
    ({"storage": {"nfs_csi": True}}, "give arrkestra_storage.nfs_server"),
    ({"vpn": {"enabled": True, "provider": "mullvad"}}, "give WIREGUARD_PRIVATE_KEY in arrkestra_vpn.credentials"),
    ({"vpn": dict(VPN, type="openvpn")}, "give OPENVPN_USER and OPENVPN_PASSWORD"),
    ({"vpn": dict(VPN, provider=None)}, "give arrkestra_vpn.provider"),
    ({"vpn": dict(VPN, endpoints=None)}, "give arrkestra_vpn.endpoints, the addresses (CIDRs) of the VPN servers"),
    ({"vpn": dict(VPN, apps=["deluge"])}, "arrkestra_vpn.apps: deluge is not an app the stack deploys"),
    ({"backups": {"dir": "/mnt/backups"}}, "relative to it"),
    ({"monitoring": {"colour": "blue"}}, "arrkestra_monitoring: unknown option 'colour'"),
    ({"network_policies": {"allow_cidrs": ["lan"]}}, "'lan' is not a network"),
    ({"distribution": "k8s"}, "must be k3s, talos or existing"),
])
def test_bad_input_names_the_variable_to_fix(variables, message):
    with pytest.raises(stack_model.StackError) as raised:
        stack_model.build(variables)
    assert message in str(raised.value)


def test_secrets_never_enter_the_model():
    variables = {"domain": "media.example.org", "certificates": LETSENCRYPT, "vpn": VPN}
    stack = stack_model.build(variables)
    text = repr(stack) + repr(platform_model.objects(stack)) + repr(workloads.objects(stack))
    assert "cf-token" not in text and "wg-private-key" not in text
    secrets = dict((s["metadata"]["name"], s) for s in platform_model.secret_objects(stack, variables, {}, counter()))
    assert secrets["cloudflare-api-token"]["stringData"] == {"api-token": "cf-token"}
    assert secrets["vpn-credentials"]["stringData"]["WIREGUARD_PRIVATE_KEY"] == "wg-private-key"
    assert secrets["vpn-credentials"]["metadata"]["namespace"] == "media"


def test_grafana_password_made_once_then_kept():
    variables = {"monitoring": {"enabled": True}}
    stack = stack_model.build(variables)
    first = platform_model.secret_objects(stack, variables, {}, counter())[0]["stringData"]["admin-password"]
    again = platform_model.secret_objects(stack, variables, {"grafana-admin": {"admin-password": first}}, counter())
    assert again[0]["stringData"]["admin-password"] == first
    given = platform_model.secret_objects(stack, {"monitoring": {"grafana_admin_password": "mine"}}, {}, counter())
    assert given[0]["stringData"]["admin-password"] == "mine"


def test_existing_installs_helm_controller_and_traefik_and_no_load_balancer():
    stack = stack_model.build({"distribution": "existing"})
    platform = stack["platform"]
    assert platform["load_balancer"]["type"] == "none" and platform["cluster_cidrs"] == []
    assert platform["helm_controller"] is True and platform["ingress"]["namespace"] == "traefik"
    names = kinds(platform_model.objects(stack))
    assert names.index("CustomResourceDefinition/helmcharts.helm.cattle.io") < names.index("HelmChart/traefik")
    stack = stack_model.build({"distribution": "existing", "helm_controller": False})
    assert not [n for n in kinds(platform_model.objects(stack)) if n.startswith(("CustomResourceDefinition/",
                                                                                 "Deployment/helm-controller"))]


@pytest.mark.parametrize("variables, message", [
    ({"distribution": "k3s", "helm_controller": True}, "k3s runs its own helm-controller"),
    ({"distribution": "existing", "helm_controller": "yes"}, "arrkestra_helm_controller must be true or false"),
    ({"distribution": "existing", "vpn": VPN}, "give arrkestra_cluster_cidrs"),
])
def test_existing_bad_input_names_the_variable(variables, message):
    with pytest.raises(stack_model.StackError) as raised:
        stack_model.build(variables)
    assert message in str(raised.value)


def test_existing_cluster_that_fits_has_no_problem():
    stack = stack_model.build({"distribution": "existing"})
    assert platform_model.existing_cluster_problems(stack, "v1.34.4", _classes("local-path", default="local-path"), {}) == []
    ours = {platform_model.HELM_CRD: {"app.kubernetes.io/part-of": "arrkestra"}}
    assert platform_model.existing_cluster_problems(stack, "v1.31.6+k3s1", _classes("local-path"), ours) == []
    stack = stack_model.build({"distribution": "existing", "helm_controller": False, "config_storage_class": ""})
    assert platform_model.existing_cluster_problems(stack, "v1.29.0", _classes("standard", default="standard"),
                                                    {platform_model.HELM_CRD: {}}) == []


def test_existing_cluster_problems_name_what_to_fix():
    stack = stack_model.build({"distribution": "existing"})
    problems = platform_model.existing_cluster_problems(stack, "v1.28.9", _classes("standard"), {platform_model.HELM_CRD: {}})
    assert len(problems) == 3
    assert "Kubernetes v1.28.9; the stack needs 1.29" in problems[0]
    assert "arrkestra_config_storage_class is local-path" in problems[1] and "standard" in problems[1]
    assert "arrkestra_helm_controller: false" in problems[2]
    stack = stack_model.build({"distribution": "existing", "helm_controller": False, "config_storage_class": ""})
    problems = platform_model.existing_cluster_problems(stack, None, [], {})
    assert "no Kubernetes version" in problems[0]
    assert "no default StorageClass" in problems[1] and "install a provisioner" in problems[1]
    assert "arrkestra_helm_controller is false" in problems[2]
    # Nothing needs a chart: no helm-controller needed either.
    bare = {"ingress": {"enabled": False}, "certificates": {"enabled": False}, "helm_controller": False}
    stack = stack_model.build(dict(bare, distribution="existing"))
    assert platform_model.existing_cluster_problems(stack, "v1.34.0", _classes("local-path"), {}) == []


def test_metallb_pool_never_holds_a_node():
    variables = {"load_balancer": {"type": "metallb", "addresses": ["192.168.1.10-192.168.1.20"],
                                   "networks": ["192.168.1.0/24"]}}
    nodes = {"pi-1": "192.168.1.11", "pi-2": "pi-2.lan"}
    with pytest.raises(stack_model.StackError, match="holds 192.168.1.11, the address of the node pi-1"):
        stack_model.build(variables, nodes)
    assert stack_model.build(variables, {"pi-1": "192.168.1.30", "pi-2": "pi-2.lan"})   # names are not checked here
