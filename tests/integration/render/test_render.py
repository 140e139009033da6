"""The apps phase in render mode: every object of several inventories, validated offline.

Each inventory is rendered with ``ansible-playbook playbooks/apps.yml -e
apps_mode=render``; every object must pass ``kubernetes-validate --strict``
for the cluster version of the inventory, and the project's own rules:
pinned images, probes, limits, non-root, config volumes never on NFS, one
data mount path everywhere. Rendering twice changes nothing.
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
    "multi-instance": os.path.join(FIXTURES, "multi-instance"),
    "minimal": os.path.join(FIXTURES, "minimal"),
    "gpu-intel": os.path.join(FIXTURES, "gpu-intel"),
    "plex": os.path.join(FIXTURES, "plex"),
}


def render(inventory, out, *extra):
    return run_playbook("apps.yml", inventory, "-e", "apps_mode=render", "-e", "apps_render_dir=%s" % out, *extra)


@pytest.fixture(scope="module", params=sorted(INVENTORIES))
def rendered(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("render-" + request.param)
    proc = render(INVENTORIES[request.param], str(out))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    stats = json.loads(proc.stdout)["stats"]["localhost"]
    docs = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(out, name), encoding="utf-8") as handle:
                docs[name] = yaml.safe_load(handle)
    with open(os.path.join(out, "kustomization.yaml"), encoding="utf-8") as handle:
        kustomization = yaml.safe_load(handle)
    version = None
    for path in (os.path.join(INVENTORIES[request.param], "group_vars", "all", "main.yml"),):
        with open(path, encoding="utf-8") as handle:
            version = (yaml.safe_load(handle) or {}).get("arrkestra_kubernetes_version")
    return {"name": request.param, "out": str(out), "docs": docs, "kustomization": kustomization,
            "stats": stats, "version": "%s.0" % (version or "1.33")}


def pods(docs):
    for name, doc in docs.items():
        if doc["kind"] == "Deployment":
            yield name, doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield name, doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif doc["kind"] == "Job":
            yield name, doc["spec"]["template"]["spec"]


def test_every_object_is_valid_for_the_cluster_version(rendered):
    assert rendered["docs"]
    for name, doc in rendered["docs"].items():
        try:
            schemas.validate(doc, rendered["version"])
        except schemas.ValidationError as exc:
            pytest.fail("%s (%s): %s" % (name, rendered["name"], exc))


def test_the_kustomization_lists_every_file_and_no_secret(rendered):
    assert sorted(rendered["kustomization"]["resources"]) == sorted(rendered["docs"])
    assert not [d for d in rendered["docs"].values() if d["kind"] == "Secret"]


def test_policy_pinned_probes_limits_non_root(rendered):
    for name, spec in pods(rendered["docs"]):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), (name, image)
            assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["memory"], name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name
            if container["name"] == "gluetun":       # the VPN: root with NET_ADMIN, and nothing else
                assert container["securityContext"]["capabilities"]["add"] == ["NET_ADMIN"], name
            else:
                assert "add" not in container["securityContext"]["capabilities"], name
                assert container["securityContext"].get("runAsNonRoot", True) is True, name
        if rendered["docs"][name]["kind"] == "Deployment":
            main = spec["containers"][0]
            assert main.get("readinessProbe") and main.get("livenessProbe"), name


def test_policy_config_local_and_one_data_mount(rendered):
    mounts = set()
    for name, spec in pods(rendered["docs"]):
        for container in spec["containers"]:
            mounts |= set(m["mountPath"] for m in container["volumeMounts"] if m["name"] == "data")
        for volume in spec.get("volumes", []):
            if volume["name"] == "config":
                claim = rendered["docs"]["persistentvolumeclaim-%s.yaml" % volume["persistentVolumeClaim"]["claimName"]]
                assert "nfs" not in claim["spec"]["storageClassName"], name
    assert len(mounts) <= 1, mounts


def test_rendering_again_changes_nothing(rendered):
    proc = render(INVENTORIES[rendered["name"]], rendered["out"])
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["stats"]["localhost"]["changed"] == 0


def test_instances_and_removed_apps(tmp_path):
    out = tmp_path / "out"
    assert render(INVENTORIES["multi-instance"], str(out)).returncode == 0
    files = set(os.listdir(out))
    assert {"deployment-radarr-4k.yaml", "deployment-radarr-anime.yaml", "persistentvolumeclaim-radarr-4k-config.yaml",
            "ingress-sonarr-4k.yaml"} <= files
    assert not [f for f in files if "transmission" in f]     # external: wired, never deployed
    proc = render(INVENTORIES["multi-instance"], str(out), "-e", json.dumps(
        {"arrkestra_apps": {"radarr": {}, "qbittorrent": {}}}))
    assert proc.returncode == 0
    files = set(os.listdir(out))
    assert "deployment-radarr.yaml" in files and "deployment-radarr-4k.yaml" not in files


@pytest.mark.parametrize("variables, message", [
    ({"arrkestra_apps": {"emby": {}}}, "arrkestra_apps.emby: no app 'emby' in the catalog"),
    ({"arrkestra_apps": ["radarr", "radarr"]}, "arrkestra_apps names radarr twice"),
    ({"arrkestra_apps": {"radarr": {"image": "ghcr.io/home-operations/radarr:latest"}}}, "pinned tag"),
    ({"arrkestra_config_storage_class": "nfs-client"}, "SQLite on NFS corrupts"),
])
def test_bad_input_fails_before_anything_is_written(tmp_path, variables, message):
    out = tmp_path / "out"
    proc = render(INVENTORIES["local"], str(out), "-e", json.dumps(variables))
    assert proc.returncode != 0 and message in proc.stdout
    assert not out.exists()


def test_no_secret_in_verbose_output(tmp_path):
    out = tmp_path / "out"
    proc = render(INVENTORIES["minimal"], str(out), "-e", "apps_render_secrets=true", "-vvv")
    assert proc.returncode == 0, proc.stdout[-3000:]
    with open(out / "secrets" / "secret-radarr-credentials.yaml", encoding="utf-8") as handle:
        key = yaml.safe_load(handle)["stringData"]["api_key"]
    assert len(key) == 32 and key not in proc.stdout and key not in proc.stderr
    again = render(INVENTORIES["minimal"], str(out), "-e", "apps_render_secrets=true")
    with open(out / "secrets" / "secret-radarr-credentials.yaml", encoding="utf-8") as handle:
        assert yaml.safe_load(handle)["stringData"]["api_key"] == key     # made once, kept
    assert again.returncode == 0


def test_rendering_never_deletes_a_file_it_did_not_write(tmp_path):
    out = tmp_path / "gitops"
    out.mkdir()
    (out / "notes.yaml").write_text("mine\n")
    proc = render(INVENTORIES["minimal"], str(out))
    assert proc.returncode != 0 and "files the collection did not write (notes.yaml)" in proc.stdout
    assert os.listdir(out) == ["notes.yaml"]
    # Into its own folder, then a file of the user's beside its own: kept, while the files of a removed app go.
    apps = tmp_path / "apps"
    assert render(INVENTORIES["minimal"], str(apps)).returncode == 0
    (apps / "README.md").write_text("mine\n")
    (apps / "extra.yaml").write_text("mine\n")
    assert render(INVENTORIES["minimal"], str(apps), "-e", json.dumps({"arrkestra_apps": {"sonarr": {}}})).returncode == 0
    files = set(os.listdir(apps))
    assert {"README.md", "extra.yaml", "deployment-sonarr.yaml"} <= files and "deployment-radarr.yaml" not in files


def test_two_phases_never_share_a_folder(tmp_path):
    out = tmp_path / "rendered"
    assert render(INVENTORIES["minimal"], str(out)).returncode == 0
    before = sorted(os.listdir(out))
    proc = run_playbook("platform.yml", INVENTORIES["minimal"], "-e", "platform_mode=render",
                        "-e", "platform_render_dir=%s" % out)
    assert proc.returncode != 0 and "holds the apps files of another render" in proc.stdout
    assert sorted(os.listdir(out)) == before
