"""VPN port forwarding, rendered: the example inventory's apps phase with ``arrkestra_vpn.port_forwarding`` on
(ProtonVPN over WireGuard, then ProtonVPN over OpenVPN with the +pmp username), every object valid offline
(``kubernetes-validate --strict`` for the cluster's version, as the other render tests validate theirs) and the
qBittorrent pod as the port sync needs it; a wrong setting stops the run before anything is written, naming the
variable. The sync itself: tests/integration/qbittorrent/test_port_forwarding.py."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.integration.render.test_platform_render import load
from tests.integration.render.test_render import pods, render
from tests.lab import schemas
from tests.lab.playbook import ROOT

pytestmark = pytest.mark.integration
INVENTORY = os.path.join(ROOT, "inventories", "example")
VPNS = {
    "protonvpn-wireguard": {"provider": "protonvpn", "type": "wireguard"},
    "protonvpn-openvpn": {"provider": "protonvpn", "type": "openvpn",
                          "credentials": {"OPENVPN_USER": "me+pmp", "OPENVPN_PASSWORD": "secret"}},
}


def example_vpn():
    with open(os.path.join(INVENTORY, "group_vars", "all", "platform.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["arrkestra_vpn"]


def with_vpn(**given):
    vpn = dict(example_vpn(), port_forwarding=True, settings={"SERVER_COUNTRIES": "Switzerland"}, **given)
    return json.dumps({"arrkestra_vpn": vpn, "vault_wireguard_private_key": "wg-key"})


@pytest.fixture(scope="module", params=sorted(VPNS))
def rendered(request, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("vpn-" + request.param))
    proc = render(INVENTORY, out, "-e", with_vpn(**VPNS[request.param]))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return {"name": request.param, "docs": load(out)[0]}


def test_every_object_is_valid_offline(rendered):
    for name, doc in rendered["docs"].items():
        try:
            schemas.validate(doc, "1.33.0")
        except schemas.ValidationError as exc:
            pytest.fail("%s (%s): %s" % (name, rendered["name"], exc))


def test_the_qbittorrent_pod_shares_the_status_file_with_forwardarr(rendered):
    spec = dict(pods(rendered["docs"]))["deployment-qbittorrent.yaml"]
    gluetun = [c for c in spec["initContainers"] if c["name"] == "gluetun"][0]
    sidecar = [c for c in spec["containers"] if c["name"] == "forwardarr"][0]
    genv = dict((e["name"], e.get("value")) for e in gluetun["env"])
    senv = dict((e["name"], e) for e in sidecar["env"])
    assert genv["VPN_PORT_FORWARDING"] == "on" and genv["HTTP_CONTROL_SERVER_ADDRESS"] == "127.0.0.1:8000"
    status = genv["VPN_PORT_FORWARDING_STATUS_FILE"]
    assert senv["GLUETUN_PORT_FILE"]["value"] == status
    [volume] = [v for v in spec["volumes"] if "emptyDir" in v]
    for container, read_only in ((gluetun, False), (sidecar, True)):
        [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
        assert os.path.dirname(status) == mount["mountPath"] and bool(mount.get("readOnly")) is read_only
    assert senv["TORRENT_CLIENT_URL"]["value"] == "http://127.0.0.1:8080"
    secret = "qbittorrent-credentials"
    assert senv["TORRENT_CLIENT_USER"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "username"}
    assert senv["TORRENT_CLIENT_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "password"}
    assert sidecar["image"] == "ghcr.io/eslutz/forwardarr:v2.1.2"
    assert sidecar["securityContext"]["readOnlyRootFilesystem"] is True
    assert sidecar["livenessProbe"]["httpGet"]["path"] == "/health"
    ports = [p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])]
    assert int(senv["METRICS_PORT"]["value"]) in ports and len(ports) == len(set(ports)) and 8000 not in ports
    # The killswitch is unchanged: the egress is the DNS and the VPN servers on the VPN port.
    policy = rendered["docs"]["networkpolicy-qbittorrent.yaml"]["spec"]
    assert [rule["to"][0].get("ipBlock") for rule in policy["egress"]] == [None, {"cidr": "203.0.113.0/24"}]


@pytest.mark.parametrize("given, message", [
    ({"provider": "mullvad"}, "arrkestra_vpn.provider is 'mullvad', and gluetun forwards a port only for"),
    ({"provider": "protonvpn", "type": "openvpn", "credentials": {"OPENVPN_USER": "me", "OPENVPN_PASSWORD": "x"}},
     "arrkestra_vpn.credentials.OPENVPN_USER"),
    ({"provider": "protonvpn", "apps": ["sabnzbd"]}, "put a qBittorrent in arrkestra_vpn.apps"),
])
def test_a_wrong_forwarding_setting_stops_before_anything_is_written(tmp_path, given, message):
    out = tmp_path / "out"
    proc = render(INVENTORY, str(out), "-e", with_vpn(**given))
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-3000:]
    assert not out.exists()
