# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The platform of the stack: load balancer, ingress, certificates, storage, and the switches of the features.

:func:`settings` validates the inventory's component variables (``arrkestra_load_balancer``,
``arrkestra_ingress``, ...) into ``stack["platform"]``, each feature checking its own (:mod:`vpn`,
:mod:`metrics`, :mod:`backups`); :func:`objects` gives the cluster-wide objects the platform phase applies or
renders, :func:`secret_objects` its Secrets. What the features add to each app is made with the app's own objects
(:mod:`workloads`).

Charts are installed through the cluster's helm-controller (``HelmChart``), never with a helm
binary: k3s has it built in, on Talos :func:`objects` installs it first.

Pure functions, no I/O: errors are :class:`PlatformError` naming the variable to fix.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    backups, checks, gpu, kube, metrics, sso, vpn, workloads)

#: Objects of kinds the charts define: applied once their CRDs are established.
CHART_KINDS = {
    ("metallb.io/v1beta1", "IPAddressPool"): "ipaddresspools.metallb.io",
    ("metallb.io/v1beta1", "L2Advertisement"): "l2advertisements.metallb.io",
    ("cert-manager.io/v1", "ClusterIssuer"): "clusterissuers.cert-manager.io",
    ("cert-manager.io/v1", "Certificate"): "certificates.cert-manager.io",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitors.monitoring.coreos.com",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrules.monitoring.coreos.com",
    (sso.API_VERSION, "Middleware"): sso.CRD,
}
#: Deployments of the charts that must be Available before their objects are applied (admission webhooks).
WEBHOOKS = {
    "metallb": ("metallb-system", "metallb-controller"),
    "cert-manager": ("cert-manager", "cert-manager-webhook"),
}

DEFAULTS = {
    "distribution": "k3s",
    "load_balancer": {"type": None, "addresses": [], "networks": []},
    "ingress": {"enabled": True, "redirect_https": True, "load_balancer_ip": None},
    "certificates": {"enabled": True, "issuer": "selfsigned", "email": None, "cloudflare_api_token": None,
                     "acme_server": "https://acme-v02.api.letsencrypt.org/directory"},
    "storage": {"nfs_csi": False, "nfs_server": None, "nfs_export": None, "nfs_storage_class": "nfs-csi"},
    "monitoring": {"enabled": False, "retention": "7d", "storage_size": "10Gi", "min_memory": "6Gi",
                   "grafana_hostname": None, "grafana_admin_password": None, "disk_alert_percent": 90,
                   "queue_stuck_hours": 6},
    "vpn": {"enabled": False, "apps": ["qbittorrent"], "provider": None, "type": "wireguard", "settings": {},
            "credentials": {}, "endpoints": None, "port": None, "protocol": "UDP", "port_forwarding": False},
    "backups": {"enabled": False, "schedule": "30 3 * * *", "keep": 7, "dir": "backups"},
    "network_policies": {"enabled": True, "allow_cidrs": []},
    "sso": {"enabled": False, "provider": "tinyauth", "hostname": None, "users": {}, "two_factor": False},
    "cluster_cidrs": None,
    "helm_controller": None,
}
#: Inventory variables whose values are secrets: never in the model, only in :func:`secret_objects`.
SECRET_OPTIONS = {"certificates": ("cloudflare_api_token",), "monitoring": ("grafana_admin_password",),
                  "vpn": ("credentials",)}
#: Pod and service networks of each distribution's defaults (a cluster the user brings has none we could know).
CLUSTER_CIDRS = {"k3s": ["10.42.0.0/16", "10.43.0.0/16"], "talos": ["10.244.0.0/16", "10.96.0.0/12"], "existing": []}
#: The HelmChart CRD of helm-controller, through which the platform installs its charts.
HELM_CRD = "helmcharts.helm.cattle.io"
#: The oldest Kubernetes an existing cluster may run: the VPN's gluetun is a native sidecar (an init container
#: with restartPolicy Always), on by default since 1.29 (KEP-753, feature gate SidecarContainers beta).
MIN_KUBERNETES = (1, 29)


class PlatformError(checks.InputError):
    """The inventory describes a platform that cannot work; the message names the variable to fix."""


def _merge(name, given):
    default = DEFAULTS[name]
    if not isinstance(default, dict):
        return default if given is None else given
    out = copy.deepcopy(default)
    out.update(dict((k, v) for k, v in checks.mapping(given, "arrkestra_" + name, default).items() if v is not None))
    return out


