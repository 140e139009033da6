"""Unit tests of the kubeconfig merge."""

import pytest

from ansible_collections.arrkestra.homelab.plugins.module_utils import kubeconfig as k

K3S = {
    "apiVersion": "v1", "kind": "Config", "preferences": {},
    "clusters": [{"name": "default", "cluster": {"certificate-authority-data": "Q0E=",
                                                 "server": "https://127.0.0.1:6443"}}],
    "users": [{"name": "default", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}}],
    "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
    "current-context": "default",
}

MINE = {
    "apiVersion": "v1", "kind": "Config", "preferences": {"colors": True},
    "clusters": [{"name": "work", "cluster": {"server": "https://work:6443"}}],
    "users": [{"name": "work", "user": {"token": "t"}}],
    "contexts": [{"name": "work", "context": {"cluster": "work", "user": "work", "namespace": "dev"}}],
    "current-context": "work",
}


def test_extract_rewrites_server():
    entries = k.extract(K3S, "https://192.168.1.11:6443")
    assert entries["cluster"] == {"certificate-authority-data": "Q0E=", "server": "https://192.168.1.11:6443"}
    assert entries["user"]["client-key-data"] == "S0VZ"
    assert K3S["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"


def test_merge_keeps_the_other_entries_and_renames():
    merged = k.merge(MINE, k.extract(K3S, "https://pi:6443"), "pi-media")
    assert [c["name"] for c in merged["contexts"]] == ["work", "pi-media"]
    assert merged["clusters"][0] == MINE["clusters"][0] and merged["users"][0] == MINE["users"][0]
    assert merged["contexts"][1]["context"] == {"cluster": "pi-media", "user": "pi-media"}
    assert merged["current-context"] == "pi-media"
    assert merged["preferences"] == {"colors": True}
    assert MINE["current-context"] == "work"


def test_merge_is_stable():
    once = k.merge(None, k.extract(K3S), "lab", current=False)
    assert k.merge(once, k.extract(K3S), "lab", current=False) == once
    assert once["current-context"] == ""


def test_remove_only_touches_the_name():
    merged = k.merge(MINE, k.extract(K3S), "lab")
    assert k.remove(merged, "lab") == dict(MINE, **{"current-context": ""})
    assert k.remove(None, "lab") is None


def test_view_hides_secrets():
    shown = k.view(k.merge(MINE, k.extract(K3S), "lab"), "lab")
    assert shown["user"] == {"client-certificate-data": "Q0VSVA==", "client-key-data": "<hidden>"}
    assert shown["current"] is True
    assert k.view(MINE, "work")["user"] == {"token": "<hidden>"}


@pytest.mark.parametrize("source, message", [
    ({"contexts": []}, "no context"),
    (dict(K3S, contexts=[{"name": "a", "context": {}}, {"name": "b", "context": {}}], **{"current-context": ""}),
     "2 contexts"),
    (dict(K3S, users=[]), "does not define"),
    (dict(K3S, clusters=[{"name": "default", "cluster": {}}]), "no server address"),
])
def test_extract_says_what_is_wrong(source, message):
    with pytest.raises(k.KubeconfigError, match=message):
        k.extract(source)
