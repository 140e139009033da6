# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NetworkPolicies: the ingress and the callers in, nothing else."""

from __future__ import annotations

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model as stack_model, workloads


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