def _networks(values, variable):
    return [checks.network(value, variable) for value in checks.listing(values, variable)]


def _pool_range(value):
    """First and last address of a MetalLB pool entry (``a.b.c.d-e.f.g.h`` or a CIDR)."""
    text = str(value).strip()
    try:
        if "-" in text:
            first, last = (ipaddress.ip_address(p.strip()) for p in text.split("-", 1))
            if first.version != last.version or first > last:
                raise ValueError(text)
            return first, last
        network = ipaddress.ip_network(text, strict=True)
        return network[0], network[-1]
    except ValueError:
        raise PlatformError("arrkestra_load_balancer.addresses: %r is not an address range (like "
                            "192.168.1.240-192.168.1.250) or a network (like 192.168.1.240/28)" % (value,))


def _load_balancer(lb, distribution):
    # A cluster the user brings has its own way (a cloud's, MetalLB already there): none unless told.
    lb["type"] = lb["type"] or {"k3s": "servicelb", "talos": "metallb"}.get(distribution, "none")
    if lb["type"] not in ("metallb", "servicelb", "none"):
        raise PlatformError("arrkestra_load_balancer.type must be metallb, servicelb or none, not %r" % lb["type"])
    if lb["type"] == "servicelb" and distribution != "k3s":
        raise PlatformError("arrkestra_load_balancer.type servicelb is k3s's own load balancer; on %s use metallb"
                            % distribution)
    if lb["type"] != "metallb":
        return lb
    if not lb["addresses"]:
        raise PlatformError("arrkestra_load_balancer.type is metallb: give arrkestra_load_balancer.addresses, free "
                            "addresses of your LAN outside its DHCP range (like 192.168.1.240-192.168.1.250)")
    if not lb["networks"]:
        raise PlatformError("arrkestra_load_balancer.type is metallb: give arrkestra_load_balancer.networks, the "
                            "network(s) of the nodes (like 192.168.1.0/24), so the pool can be checked")
    networks = _networks(lb["networks"], "arrkestra_load_balancer.networks")
    for entry in lb["addresses"]:
        first, last = _pool_range(entry)
        if not any(first in net and last in net for net in networks):
            raise PlatformError(
                "arrkestra_load_balancer.addresses: %s is outside the nodes' networks (%s); MetalLB's layer-2 "
                "announcements only reach the nodes' own network. Pick free addresses inside it, or fix "
                "arrkestra_load_balancer.networks." % (entry, ", ".join(str(n) for n in networks)))
    lb["addresses"] = [str(a).replace(" ", "") for a in lb["addresses"]]
    lb["networks"] = [str(n) for n in networks]
    return lb


def _helm_controller_choice(given, distribution):
    """Whether the platform installs helm-controller: Talos has none, k3s has its own, and a cluster the user
    brings has one only if they say so (k3s, RKE2: ``arrkestra_helm_controller: false``)."""
    if distribution == "k3s":
        if given:
            raise PlatformError("arrkestra_helm_controller: k3s runs its own helm-controller; a second one would "
                                "install every chart twice. Leave arrkestra_helm_controller unset on k3s")
        return False
    if distribution == "talos":
        return True
    if given is None:
        return True
    if not isinstance(given, bool):
        raise PlatformError("arrkestra_helm_controller must be true or false, not %r" % (given,))
    return given


def needs_helm_crd(platform):
    """Whether the platform installs or configures a chart (through helm-controller's HelmChart objects)."""
    return bool(platform["load_balancer"]["type"] == "metallb" or platform["ingress"]["enabled"]
                or platform["storage"]["nfs_csi"] or platform["monitoring"]["enabled"]
                or platform["certificates"]["enabled"])


