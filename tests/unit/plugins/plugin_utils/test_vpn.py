# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VPN: gluetun beside the download clients, and the killswitch on the port gluetun dials."""

from __future__ import annotations

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model as stack_model, workloads


VPN = {"enabled": True, "provider": "mullvad", "credentials": {"WIREGUARD_PRIVATE_KEY": "wg-private-key"},
       "settings": {"SERVER_HOSTNAMES": "nl-ams-wg-001"}, "endpoints": ["193.32.249.66/32"]}


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


# -- port forwarding (arrkestra_vpn.port_forwarding; docs/research/port-forwarding.md) ---------------------------------
FORWARDING = dict(VPN, provider="protonvpn", port_forwarding=True, settings={})


def _pod(stack, name="qbittorrent"):
    return [o for o in workloads.objects(stack) if o["kind"] == "Deployment"
            and o["metadata"]["name"] == name][0]["spec"]["template"]["spec"]


def test_the_control_server_listens_on_loopback_with_or_without_forwarding():
    for given in (VPN, FORWARDING):
        gluetun = _pod(stack_model.build({"vpn": given}))["initContainers"][-1]
        assert {"name": "HTTP_CONTROL_SERVER_ADDRESS", "value": "127.0.0.1:8000"} in gluetun["env"]
    # The inventory's own address wins, once.
    own = stack_model.build({"vpn": dict(VPN, settings={"HTTP_CONTROL_SERVER_ADDRESS": ":8000"})})
    env = [e for e in _pod(own)["initContainers"][-1]["env"] if e["name"] == "HTTP_CONTROL_SERVER_ADDRESS"]
    assert env == [{"name": "HTTP_CONTROL_SERVER_ADDRESS", "value": ":8000"}]


def test_forwarding_pod_gluetun_status_file_and_forwardarr():
    stack = stack_model.build({"apps": {"qbittorrent": {}, "radarr": {}}, "vpn": dict(FORWARDING, apps=["qbittorrent"])})
    spec = _pod(stack)
    gluetun = spec["initContainers"][-1]
    env = dict((e["name"], e.get("value")) for e in gluetun["env"])
    assert env["VPN_PORT_FORWARDING"] == "on" and env["VPN_PORT_FORWARDING_STATUS_FILE"] == "/tmp/gluetun/forwarded_port"
    assert "VPN_PORT_FORWARDING_LISTENING_PORT" not in env and "VPN_PORT_FORWARDING_UP_COMMAND" not in env
    assert env["FIREWALL_INPUT_PORTS"] == "8080"          # the killswitch: nothing more opened
    assert {"name": "gluetun-status", "mountPath": "/tmp/gluetun"} in gluetun["volumeMounts"]
    qbit, sidecar = spec["containers"]
    assert qbit["name"] == "qbittorrent" and sidecar["name"] == "forwardarr"
    assert sidecar["image"] == "ghcr.io/eslutz/forwardarr:v2.1.2"
    assert sidecar["volumeMounts"] == [{"name": "gluetun-status", "mountPath": "/tmp/gluetun", "readOnly": True}]
    senv = dict((e["name"], e) for e in sidecar["env"])
    assert senv["GLUETUN_PORT_FILE"]["value"] == env["VPN_PORT_FORWARDING_STATUS_FILE"]
    assert senv["TORRENT_CLIENT_URL"]["value"] == "http://127.0.0.1:8080"
    assert senv["TORRENT_CLIENT_USER"]["valueFrom"]["secretKeyRef"] == {"name": "qbittorrent-credentials", "key": "username"}
    password = {"name": "qbittorrent-credentials", "key": "password"}
    assert senv["TORRENT_CLIENT_PASSWORD"]["valueFrom"]["secretKeyRef"] == password
    assert senv["SYNC_INTERVAL"]["value"] == "60" and senv["METRICS_PORT"]["value"] == "9090"
    security = sidecar["securityContext"]
    assert security["runAsUser"] == 1000 and security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]} and security["allowPrivilegeEscalation"] is False
    assert sidecar["livenessProbe"]["httpGet"] == {"path": "/health", "port": "forwardarr"}
    assert sidecar["livenessProbe"]["initialDelaySeconds"] > int(senv["STARTUP_TIMEOUT"]["value"])
    assert "readinessProbe" not in sidecar       # the app's Service never waits for the sidecar
    # no port of the pod taken twice
    ports = [p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])] + [8000, 9999]
    assert len(ports) == len(set(ports))
    assert {"name": "gluetun-status", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}} in spec["volumes"]
    # the killswitch policy is the same as without forwarding
    objects = workloads.objects(stack)
    plain = workloads.objects(stack_model.build({"apps": {"qbittorrent": {}, "radarr": {}},
                                                 "vpn": dict(FORWARDING, port_forwarding=False)}))
    policy = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "qbittorrent"]
    assert policy == [o for o in plain if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "qbittorrent"]
    # radarr is not behind the VPN: nothing of it
    assert "initContainers" not in _pod(stack, "radarr") or all(
        c["name"] != "gluetun" for c in _pod(stack, "radarr")["initContainers"])


