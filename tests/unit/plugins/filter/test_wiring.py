# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the wiring phase."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.arrkestra.homelab.plugins.filter.wiring import FilterModule

F = FilterModule().filters()
APPS = [{"name": "radarr", "kind": "radarr", "url": "http://radarr:7878"},
        {"name": "qbittorrent", "kind": "qbittorrent", "url": "http://qbittorrent:8080"}]


def test_resolve_fills_secrets_in_and_drops_the_references():
    items = F["wiring_plan"](F["wiring_links"](APPS), APPS)["radarr"]["download_clients"]
    resolved = F["wiring_resolve"](items, {"qbittorrent": {"username": "admin", "password": "pw"}})
    assert resolved[0]["password"] == "pw" and resolved[0]["username"] == "admin"
    assert "_secrets" not in resolved[0] and "_secrets" in items[0]   # the plan itself is left as it was


def test_resolve_names_the_missing_credential_and_where_to_give_it():
    items = F["wiring_plan"](F["wiring_links"](APPS), APPS)["radarr"]["download_clients"]
    with pytest.raises(AnsibleFilterError, match=r"No password is known for qbittorrent.*wiring_credentials\['qbittorrent'\]"):
        F["wiring_resolve"](items, {"qbittorrent": {"username": "admin"}})


def test_a_secret_is_written_again_once_it_differs_from_what_the_last_run_pushed():
    links = F["wiring_links"](APPS)
    pushed = {"qbittorrent": {"username": "admin", "password": "pw"}}
    record = F["wiring_record"](links, F["wiring_fingerprints"](links, APPS, pushed, "k"))
    items = F["wiring_plan"](links, APPS, record)["radarr"]["download_clients"]
    assert "update_secrets" not in F["wiring_resolve"](items, pushed, False, "k")[0]
    rotated = {"qbittorrent": {"username": "admin", "password": "pw2"}}
    assert F["wiring_resolve"](items, rotated, False, "k")[0]["update_secrets"] is True
    assert "_rotation" not in F["wiring_resolve"](items, rotated)[0]       # without the key: nothing decided
    # with two clients, only the one whose secret changed
    two = APPS + [{"name": "sabnzbd", "kind": "sabnzbd", "url": "http://sabnzbd:8080"}]
    links = F["wiring_links"](two)
    pushed = dict(pushed, sabnzbd={"api_key": "z1"})
    record = F["wiring_record"](links, F["wiring_fingerprints"](links, two, pushed, "k"))
    items = F["wiring_plan"](links, two, record)["radarr"]["download_clients"]
    resolved = F["wiring_resolve"](items, dict(pushed, qbittorrent=rotated["qbittorrent"]), False, "k")
    assert [(i["name"], bool(i.get("update_secrets"))) for i in resolved] == [("qbittorrent", True), ("sabnzbd", False)]
    items = items[:1]
    # a secret not known yet (check mode, a key the run would make) tells nothing
    assert "update_secrets" not in F["wiring_resolve"](items, {"qbittorrent": {"username": "admin"}}, True, "k")[0]


def test_absent_items_need_no_secret():
    assert F["wiring_resolve"]([{"name": "x", "state": "absent", "_secrets": {"password": ["gone", "password"]}}], {}) \
        == [{"name": "x", "state": "absent"}]


def test_bad_stack_is_a_filter_error_saying_why():
    with pytest.raises(AnsibleFilterError, match="Cannot wire the stack: two apps are named 'radarr'"):
        F["wiring_links"](APPS + APPS[:1])


def test_record_round_trips_through_plan():
    links = F["wiring_links"](APPS)
    record = F["wiring_record"](links)
    assert [r["id"] for r in record["links"]] == [link["id"] for link in links] and record["version"] == 2
    assert F["wiring_plan"](links, APPS, record) == F["wiring_plan"](links, APPS)


def test_credentials_come_from_the_secrets_and_the_inventory_wins():
    reads = {"results": [
        {"item": {"name": "radarr"}, "resources": [{"data": {"api_key": "cmFkYXJyLWtleQ=="}}]},
        {"ansible_loop_var": "wiring_app", "wiring_app": {"name": "sonarr"}, "resources": []},
        {"item": {"name": "bazarr"}, "skipped": True}]}
    assert F["wiring_credentials"](reads, {"sonarr": {"api_key": "given"}}) == {
        "radarr": {"api_key": "radarr-key"}, "sonarr": {"api_key": "given"}}