def existing_cluster_problems(stack, version, storage_classes, crds):
    """What keeps a cluster the user brings (``arrkestra_distribution: existing``) from running the stack, one
    message per problem naming what to fix ([] when nothing does).

    ``version``: the API server's ``gitVersion`` (v1.34.4, v1.31.6+k3s1...); ``storage_classes``: the
    StorageClass objects; ``crds``: ``{name: labels}`` of the CustomResourceDefinitions that matter here."""
    platform, problems = stack["platform"], []
    match = re.match(r"^v?(\d+)\.(\d+)", str(version or ""))
    if not match:
        problems.append("The API server gave no Kubernetes version (%r): is arrkestra_kubeconfig a Kubernetes "
                        "cluster?" % (version,))
    elif (int(match.group(1)), int(match.group(2))) < MIN_KUBERNETES:
        problems.append("The cluster runs Kubernetes %s; the stack needs %d.%d or later (the VPN's gluetun runs as "
                        "a native sidecar). Upgrade the cluster." % (version, MIN_KUBERNETES[0], MIN_KUBERNETES[1]))
    names = [(sc.get("metadata") or {}).get("name") for sc in storage_classes or ()]
    defaults = [(sc.get("metadata") or {}).get("name") for sc in storage_classes or ()
                if ((sc.get("metadata") or {}).get("annotations") or {}).get(
                    "storageclass.kubernetes.io/is-default-class") == "true"]
    wanted = stack["config_storage_class"]
    if wanted and wanted not in names:
        problems.append("arrkestra_config_storage_class is %s, and the cluster has no such StorageClass (it has: %s). "
                        "Name one of them, or leave arrkestra_config_storage_class empty to use the cluster's default."
                        % (wanted, ", ".join(sorted(n for n in names if n)) or "none"))
    if not wanted and not defaults:
        problems.append("arrkestra_config_storage_class is empty (the cluster's default StorageClass), and the cluster "
                        "has no default StorageClass. Name one (%s), or mark one as the default."
                        % (", ".join(sorted(n for n in names if n)) or "it has none: install a provisioner"))
    helm = crds.get(HELM_CRD) if crds else None
    ours = helm is not None and (helm or {}).get("app.kubernetes.io/part-of") == "arrkestra"
    if platform["helm_charts"]:
        if platform["helm_controller"] and helm is not None and not ours:
            problems.append("The cluster already runs a helm-controller (the CRD %s is there and not ours: k3s or "
                            "RKE2?). Set arrkestra_helm_controller: false so that the platform uses it." % HELM_CRD)
        if not platform["helm_controller"] and helm is None:
            problems.append("arrkestra_helm_controller is false, but the cluster has no helm-controller (no CRD %s) to "
                            "install the platform's charts. Set arrkestra_helm_controller: true, or turn off what needs "
                            "a chart (arrkestra_ingress.enabled, arrkestra_certificates.enabled, arrkestra_monitoring, "
                            "arrkestra_storage.nfs_csi, arrkestra_load_balancer.type metallb)." % HELM_CRD)
    return problems


#: The on/off options of the components.
SWITCHES = {"ingress": ("enabled", "redirect_https"), "certificates": ("enabled",), "storage": ("nfs_csi",),
            "monitoring": ("enabled",), "vpn": ("enabled",), "backups": ("enabled",), "network_policies": ("enabled",)}


def _check_fields(out):
    """Each component option's value on its own (what needs two options is checked where they meet)."""
    for name, keys in SWITCHES.items():
        for key in keys:
            out[name][key] = checks.boolean(out[name][key], "arrkestra_%s.%s" % (name, key))
    ingress = out["ingress"]
    if ingress["load_balancer_ip"] is not None:
        ingress["load_balancer_ip"] = checks.address(ingress["load_balancer_ip"], "arrkestra_ingress.load_balancer_ip")
    certs = out["certificates"]
    if certs["email"] is not None:
        checks.email(certs["email"], "arrkestra_certificates.email")
    checks.url(certs["acme_server"], "arrkestra_certificates.acme_server")
    storage = out["storage"]
    if storage["nfs_server"] is not None:
        checks.server(storage["nfs_server"], "arrkestra_storage.nfs_server")
    if storage["nfs_export"] is not None:
        checks.absolute_path(storage["nfs_export"], "arrkestra_storage.nfs_export")
    checks.subdomain(storage["nfs_storage_class"], "arrkestra_storage.nfs_storage_class")
    metrics.check_fields(out["monitoring"])
    vpn.check_fields(out["vpn"])
    backups.check_fields(out["backups"])
    sso.check_fields(out["sso"])
    out["network_policies"]["allow_cidrs"] = checks.listing(out["network_policies"]["allow_cidrs"],
                                                            "arrkestra_network_policies.allow_cidrs")
    lb = out["load_balancer"]
    lb["addresses"] = checks.listing(lb["addresses"], "arrkestra_load_balancer.addresses")
    lb["networks"] = checks.listing(lb["networks"], "arrkestra_load_balancer.networks")


