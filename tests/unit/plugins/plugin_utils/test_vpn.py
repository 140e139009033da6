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
