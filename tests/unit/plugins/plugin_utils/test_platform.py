# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform: component settings checked before any change, and the objects they make."""

from __future__ import annotations

import itertools

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import backups, catalog, model as stack_model, platform as platform_model, workloads

METALLB = {"type": "metallb", "addresses": ["192.168.1.240-192.168.1.250"], "networks": ["192.168.1.0/24"]}
VPN = {"enabled": True, "provider": "mullvad", "credentials": {"WIREGUARD_PRIVATE_KEY": "wg-private-key"},
       "settings": {"SERVER_HOSTNAMES": "nl-ams-wg-001"}, "endpoints": ["193.32.249.66/32"]}
LETSENCRYPT = {"issuer": "letsencrypt", "email": "me@example.org", "cloudflare_api_token": "cf-token"}


def kinds(objects):
    return ["%s/%s" % (o["kind"], o["metadata"]["name"]) for o in objects]


def counter():
    numbers = itertools.count(1)
    return lambda n: bytes([next(numbers) % 256]) * n


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


def test_memory_check_for_monitoring():
    stack = stack_model.build({"monitoring": {"enabled": True}})
    with pytest.raises(stack_model.StackError, match="have 3700 MiB of memory"):
        workloads.check_memory(stack, [3700])
    assert workloads.check_memory(stack, [7800])["total_mib"] == 7800
    assert workloads.check_memory(stack_model.build({}), [1000]) is None       # monitoring off: not checked


def test_monitoring_adds_exportarr_servicemonitors_rules_and_dashboard():
    stack = stack_model.build({"monitoring": {"enabled": True}})
    objects = workloads.objects(stack)
    radarr = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "radarr"][0]
    sidecar = radarr["spec"]["template"]["spec"]["containers"][1]
    assert sidecar["name"] == "exportarr" and sidecar["args"] == ["radarr"]
    assert {"name": "URL", "value": "http://localhost:7878"} in sidecar["env"]
    assert dict((n, r) for n, r, dummy in workloads.memory(stack))["radarr"] == 192 + 32     # the sidecar counts
    monitors = [o["metadata"]["name"] for o in objects if o["kind"] == "ServiceMonitor"]
    assert monitors == ["prowlarr", "radarr", "sonarr", "bazarr"]      # Exportarr knows them; not Jellyfin
    names = kinds(platform_model.objects(stack))
    assert {"PrometheusRule/arrkestra", "ConfigMap/arrkestra-dashboard", "HelmChart/kube-prometheus-stack"} <= set(names)
    rules = [o for o in platform_model.objects(stack) if o["kind"] == "PrometheusRule"][0]["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ["ArrkestraAppDown", "ArrkestraQueueStuck", "ArrkestraDiskNearlyFull"]


def test_vpn_sidecar_and_killswitch_policy():
    stack = stack_model.build({"vpn": VPN})
    objects = workloads.objects(stack)
    namespace = objects[0]["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace["pod-security.kubernetes.io/warn"] == "restricted"
    qbit = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "qbittorrent"][0]
    gluetun = qbit["spec"]["template"]["spec"]["initContainers"][-1]
    assert gluetun["name"] == "gluetun" and gluetun["restartPolicy"] == "Always"
    assert gluetun["securityContext"]["capabilities"]["add"] == ["NET_ADMIN"]
    assert {"name": "FIREWALL_INPUT_PORTS", "value": "8080"} in gluetun["env"]
    policy = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "qbittorrent"][0]["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    dns, tunnel = policy["egress"]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert tunnel["to"] == [{"ipBlock": {"cidr": "193.32.249.66/32"}}]
    anywhere = workloads.objects(stack_model.build({"vpn": dict(VPN, endpoints=["0.0.0.0/0"])}))
    policy = [o for o in anywhere if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "qbittorrent"][0]["spec"]
    assert policy["egress"][1]["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.42.0.0/16", "10.43.0.0/16"]}}]
    assert tunnel["ports"] == [{"port": 51820, "protocol": "UDP"}]
    radarr = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "radarr"][0]
    assert "initContainers" not in radarr["spec"]["template"]["spec"]


