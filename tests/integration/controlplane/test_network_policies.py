"""The stack's NetworkPolicies bite: rendered by the apps phase, enforced by kube-router on the real node.

The example inventory (three Pis: k3s, its ingress in kube-system, monitoring, qBittorrent behind the VPN)
is rendered as the apps phase renders it for GitOps (``apps_mode=render``) into a namespace of the test,
with the VPN's endpoints pointed at an address of this machine. Its NetworkPolicies are applied as they
are; the apps are stand-ins with the labels and ports of the rendered Deployments (what a policy selects),
and callers are pods with the labels or in the namespaces a rule names - or none. kube-router's policy
controller (tests/controlplane/node.py, the one k3s embeds) turns the policies into iptables rules and
ipsets; every connection below really crosses them.

What is proven, each rule allowed and denied: an app's callers reach it and a pod that is not one does not;
Traefik's pods reach the apps that have an Ingress, and the rest of its namespace (on k3s, kube-system) does
not; Prometheus's namespace reaches
the metrics port only; the VPN app's pod reaches the cluster DNS and the VPN servers' port and nothing else
(another port of the same address, the API server, another port of the DNS pod), while the other apps'
egress is not restricted; the API server's service proxy - which the wiring phase uses - is refused from
an address that is not the node's own, until ``arrkestra_network_policies.allow_cidrs`` names it.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time

import pytest
import yaml

from tests.controlplane import cluster, images, node
from tests.controlplane.fixture import controlplane, real_node  # noqa: F401 pylint: disable=unused-import
from tests.integration.controlplane.test_node import _wait
from tests.integration.controlplane.test_site import _shipped_variable
from tests.integration.render.test_render import render
from tests.lab.playbook import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.controlplane, pytest.mark.slow]

SOURCE = os.path.join(ROOT, "inventories", "example")
VPN_PORT = 51820        # gluetun's WireGuard port for Mullvad, the example's provider (plugin_utils/vpn.py DEFAULT_PORTS)
OTHER_PORT = 51821      # the same address, a port the policy does not name
DNS_PORTS = (53, 8053)  # the DNS stand-in: its port, and one no policy opens

#: A TCP server on every port given: whatever is asked, an HTTP answer "ok <port>" (the stand-ins of the apps
#: and of DNS; the API server's proxy wants HTTP).
SERVE = """
import socket, sys, threading
def serve(port):
    server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port)); server.listen(16)
    body = b"ok %d\\n" % port
    while True:
        conn, dummy = server.accept(); conn.settimeout(0.5)
        try:
            conn.recv(4096)
        except OSError:
            pass
        conn.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n%s" % (len(body), body)); conn.close()
for port in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(port),)).start()
"""
#: The checks of a caller: [[proto, ip, port, tag]] in argv[1]; prints {tag: "open"|"closed"|"sent"}.
PROBE = """
import json, socket, sys
out = {}
for proto, ip, port, tag in json.loads(sys.argv[1]):
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(tag.encode(), (ip, port)); out[tag] = "sent"
        continue
    try:
        conn = socket.create_connection((ip, port), timeout=3); answer = conn.recv(256).decode(); conn.close()
        out[tag] = "open" if "ok %d" % port in answer else "answered " + answer
    except OSError as exc:
        out[tag] = "closed"