def test_forwarding_only_in_qbittorrent_pods():
    stack = stack_model.build({"apps": {"qbittorrent": {}, "sabnzbd": {}},
                               "vpn": dict(FORWARDING, apps=["qbittorrent", "sabnzbd"])})
    sab = _pod(stack, "sabnzbd")
    assert [c["name"] for c in sab["containers"]] == ["sabnzbd"]
    assert "VPN_PORT_FORWARDING" not in [e["name"] for e in sab["initContainers"][-1]["env"]]


@pytest.mark.parametrize("vpn, extra", [
    ({"provider": "protonvpn"}, {}),
    ({"provider": "protonvpn", "type": "openvpn", "credentials": {"OPENVPN_USER": "me+pmp", "OPENVPN_PASSWORD": "p"}}, {}),
    ({"provider": "pia", "type": "openvpn", "credentials": {"OPENVPN_USER": "p1234", "OPENVPN_PASSWORD": "p"}}, {}),
    ({"provider": "privatevpn", "type": "openvpn", "credentials": {"OPENVPN_USER": "u", "OPENVPN_PASSWORD": "p"}}, {}),
    ({"provider": "custom", "port": 51820, "settings": {"VPN_PORT_FORWARDING_PROVIDER": "protonvpn"}},
     {"VPN_PORT_FORWARDING_PROVIDER": "protonvpn"}),
])
def test_forwarding_providers(vpn, extra):
    stack = stack_model.build({"vpn": dict(FORWARDING, **vpn)})
    env = dict((e["name"], e.get("value")) for e in _pod(stack)["initContainers"][-1]["env"])
    assert env["VPN_PORT_FORWARDING"] == "on"
    for key, value in extra.items():
        assert env[key] == value


@pytest.mark.parametrize("vpn, message", [
    ({"provider": "mullvad"}, "arrkestra_vpn.provider is 'mullvad', and gluetun forwards a port only for"),
    ({"provider": "custom", "port": 51820}, "give VPN_PORT_FORWARDING_PROVIDER in arrkestra_vpn.settings"),
    ({"provider": "custom", "port": 51820, "settings": {"VPN_PORT_FORWARDING_PROVIDER": "pia"}},
     "arrkestra_vpn.settings.VPN_PORT_FORWARDING_PROVIDER is 'pia'"),
    ({"provider": "perfect privacy", "type": "openvpn", "credentials": {"OPENVPN_USER": "u", "OPENVPN_PASSWORD": "p"}},
     "gluetun gives Perfect Privacy three forwarded ports"),
    ({"provider": "protonvpn", "type": "openvpn", "credentials": {"OPENVPN_USER": "me", "OPENVPN_PASSWORD": "p"}},
     "arrkestra_vpn.credentials.OPENVPN_USER: ProtonVPN forwards a port over OpenVPN only to a username ending in +pmp"),
    ({"provider": "custom", "port": 51820, "settings": {"VPN_PORT_FORWARDING_PROVIDER": "privatevpn"}},
     "PrivateVPN forwards a port over OpenVPN only"),
    ({"provider": "custom", "port": 51820, "settings": {"VPN_PORT_FORWARDING_PROVIDER": "private internet access"}},
     "give VPN_PORT_FORWARDING_USERNAME and VPN_PORT_FORWARDING_PASSWORD in arrkestra_vpn.credentials"),
    ({"settings": {"VPN_PORT_FORWARDING_LISTENING_PORT": "6881"}},
     "arrkestra_vpn.settings: VPN_PORT_FORWARDING_LISTENING_PORT"),
    ({"settings": {"VPN_PORT_FORWARDING_STATUS_FILE": "/gluetun/port"}}, "arrkestra_vpn.settings: VPN_PORT_FORWARDING_STATUS"),
    ({"port_forwarding": False, "provider": "mullvad", "settings": {"VPN_PORT_FORWARDING": "on"}},
     "leave it out and set arrkestra_vpn.port_forwarding: true"),
    ({"port_forwarding": "sometimes"}, "arrkestra_vpn.port_forwarding"),
    ({"apps": ["radarr"]}, "arrkestra_vpn.port_forwarding keeps qBittorrent's listening port"),
    ({"enabled": False}, "arrkestra_vpn.port_forwarding is on and the VPN is off"),
])
def test_forwarding_checks_name_the_variable(vpn, message):
    with pytest.raises(stack_model.StackError) as err:
        stack_model.build({"apps": {"qbittorrent": {}, "radarr": {}}, "vpn": dict(FORWARDING, **vpn)})
    assert message in str(err.value)


def test_forwarding_sidecar_port_must_be_free_in_the_pod():
    with pytest.raises(stack_model.StackError) as err:
        stack_model.build({"apps": {"qbittorrent": {"port": 9090}}, "vpn": FORWARDING})
    assert "arrkestra_apps.qbittorrent.port: 9090 is taken in the pod" in str(err.value)
