# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPN feature (``arrkestra_vpn``): the download clients reach the internet only through a gluetun tunnel.

Everything of the feature is here: its settings, the gluetun sidecar of each app behind it, the NetworkPolicy
egress that is the second half of its killswitch, the pod security level its namespace needs, and its Secret.

Port forwarding (``arrkestra_vpn.port_forwarding``, docs/research/port-forwarding.md): gluetun asks the provider
for a port and writes it to its status file, on a volume the pod shares with a forwardarr sidecar, which keeps
qBittorrent's listening port equal to it through qBittorrent's WebUI API (signed in with the app's login).
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

#: The codes gluetun v3.40.0 forwards a port with (internal/configuration/settings/portforward.go:55-68): the
#: provider's own, or VPN_PORT_FORWARDING_PROVIDER's (lowercased, no aliases).
FORWARDING_PROVIDERS = ("perfect privacy", "private internet access", "privatevpn", "protonvpn")
#: gluetun's port forwarding status file and its folder (portforward.go:117; the ports in decimal, one a line,
#: service/fs.go:9-29): a volume of the pod, shared read-only with the sidecar that follows it.
STATUS_DIR = "/tmp/gluetun"
STATUS_FILE = STATUS_DIR + "/forwarded_port"
STATUS_VOLUME = "gluetun-status"
#: gluetun's control server, on loopback only: its default ``:8000`` serves the public role (PUT /v1/vpn/status
#: among its routes) to every address that reaches the pod (settings/server.go:67-71, auth/settings.go:18-39,
#: firewall/enable.go:130-136). Nothing of the collection calls it; ``arrkestra_vpn.settings`` may set another.
CONTROL_SERVER_ADDRESS = "127.0.0.1:8000"
#: The ports gluetun listens on in the pod (control server, health server): the sidecar's must differ.
GLUETUN_PORTS = (8000, 9999)
#: forwardarr v2.1.2 (eslutz/Gluetarr): its HTTP server (/health, /ready, /status, /metrics) on METRICS_PORT, all
#: interfaces (internal/server/server.go:28-43, config.go:38); up only once it signed in to qBittorrent, which it
#: tries for STARTUP_TIMEOUT seconds before it exits (cmd/forwardarr/main.go:38-74, 131-184).
FORWARDARR_PORT = 9090
FORWARDARR_STARTUP_TIMEOUT = 120
#: How often forwardarr compares the file with qBittorrent besides watching the file (watcher.go:51-95; seconds,
#: config.go:69-76): a qBittorrent that restarted gets the port back within a minute.
SYNC_INTERVAL = 60
#: gluetun's settings the collection sets itself for port forwarding: the switch (and its older names,
#: portforward.go:169-173), the status file the sidecar reads (portforward.go:180-185), and the redirection the
#: gluetun wiki advises against for torrent clients (vpn-port-forwarding.md:53-57).
SWITCH_SETTINGS = ("VPN_PORT_FORWARDING", "PORT_FORWARDING", "PRIVATE_INTERNET_ACCESS_VPN_PORT_FORWARDING")
FORWARDING_SETTINGS = ("VPN_PORT_FORWARDING_STATUS_FILE", "PORT_FORWARDING_STATUS_FILE",
                       "PRIVATE_INTERNET_ACCESS_VPN_PORT_FORWARDING_STATUS_FILE", "VPN_PORT_FORWARDING_LISTENING_PORT")
#: Where gluetun reads PIA's port forwarding login, in this order (portforward.go:198-212).
PIA_USERNAME = ("VPN_PORT_FORWARDING_USERNAME", "OPENVPN_USER", "USER")
PIA_PASSWORD = ("VPN_PORT_FORWARDING_PASSWORD", "OPENVPN_PASSWORD", "PASSWORD")


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
        if key in SWITCH_SETTINGS:
            raise checks.InputError("arrkestra_vpn.settings: %s turns gluetun's port forwarding on without the sidecar "
                                    "that keeps qBittorrent's port; leave it out and set arrkestra_vpn.port_forwarding: "
                                    "true" % key)
    vpn["port_forwarding"] = checks.boolean(vpn["port_forwarding"], "arrkestra_vpn.port_forwarding")


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
    if vpn["port_forwarding"]:
        _check_forwarding(vpn, credentials)
    return vpn


def _check_forwarding(vpn, credentials):
    """What gluetun v3.40.0 and the sidecar need for a forwarded port (docs/research/port-forwarding.md, 1.1-1.2)."""
    settings = vpn["settings"]
    given = [k for k in FORWARDING_SETTINGS if k in settings]
    if given:
        raise checks.InputError("arrkestra_vpn.settings: %s: with arrkestra_vpn.port_forwarding the collection keeps "
                                "gluetun's status file at %s, where the sidecar reads the port, and no redirection "
                                "(qBittorrent listens on the forwarded port itself); leave it out" % (given[0], STATUS_FILE))
    code = settings.get("VPN_PORT_FORWARDING_PROVIDER", "").strip().lower()
    where = "arrkestra_vpn.settings.VPN_PORT_FORWARDING_PROVIDER" if code else "arrkestra_vpn.provider"
    code = code or vpn["provider"]
    usable = [p for p in FORWARDING_PROVIDERS if p != "perfect privacy"]
    if code == "custom":
        raise checks.InputError("arrkestra_vpn.port_forwarding with arrkestra_vpn.provider custom: give "
                                "VPN_PORT_FORWARDING_PROVIDER in arrkestra_vpn.settings, the provider whose port "
                                "forwarding gluetun uses (%s)" % ", ".join(usable))
    if code == "perfect privacy":
        raise checks.InputError("arrkestra_vpn.port_forwarding: gluetun gives Perfect Privacy three forwarded ports "
                                "at once, and the sidecar that keeps qBittorrent's port (forwardarr) follows one only; "
                                "turn arrkestra_vpn.port_forwarding off (%s is perfect privacy)" % where)
    if code not in FORWARDING_PROVIDERS:
        raise checks.InputError("arrkestra_vpn.port_forwarding: %s is %r, and gluetun forwards a port only for %s; turn "
                                "arrkestra_vpn.port_forwarding off or change %s" % (where, code, ", ".join(usable), where))
    if code == "privatevpn" and vpn["type"] != "openvpn":
        raise checks.InputError("arrkestra_vpn.port_forwarding: PrivateVPN forwards a port over OpenVPN only (gluetun "
                                "wiki, privatevpn.md); set arrkestra_vpn.type: openvpn")
    if code == "protonvpn" and vpn["type"] == "openvpn" and not str(credentials.get("OPENVPN_USER", "")).endswith("+pmp"):
        raise checks.InputError("arrkestra_vpn.credentials.OPENVPN_USER: ProtonVPN forwards a port over OpenVPN only to "
                                "a username ending in +pmp (gluetun wiki, protonvpn.md); add +pmp to it")
    if code == "private internet access":
        found = dict(settings, **credentials)
        missing = [keys[0] for keys in (PIA_USERNAME, PIA_PASSWORD) if not any(found.get(k) for k in keys)]
        if missing:
            raise checks.InputError("arrkestra_vpn.port_forwarding with Private Internet Access: give %s in "
                                    "arrkestra_vpn.credentials (or OPENVPN_USER and OPENVPN_PASSWORD), the PIA login "
                                    "gluetun asks for the port with" % " and ".join(missing))


def check(stack):
    """The apps behind the VPN are apps the stack deploys."""
    vpn = stack["platform"]["vpn"]
    if not vpn["enabled"]:
        if vpn["port_forwarding"]:
            raise checks.InputError("arrkestra_vpn.port_forwarding is on and the VPN is off: a port is forwarded only "
                                    "through gluetun's tunnel; set arrkestra_vpn.enabled: true or leave "
                                    "port_forwarding out")
        return
    deployed = [a["name"] for a in stack["apps"] if not a["external"]]
    kinds = set(a["kind"] for a in stack["apps"] if not a["external"])
    wrong = [n for n in vpn["apps"] if n not in deployed and n not in kinds]
    if wrong:
        raise checks.InputError("arrkestra_vpn.apps: %s is not an app the stack deploys (its apps: %s)"
                                % (", ".join(wrong), ", ".join(deployed)))
    if not vpn["port_forwarding"]:
        return
    clients = [a for a in stack["apps"] if forwarding(stack, a)]
    if not clients:
        raise checks.InputError("arrkestra_vpn.port_forwarding keeps qBittorrent's listening port equal to the port "
                                "the VPN forwards: put a qBittorrent in arrkestra_vpn.apps (now: %s)"
                                % ", ".join(vpn["apps"]))
    for app in clients:
        if app["port"] == FORWARDARR_PORT or app["port"] in GLUETUN_PORTS:
            raise checks.InputError("arrkestra_apps.%s.port: %d is taken in the pod by gluetun (%s) or the port "
                                    "forwarding sidecar (%d); give another" % (
                                        app["name"], app["port"], ", ".join(map(str, GLUETUN_PORTS)), FORWARDARR_PORT))


def apps(stack):
    """Names of the instances that run behind the VPN."""
    vpn = stack["platform"]["vpn"]
    if not vpn["enabled"]:
        return []
    return [a["name"] for a in stack["apps"] if not a["external"] and (a["name"] in vpn["apps"] or a["kind"] in vpn["apps"])]


def forwarding(stack, app):
    """Whether the app's gluetun forwards a port, and a sidecar keeps the app's listening port equal to it: a
    qBittorrent behind the VPN with ``arrkestra_vpn.port_forwarding`` on."""
    return (stack["platform"]["vpn"]["enabled"] and bool(stack["platform"]["vpn"].get("port_forwarding"))
            and app["kind"] == "qbittorrent" and app["name"] in apps(stack))


def _container(stack, app):
    """gluetun: the VPN tunnel of the pod, and the first layer of its killswitch (its firewall drops what
    does not go through the tunnel, except the app's own port and the cluster's networks)."""
    vpn = stack["platform"]["vpn"]
    env = [{"name": "TZ", "value": stack["timezone"]},
           {"name": "FIREWALL_INPUT_PORTS", "value": str(app["port"])},
           {"name": "FIREWALL_OUTBOUND_SUBNETS", "value": ",".join(stack["platform"]["cluster_cidrs"])},
           {"name": "HEALTH_SERVER_ADDRESS", "value": "127.0.0.1:9999"}]
    if "HTTP_CONTROL_SERVER_ADDRESS" not in vpn["settings"]:
        env.append({"name": "HTTP_CONTROL_SERVER_ADDRESS", "value": CONTROL_SERVER_ADDRESS})
    mounts = [{"name": "tun", "mountPath": "/dev/net/tun"}]
    if forwarding(stack, app):
        # gluetun opens the forwarded port on the tunnel's interface only (portforward/service/start.go:52-57,
        # firewall/iptables.go:200-210): the killswitch is unchanged.
        env += [{"name": "VPN_PORT_FORWARDING", "value": "on"},
                {"name": "VPN_PORT_FORWARDING_STATUS_FILE", "value": STATUS_FILE}]
        mounts.append({"name": STATUS_VOLUME, "mountPath": STATUS_DIR})
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
            "volumeMounts": mounts}