print(json.dumps(out))
"""


def _render(tmp_path, name, ns, allow_cidrs, variables=None, extra=()):
    """The example inventory's apps phase output (apps_mode=render), in namespace ``ns``: {kind: [object]};
    ``variables``: more inventory variables, ``extra``: more arguments of ansible-playbook."""
    out = tmp_path / name
    vpn = dict(_shipped_variable(SOURCE, "arrkestra_vpn"), endpoints=["%s/32" % node.HOST_IP])
    given = dict({"arrkestra_namespace": ns, "arrkestra_vpn": vpn,
                  "arrkestra_network_policies": {"enabled": True, "allow_cidrs": allow_cidrs}}, **(variables or {}))
    proc = render(SOURCE, str(out), "-e", json.dumps(given), *extra)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    objects = {}
    for entry in sorted(os.listdir(out)):
        if entry.endswith(".yaml") and entry != "kustomization.yaml":
            with open(out / entry, encoding="utf-8") as handle:
                doc = yaml.safe_load(handle)
            objects.setdefault(doc["kind"], []).append(doc)
    return objects


class UdpSink:
    """What arrives at udp <address>:<port> on this machine, for each port (the VPN servers' stand-in)."""

    def __init__(self, address, ports):
        self.seen = {port: [] for port in ports}
        self.sockets = []
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((address, port))
            sock.settimeout(0.5)
            self.sockets.append(sock)
            threading.Thread(target=self._read, args=(sock, port), daemon=True).start()

    def _read(self, sock, port):
        while self.sockets:
            try:
                self.seen[port].append(sock.recv(256).decode())
            except OSError:
                continue

    def close(self):
        sockets, self.sockets = self.sockets, []
        for sock in sockets:
            sock.close()


class Lab:
    """Pods on the real node, and what kube-router made of them."""

    def __init__(self, core, stream):
        self.core, self.stream = core, stream
        self.made = []

    def pod(self, ns, name, labels, command):
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": dict(node.placement(), terminationGracePeriodSeconds=0, containers=[{
                    "name": "main", "image": images.reference("doubles"), "command": command}])}
        self.core.create_namespaced_pod(ns, body)
        self.made.append((ns, name))

    def stand_in(self, ns, name, labels, ports):
        self.pod(ns, name, labels, ["/usr/bin/python3", "-c", SERVE] + [str(p) for p in ports])

    def caller(self, ns, name, labels):
        self.pod(ns, name, labels, ["/usr/bin/python3", "-c", "import time; time.sleep(3600)"])

    def ips(self):
        """{(ns, name): pod IP} once every pod the lab made runs."""
        found = {}
        for ns, name in self.made:
            pod = self.core.read_namespaced_pod(name, ns)
            if pod.status.phase != "Running" or not pod.status.pod_ip:
                return None
            found[(ns, name)] = pod.status.pod_ip
        return found

    def probe(self, ns, name, checks):
        """Run the checks [(proto, ip, port, tag)] from pod ``name``: {tag: result}."""
        out = self.stream(self.core.connect_get_namespaced_pod_exec, name, ns,
                          command=["/usr/bin/python3", "-c", PROBE, json.dumps(checks)],
                          stderr=True, stdin=False, stdout=True, tty=False)
        return json.loads(out.strip().splitlines()[-1])

    def delete(self):
        for ns, name in self.made:
            try:
                self.core.delete_namespaced_pod(name, ns, grace_period_seconds=0)
            except Exception:  # pylint: disable=broad-except
                pass


def _enforced(addresses):
    """kube-router has synced every address: each is in its iptables rules or ipsets in the node."""
    text = node.policy_rules()
    return all(re.search(r"(?<![0-9.])%s(?![0-9])" % re.escape(address), text) for address in addresses)