def settings(variables, stack_settings):
    """The platform settings of the inventory (``variables`` without the ``arrkestra_`` prefix).

    Secret values are checked for presence only: the model keeps ``True`` in their place.
    """
    variables = dict(variables or {})
    distribution = variables.get("distribution") or DEFAULTS["distribution"]
    if distribution not in CLUSTER_CIDRS:
        raise PlatformError("arrkestra_distribution must be k3s, talos or existing, not %r" % distribution)
    out = {"distribution": distribution}
    for name in ("load_balancer", "ingress", "certificates", "storage", "monitoring", "vpn", "backups",
                 "network_policies", "sso"):
        out[name] = _merge(name, variables.get(name))
        for key in SECRET_OPTIONS.get(name, ()):
            out[name][key] = bool(out[name][key])
    _check_fields(out)
    out["cluster_cidrs"] = [str(n) for n in _networks(variables.get("cluster_cidrs") or CLUSTER_CIDRS[distribution],
                                                      "arrkestra_cluster_cidrs")]
    out["load_balancer"] = _load_balancer(out["load_balancer"], distribution)
    wanted = out["ingress"]["load_balancer_ip"]
    if wanted and out["load_balancer"]["type"] == "metallb" and not any(
            first <= ipaddress.ip_address(wanted) <= last for first, last in map(
                _pool_range, out["load_balancer"]["addresses"]) if first.version == ipaddress.ip_address(wanted).version):
        raise PlatformError("arrkestra_ingress.load_balancer_ip: %s is outside MetalLB's pool (%s); MetalLB only hands "
                            "out addresses of arrkestra_load_balancer.addresses" % (
                                wanted, ", ".join(out["load_balancer"]["addresses"])))
    out["ingress"]["namespace"] = "kube-system" if distribution == "k3s" else "traefik"
    # Traefik's pods in that namespace, whatever its release is called (docs/upstream-facts.md, Traefik).
    out["ingress"]["pod_labels"] = {"app.kubernetes.io/name": "traefik"}
    out["helm_controller"] = _helm_controller_choice(variables.get("helm_controller"), distribution)

    certs = out["certificates"]
    if certs["issuer"] not in ("selfsigned", "letsencrypt"):
        raise PlatformError("arrkestra_certificates.issuer must be selfsigned or letsencrypt, not %r" % certs["issuer"])
    if certs["enabled"] and certs["issuer"] == "letsencrypt":
        if not certs["cloudflare_api_token"]:
            raise PlatformError(
                "arrkestra_certificates.issuer is letsencrypt (DNS-01 through Cloudflare): give "
                "arrkestra_certificates.cloudflare_api_token, a Cloudflare API token with Zone:DNS:Edit on %s "
                "(keep it in Ansible Vault)" % stack_settings["domain"])
        if not certs["email"]:
            raise PlatformError("arrkestra_certificates.issuer is letsencrypt: give arrkestra_certificates.email, "
                                "the address Let's Encrypt writes to about expiring certificates")
        if stack_settings["domain"].endswith((".arpa", ".local", ".lan", ".internal", ".home")):
            raise PlatformError("arrkestra_certificates.issuer is letsencrypt, but arrkestra_domain %s is not a public "
                                "domain Let's Encrypt can validate; give a domain you own on Cloudflare"
                                % stack_settings["domain"])

    storage = out["storage"]
    if storage["nfs_csi"] and not (storage["nfs_server"] and storage["nfs_export"]):
        raise PlatformError("arrkestra_storage.nfs_csi is on: give arrkestra_storage.nfs_server (the NAS) and "
                            "arrkestra_storage.nfs_export (the export the NFS class makes volumes in)")

    monitoring = out["monitoring"]
    monitoring["grafana_hostname"] = monitoring["grafana_hostname"] or "grafana.%s" % stack_settings["domain"]

    vpn.settings(out["vpn"], variables.get("vpn"), out["cluster_cidrs"])
    sso.settings(out["sso"], stack_settings, out["ingress"]["enabled"],
                 bool(out["certificates"]["enabled"] or stack_settings["tls_secret"]))
    if out["sso"]["enabled"] and not out["network_policies"]["enabled"]:
        raise PlatformError("arrkestra_sso.enabled leaves the arr apps' login to the sign-on (their External "
                            "method), and only the NetworkPolicies keep anything but Traefik and the apps that call "
                            "them from reaching them. Turn arrkestra_network_policies.enabled on, or arrkestra_sso off")

    out["network_policies"]["allow_cidrs"] = [
        str(n) for n in _networks(out["network_policies"]["allow_cidrs"], "arrkestra_network_policies.allow_cidrs")]
    out["helm_charts"] = needs_helm_crd(out)
    return out


