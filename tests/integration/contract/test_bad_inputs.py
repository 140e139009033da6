# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection checks before it changes anything: one wrong inventory value per case.

Each case takes the example inventory (three Pis, a NAS, MetalLB, Let's Encrypt, VPN, monitoring), sets one value
(``path``: a variable, or a dotted path into one), and runs the phase's playbook with ``ansible-playbook``: the apps
and platform phases in render mode, the wiring phase as it is, the nodes phase's checks (``--tags preflight``,
``--check``). Every case must fail once, with a message naming the variable, in plain words (no Python or templating
error text), and before anything is written: the render folder is never made, the wiring stops before its first
call (its first call would need the cluster, which the example inventory does not have).

This table is the documentation of what is checked; ``docs/inputs.md`` says what is not, and why.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import re
import subprocess

import pytest
import yaml

from tests.lab.playbook import BIN, ROOT

pytestmark = pytest.mark.integration

INVENTORY = os.path.join(ROOT, "inventories", "example")
DELETE = object()
PLAYBOOKS = {
    "apps": ("apps.yml", "-e", "apps_mode=render"),
    "platform": ("platform.yml", "-e", "platform_mode=render"),
    "wiring": ("wiring.yml",),
    "nodes": ("nodes.yml", "--tags", "preflight", "--check"),
}
#: Text of an error that escaped the collection's checks: Python's, or Ansible's wrapping of a failed template.
UNCLEAR = ("Traceback", "Error was a", "unhandled exception", "The filter plugin", "Finalization of task args",
           "object has no attribute", "invalid literal", "is not iterable", "NoneType", "KeyError", "TypeError")
A = "arrkestra_apps"
EXTRA = "wiring_extra_links"