def test_the_stacks_policies_bite(tmp_path, controlplane, real_node):  # noqa: F811
    # pylint: disable=redefined-outer-name,unused-argument,too-many-locals,too-many-statements
    from kubernetes.stream import stream

    api, client = cluster.client(controlplane)
    core, networking = client.CoreV1Api(api), client.NetworkingV1Api(api)
    ns = "policies-%s" % os.urandom(3).hex()
    rendered = _render(tmp_path, "closed", ns, [])
    policies = {p["metadata"]["name"]: p for p in rendered["NetworkPolicy"]}
    deployments = {d["metadata"]["name"]: d for d in rendered["Deployment"]}
    with_ingress = {i["metadata"]["name"] for i in rendered.get("Ingress", [])}
    assert {"default-deny-ingress", "jobs-deny-egress", "radarr", "prowlarr", "qbittorrent"} <= set(policies)
    assert "radarr" in with_ingress and "qbittorrent" in policies and "Egress" in \
        policies["qbittorrent"]["spec"]["policyTypes"]
    vpn_rule = policies["qbittorrent"]["spec"]["egress"][1]
    assert vpn_rule["ports"] == [{"port": VPN_PORT, "protocol": "UDP"}], vpn_rule

    def labels(app):
        return dict(deployments[app]["spec"]["template"]["metadata"]["labels"])

    def ports(app):
        found = {}
        for container in deployments[app]["spec"]["template"]["spec"]["containers"]:
            for port in container.get("ports", ()):
                found[container["name"]] = port["containerPort"]
        return found

    radarr, prowlarr, qbittorrent = ports("radarr"), ports("prowlarr"), ports("qbittorrent")
    assert "exportarr" in radarr, radarr        # the example monitors the arr apps
    ingress_ns = "kube-system"                  # k3s's Traefik (the example's distribution)
    created = [extra for extra in (ns, "monitoring")
               if cluster.create(core.create_namespace, {"metadata": {"name": extra}})]
    lab = Lab(core, stream)
    sink = UdpSink(node.HOST_IP, (VPN_PORT, OTHER_PORT))
    try:
        for policy in policies.values():
            networking.create_namespaced_network_policy(ns, policy)
        with node.only(controlplane):
            for app in ("radarr", "prowlarr", "qbittorrent"):
                lab.stand_in(ns, app, labels(app), sorted(ports(app).values()))
            lab.stand_in("kube-system", ns + "-dns", {"k8s-app": "kube-dns"}, DNS_PORTS)
            callers = {"stranger": (ns, {}), "as-prowlarr": (ns, labels("prowlarr")),
                       "as-radarr": (ns, labels("radarr")), "as-qbittorrent": (ns, labels("qbittorrent")),
                       "traefik": (ingress_ns, {"app.kubernetes.io/name": "traefik"}),
                       "prometheus": ("monitoring", {}),
                       # a backup Job's pod: its volumes alone, no network
                       "as-backup": (ns, {"app.kubernetes.io/component": "backup"})}
            for name, (where, their_labels) in callers.items():
                lab.caller(where, "%s-%s" % (ns, name), their_labels)
            ip = _wait("every pod of the lab running", lab.ips, 180)
            _wait("kube-router's rules for every pod", lambda: _enforced(ip.values()), 60)

            def at(app):
                return ip[(ns, app)]

            dns = ip[("kube-system", ns + "-dns")]
            host, api_port = node.HOST_IP, controlplane["api_port"]
            expected = {
                "stranger": [("tcp", at("radarr"), radarr["radarr"], "radarr", "closed"),
                             ("tcp", at("qbittorrent"), qbittorrent["qbittorrent"], "qbittorrent", "closed"),
                             ("udp", host, OTHER_PORT, "stranger-out", "sent")],
                "as-prowlarr": [("tcp", at("radarr"), radarr["radarr"], "radarr", "open"),
                                ("tcp", at("radarr"), radarr["exportarr"], "radarr-metrics", "closed")],
                "as-radarr": [("tcp", at("qbittorrent"), qbittorrent["qbittorrent"], "qbittorrent", "open"),
                              ("tcp", at("prowlarr"), prowlarr["prowlarr"], "prowlarr", "open"),
                              ("udp", host, OTHER_PORT, "radarr-out", "sent")],
                "traefik": [("tcp", at("radarr"), radarr["radarr"], "radarr", "open"),
                            ("tcp", at("radarr"), radarr["exportarr"], "radarr-metrics", "closed")],
                # the rest of Traefik's namespace (on k3s: kube-system, everything of the cluster's own)
                "dns": [("tcp", at("radarr"), radarr["radarr"], "radarr", "closed")],
                "prometheus": [("tcp", at("radarr"), radarr["exportarr"], "radarr-metrics", "open"),
                               ("tcp", at("radarr"), radarr["radarr"], "radarr", "closed")],
                "as-backup": [("tcp", dns, DNS_PORTS[0], "dns", "closed")],
                "as-qbittorrent": [("tcp", dns, DNS_PORTS[0], "dns", "open"),
                                   ("tcp", dns, DNS_PORTS[1], "dns-other-port", "closed"),
                                   ("tcp", host, api_port, "api-server", "closed"),
                                   ("udp", host, VPN_PORT, "vpn-server", "sent"),
                                   ("udp", host, OTHER_PORT, "vpn-server-other-port", "sent")],
            }
            callers["dns"] = ("kube-system", None)
            results, wrong = {}, []
            for name, checks in expected.items():
                results[name] = lab.probe(callers[name][0], "%s-%s" % (ns, name), [list(c[:4]) for c in checks])
                wrong += ["%s -> %s: %s, not %s" % (name, c[3], results[name].get(c[3]), c[4])
                          for c in checks if results[name].get(c[3]) != c[4]]
            time.sleep(2)       # the datagrams' way to this machine
            arrived = {port: sorted(set(tags)) for port, tags in sink.seen.items()}
            if arrived[VPN_PORT] != ["vpn-server"]:
                wrong.append("at the VPN port: %s, not only the VPN app's" % arrived[VPN_PORT])
            if arrived[OTHER_PORT] != ["radarr-out", "stranger-out"]:
                wrong.append("at another port: %s, not the other apps' only" % arrived[OTHER_PORT])
            assert not wrong, "\n".join(wrong) + "\n" + json.dumps(results, indent=1)

            # The API server's service proxy, the wiring phase's default way in, comes from the API server's
            # address: here the other end of the node's link, as a k3s server is for the pods of an agent.
            def proxied():
                return core.connect_get_namespaced_pod_proxy_with_path(
                    "radarr:%d" % radarr["radarr"], ns, "status", _request_timeout=8)

            with pytest.raises(Exception):          # refused: not a caller the policy names
                proxied()
            opened = _render(tmp_path, "opened", ns, ["%s/32" % host])["NetworkPolicy"]
            for policy in opened:
                networking.replace_namespaced_network_policy(policy["metadata"]["name"], ns, policy)
            assert _wait("the proxy let in by allow_cidrs", proxied, 60).startswith("ok")
    finally:
        sink.close()
        lab.delete()
        for extra_ns in created:
            core.delete_namespace(extra_ns)