def check(stack, nodes=None):
    """Checks that need the apps, or the nodes (``{name: address}`` of the inventory), as well as the platform
    settings."""
    platform = stack["platform"]
    lb = platform["load_balancer"]
    if lb["type"] == "metallb":
        for name, value in sorted((nodes or {}).items()):
            try:
                address = ipaddress.ip_address(str(value))
            except ValueError:
                continue        # a name: the nodes phase resolves it, not the inventory
            taken = [entry for entry in lb["addresses"] for first, last in [_pool_range(entry)]
                     if first.version == address.version and first <= address <= last]
            if taken:
                raise PlatformError("arrkestra_load_balancer.addresses: %s holds %s, the address of the node %s; MetalLB "
                                    "would hand it to a Service and take the node off the network. Give addresses no "
                                    "machine has (outside the DHCP range)" % (taken[0], address, name))
    vpn.check(stack)


def _helm_controller(stack):
    """What k3s has built in and Talos lacks: the HelmChart CRDs and the controller that installs them."""
    def crd(kind, plural, spec_properties):
        return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": kube.platform_meta("%s.helm.cattle.io" % plural),
                "spec": {"group": "helm.cattle.io", "scope": "Namespaced",
                         "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": kind + "List"},
                         "versions": [{"name": "v1", "served": True, "storage": True,
                                       "subresources": {"status": {}},
                                       "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                           "spec": {"type": "object", "properties": spec_properties},
                                           "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}]}}
    string = {"type": "string"}
    fields = ("chart", "repo", "version", "targetNamespace", "valuesContent", "jobImage", "chartContent", "repoCA",
              "helmVersion", "timeout")
    chart_spec = dict((k, string) for k in fields)
    chart_spec.update(createNamespace={"type": "boolean"}, bootstrap={"type": "boolean"},
                      backOffLimit={"type": "integer"},
                      set={"type": "object", "additionalProperties": {"x-kubernetes-int-or-string": True}})
    labels = {"app": "helm-controller"}
    security = {"runAsNonRoot": True, "runAsUser": 65534, "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    return [
        crd("HelmChart", "helmcharts", chart_spec),
        crd("HelmChartConfig", "helmchartconfigs", {"valuesContent": string}),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": kube.platform_meta("helm-controller", "kube-system")},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": kube.platform_meta("helm-controller"),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "helm-controller", "namespace": "kube-system"}]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": kube.platform_meta("helm-controller", "kube-system"),
         "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
             "metadata": {"labels": dict(labels, **kube.labels(component="platform"))},
             "spec": {"serviceAccountName": "helm-controller", "priorityClassName": "system-cluster-critical",
                      "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists",
                                       "effect": "NoSchedule"}],
                      "containers": [{"name": "helm-controller", "image": stack["images"]["helm_controller"],
                                      "command": ["helm-controller"],
                                      "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                                      "securityContext": security,
                                      "resources": kube.resources("10m", "32Mi", "200m", "128Mi")}]}}}},
    ]


def _metallb(platform):
    lb = platform["load_balancer"]
    return [
        kube.namespace("metallb-system", "privileged"),     # the speaker uses the host network
        kube.chart("metallb", "metallb-system", {
            "controller": {"resources": kube.resources("10m", "32Mi", "200m", "128Mi")},
            "speaker": {"resources": kube.resources("10m", "32Mi", "200m", "128Mi"), "frr": {"enabled": False}}}),
        {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": kube.platform_meta("arrkestra", "metallb-system"),
         "spec": {"addresses": list(lb["addresses"]), "autoAssign": True}},
        {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": kube.platform_meta("arrkestra", "metallb-system"),
         "spec": {"ipAddressPools": ["arrkestra"]}},
    ]


