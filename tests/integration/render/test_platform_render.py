"""The platform phase in render mode: every object of several inventories, validated offline.

``ansible-playbook playbooks/platform.yml -e platform_mode=render``; every object must pass
``kubernetes-validate --strict`` or, for the charts' kinds (HelmChart, IPAddressPool,
L2Advertisement, Certificate, ClusterIssuer, ServiceMonitor, PrometheusRule), the closed
schemas of tests/schemas/crds.yaml; then the project's policy. Rendering twice changes nothing,
and bad input stops the run before a file is written.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.lab import schemas
from tests.lab.playbook import ROOT, run_playbook

pytestmark = pytest.mark.integration
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "inventories")
INVENTORIES = {
    "local": os.path.join(ROOT, "inventories", "local"),
    "example": os.path.join(ROOT, "inventories", "example"),
    "talos-pi": os.path.join(FIXTURES, "talos-pi"),
}


def render(inventory, out, *extra):
    return run_playbook("platform.yml", inventory, "-e", "platform_mode=render", "-e", "platform_render_dir=%s" % out,
                        *extra)


def load(out):
    docs = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(out, name), encoding="utf-8") as handle:
                docs[name] = yaml.safe_load(handle)
    with open(os.path.join(out, "kustomization.yaml"), encoding="utf-8") as handle:
        return docs, yaml.safe_load(handle)


@pytest.fixture(scope="module", params=sorted(INVENTORIES))
def rendered(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("platform-" + request.param)
    proc = render(INVENTORIES[request.param], str(out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    docs, kustomization = load(str(out))
    return {"name": request.param, "out": str(out), "docs": docs, "kustomization": kustomization}


def kinds(rendered):
    return set("%s/%s" % (d["kind"], d["metadata"]["name"]) for d in rendered["docs"].values())


def test_every_object_is_valid_offline(rendered):
    assert rendered["docs"]
    for name, doc in rendered["docs"].items():
        try:
            schemas.validate(doc, "1.34.0")
        except schemas.ValidationError as exc:
            pytest.fail("%s (%s): %s" % (name, rendered["name"], exc))


def test_the_schemas_catch_a_wrong_field():
    issuer = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "x"},
              "spec": {"acme": {"server": "https://acme.example", "privateKeySecretRef": {"name": "k"},
                                "solvers": [{"dns01": {"cloudflare": {"apiTokenSecret": {"name": "t"}}}}]}}}
    with pytest.raises(schemas.ValidationError, match="apiTokenSecret"):
        schemas.validate(issuer, "1.34.0")
    with pytest.raises(schemas.ValidationError, match="no schema"):
        schemas.validate({"apiVersion": "example.org/v1", "kind": "Thing", "metadata": {"name": "x"}}, "1.34.0")


def test_kustomization_lists_every_file_and_no_secret(rendered):
    assert sorted(rendered["kustomization"]["resources"]) == sorted(rendered["docs"])
    assert not [d for d in rendered["docs"].values() if d["kind"] == "Secret"]


def test_policy_pinned_charts_no_second_traefik_labelled(rendered):
    for name, doc in rendered["docs"].items():
        assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "arrkestra", name
        if doc["kind"] == "HelmChart":
            assert doc["spec"]["version"] and doc["spec"]["repo"].startswith("https://"), name
            yaml.safe_load(doc["spec"]["valuesContent"])      # the values parse
        if doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert ":" in container["image"].rsplit("/", 1)[-1] and container["resources"]["limits"], name
    talos = rendered["name"] == "talos-pi"
    assert ("HelmChart/traefik" in kinds(rendered)) is talos
    assert ("HelmChartConfig/traefik" in kinds(rendered)) is not talos
    assert ("Deployment/helm-controller" in kinds(rendered)) is talos


def test_components_follow_the_inventory(rendered):
    found = kinds(rendered)
    if rendered["name"] == "local":
        assert "HelmChart/metallb" not in found and "HelmChart/kube-prometheus-stack" not in found
        assert {"ClusterIssuer/arrkestra-selfsigned", "ClusterIssuer/arrkestra-ca", "Certificate/arrkestra-ca"} <= found
    else:
        assert {"HelmChart/metallb", "IPAddressPool/arrkestra", "L2Advertisement/arrkestra",
                "HelmChart/kube-prometheus-stack", "PrometheusRule/arrkestra", "ClusterIssuer/arrkestra-letsencrypt",
                "ConfigMap/arrkestra-dashboard"} <= found


def test_rendering_again_changes_nothing(rendered):
    proc = render(INVENTORIES[rendered["name"]], rendered["out"])
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["stats"]["localhost"]["changed"] == 0


@pytest.mark.parametrize("variables, message", [
    ({"arrkestra_load_balancer": {"type": "metallb", "addresses": ["10.9.0.1-10.9.0.9"], "networks": ["192.168.1.0/24"]}},
     "10.9.0.1-10.9.0.9 is outside the nodes' networks"),
    ({"arrkestra_certificates": {"issuer": "letsencrypt", "email": "me@example.org"}, "arrkestra_domain": "example.org"},
     "give arrkestra_certificates.cloudflare_api_token"),
    ({"arrkestra_vpn": {"enabled": True, "provider": "mullvad"}}, "give WIREGUARD_PRIVATE_KEY"),
    ({"arrkestra_monitoring": {"enabled": "sometimes"}}, "arrkestra_monitoring"),
])
def test_bad_input_fails_before_anything_is_written(tmp_path, variables, message):
    out = tmp_path / "out"
    proc = render(INVENTORIES["local"], str(out), "-e", json.dumps(variables))
    assert proc.returncode != 0 and message in proc.stdout, proc.stdout[-3000:]
    assert not out.exists()


def test_secrets_rendered_only_when_asked_and_never_logged(tmp_path):
    out = tmp_path / "out"
    proc = render(INVENTORIES["talos-pi"], str(out), "-e", "platform_render_secrets=true", "-vvv")
    assert proc.returncode == 0, proc.stdout[-3000:]
    with open(out / "secrets" / "cert-manager.secret-cloudflare-api-token.yaml", encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["stringData"] == {"api-token": "cf-token-of-the-fixture"}
    with open(out / "secrets" / "monitoring.secret-grafana-admin.yaml", encoding="utf-8") as handle:
        password = yaml.safe_load(handle)["stringData"]["admin-password"]
    for secret in ("cf-token-of-the-fixture", "fixture-password", password):
        assert secret not in proc.stdout and secret not in proc.stderr
    render(INVENTORIES["talos-pi"], str(out), "-e", "platform_render_secrets=true")
    with open(out / "secrets" / "monitoring.secret-grafana-admin.yaml", encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["stringData"]["admin-password"] == password      # made once, kept
