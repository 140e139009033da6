# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GitOps directory: file names, YAML text, and what a run writes and deletes."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.module_utils import render

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scripts", "namespace": "media"},
      "data": {"run.sh": "#!/bin/sh\necho hi\n", "one": "line"}}


def test_file_names_with_and_without_the_namespace():
    assert render.filename(CM) == "configmap-scripts.yaml"
    assert render.filename(CM, with_namespace=True) == "media.configmap-scripts.yaml"
    with pytest.raises(render.RenderError, match="without kind"):
        render.filename({"metadata": {}})


def test_files_keep_order_add_the_kustomization_and_refuse_clashes():
    other = dict(CM, metadata={"name": "scripts", "namespace": "monitoring"})
    out = render.files([CM, other], with_namespace=True, namespace=None)
    assert list(out) == ["media.configmap-scripts.yaml", "monitoring.configmap-scripts.yaml", "kustomization.yaml"]
    kustomization = yaml.safe_load(out["kustomization.yaml"])
    assert kustomization["resources"] == list(out)[:2] and "namespace" not in kustomization
    with pytest.raises(render.RenderError, match="with_namespace"):
        render.files([CM, other])
    assert yaml.safe_load(render.files([CM], namespace="media")["kustomization.yaml"])["namespace"] == "media"


def test_scripts_are_literal_blocks_and_round_trip():
    text = render.dump(CM)
    assert "run.sh: |\n    #!/bin/sh\n    echo hi\n" in text
    assert yaml.safe_load(text) == CM


def test_plan_writes_what_differs_and_prunes_the_rest():
    wanted = {"a.yaml": "a\n", "b.yaml": "b\n"}
    assert render.plan(wanted, {"a.yaml": "a\n", "b.yaml": "old\n", "gone.yaml": None}) == (["b.yaml"], ["gone.yaml"])
    assert render.plan(wanted, {"a.yaml": "a\n", "b.yaml": "b\n"}) == ([], [])
    assert render.plan(wanted, {"gone.yaml": None}, prune=False) == (["a.yaml", "b.yaml"], [])
    assert render.plan(wanted, {"a.yaml": "made once\n"}, keep=True) == (["b.yaml"], [])


def test_read_lists_yaml_files_only(tmp_path):
    (tmp_path / "a.yaml").write_text("a\n")
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "secrets").mkdir()
    assert render.read(str(tmp_path), {"a.yaml"}) == {"a.yaml": "a\n"}
    assert render.read(str(tmp_path / "missing"), {}) == {}
