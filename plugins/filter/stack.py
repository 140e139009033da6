# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the stack model (plugins/module_utils/_stack.py): computed once, read by every phase."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.arrkestra.homelab.plugins.module_utils import _stack
from ansible_collections.arrkestra.homelab.plugins.filter.wiring import wiring_credentials


def stack(variables):
    """The stack from the ``arrkestra_*`` variables, given without their prefix (``{"apps": ..., "namespace": ...}``)."""
    try:
        return _stack.build(dict(variables or {}))
    except _stack.StackError as exc:
        raise AnsibleFilterError("The inventory describes a stack that cannot run: %s" % exc)


def stack_objects(model, only=None):
    """Every object of the stack except the Secrets, in the order to apply them; with ``only``
    (instance names), just the objects of those apps."""
    if only:
        return [obj for app in model["apps"] if app["name"] in only and not app["external"]
                for obj in _stack.app_objects(model, app)]
    return _stack.objects(model)


def stack_prune(found, model, credentials_apps=None):
    """Of the objects ``found`` in the cluster (``k8s_info`` results), those the stack no longer has.

    ``found`` is a registered loop over kinds; each resource is ``{kind, metadata.name}``.
    """
    wanted = set((o["kind"], o["metadata"]["name"]) for o in _stack.objects(model))
    wanted |= set(("Secret", a["secret"]) for a in model["apps"] if a["secret"])
    gone = []
    for result in (found or {}).get("results", ()):
        for resource in result.get("resources") or ():
            if (resource["metadata"].get("labels") or {}).get("app.kubernetes.io/component") == "platform":
                continue    # the platform phase's own (the VPN credentials)
            key = (resource.get("kind") or (result.get("apps_kind") or {}).get("kind"), resource["metadata"]["name"])
            if key not in wanted:
                gone.append({"kind": key[0], "name": key[1],
                             "api_version": resource.get("apiVersion")})
    return gone


def stack_credentials(model, secret_reads=None):
    """Every app's credentials: those the Secrets hold (a registered ``k8s_info`` loop), the missing ones made now."""
    return _stack.complete_credentials(model, wiring_credentials(secret_reads or {}), os.urandom)


def stack_secrets(model, credentials):
    """The apps' Secrets. They hold credentials: use them only in tasks with ``no_log``."""
    return _stack.secret_objects(model, credentials)


def stack_summary(model):
    """One line per app: its URL and how to read its credentials."""
    return _stack.summary(model)


class FilterModule:
    def filters(self):
        return {
            "stack": stack,
            "stack_objects": stack_objects,
            "stack_prune": stack_prune,
            "stack_credentials": stack_credentials,
            "stack_secrets": stack_secrets,
            "stack_summary": stack_summary,
        }
