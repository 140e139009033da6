# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network policies feature (``arrkestra_network_policies``): nothing reaches an app but the ingress
controller's pods, the apps that call its API (from the links the wiring makes), the addresses the inventory allows
and what the other features open (Prometheus, the VPN's egress); the collection's own Jobs reach nothing."""

from __future__ import annotations

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import catalog, checks, kube, links, metrics, vpn

#: The components of the collection's own Jobs' pods (backups and restores, the data layout): no network at all.
JOB_COMPONENTS = ("backup", "data")


def enabled(stack):
    return stack["platform"]["network_policies"]["enabled"]


def callers(apps):
    """``{instance: [instances that call its API]}`` of the stack's apps, from the links the wiring phase makes and
    the catalog's ``calls`` (Recyclarr, Unpackerr); the model keeps each app's as its ``callers``."""
    linked = [{"name": a["name"], "kind": a["kind"], "url": a["url"], "wiring": a["wiring"]} for a in apps if a["url"]]
    try:
        made = links.derive(linked)
    except links.LinkError as exc:
        raise checks.InputError("arrkestra_apps: %s" % exc)
    out = dict((a["name"], set()) for a in apps)
    for link in made:
        if not link["to"] or link["group"] == "categories":   # the controller sets a client's categories
            continue
        out.setdefault(link["to"], set()).add(link["app"])
        if link["group"] == "applications":                   # Prowlarr pushes indexers; the arr app calls them
            out.setdefault(link["app"], set()).add(link["to"])
    for app in apps:     # the apps the controller does not wire but that call others (Recyclarr, Unpackerr)
        for target in apps:
            if target["kind"] in catalog.CATALOG.get(app["kind"], {}).get("calls", ()):
                out[target["name"]].add(app["name"])
    return dict((k, sorted(v)) for k, v in out.items())


def policy(stack, app):
    """Who may open a connection to the app: the ingress controller, the apps that call it, the allowed addresses,
    and what the features add; where it may connect to when a feature limits it (the VPN)."""
    platform = stack["platform"]
    http = [{"port": app["port"], "protocol": "TCP"}]
    rules = []
    if app["ingress"] and platform["ingress"]["enabled"]:
        # Traefik's pods only: on k3s its namespace is kube-system, where everything else of the cluster runs too.
        rules.append({"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": platform["ingress"]["namespace"]}},
            "podSelector": {"matchLabels": dict(platform["ingress"]["pod_labels"])}}], "ports": http})
    deployed = [a["name"] for a in stack["apps"] if not a["external"]]
    callers_here = [c for c in app["callers"] if c in deployed]
    if callers_here:
        rules.append({"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": c}}} for c in callers_here],
                      "ports": http})
    if platform["network_policies"]["allow_cidrs"]:
        rules.append({"from": [{"ipBlock": {"cidr": c}} for c in platform["network_policies"]["allow_cidrs"]],
                      "ports": http})
    rules += metrics.policy_ingress(stack, app)
    spec = {"podSelector": {"matchLabels": kube.selector(app)}, "policyTypes": ["Ingress"]}
    if rules:   # none: nobody may call it. The API server drops an empty list, and an applied one would differ.
        spec["ingress"] = rules
    egress = vpn.policy_egress(stack, app)
    if egress is not None:
        spec["policyTypes"].append("Egress")
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": kube.meta(app["name"], stack["namespace"], app), "spec": spec}


def app_objects(stack, app):
    """The app's NetworkPolicy (an app without a port has no Service to reach)."""
    if not (app["port"] and enabled(stack)):
        return []
    return [policy(stack, app)]


def stack_objects(stack):
    """Default deny of ingress in the stack's namespace, and no egress for the collection's own Jobs (backups,
    restores, the data layout: they work on their volumes alone)."""
    if not enabled(stack):
        return []
    ns = stack["namespace"]
    return [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": kube.meta("default-deny-ingress", ns, component="network"),
         "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}},
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": kube.meta("jobs-deny-egress", ns, component="network"),
         "spec": {"podSelector": {"matchExpressions": [{"key": "app.kubernetes.io/component",
                                                        "operator": "In", "values": list(JOB_COMPONENTS)}]},
                  "policyTypes": ["Egress"]}},
    ]
