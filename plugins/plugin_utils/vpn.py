# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPN feature (``arrkestra_vpn``): the download clients reach the internet only through a gluetun tunnel.

Everything of the feature is here: its settings, the gluetun sidecar of each app behind it, the NetworkPolicy
egress that is the second half of its killswitch, the pod security level its namespace needs, and its Secret.
"""

from __future__ import annotations

import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import checks, kube

#: The credentials gluetun needs per VPN type.
REQUIRED = {"wireguard": ("WIREGUARD_PRIVATE_KEY",), "openvpn": ("OPENVPN_USER", "OPENVPN_PASSWORD")}
#: gluetun v3.40.0's default server port per provider: (OpenVPN TCP, OpenVPN UDP, WireGuard), None where the provider
#: does not offer it (internal/provider/<provider>/connection.go; docs/upstream-facts.md). The killswitch policy opens
#: exactly this port, so it must be the one gluetun dials.
DEFAULT_PORTS = {
    "airvpn": (443, 1194, 1637), "cyberghost": (443, 443, None), "expressvpn": (None, 1195, None),
    "fastestvpn": (4443, 4443, 51820), "giganews": (None, 443, None), "hidemyass": (8080, 553, None),
    "ipvanish": (None, 443, None), "ivpn": (443, 1194, 58237), "mullvad": (443, 1194, 51820),
    "nordvpn": (443, 1194, 51820), "perfect privacy": (443, 443, None), "privado": (None, 1194, None),
    "private internet access": (502, 1198, None), "privatevpn": (443, 1194, None), "protonvpn": (443, 1194, 51820),
    "purevpn": (80, 53, None), "slickvpn": (443, 443, None), "surfshark": (1443, 1194, 51820),
    "torguard": (1912, 1912, None), "vpnsecure": (110, 1282, None), "vpn unlimited": (1197, 1197, None),
    "vyprvpn": (None, 443, None), "wevpn": (1195, 1194, None), "windscribe": (443, 1194, 1194),
}
#: gluetun v3.40.0's other names of a provider (internal/configuration/settings/provider.go:123-124).
PROVIDER_ALIASES = {"pia": "private internet access"}
#: WireGuard providers whose server port gluetun refuses to change (wireguardselection.go:52-90).
FIXED_WIREGUARD_PORT = ("fastestvpn", "nordvpn", "protonvpn", "surfshark")
#: The env variable that makes gluetun dial a given port.
PORT_ENV = {"wireguard": "WIREGUARD_ENDPOINT_PORT", "openvpn": "OPENVPN_ENDPOINT_PORT"}
#: The Secret of gluetun's credentials, in the stack's namespace.
SECRET = "vpn-credentials"


def check_fields(vpn):
    """Each option of ``arrkestra_vpn`` on its own."""
    vpn["apps"] = [checks.text(a, "arrkestra_vpn.apps") for a in checks.listing(vpn["apps"], "arrkestra_vpn.apps")]
    if vpn["provider"] is not None:
        provider = str(vpn["provider"]).strip().lower()
        provider = PROVIDER_ALIASES.get(provider, provider)
        if provider not in DEFAULT_PORTS and provider != "custom":
            raise checks.InputError("arrkestra_vpn.provider: %r is not a provider gluetun knows%s; give one of %s"
                                    % (vpn["provider"], checks.closest(provider, list(DEFAULT_PORTS) + ["custom"]),
                                       ", ".join(sorted(list(DEFAULT_PORTS) + ["custom"]))))
        vpn["provider"] = provider
    if vpn["port"] is not None:
        vpn["port"] = checks.port(vpn["port"], "arrkestra_vpn.port")
    for key, value in checks.mapping(vpn["settings"], "arrkestra_vpn.settings").items():
        if not re.match(r"^[A-Z][A-Z0-9_]*$", str(key)) or isinstance(value, (dict, list)):
            raise checks.InputError("arrkestra_vpn.settings: %r: %r is not a gluetun setting; give its environment "
                                    "variable and a plain value (like SERVER_COUNTRIES: Sweden)" % (key, value))


def settings(vpn, given, cluster_cidrs):
    """``arrkestra_vpn`` once its fields are checked: the port gluetun dials, the endpoints the killswitch opens,
    the names of the credentials (``given``: the inventory's mapping, whose values never enter the model)."""
    if not vpn["enabled"]:
        vpn["credential_keys"] = []
        return vpn
    if not cluster_cidrs:
        raise checks.InputError(
            "arrkestra_vpn is on and arrkestra_distribution is existing: give arrkestra_cluster_cidrs, the pod and "
            "service networks of your cluster (like [10.244.0.0/16, 10.96.0.0/12]); the VPN's killswitch lets the "
            "download clients reach only them besides the tunnel")
    if vpn["type"] not in REQUIRED:
        raise checks.InputError("arrkestra_vpn.type must be wireguard or openvpn, not %r" % vpn["type"])
    if not vpn["provider"]:
        raise checks.InputError("arrkestra_vpn is on: give arrkestra_vpn.provider, gluetun's VPN_SERVICE_PROVIDER "
                                "(like mullvad, protonvpn, airvpn or custom)")
    credentials = checks.mapping((given or {}).get("credentials"), "arrkestra_vpn.credentials")
    missing = [k for k in REQUIRED[vpn["type"]] if not credentials.get(k)]
    if missing:
        raise checks.InputError("arrkestra_vpn.type is %s: give %s in arrkestra_vpn.credentials (keep them in Ansible "
                                "Vault)" % (vpn["type"], " and ".join(missing)))
    vpn["credential_keys"] = sorted(credentials)
    if str(vpn["protocol"]).upper() not in ("UDP", "TCP"):
        raise checks.InputError("arrkestra_vpn.protocol must be UDP or TCP")
    vpn["protocol"] = "UDP" if vpn["type"] == "wireguard" else str(vpn["protocol"]).upper()
    provider = str(vpn["provider"]).lower()
    defaults = DEFAULT_PORTS.get(provider)
    default = None
    if defaults:
        default = defaults[2] if vpn["type"] == "wireguard" else defaults[0 if vpn["protocol"] == "TCP" else 1]
        if default is None:
            raise checks.InputError("arrkestra_vpn: gluetun has no %s%s for provider %s" % (
                vpn["type"], "" if vpn["type"] == "wireguard" else " over " + vpn["protocol"], vpn["provider"]))
    if vpn["port"]:
        if vpn["type"] == "wireguard" and provider in FIXED_WIREGUARD_PORT and vpn["port"] != default:
            raise checks.InputError("arrkestra_vpn.port: gluetun keeps %s's WireGuard port at %d; leave it out"
                                    % (vpn["provider"], default))
        if vpn["port"] != default:
            # gluetun dials the same port the killswitch opens.
            vpn["settings"] = dict(vpn["settings"] or {}, **{PORT_ENV[vpn["type"]]: str(vpn["port"])})
    elif default:
        vpn["port"] = default
    else:
        raise checks.InputError("arrkestra_vpn.provider %s has no default port known to the collection: give "
                                "arrkestra_vpn.port, the port of the VPN servers" % vpn["provider"])
    if not vpn["endpoints"]:
        # The NetworkPolicy half of the killswitch lets the pod reach only these addresses outside the tunnel.
        raise checks.InputError("arrkestra_vpn is on: give arrkestra_vpn.endpoints, the addresses (CIDRs) of the VPN "
                                "servers gluetun may connect to - pin them with gluetun's SERVER_* settings in "
                                "arrkestra_vpn.settings; [0.0.0.0/0] lets the pod reach any address on the VPN port")
    vpn["endpoints"] = [str(checks.network(value, "arrkestra_vpn.endpoints"))
                        for value in checks.listing(vpn["endpoints"], "arrkestra_vpn.endpoints")]
    vpn["settings"] = dict((str(k), str(v)) for k, v in sorted((vpn["settings"] or {}).items()))
    return vpn


def check(stack):
    """The apps behind the VPN are apps the stack deploys."""
    vpn = stack["platform"]["vpn"]
    if not vpn["enabled"]:
        return
    deployed = [a["name"] for a in stack["apps"] if not a["external"]]
    kinds = set(a["kind"] for a in stack["apps"] if not a["external"])
    wrong = [n for n in vpn["apps"] if n not in deployed and n not in kinds]
    if wrong:
        raise checks.InputError("arrkestra_vpn.apps: %s is not an app the stack deploys (its apps: %s)"
                                % (", ".join(wrong), ", ".join(deployed)))


def apps(stack):
    """Names of the instances that run behind the VPN."""
    vpn = stack["platform"]["vpn"]
    if not vpn["enabled"]:
        return []
    return [a["name"] for a in stack["apps"] if not a["external"] and (a["name"] in vpn["apps"] or a["kind"] in vpn["apps"])]


def _container(stack, app):
    """gluetun: the VPN tunnel of the pod, and the first layer of its killswitch (its firewall drops what
    does not go through the tunnel, except the app's own port and the cluster's networks)."""
    vpn = stack["platform"]["vpn"]
    env = [{"name": "TZ", "value": stack["timezone"]},
           {"name": "FIREWALL_INPUT_PORTS", "value": str(app["port"])},
           {"name": "FIREWALL_OUTBOUND_SUBNETS", "value": ",".join(stack["platform"]["cluster_cidrs"])},
           {"name": "HEALTH_SERVER_ADDRESS", "value": "127.0.0.1:9999"}]
    env += [{"name": k, "value": v} for k, v in sorted(vpn["settings"].items())]
    return {"name": "gluetun", "image": stack["images"]["gluetun"], "imagePullPolicy": "IfNotPresent",
            "restartPolicy": "Always", "env": env, "envFrom": [{"secretRef": {"name": SECRET}}],
            # gluetun sets up the tunnel and its firewall: root with NET_ADMIN, nothing more.
            "securityContext": {"runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": False, "allowPrivilegeEscalation": False,
                                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "resources": kube.resources("20m", "64Mi", "500m", "256Mi"),
            # The app starts once the tunnel works: gluetun's own health check (its health server listens on
            # loopback only, so the kubelet runs the image's healthcheck command rather than an httpGet).
            "startupProbe": {"exec": {"command": ["/gluetun-entrypoint", "healthcheck"]}, "periodSeconds": 5,
                             "timeoutSeconds": 11, "failureThreshold": 60},
            "volumeMounts": [{"name": "tun", "mountPath": "/dev/net/tun"}]}


def pod(stack, app, spec):
    """Puts gluetun in the pod of an app behind the VPN: a native sidecar (an init container that keeps running),
    so that the tunnel is up before the app starts."""
    if app["name"] not in apps(stack):
        return
    spec.setdefault("initContainers", []).append(_container(stack, app))
    spec["volumes"].append({"name": "tun", "hostPath": {"path": "/dev/net/tun", "type": "CharDevice"}})


def policy_egress(stack, app):
    """The second layer of the killswitch, as the app's NetworkPolicy egress: outside the tunnel, the pod reaches
    only the VPN servers and the cluster DNS, whatever happens inside it. None for an app not behind the VPN."""
    if app["name"] not in apps(stack):
        return None
    platform = stack["platform"]
    vpn = platform["vpn"]
    endpoints = []
    for cidr in vpn["endpoints"]:
        block = {"cidr": cidr}
        inside = [c for c in platform["cluster_cidrs"] if kube.contains(cidr, c)]
        if inside:
            block["except"] = inside
        endpoints.append({"ipBlock": block})
    return [
        {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                 "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
         "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
        {"to": endpoints, "ports": [{"port": vpn["port"], "protocol": vpn["protocol"]}]},
    ]


def namespace_labels(stack):
    """The pod security labels the stack's namespace needs: gluetun needs NET_ADMIN and the tun device, which only
    the privileged level allows; the apps themselves still meet the restricted level, which the API server warns
    about and audits."""
    if not apps(stack):
        return {}
    return {"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted"}


def secret_data(stack, given):
    """gluetun's Secret: the inventory's credentials (``given``: ``arrkestra_vpn``), its provider and type."""
    data = dict(given["credentials"])
    data.update(VPN_SERVICE_PROVIDER=stack["platform"]["vpn"]["provider"], VPN_TYPE=stack["platform"]["vpn"]["type"])
    return data
