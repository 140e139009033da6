# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the stack model (plugins/plugin_utils/model.py): computed once, read by every phase."""

from __future__ import annotations

import copy
import glob
import os
import re

import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    checks, credentials as app_credentials, kube, links, model as stack_model, workloads)
from ansible_collections.arrkestra.homelab.plugins.filter.wiring import wiring_credentials


#: The prefixes of the roles' variables (what ``stack_unknown_variables`` checks).
ROLE_PREFIXES = ("k3s", "node_prep", "talos", "existing_cluster", "stack", "platform", "apps", "wiring")


def stack(variables, on_error="raise", nodes=None, gpu_nodes=None):
    """The stack from the ``arrkestra_*`` variables, given without their prefix (``{"apps": ..., "namespace": ...}``).

    A wrong value raises, or with ``on_error='return'`` gives ``{"error": message}``: the stack role fails with the
    message alone, not wrapped in the templating error's text. ``nodes``: ``{host: ansible_host}`` of the cluster's
    hosts (their addresses are kept out of MetalLB's pool); ``gpu_nodes``: ``{host: GPU facts or node labels}``, from
    which the apps' GPUs are decided (plugins/plugin_utils/gpu.py)."""
    try:
        return stack_model.build(dict(variables or {}), nodes, gpu_nodes)
    except stack_model.StackError as exc:
        if on_error == "return":
            return {"error": "Wrong inventory value, nothing was changed: %s" % exc}
        raise AnsibleFilterError("The inventory describes a stack that cannot run: %s" % exc)


def stack_unknown_variables(names, collection_root):
    """Of the variable ``names``, the role-prefixed ones (``k3s_*``, ``wiring_*``...) no role or playbook of the
    collection mentions: ``{"errors": [...], "warnings": [...]}`` - an error when a known name is close (a typo,
    whose value would be ignored), a warning when none is (perhaps a variable of the user's own)."""
    known = set()
    pattern = re.compile(r"\b(?:%s)_[a-z0-9_]+" % "|".join(ROLE_PREFIXES))
    for folder in ("roles", "playbooks"):
        for path in glob.glob(os.path.join(collection_root, folder, "**", "*.yml"), recursive=True):
            with open(path, encoding="utf-8") as handle:
                known.update(pattern.findall(handle.read()))
    out = {"errors": [], "warnings": []}
    for name in sorted(set(n for n in names or () if pattern.match(n)) - known):
        hint = checks.closest(name, known)
        if hint:
            out["errors"].append("%s is not a variable of the collection%s; its value would be ignored" % (name, hint))
        else:
            out["warnings"].append("%s is not a variable of the collection and is ignored" % name)
    return out


def stack_objects(model, only=None):
    """Every object of the stack except the Secrets, in the order to apply them; with ``only``
    (instance names), just the objects of those apps."""
    if only:
        return [obj for app in model["apps"] if app["name"] in only and not app["external"]
                for obj in workloads.app_objects(model, app)]
    return workloads.objects(model)


def stack_prune(found, model, credentials_apps=None):
    """Of the objects ``found`` in the cluster (``{kind, apiVersion, metadata}``, as kubernetes.core's ``k8s`` lookup
    lists them), those the stack no longer has."""
    wanted = set((o["kind"], o["metadata"]["name"]) for o in workloads.objects(model))
    wanted |= set(("Secret", a["secret"]) for a in model["apps"] if a["secret"])
    gone = []
    for resource in found or ():
        if (resource["metadata"].get("labels") or {}).get("app.kubernetes.io/component") in ("platform", "wiring"):
            continue    # the platform phase's own (the VPN credentials), the wiring phase's record
        if (resource["kind"], resource["metadata"]["name"]) not in wanted:
            gone.append({"kind": resource["kind"], "name": resource["metadata"]["name"],
                         "api_version": resource["apiVersion"]})
    return gone


def stack_credentials(model, secret_reads=None):
    """Every app's credentials: those the Secrets hold (a registered ``k8s_info`` of the namespace's Secrets, or a loop
    over the apps), the missing ones made now."""
    reads = secret_reads if isinstance(secret_reads, dict) and not secret_reads.get("skipped") else {}
    return app_credentials.complete_credentials(model, wiring_credentials(reads, None, model["apps"]), os.urandom)


def stack_secrets(model, credentials):
    """The apps' Secrets. They hold credentials: use them only in tasks with ``no_log``."""
    return app_credentials.secret_objects(model, credentials)


def stack_restart_on_credentials(objects, model, credentials):
    """``objects`` with each Deployment's pod template annotated with a digest of what its app reads from its Secret
    at start (:func:`app_credentials.credentials_digest`; ``credentials`` as ``stack_credentials`` gives them): a key or
    password rotated in the Secret restarts the app; a key the wiring adds (Jellyfin's) does not."""
    apps = dict((a["name"], a) for a in model["apps"])
    out = []
    for obj in objects:
        app = apps.get(obj["metadata"]["name"]) if obj["kind"] == "Deployment" else None
        digest = app_credentials.credentials_digest(app, (credentials or {}).get(app["name"]), credentials) if app else None
        if digest:
            obj = copy.deepcopy(obj)
            template = obj["spec"]["template"]["metadata"]
            template["annotations"] = dict(template.get("annotations") or {}, **{app_credentials.CREDENTIALS_ANNOTATION: digest})
        out.append(obj)
    return out