def forwardarr_container(stack, app):
    """forwardarr v2.1.2 (eslutz/Gluetarr): reads gluetun's status file, signs in to qBittorrent on loopback with
    the app's login and sets ``listen_port`` when it differs (docs/research/port-forwarding.md section 3).

    An ordinary container of the pod, not a native sidecar: qBittorrent must start without waiting for it, and it
    has no readiness probe, so that the app's Service never depends on it. Its HTTP server is up only once it has
    signed in, which it tries for STARTUP_TIMEOUT seconds before it exits: the liveness probe waits longer."""
    check = {"httpGet": {"path": "/health", "port": "forwardarr"}}
    security = dict(kube.security(stack), readOnlyRootFilesystem=True)
    return {"name": "forwardarr", "image": stack["images"]["forwardarr"], "imagePullPolicy": "IfNotPresent",
            # Names and meanings: internal/config/config.go:28-43 (durations in seconds, config.go:69-76).
            "env": [{"name": "GLUETUN_PORT_FILE", "value": STATUS_FILE},
                    {"name": "TORRENT_CLIENT_URL", "value": "http://127.0.0.1:%d" % app["port"]},
                    kube.secret_env(app, "username", "TORRENT_CLIENT_USER"),
                    kube.secret_env(app, "password", "TORRENT_CLIENT_PASSWORD"),
                    {"name": "SYNC_INTERVAL", "value": str(SYNC_INTERVAL)},
                    {"name": "STARTUP_TIMEOUT", "value": str(FORWARDARR_STARTUP_TIMEOUT)},
                    {"name": "METRICS_PORT", "value": str(FORWARDARR_PORT)}],
            "ports": [{"name": "forwardarr", "containerPort": FORWARDARR_PORT, "protocol": "TCP"}],
            "securityContext": security,
            "resources": kube.resources("5m", "16Mi", "100m", "64Mi"),
            "livenessProbe": dict(check, initialDelaySeconds=FORWARDARR_STARTUP_TIMEOUT + 30, periodSeconds=30,
                                  timeoutSeconds=5, failureThreshold=3),
            "volumeMounts": [{"name": STATUS_VOLUME, "mountPath": STATUS_DIR, "readOnly": True}]}


def pod(stack, app, spec):
    """Puts gluetun in the pod of an app behind the VPN: a native sidecar (an init container that keeps running),
    so that the tunnel is up before the app starts; with port forwarding, forwardarr beside the app and the
    volume of gluetun's status file they share."""
    if app["name"] not in apps(stack):
        return
    spec.setdefault("initContainers", []).append(_container(stack, app))
    spec["volumes"].append({"name": "tun", "hostPath": {"path": "/dev/net/tun", "type": "CharDevice"}})
    if forwarding(stack, app):
        spec["containers"].append(forwardarr_container(stack, app))
        spec["volumes"].append({"name": STATUS_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}})


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
