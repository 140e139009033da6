# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the platform phase (plugins/plugin_utils/platform.py), read from the stack model."""

from __future__ import annotations

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import backups, checks, platform, workloads
from ansible_collections.arrkestra.homelab.plugins.filter.wiring import wiring_credentials


def platform_objects(model, stage=None):
    """The platform's objects except Secrets, in the order to apply them. ``stage``: ``base`` (what the cluster
    can take now, charts included) or ``charts`` (objects of kinds the charts define)."""
    objects = platform.objects(model)
    if stage == "base":
        return [o for o in objects if not platform.chart_kind(o)]
    if stage == "charts":
        return [o for o in objects if platform.chart_kind(o)]
    return objects


def platform_crds(model):
    """Names of the CRDs the ``charts`` stage needs, in order, each once."""
    names = []
    for obj in platform.objects(model):
        crd = platform.chart_kind(obj)
        if crd and crd not in names:
            names.append(crd)
    return names


def platform_waits(model):
    """``[{namespace, name}]`` of the charts' webhook Deployments to wait for before the ``charts`` stage."""
    return [{"namespace": ns, "name": name} for ns, name in platform.waits(model)]


def platform_secret_names(model):
    """``[{namespace, name}]`` of the platform's Secrets, to read back before making them."""
    return [{"namespace": ns, "name": name} for ns, name in platform.secret_names(model)]


def platform_secrets(model, variables, secret_reads=None):
    """The platform's Secrets. ``variables``: the ``arrkestra_*`` component variables without their prefix;
    ``secret_reads``: a registered ``k8s_info`` loop over :func:`platform_secret_names`. Use only with ``no_log``."""
    # The loop's items are {namespace, name}: what the Secrets hold comes back keyed by Secret name.
    return platform.secret_objects(model, variables, wiring_credentials(secret_reads or {}), os.urandom)


def platform_memory(model, nodes):
    """Check the cluster's memory for the monitoring stack; ``nodes``: a registered ``k8s_info`` of kind Node.
    Returns what was counted, or fails with what to change."""
    sizes = []
    for node in (nodes or {}).get("resources") or ():
        allocatable = ((node.get("status") or {}).get("allocatable") or {}).get("memory") or "0"
        sizes.append(checks.memory_mib(allocatable))
    try:
        return workloads.check_memory(model, sizes)
    except checks.InputError as exc:
        raise AnsibleFilterError(str(exc))


def existing_cluster_problems(model, cluster_info, storage_classes, crds):
    """What keeps the cluster the user brings from running the stack: one message per problem ([] if none).
    ``cluster_info``: a registered ``k8s_cluster_info``; ``storage_classes``, ``crds``: registered ``k8s_info``."""
    version = (((cluster_info or {}).get("version") or {}).get("server") or {}).get("kubernetes") or {}
    labels = dict(((c.get("metadata") or {}).get("name"), (c.get("metadata") or {}).get("labels") or {})
                  for c in (crds or {}).get("resources") or ())
    return platform.existing_cluster_problems(model, version.get("gitVersion"),
                                              (storage_classes or {}).get("resources") or [], labels)


def stack_restore_job(model, app, archive=""):
    """The Job that restores the backup ``archive`` (empty: the newest) of instance ``app``."""
    try:
        return backups.restore_job(model, app, archive or "")
    except checks.InputError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {
            "platform_objects": platform_objects,
            "platform_crds": platform_crds,
            "platform_waits": platform_waits,
            "platform_secret_names": platform_secret_names,
            "platform_secrets": platform_secrets,
            "platform_memory": platform_memory,
            "stack_restore_job": stack_restore_job,
            "existing_cluster_problems": existing_cluster_problems,
        }