def _traefik(stack):
    platform = stack["platform"]
    ingress = platform["ingress"]
    values = {"providers": {"kubernetesIngress": {"publishedService": {"enabled": True}}},
              "resources": kube.resources("50m", "64Mi", "1", "256Mi")}
    if ingress["redirect_https"] and platform["certificates"]["enabled"]:
        redirect = {"to": "websecure", "scheme": "https", "permanent": True}
        values["ports"] = {"web": {"redirections": {"entryPoint": redirect}}}
    service = {}
    if ingress["load_balancer_ip"]:
        if platform["load_balancer"]["type"] == "metallb":
            service["annotations"] = {"metallb.io/loadBalancerIPs": str(ingress["load_balancer_ip"])}
        else:
            service["spec"] = {"loadBalancerIP": str(ingress["load_balancer_ip"])}
    if service:
        values["service"] = service
    if platform["distribution"] == "k3s":    # k3s runs its own Traefik: configure it, never install a second one
        return [{"apiVersion": "helm.cattle.io/v1", "kind": "HelmChartConfig", "metadata": kube.platform_meta("traefik", "kube-system"),
                 "spec": {"valuesContent": kube.values(values)}}]
    values["ingressClass"] = {"enabled": True, "isDefaultClass": True, "name": stack["ingress_class"]}
    return [kube.namespace(ingress["namespace"], "baseline"), kube.chart("traefik", ingress["namespace"], values)]


def _cert_manager(stack):
    platform, certs = stack["platform"], stack["platform"]["certificates"]
    out = [kube.namespace("cert-manager"),
           kube.chart("cert-manager", "cert-manager", {
               "crds": {"enabled": True, "keep": True},
               "resources": kube.resources("10m", "64Mi", "200m", "256Mi"),
               "webhook": {"resources": kube.resources("10m", "32Mi", "100m", "128Mi")},
               "cainjector": {"resources": kube.resources("10m", "64Mi", "200m", "256Mi")},
               "dns01RecursiveNameservers": "1.1.1.1:53,9.9.9.9:53", "dns01RecursiveNameserversOnly":
                   certs["issuer"] == "letsencrypt"})]
    if certs["issuer"] == "selfsigned":
        issuer = "arrkestra-ca"
        out += [
            {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": kube.platform_meta("arrkestra-selfsigned"),
             "spec": {"selfSigned": {}}},
            {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": kube.platform_meta("arrkestra-ca", "cert-manager"),
             "spec": {"isCA": True, "commonName": "Arrkestra CA (%s)" % stack["domain"], "secretName": "arrkestra-ca",
                      "duration": "87600h", "privateKey": {"algorithm": "ECDSA", "size": 256},
                      "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "arrkestra-selfsigned"}}},
            {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": kube.platform_meta("arrkestra-ca"),
             "spec": {"ca": {"secretName": "arrkestra-ca"}}}]
    else:
        issuer = "arrkestra-letsencrypt"
        out.append({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": kube.platform_meta(issuer),
                    "spec": {"acme": {"server": certs["acme_server"], "email": certs["email"],
                                      "privateKeySecretRef": {"name": "arrkestra-letsencrypt-account"},
                                      "solvers": [{"dns01": {"cloudflare": {"apiTokenSecretRef": {
                                          "name": "cloudflare-api-token", "key": "api-token"}}}}]}}})
    namespaces = [stack["namespace"]] + (["monitoring"] if platform["monitoring"]["enabled"] else [])
    for namespace in namespaces:
        out.append(_certificate(stack, namespace))
    return out


def _certificate(stack, namespace):
    """The wildcard certificate of the stack's domain (``*.<domain>``), its Secret in ``namespace``."""
    issuer = "arrkestra-ca" if stack["platform"]["certificates"]["issuer"] == "selfsigned" else "arrkestra-letsencrypt"
    return {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
            "metadata": kube.platform_meta(stack["tls_secret"], namespace),
            "spec": {"secretName": stack["tls_secret"], "dnsNames": [stack["domain"], "*." + stack["domain"]],
                     "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                     "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer}}}


def another_stack(stack):
    """Whether the model is of a stack of ``arrkestra_stacks``, not the main one: its platform is its namespace's
    objects alone; the cluster's (charts, issuers, load balancer, monitoring) are the main stack's, never rewritten
    by another stack's run."""
    return stack.get("stack", "main") != "main"


def stack_objects(stack):
    """The platform's objects in another stack's namespace: the Namespace, its wildcard certificate and the sign-on's
    Middleware (the VPN's credentials are among :func:`secret_objects`)."""
    out = [workloads.namespace_object(stack)]
    out += [sso.middleware(stack, stack["namespace"])] if sso.enabled(stack) else []
    if stack["platform"]["certificates"]["enabled"]:
        out.append(_certificate(stack, stack["namespace"]))
    return out


def _nfs_csi(platform):
    storage = platform["storage"]
    return [
        kube.chart("csi-driver-nfs", "kube-system", {"controller": {"replicas": 1}}),
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": kube.platform_meta(storage["nfs_storage_class"]),
         "provisioner": "nfs.csi.k8s.io", "parameters": {"server": storage["nfs_server"], "share": storage["nfs_export"]},
         "reclaimPolicy": "Retain", "volumeBindingMode": "Immediate", "mountOptions": ["nfsvers=4.1", "hard"]},
    ]