#: What a client library says when the API server did not answer (urllib3's and the kubernetes client's words).
_UNREACHABLE = ("NewConnectionError", "Connection refused", "Max retries exceeded", "timed out",
                "RemoteDisconnected", "Connection reset", "Connection aborted")


def stack_failure(result, task, phase):
    """The message of a failed task of a phase (``ansible_failed_result``, ``ansible_failed_task``), in plain words
    when the Kubernetes API server did not answer; any other failure's own message, unchanged."""
    message = str((result or {}).get("msg") or "")
    if not any(word in message for word in _UNREACHABLE):
        return message
    where = re.search(r"host='([^']+)', port=(\d+)", message)
    server = "%s:%s" % where.groups() if where else "of the kubeconfig"
    reason = "refused the connection" if "refused" in message else "did not answer"
    return ("The Kubernetes API server %s %s while the %s phase ran (task: %s). What was applied before stays, and "
            "applying is idempotent: run the %s phase again once the API server answers (kubectl get --raw /readyz)."
            % (server, reason, phase, (task or {}).get("name") or "?", phase))


def stack_wiring_record(model, record, key=None):
    """The ConfigMap that keeps the wiring ``record`` in the stack's namespace (with ``key``: the Secret of the key
    of its fingerprints). ``model`` needs only the ``namespace``."""
    return links.record_object(model, record, key)


def stack_removal_item(resource):
    """``{kind, name, api_version}`` of a resource ``k8s_info`` listed (remove_stack.yml deletes it)."""
    return {"kind": resource.get("kind"), "name": resource["metadata"]["name"], "api_version": resource.get("apiVersion")}


#: What the cluster itself puts in every namespace: not an object of anyone's that removing a stack would lose.
_CLUSTER_MADE = (("ConfigMap", "kube-root-ca.crt"),)


def stack_not_ours(resources):
    """``kind/name`` of the ``resources`` the collection did not make (no ``app.kubernetes.io/managed-by=arrkestra``
    label; the cluster's own ConfigMap of its CA left out): while a stack's namespace holds one, remove_stack.yml
    keeps the namespace."""
    out = []
    for resource in resources or ():
        metadata = resource.get("metadata") or {}
        if (metadata.get("labels") or {}).get("app.kubernetes.io/managed-by") == kube.MANAGED_BY:
            continue
        if (resource.get("kind"), metadata.get("name")) in _CLUSTER_MADE or metadata.get("deletionTimestamp"):
            continue
        out.append("%s/%s" % (resource.get("kind"), metadata.get("name")))
    return sorted(out)


def stack_data_folder(data):
    """Where a stack's data tree is, in words (``data``: the model's ``data``)."""
    sub = ("/" + data["sub_path"]) if data.get("sub_path") else ""
    if data["type"] == "hostpath":
        return "%s%s on the node" % (data["path"].rstrip("/"), sub)
    if data["type"] == "nfs":
        return "%s:%s%s on the NAS" % (data["server"], data["export"].rstrip("/"), sub)
    return "%s of the volume of the claim %s" % (sub.lstrip("/") or "the top", data.get("claim"))


def stack_summary(model):
    """One line per app: its URL and how to read its credentials."""
    return stack_model.summary(model)


def stack_role_problems(values, collection_root, roles):
    """What is wrong with ``values`` (``{name: value}``) against the ``main`` argument specs of ``roles``: one
    message per variable, as the roles would say it when they start (later, and on the nodes)."""
    problems = []
    for role in roles:
        with open(os.path.join(collection_root, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
            options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
        for option in options.values():
            option.pop("required", None)      # the roles' own defaults are not loaded here
        given = dict((k, v) for k, v in (values or {}).items() if k in options)
        result = ArgumentSpecValidator(options).validate(given)
        problems.extend("%s (role %s)" % (message, role) for message in result.error_messages)
    return problems


class FilterModule:
    def filters(self):
        return {
            "stack": stack,
            "stack_unknown_variables": stack_unknown_variables,
            "stack_role_problems": stack_role_problems,
            "stack_objects": stack_objects,
            "stack_prune": stack_prune,
            "stack_credentials": stack_credentials,
            "stack_secrets": stack_secrets,
            "stack_summary": stack_summary,
            "stack_removal_item": stack_removal_item,
            "stack_not_ours": stack_not_ours,
            "stack_data_folder": stack_data_folder,
            "stack_wiring_record": stack_wiring_record,
            "stack_failure": stack_failure,
            "stack_restart_on_credentials": stack_restart_on_credentials,
        }
