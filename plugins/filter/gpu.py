# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of hardware transcoding (plugins/plugin_utils/gpu.py): a node's labels from its GPU, the stack's GPUs
decided from the cluster's nodes."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import checks, gpu


def gpu_node_labels(facts):
    """``["key=value", ...]``: the labels of a node, from what ``gpu_facts`` found on it (``kubectl label`` args)."""
    return ["%s=%s" % (k, v) for k, v in sorted(gpu.node_labels(facts).items())]


def stack_gpus(model, nodes, on_error="raise"):
    """The stack model with its apps' GPUs decided from ``nodes``: the Node objects ``k8s_info`` read, or
    ``{name: labels}``."""
    if isinstance(nodes, (list, tuple)):
        nodes = dict(((n.get("metadata") or {}).get("name"), (n.get("metadata") or {}).get("labels") or {})
                     for n in nodes)
    try:
        return gpu.with_nodes(model, nodes or {})
    except checks.InputError as exc:
        if on_error == "return":
            return {"error": "Wrong inventory value, nothing was changed: %s" % exc}
        raise AnsibleFilterError("The inventory asks for a GPU the nodes do not have: %s" % exc)


class FilterModule:
    def filters(self):
        return {"gpu_node_labels": gpu_node_labels, "stack_gpus": stack_gpus}