def test_network_policies_let_in_the_ingress_and_the_callers_only():
    stack = stack_model.build({})
    objects = workloads.objects(stack)
    policies = dict((o["metadata"]["name"], o["spec"]) for o in objects if o["kind"] == "NetworkPolicy")
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    # The collection's Jobs (backups, restores, data layout) reach nothing; their pods carry those components.
    jobs = policies["jobs-deny-egress"]
    assert jobs["policyTypes"] == ["Egress"] and "egress" not in jobs
    assert jobs["podSelector"]["matchExpressions"][0]["values"] == ["backup", "data"]
    backed_up = workloads.objects(stack_model.build({"backups": {"enabled": True}}))
    components = set(o["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                     for o in backed_up if o["kind"] == "CronJob" and o["metadata"]["name"].endswith("-backup"))
    components |= set(o["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
                      for o in backed_up if o["kind"] == "Job")
    assert components == {"backup", "data"}, components
    ingress, callers = policies["qbittorrent"]["ingress"]
    assert ingress["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}}}]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/instance"] for p in callers["from"]] == ["radarr", "sonarr"]
    assert "Egress" not in policies["qbittorrent"]["policyTypes"]
    # FlareSolverr has no authentication: no ingress, only Prowlarr may call it.
    [flaresolverr] = policies["flaresolverr"]["ingress"]
    assert flaresolverr["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "prowlarr"}}}]
    assert "flaresolverr" not in [o["metadata"]["name"] for o in objects if o["kind"] == "Ingress"]
    assert not [o for o in workloads.objects(stack_model.build({"network_policies": {"enabled": False}}))
                if o["kind"] == "NetworkPolicy"]


def test_backups_a_cronjob_per_config_volume_and_a_restore_job():
    stack = stack_model.build({"backups": {"enabled": True, "keep": 3}})
    objects = workloads.objects(stack)
    jobs = [o["metadata"]["name"] for o in objects if o["kind"] == "CronJob" and o["metadata"]["name"].endswith("-backup")]
    assert "radarr-backup" in jobs and "flaresolverr-backup" not in jobs and "recyclarr-backup" not in jobs
    scripts = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "arrkestra-backup"][0]
    assert set(scripts["data"]) == {"backup.sh", "restore.sh"}
    job = backups.restore_job(stack, "radarr", "radarr-20261129T033000Z.tar.gz")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sh", "/scripts/restore.sh", "radarr-20261129T033000Z.tar.gz"]
    assert {"name": "BACKUP_DIR", "value": "/data/backups"} in container["env"]
    with pytest.raises(stack_model.StackError, match="no app of the stack with backups"):
        backups.restore_job(stack_model.build({}), "radarr")


@pytest.mark.parametrize("vpn, port, env", [
    ({"provider": "airvpn"}, 1637, None),                        # gluetun's defaults, not 51820 for every provider
    ({"provider": "ivpn"}, 58237, None),
    ({"provider": "windscribe"}, 1194, None),
    ({"provider": "mullvad"}, 51820, None),
    ({"provider": "mullvad", "port": 3000}, 3000, "3000"),      # a port of one's own: gluetun is told it too
    ({"provider": "nordvpn", "type": "openvpn", "protocol": "tcp"}, 443, None),
    ({"provider": "private internet access", "type": "openvpn"}, 1198, None),
    ({"provider": "custom", "port": 51821}, 51821, "51821"),
])
def test_the_killswitch_opens_the_port_gluetun_dials(vpn, port, env):
    credentials = {"WIREGUARD_PRIVATE_KEY": "k", "OPENVPN_USER": "u", "OPENVPN_PASSWORD": "p"}
    stack = stack_model.build({"vpn": dict({"enabled": True, "credentials": credentials, "endpoints": ["198.51.100.0/24"]},
                                           **vpn)})
    objects = workloads.objects(stack)
    policy = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "qbittorrent"][0]["spec"]
    assert policy["egress"][1]["ports"][0]["port"] == port
    qbit = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "qbittorrent"][0]
    gluetun = qbit["spec"]["template"]["spec"]["initContainers"][-1]
    given = dict((e["name"], e.get("value")) for e in gluetun["env"])
    name = "WIREGUARD_ENDPOINT_PORT" if vpn.get("type", "wireguard") == "wireguard" else "OPENVPN_ENDPOINT_PORT"
    assert given.get(name) == env
    # The app starts only when the tunnel is up.
    assert gluetun["startupProbe"]["exec"]["command"] == ["/gluetun-entrypoint", "healthcheck"]


@pytest.mark.parametrize("vpn, message", [
    ({"provider": "custom"}, "give arrkestra_vpn.port"),
    ({"provider": "protonvpn", "port": 1234}, "gluetun keeps protonvpn's WireGuard port at 51820"),
    ({"provider": "cyberghost"}, "gluetun has no wireguard for provider cyberghost"),
])
def test_vpn_ports_gluetun_would_refuse(vpn, message):
    with pytest.raises(stack_model.StackError) as err:
        stack_model.build({"vpn": dict({"enabled": True, "credentials": {"WIREGUARD_PRIVATE_KEY": "k"},
                                        "endpoints": ["198.51.100.0/24"]}, **vpn)})
    assert message in str(err.value)


# -- a cluster the user brings (arrkestra_distribution: existing) -----------------------------------
def _classes(*names, default=None):
    return [{"metadata": {"name": n, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}
                          if n == default else {}}} for n in names]


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


def test_metallb_pool_never_holds_a_node():
    variables = {"load_balancer": {"type": "metallb", "addresses": ["192.168.1.10-192.168.1.20"],
                                   "networks": ["192.168.1.0/24"]}}
    nodes = {"pi-1": "192.168.1.11", "pi-2": "pi-2.lan"}
    with pytest.raises(stack_model.StackError, match="holds 192.168.1.11, the address of the node pi-1"):
        stack_model.build(variables, nodes)
    assert stack_model.build(variables, {"pi-1": "192.168.1.30", "pi-2": "pi-2.lan"})   # names are not checked here