KUBECONFIG = {
    "current-context": "default",
    "clusters": [{"name": "default",
                  "cluster": {"server": "https://192.168.1.10:6443/", "certificate-authority-data": "Q0E="}}],
    "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}},
                 {"name": "tokens", "context": {"cluster": "default", "user": "robot"}}],
    "users": [{"name": "default", "user": {"client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ"}},
              {"name": "robot", "user": {"token": "abc"}}],
}


def test_kube_access_takes_the_server_and_the_client_certificate_of_the_context():
    access = F["wiring_kube_access"](KUBECONFIG)
    assert access["server"] == "https://192.168.1.10:6443"
    assert (access["ca_data"], access["cert_data"], access["key_data"]) == ("CA", "CERT", "KEY")


def test_kube_access_explains_a_token_user_and_an_unknown_context():
    with pytest.raises(AnsibleFilterError, match="has no client certificate .*uses token"):
        F["wiring_kube_access"](KUBECONFIG, "tokens")
    with pytest.raises(AnsibleFilterError, match="no context named 'prod' .*default, tokens"):
        F["wiring_kube_access"](KUBECONFIG, "prod")


def test_proxied_urls_go_through_the_service_proxy():
    apps = [{"name": "radarr-4k", "kind": "radarr", "url": "http://radarr-4k.media.svc.cluster.local:7878",
             "controller_access": "apiserver_proxy",
             "proxy_path": "/api/v1/namespaces/media/services/http:radarr-4k:7878/proxy"},
            {"name": "nas", "kind": "transmission", "url": "http://nas:9091", "controller_access": "direct",
             "controller_url": "http://nas:9091"}]
    proxied = F["wiring_proxied"](apps, "https://api:6443/")
    assert proxied[0]["controller_url"] == "https://api:6443/api/v1/namespaces/media/services/http:radarr-4k:7878/proxy"
    assert proxied[1]["controller_url"] == "http://nas:9091"
    assert proxied[0]["url"] == apps[0]["url"]


def test_an_api_server_that_went_away_is_named_in_plain_words():
    from ansible_collections.arrkestra.homelab.plugins.filter.stack import stack_failure
    refused = {"msg": "Task failed: Module failed: Value of unknown type: <class 'urllib3.exceptions."
                      "NewConnectionError'>, HTTPSConnection(host='172.31.213.1', port=45447): Failed to establish a "
                      "new connection: [Errno 111] Connection refused"}
    message = stack_failure(refused, {"name": "Deployments of the apps"}, "apps")
    assert message.startswith("The Kubernetes API server 172.31.213.1:45447 refused the connection while the apps "
                              "phase ran (task: Deployments of the apps)") and "urllib3" not in message
    assert stack_failure({"msg": "arrkestra_config_storage_class 'x' does not exist"}, {}, "apps") == \
        "arrkestra_config_storage_class 'x' does not exist"


def test_the_apps_phase_keeps_the_credentials_of_one_read_of_the_namespaces_secrets():
    """roles/apps reads the namespace's Secrets in one call: each app's is found by its name, kept as it is, and only
    what is missing is made (a Secret of another name, like the VPN's, is no app's)."""
    import base64

    from ansible_collections.arrkestra.homelab.plugins.filter.stack import FilterModule as StackFilters
    from ansible_collections.arrkestra.homelab.plugins.plugin_utils import model

    stack = model.build({"apps": {"radarr": {}, "prowlarr": {}}})
    encoded = base64.b64encode(b"a" * 32).decode()
    reads = {"resources": [{"metadata": {"name": "radarr-credentials"}, "data": {"api_key": encoded}},
                           {"metadata": {"name": "vpn-credentials"}, "data": {"api_key": encoded}}]}
    credentials = StackFilters().filters()["stack_credentials"](stack, reads)
    assert credentials["radarr"]["api_key"] == "a" * 32
    assert credentials["prowlarr"]["api_key"] not in ("", "a" * 32)
    skipped = StackFilters().filters()["stack_credentials"](stack, {"skipped": True, "changed": False})
    assert set(skipped) == {"radarr", "prowlarr"}
