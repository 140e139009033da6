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


def test_plan_writes_what_differs_and_prunes_only_what_it_wrote():
    wanted = {"a.yaml": "a\n", "b.yaml": "b\n"}
    existing = {"a.yaml": "a\n", "b.yaml": "old\n"}
    assert render.plan(wanted, existing, owned=["a.yaml", "b.yaml", "gone.yaml"]) == (["b.yaml"], ["gone.yaml"])
    assert render.plan(wanted, {"a.yaml": "a\n", "b.yaml": "b\n"}, owned=["a.yaml", "b.yaml"]) == ([], [])
    assert render.plan(wanted, {}, owned=["gone.yaml"], prune=False) == (["a.yaml", "b.yaml"], [])
    assert render.plan(wanted, {"a.yaml": "made once\n"}, keep=True) == (["b.yaml"], [])


def test_a_folder_is_rendered_into_only_when_empty_or_its_own(tmp_path):
    assert render.ownership(str(tmp_path / "missing"), "apps", {"a.yaml"}) == []
    (tmp_path / "a.yaml").write_text("a\n")
    assert render.ownership(str(tmp_path), "apps", {"a.yaml"}) == ["a.yaml"]      # an earlier render, unmarked
    (tmp_path / "notes.txt").write_text("mine\n")
    with pytest.raises(render.RenderError, match="did not write .notes.txt"):
        render.ownership(str(tmp_path), "apps", {"a.yaml"})
    (tmp_path / render.MARKER).write_text(render.record("apps", ["a.yaml", "old.yaml"]))
    assert render.ownership(str(tmp_path), "apps", {"b.yaml"}) == ["a.yaml"]       # notes.txt is left alone
    with pytest.raises(render.RenderError, match="the apps files of another render"):
        render.ownership(str(tmp_path), "platform", {"a.yaml"})


def test_an_installed_collection_is_found_above_a_folder(tmp_path):
    root = tmp_path / "ansible_collections" / "arrkestra" / "homelab"
    (root / "playbooks").mkdir(parents=True)
    (root / "MANIFEST.json").write_text("{}")
    assert render.inside_installed_collection(str(root / "playbooks" / ".." / "rendered" / "apps")) == str(root)
    assert render.inside_installed_collection(str(tmp_path / "rendered")) is None
