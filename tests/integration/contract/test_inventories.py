"""The contract between the phases, over every inventory the project ships or tests with.

Each inventory's stack model is computed the way the phases compute it (the ``stack`` role
in a playbook run, every variable resolved by Ansible), then every fact that more than one
phase reads is checked to agree: the links derive, every root folder the wiring phase
gives an arr app is made by the data layout, the 4K flag is the same for Seerr, Recyclarr
and Bazarr, categories match between the download clients and the arr apps, and the
controller has a way to every app it calls.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    catalog, links as link_model, model as stack_model, platform as platform_model, recyclarr, workloads)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
INVENTORIES = sorted(glob.glob(os.path.join(ROOT, "inventories", "*"))
                     + glob.glob(os.path.join(ROOT, "tests", "fixtures", "inventories", "*")))

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=INVENTORIES, ids=lambda p: os.path.relpath(p, ROOT))
def model(request, tmp_path_factory):
    """The stack model of an inventory, as the stack role computes it."""
    play = tmp_path_factory.mktemp("contract") / "model.yml"
    play.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "roles": ["arrkestra.homelab.stack"],
                                 "tasks": [{"name": "model", "ansible.builtin.debug": {"var": "stack_model"}}]}]))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", request.param, str(play),
                           "-e", "ansible_python_interpreter=%s" % sys.executable],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    tasks = json.loads(proc.stdout)["plays"][0]["tasks"]
    return [t for t in tasks if t["task"]["name"] == "model"][0]["hosts"]["localhost"]["stack_model"]


def links_of(model):
    data = model["data"]
    return link_model.derive([a for a in model["apps"] if a["wired"]], {
        "media_root": data["media_root"], "torrents_root": data["torrents_root"], "usenet_root": data["usenet_root"]})


def test_the_links_derive_from_the_wired_apps(model):
    links = links_of(model)
    assert links
    wired = set(a["name"] for a in model["apps"] if a["wired"])
    assert set(link["app"] for link in links) <= wired
    for app in model["apps"]:
        # an app nobody calls (Unpackerr: it only calls the arr apps) has a URL for its probe, and is not wired
        assert app["wired"] == (bool(app["url"]) and catalog.CATALOG[app["kind"]].get("wired", True)), app["name"]
        if app["cronjob"]:
            assert not app["wired"]


def test_every_root_folder_is_made_by_the_data_layout(model):
    job = [o for o in workloads.objects(model) if o["kind"] == "Job" and o["metadata"]["name"].startswith(
        "arrkestra-data-layout")][0]
    made = job["spec"]["template"]["spec"]["containers"][0]["args"]
    for link in links_of(model):
        if link["group"] == "root_folders":
            assert link["item"]["path"] in made
        if link["group"] == "libraries":
            assert set(link["item"]["paths"]) <= set(made)
        if link["group"] == "services":
            assert link["item"]["root_folder"] in made


def test_the_4k_flag_agrees_everywhere(model):
    apps = dict((a["name"], a) for a in model["apps"])
    config, dummy = recyclarr.config(model)
    synced = yaml.safe_load(config.replace("!env_var ", ""))
    for kind in ("radarr", "sonarr"):
        for name, entry in (synced.get(kind) or {}).items():
            templates = [t["template"] for t in entry["include"]]
            assert templates == recyclarr.TRASH_TEMPLATES[(kind, apps[name]["wiring"]["is_4k"])]
    for link in links_of(model):
        if link["group"] == "services":
            assert link["item"]["is_4k"] == apps[link["item"]["name"]]["wiring"]["is_4k"]
        if link["group"] == "connections":
            assert not apps[link["to"]]["wiring"]["is_4k"] or all(
                a["wiring"]["is_4k"] for a in model["apps"] if a["kind"] == apps[link["to"]]["kind"])


def test_categories_agree_between_the_clients_and_the_arr_apps(model):
    links = links_of(model)
    apps = dict((a["name"], a) for a in model["apps"])
    made = dict(((link["app"], link["item"]["name"]), link) for link in links if link["group"] == "categories")
    for link in links:
        if link["group"] == "download_clients" and apps[link["to"]]["kind"] in ("qbittorrent", "sabnzbd"):
            assert link["item"]["category"] == apps[link["app"]]["wiring"]["category"]
            assert (link["to"], link["item"]["category"]) in made


def test_the_controller_has_a_way_to_every_app_it_calls(model):
    for app in model["apps"]:
        if not app["wired"] or app["kind"] == "flaresolverr":
            continue
        if app["controller_access"] == "apiserver_proxy":
            assert app["proxy_path"] == "/api/v1/namespaces/%s/services/http:%s:%d/proxy" % (
                model["namespace"], app["name"], app["port"])
        else:
            assert app["controller_url"], app["name"]


def test_every_documented_variable_reaches_the_model():
    with open(os.path.join(ROOT, "roles", "stack", "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        documented = set(o[len("arrkestra_"):] for o in yaml.safe_load(handle)["argument_specs"]["main"]["options"]
                         if o.startswith("arrkestra_"))     # not the role's own (stack_gpu_labels)
    known = set(stack_model.DEFAULTS) | set(platform_model.DEFAULTS) | {"apps", "stack", "stacks"}
    assert documented == known
    # And each of them, set, is taken by the model (a misspelt one is refused, naming it).
    for name in sorted(set(stack_model.DEFAULTS) - {"data"}):
        stack_model.build({name: stack_model.DEFAULTS[name]})
    with pytest.raises(stack_model.StackError, match="arrkestra_colour is not a variable"):
        stack_model.build({"colour": "red"})