def objects(stack):
    """The cluster-wide objects of the platform, in the order to apply them (see :func:`chart_objects`)."""
    if another_stack(stack):
        return stack_objects(stack)
    platform = stack["platform"]
    out = []
    if platform["helm_controller"]:
        out += _helm_controller(stack)
    out.append(workloads.namespace_object(stack))
    if platform["load_balancer"]["type"] == "metallb":
        out += _metallb(platform)
    if platform["ingress"]["enabled"]:
        out += _traefik(stack)
    if platform["storage"]["nfs_csi"]:
        out += _nfs_csi(platform)
    out += metrics.platform_objects(stack)
    out += gpu.platform_objects(stack)      # the GPU device plugins, when an app asks for a GPU
    out += sso.platform_objects(stack)      # the sign-on's Middleware in each namespace with an Ingress behind it
    if platform["certificates"]["enabled"]:
        out += _cert_manager(stack)
    return out


def chart_kind(obj):
    """The CRD an object's kind comes from, when a chart installs it (else None)."""
    return CHART_KINDS.get((obj["apiVersion"], obj["kind"]))


def waits(stack):
    """``[(namespace, deployment)]`` of the charts' webhooks to wait for before their objects are applied."""
    platform = stack["platform"]
    out = []
    if platform["load_balancer"]["type"] == "metallb" and not another_stack(stack):
        out.append(WEBHOOKS["metallb"])
    if platform["certificates"]["enabled"]:
        out.append(WEBHOOKS["cert-manager"])
    return out


def secret_names(stack):
    """``[(namespace, name)]`` of the platform's Secrets, to read back before :func:`secret_objects`."""
    platform = stack["platform"]
    out = []
    if platform["certificates"]["enabled"] and platform["certificates"]["issuer"] == "letsencrypt" \
            and not another_stack(stack):
        out.append(("cert-manager", "cloudflare-api-token"))
    if platform["monitoring"]["enabled"] and not another_stack(stack):
        out.append(("monitoring", "grafana-admin"))
    if platform["vpn"]["enabled"]:
        out.append((stack["namespace"], "vpn-credentials"))
    return out


def secret_objects(stack, variables, existing, random_bytes):
    """The platform's Secrets, from the inventory's secret variables (``variables``: without the ``arrkestra_``
    prefix). A password the inventory does not give is made once: ``existing`` (``{name: {key: value}}``, read
    back from the cluster) keeps it."""
    variables, existing = dict(variables or {}), dict(existing or {})

    def secret(name, namespace, data):
        return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": kube.platform_meta(name, namespace),
                "stringData": dict((k, str(v)) for k, v in sorted(data.items()))}
    out = []
    for namespace, name in secret_names(stack):
        if name == "cloudflare-api-token":
            out.append(secret(name, namespace, {"api-token": variables["certificates"]["cloudflare_api_token"]}))
        elif name == "grafana-admin":
            given = (variables.get("monitoring") or {}).get("grafana_admin_password")
            password = given or (existing.get(name) or {}).get("admin-password") or \
                base64.urlsafe_b64encode(random_bytes(18)).decode().rstrip("=")
            out.append(secret(name, namespace, {"admin-user": "admin", "admin-password": password}))
        else:
            out.append(secret(name, namespace, vpn.secret_data(stack, variables["vpn"])))
    return out