def _base():
    """The example inventory's group_vars, as a user would copy them."""
    values = {}
    for path in sorted(glob.glob(os.path.join(INVENTORY, "group_vars", "all", "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            values.update(yaml.safe_load(handle) or {})
    return values


CASES = [
    # -- names, domains, ids ---------------------------------------------------------------------------------------
    ("apps", "arrkestra_namespace", "Media", "arrkestra_namespace"),
    ("apps", "arrkestra_namespace", "m" * 64, "arrkestra_namespace"),
    ("apps", "arrkestra_namespace", "media_ns", "arrkestra_namespace"),
    ("apps", "arrkestra_domain", "my domain.org", "arrkestra_domain"),
    ("apps", "arrkestra_domain", ".".join(["a" * 60] * 5), "arrkestra_domain"),
    ("apps", "arrkestra_domain", "Media.Example.org", "arrkestra_domain"),
    ("apps", "arrkestra_domain", "-bad.example.org", "arrkestra_domain"),
    ("apps", "arrkestra_domain", "example.org.", "arrkestra_domain"),
    ("apps", "arrkestra_cluster_domain", "cluster local", "arrkestra_cluster_domain"),
    ("apps", "arrkestra_uid", 0, "arrkestra_uid"),
    ("apps", "arrkestra_uid", -5, "arrkestra_uid"),
    ("apps", "arrkestra_uid", "abc", "arrkestra_uid"),
    ("apps", "arrkestra_gid", 3000000000, "arrkestra_gid"),
    ("apps", "arrkestra_timezone", "Mars/Olympus", "arrkestra_timezone"),
    ("apps", "arrkestra_timezone", 5, "arrkestra_timezone"),
    ("apps", "arrkestra_domian", "example.org", "arrkestra_domian"),
    ("apps", "arrkestra_kubernetes_version", "latest", "arrkestra_kubernetes_version"),
    ("apps", "arrkestra_controller_access", "ingress", "arrkestra_controller_access"),
    # -- storage ---------------------------------------------------------------------------------------------------
    ("apps", "arrkestra_config_size", "big", "arrkestra_config_size"),
    ("apps", "arrkestra_config_size", "-1Gi", "arrkestra_config_size"),
    ("apps", "arrkestra_config_size", "2GB", "arrkestra_config_size"),
    ("apps", "arrkestra_config_storage_class", "Local Path", "arrkestra_config_storage_class"),
    ("apps", "arrkestra_config_storage_class", "nfs-csi", "arrkestra_config_storage_class"),
    ("apps", "arrkestra_config_on_nfs_forced", "maybe", "arrkestra_config_on_nfs_forced"),
    ("apps", "arrkestra_ingress_class", "Traefik!", "arrkestra_ingress_class"),
    ("apps", "arrkestra_tls_secret", "My_Cert", "arrkestra_tls_secret"),
    ("apps", "arrkestra_data_mount", "data", "arrkestra_data_mount"),
    ("apps", "arrkestra_data_mount", "/config", "arrkestra_data_mount"),
    ("apps", "arrkestra_data", "nfs", "arrkestra_data"),
    ("apps", "arrkestra_data.type", "smb", "arrkestra_data.type"),
    ("apps", "arrkestra_data.server", "nas box", "arrkestra_data.server"),
    ("apps", "arrkestra_data.server", DELETE, "arrkestra_data.server"),
    ("apps", "arrkestra_data.export", "volume1/media", "arrkestra_data.export"),
    ("apps", "arrkestra_data.size", "lots", "arrkestra_data.size"),
    ("apps", "arrkestra_data.colour", "red", "arrkestra_data"),
    ("apps", "arrkestra_images", {"busybox": "busybox:1.37.0"}, "arrkestra_images"),
    ("apps", "arrkestra_images", {"helper": "busybox:latest"}, "arrkestra_images.helper"),
    # -- schedules -------------------------------------------------------------------------------------------------
    ("apps", "arrkestra_recyclarr_schedule", "every day", "arrkestra_recyclarr_schedule"),
    ("apps", "arrkestra_recyclarr_schedule", "61 * * * *", "arrkestra_recyclarr_schedule"),
    ("apps", "arrkestra_recyclarr_schedule", "* * 32 * *", "arrkestra_recyclarr_schedule"),
    ("apps", "arrkestra_recyclarr_schedule", "@sometimes", "arrkestra_recyclarr_schedule"),
    ("apps", "arrkestra_recyclarr_schedule", "*/0 * * * *", "arrkestra_recyclarr_schedule"),
    ("apps", A + ".recyclarr.schedule", "daily", A + ".recyclarr.schedule"),
    # -- apps ------------------------------------------------------------------------------------------------------
    ("apps", A, "radarr", A),
    ("apps", A, ["radarr", "radarr"], A),
    ("apps", A, [{"kind": "radarr"}], A),
    ("apps", A + ".radarr", "yes", A + ".radarr"),
    ("apps", A + ".radarr.enabled", "maybe", A + ".radarr.enabled"),
    ("apps", A + ".radarr.colour", "red", A + ".radarr"),
    ("apps", A + ".radar", {}, A + ".radar"),
    ("apps", A + ".Radarr-HD", {"kind": "radarr"}, A + ".Radarr-HD"),
    ("apps", A + ".radarr.port", "http", A + ".radarr.port"),
    ("apps", A + ".radarr.port", 70000, A + ".radarr.port"),
    ("apps", A + ".radarr.port", 0, A + ".radarr.port"),
    ("apps", A + ".radarr.hostname", "My Movies", A + ".radarr.hostname"),
    ("apps", A + ".radarr.hostname", "movies.example.org.", A + ".radarr.hostname"),
    ("apps", A + ".radarr.hostname", "sonarr.media.example.org", A),
    ("apps", A + ".radarr.image", "radarr", A + ".radarr.image"),
    ("apps", A + ".radarr.image", "ghcr.io/home-operations/radarr:latest", A + ".radarr.image"),
    ("apps", A + ".radarr.requests", {"cpu": "2 cpus"}, A + ".radarr.requests.cpu"),
    ("apps", A + ".radarr.requests", {"cpu": "-1"}, A + ".radarr.requests.cpu"),
    ("apps", A + ".radarr.requests", {"memory": "128m"}, A + ".radarr.requests.memory"),
    ("apps", A + ".radarr.requests", {"cpu": "4"}, A + ".radarr.requests.cpu"),
    ("apps", A + ".radarr.requests", {"memory": "2Gi"}, A + ".radarr.requests.memory"),
    ("apps", A + ".radarr.requests", {"gpu": 1}, A + ".radarr.requests"),
    ("apps", A + ".radarr.limits", {"memory": "1GiB"}, A + ".radarr.limits.memory"),
    ("apps", A + ".radarr.limits", {"cpu": "2Gi"}, A + ".radarr.limits.cpu"),
    ("apps", A + ".radarr.limits", ["1"], A + ".radarr.limits"),
    ("apps", A + ".radarr.config_size", "big", A + ".radarr.config_size"),
    ("apps", A + ".radarr.env", "FOO=bar", A + ".radarr.env"),
    ("apps", A + ".radarr.env", {"MY-VAR": "x"}, A + ".radarr.env"),
    ("apps", A + ".radarr.env", {"X": {"a": 1}}, A + ".radarr.env"),
    ("apps", A + ".radarr.node_selector", {"kubernetes.io/hostname": "pi 1"}, A + ".radarr.node_selector"),
    ("apps", A + ".radarr.node_selector", "pi-1", A + ".radarr.node_selector"),
    # -- hardware transcoding (docs/gpu.md) -------------------------------------------------------------------------
    ("apps", A + ".jellyfin.transcoding", {"device": "nvidia"}, A + ".jellyfin.transcoding.device"),
    ("apps", A + ".jellyfin.transcoding", {"device": "intel", "render_gid": "render"},
     A + ".jellyfin.transcoding.render_gid"),
    ("apps", A + ".jellyfin.transcoding", {"device": "amd", "decode_codecs": ["h265"]},
     A + ".jellyfin.transcoding.decode_codecs"),
    ("apps", A + ".radarr.transcoding", {"device": "intel"}, A + ".radarr.transcoding"),
    # the example's Jellyfin runs on a Pi: no Intel GPU on an ARM node
    ("apps", A + ".jellyfin", {"node_selector": {"kubernetes.io/arch": "arm64"}, "transcoding": {"device": "intel"}},
     A + ".jellyfin.transcoding.device"),
    ("apps", A + ".radarr.url", "radarr:7878", A + ".radarr.url"),
    ("apps", A + ".radarr.controller_url", "ftp://radarr", A + ".radarr.controller_url"),
    ("apps", A + ".radarr.external", "maybe", A + ".radarr.external"),
    ("apps", A + ".radarr.ingress", "sometimes", A + ".radarr.ingress"),
    ("apps", A + ".transmission", {}, A + ".transmission"),
    # -- each instance's wiring ------------------------------------------------------------------------------------
    ("apps", A + ".radarr.wiring", {"colour": "red"}, A + ".radarr.wiring"),
    ("apps", A + ".radarr.wiring", {"is_4k": "maybe"}, A + ".radarr.wiring.is_4k"),
    ("apps", A + ".radarr.wiring", {"root_folder": "movies"}, A + ".radarr.wiring.root_folder"),
    ("apps", A + ".radarr.wiring", {"root_folder": "/srv/movies"}, A + ".radarr.wiring.root_folder"),
    ("apps", A + ".radarr.wiring", {"category": ""}, A + ".radarr.wiring.category"),
    ("apps", A + ".radarr-4k.wiring", {"root_folder": "/data/media/movies"}, "wiring.root_folder"),
    ("apps", A + ".radarr-4k.wiring", {"category": "radarr"}, "wiring.category"),
    # -- platform: load balancer, ingress, certificates ------------------------------------------------------------
    ("platform", "arrkestra_distribution", "k8s", "arrkestra_distribution"),
    ("platform", "arrkestra_load_balancer", ["metallb"], "arrkestra_load_balancer"),
    ("platform", "arrkestra_load_balancer.type", "haproxy", "arrkestra_load_balancer.type"),
    ("platform", "arrkestra_load_balancer.addresses", ["192.168.2.240-192.168.2.250"],
     "arrkestra_load_balancer.addresses"),
    ("platform", "arrkestra_load_balancer.addresses", ["banana"], "arrkestra_load_balancer.addresses"),
    ("platform", "arrkestra_load_balancer.addresses", ["192.168.1.250-192.168.1.240"],
     "arrkestra_load_balancer.addresses"),
    ("platform", "arrkestra_load_balancer.networks", ["192.168.1.0/33"], "arrkestra_load_balancer.networks"),
    ("platform", "arrkestra_load_balancer.addresses", ["192.168.1.10-192.168.1.20"], "arrkestra_load_balancer.addresses"),
    ("nodes", "arrkestra_load_balancer.addresses", ["192.168.1.12/30"], "arrkestra_load_balancer.addresses"),
    ("platform", "arrkestra_load_balancer.networks", DELETE, "arrkestra_load_balancer.networks"),
    ("platform", "arrkestra_ingress.load_balancer_ip", "not-an-ip", "arrkestra_ingress.load_balancer_ip"),
    ("platform", "arrkestra_ingress.load_balancer_ip", "192.168.1.100", "arrkestra_ingress.load_balancer_ip"),
    ("platform", "arrkestra_ingress.enabled", "maybe", "arrkestra_ingress.enabled"),
    ("platform", "arrkestra_ingress.redirect_https", "sometimes", "arrkestra_ingress.redirect_https"),
    ("platform", "arrkestra_certificates.issuer", "zerossl", "arrkestra_certificates.issuer"),
    ("platform", "arrkestra_certificates.email", "admin", "arrkestra_certificates.email"),
    ("platform", "arrkestra_certificates.email", DELETE, "arrkestra_certificates.email"),
    ("platform", "arrkestra_certificates.cloudflare_api_token", DELETE, "arrkestra_certificates.cloudflare_api_token"),
    ("platform", "arrkestra_certificates.acme_server", "letsencrypt", "arrkestra_certificates.acme_server"),
    ("platform", "arrkestra_domain", "media.home.arpa", "arrkestra_domain"),
    # -- storage, monitoring ---------------------------------------------------------------------------------------
    ("platform", "arrkestra_storage.nfs_server", "nas box", "arrkestra_storage.nfs_server"),
    ("platform", "arrkestra_storage.nfs_server", DELETE, "arrkestra_storage.nfs_server"),
    ("platform", "arrkestra_storage.nfs_export", "volume1", "arrkestra_storage.nfs_export"),
    ("platform", "arrkestra_storage.nfs_storage_class", "NFS", "arrkestra_storage.nfs_storage_class"),
    ("platform", "arrkestra_monitoring.retention", "15 days", "arrkestra_monitoring.retention"),
    ("platform", "arrkestra_monitoring.storage_size", "huge", "arrkestra_monitoring.storage_size"),
    ("platform", "arrkestra_monitoring.min_memory", "6 GB", "arrkestra_monitoring.min_memory"),
    ("platform", "arrkestra_monitoring.disk_alert_percent", 120, "arrkestra_monitoring.disk_alert_percent"),
    ("platform", "arrkestra_monitoring.queue_stuck_hours", "six", "arrkestra_monitoring.queue_stuck_hours"),
    ("platform", "arrkestra_monitoring.grafana_hostname", "Grafana Home", "arrkestra_monitoring.grafana_hostname"),
    ("platform", "arrkestra_monitoring.colour", "red", "arrkestra_monitoring"),
    # -- VPN -------------------------------------------------------------------------------------------------------
    ("platform", "arrkestra_vpn.enabled", "maybe", "arrkestra_vpn.enabled"),
    ("platform", "arrkestra_vpn.port", 99999, "arrkestra_vpn.port"),
    ("platform", "arrkestra_vpn", dict(_base()["arrkestra_vpn"], provider="nordvpn", port=1234), "arrkestra_vpn.port"),
    ("platform", "arrkestra_vpn.provider", "mulvad", "arrkestra_vpn.provider"),
    ("platform", "arrkestra_vpn.provider", "perfectprivacy", "arrkestra_vpn.provider"),
    ("platform", "arrkestra_vpn.provider", "expressvpn", "arrkestra_vpn"),
    ("platform", "arrkestra_vpn.type", "ipsec", "arrkestra_vpn.type"),
    ("platform", "arrkestra_vpn.protocol", "ICMP", "arrkestra_vpn.protocol"),
    ("platform", "arrkestra_vpn.endpoints", DELETE, "arrkestra_vpn.endpoints"),
    ("platform", "arrkestra_vpn.endpoints", ["somewhere"], "arrkestra_vpn.endpoints"),
    ("platform", "arrkestra_vpn.credentials", {}, "arrkestra_vpn.credentials"),
    ("platform", "arrkestra_vpn.credentials", "secret", "arrkestra_vpn.credentials"),
    ("platform", "arrkestra_vpn.apps", ["sonarrr"], "arrkestra_vpn.apps"),
    ("platform", "arrkestra_vpn.settings", {"server-countries": "Sweden"}, "arrkestra_vpn.settings"),
    ("platform", "arrkestra_vpn.port_forwarding", "sometimes", "arrkestra_vpn.port_forwarding"),
    ("platform", "arrkestra_vpn.port_forwarding", True, "arrkestra_vpn.provider"),      # mullvad forwards no port
    ("apps", "arrkestra_vpn", dict(_base()["arrkestra_vpn"], provider="custom", port=51820, port_forwarding=True),
     "arrkestra_vpn.settings"),
    ("platform", "arrkestra_vpn.settings", {"VPN_PORT_FORWARDING": "on"}, "arrkestra_vpn.port_forwarding"),
    # -- backups, policies, cluster --------------------------------------------------------------------------------
    ("platform", "arrkestra_backups.schedule", "nightly", "arrkestra_backups.schedule"),
    ("platform", "arrkestra_backups.keep", 0, "arrkestra_backups.keep"),
    ("platform", "arrkestra_backups.dir", "/backups", "arrkestra_backups.dir"),
    ("platform", "arrkestra_sso.enabled", "maybe", "arrkestra_sso.enabled"),
    ("platform", "arrkestra_sso.provider", "keycloak", "arrkestra_sso.provider"),
    ("platform", "arrkestra_sso.two_factor", True, "arrkestra_sso.two_factor"),
    ("platform", "arrkestra_sso.hostname", "login.example.net", "arrkestra_sso.hostname"),
    ("platform", "arrkestra_sso.users", {"alice": "her password"}, "arrkestra_sso.users.alice.password_hash"),
    ("apps", "arrkestra_sso.users", {"admin": "$2y$10$" + "a" * 53}, "arrkestra_sso.users.admin"),
    ("apps", "arrkestra_network_policies.enabled", False, "arrkestra_network_policies.enabled"),
    ("apps", "arrkestra_apps.radarr.sso", "sometimes", "arrkestra_apps.radarr.sso"),
    ("platform", "arrkestra_network_policies.allow_cidrs", ["everywhere"], "arrkestra_network_policies.allow_cidrs"),
    ("platform", "arrkestra_network_policies.enabled", "maybe", "arrkestra_network_policies.enabled"),
    ("platform", "arrkestra_cluster_cidrs", ["10.42.0.0/16", "x"], "arrkestra_cluster_cidrs"),
    ("platform", "arrkestra_helm_controller", True, "arrkestra_helm_controller"),
    ("platform", "platform_mode", "dry-run", "platform_mode"),
    ("platform", "platform_render_secrets", "maybe", "platform_render_secrets"),
    ("platform", "platform_rendr_dir", "/tmp", "platform_rendr_dir"),
    # -- wiring ----------------------------------------------------------------------------------------------------
    ("wiring", EXTRA, [{"app": "radarr", "group": "download_clients", "item": {"name": "nas"}}], EXTRA + "[0]"),
    ("wiring", EXTRA, [{"app": "radarr", "group": "indexers", "item": {"name": "x"}}], EXTRA + "[0].group"),
    ("wiring", EXTRA, [{"app": "nope", "group": "tags", "item": {"label": "x"}}], EXTRA + "[0].app"),
    ("wiring", EXTRA, [{"app": "radarr", "group": "tags", "item": {"label": "x", "colour": 1}}], EXTRA + "[0].item"),
    ("wiring", EXTRA, [{"app": "qbittorrent", "group": "categories", "item": {"save_path": "/x"}}], EXTRA + "[0]"),
    ("wiring", EXTRA, [{"app": "radarr", "group": "download_clients",
                        "item": {"name": "x", "implementation": "Deluge", "port": "http"}}], EXTRA + "[0].item"),
    ("wiring", EXTRA, [{"app": "prowlarr", "group": "applications", "secrets": {"app_api_key": ["radarr", "token"]},
                        "item": {"name": "r", "implementation": "Radarr", "base_url": "http://r:7878",
                                 "prowlarr_url": "http://p:9696"}}], EXTRA + "[0].secrets"),
    ("wiring", EXTRA, [{"app": "jellyfin", "group": "startup", "item": {"server_name": "x"}}], EXTRA + "[0].group"),
    ("wiring", EXTRA, ["x"], EXTRA),
    ("wiring", EXTRA, [{"app": "radarr", "group": "tags", "item": {"label": "x"}, "colour": 1}], EXTRA + "[0]"),
    ("wiring", "wiring_disabled_links", ["radarr/indexers"], "wiring_disabled_links"),
    ("wiring", "wiring_login_update_password", "sometimes", "wiring_login_update_password"),
    ("wiring", "wiring_credentials_source", "vault", "wiring_credentials_source"),
    ("wiring", "wiring_validate_certs", "maybe", "wiring_validate_certs"),
    ("wiring", "wiring_wait_timeout", "long", "wiring_wait_timeout"),
    ("wiring", "wiring_extra_link", [], "wiring_extra_link"),
    ("wiring", A + ".radarr.wiring", {"default": "maybe"}, A + ".radarr.wiring.default"),
    # -- environments: several stacks (docs/environments.md) ---------------------------------------------------------
    ("apps", "arrkestra_stack", "prod", "arrkestra_stack"),
    ("wiring", "arrkestra_stack", "qa", "arrkestra_stack"),
    ("platform", "arrkestra_stacks", {"main": {}}, "arrkestra_stacks.main"),
    ("apps", "arrkestra_stacks", {"Dev": {}}, "arrkestra_stacks.Dev"),
    ("apps", "arrkestra_stacks", {"dev": {"monitoring": {"enabled": False}}}, "arrkestra_stacks.dev.monitoring"),
    ("platform", "arrkestra_stacks", {"dev": {"certificates": {"issuer": "selfsigned"}}}, "arrkestra_stacks.dev.certificates"),
    ("apps", "arrkestra_stacks", {"dev": {"vpn": {"provider": "mullvad"}}}, "arrkestra_stacks.dev.vpn.provider"),
    ("apps", "arrkestra_stacks", {"dev": {"apps": {"radar": {}}}}, "arrkestra_stacks.dev.apps.radar"),
    ("apps", "arrkestra_stacks", {"dev": {"data": {"sub_path": "../main"}}}, "arrkestra_stacks.dev.data.sub_path"),
    ("apps", "arrkestra_stacks", {"dev": {"domian": "dev.example.org"}}, "arrkestra_stacks.dev"),
    ("wiring", "arrkestra_stacks", {"dev": {"uid": 0}}, "arrkestra_stacks.dev.uid"),
    # -- nodes -----------------------------------------------------------------------------------------------------
    ("nodes", "k3s_versoin", "v1.34.4+k3s1", "k3s_versoin"),
    ("nodes", "node_prep_reboot", "maybe", "node_prep_reboot"),
    ("nodes", "k3s_disable", {"servicelb": True}, "k3s_disable"),
    ("nodes", "talos_versoin", "v1.11.5", "talos_versoin"),
    ("nodes", "arrkestra_distribution", "k8s", "arrkestra_distribution"),
    ("nodes", "arrkestra_uid", 0, "arrkestra_uid"),
    ("nodes", "apps_purg", True, "apps_purg"),
]


def _override(path, value):
    """``-e`` values that set one variable, or one key inside one (the rest of it as the example has it)."""
    name, dummy, rest = path.partition(".")
    if not rest:
        return {name: value}
    top = copy.deepcopy(_base().get(name) or {})
    keys = rest.split(".")
    node = top
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if value is DELETE:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return {name: top}


def _id(case, width=48):
    phase, path, value, dummy = case
    return "%s:%s=%s" % (phase, path, "<deleted>" if value is DELETE else json.dumps(value)[:width])


def test_the_table_is_large_and_each_value_named_once():
    assert len(CASES) >= 100
    ids = [_id(c, None) for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_a_wrong_value_stops_the_phase_before_any_change(case, tmp_path):
    phase, path, value, variable = case
    playbook, *args = PLAYBOOKS[phase]
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps(_override(path, value)))
    out = tmp_path / "rendered"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", HOME=str(tmp_path))
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", INVENTORY, os.path.join(ROOT, "playbooks", playbook), *args,
         "-e", "apps_render_dir=%s/apps" % out, "-e", "platform_render_dir=%s/platform" % out, "-e", "@%s" % extra],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0, "accepted: %s\n%s" % (_id(case), text[-3000:])
    failed = [line for line in text.splitlines() if "FAILED!" in line]
    assert len(failed) == 1, text[-3000:]
    message = text[text.index("FAILED!"):]
    # Ours name it as a path; Ansible's check of a role's argument spec says "'<key>' ... found in '<parent>'".
    parent, dummy, key = variable.rpartition(".")
    ansible_form = r"\b%s\b.* found in '?%s\b" % (re.escape(key), re.escape(parent))
    named = variable in message or parent and re.search(ansible_form, message.replace("''", "'"))
    assert named, "the message does not name %s:\n%s" % (variable, message[:2000])
    assert not [u for u in UNCLEAR if u in text], "unclear error:\n%s" % message[:2000]
    assert not out.exists(), "written before the check: %s" % sorted(os.listdir(out))
    assert not re.search(r"^(ok|changed): \[pi-", text, re.M), "a node was reached:\n%s" % text[-3000:]
    assert not re.search(r"^changed: ", text, re.M) and " changed=0 " in text, text[-3000:]
