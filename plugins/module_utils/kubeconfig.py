# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A cluster's kubeconfig merged into the user's, under one name.

k3s writes ``/etc/rancher/k3s/k3s.yaml`` and ``talosctl kubeconfig`` a file of
its own, both with a cluster, a user and a context all called ``default`` (or
the cluster's name) and a server address that is often ``127.0.0.1``. Merged
as they are, two clusters overwrite each other. Here the three entries take
the name the user chose, the server the address the controller reaches, and
every other entry of the user's file stays as it was.
"""

from __future__ import annotations

import copy

SECRET_KEYS = ("client-key-data", "token", "password")
"""Entries of a kubeconfig user that never appear in a diff or a result."""

SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))


class KubeconfigError(ValueError):
    """A kubeconfig that can't be used, with what to do about it."""


def empty():
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [], "users": [], "contexts": [], "current-context": ""}


def _named(entries, name):
    for entry in entries or ():
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry
    return None


def extract(source, server=None):
    """The cluster, user and context of ``source`` (a parsed kubeconfig) that its context points at.

    ``source``'s current context is used, or its only context. ``server``, when
    given, replaces the cluster's server address.
    """
    if not isinstance(source, dict) or not source.get("contexts"):
        raise KubeconfigError("the cluster's kubeconfig holds no context; is it a kubeconfig file at all?")
    contexts = source["contexts"]
    name = source.get("current-context") or (contexts[0].get("name") if len(contexts) == 1 else None)
    context = _named(contexts, name)
    if context is None:
        raise KubeconfigError(
            "the cluster's kubeconfig has %d contexts and no current one (%s); set one with "
            "kubectl config use-context" % (len(contexts), ", ".join(sorted(str(c.get("name")) for c in contexts))))
    ctx = context.get("context") or {}
    cluster = _named(source.get("clusters"), ctx.get("cluster"))
    user = _named(source.get("users"), ctx.get("user"))
    if cluster is None or user is None:
        raise KubeconfigError("context %r of the cluster's kubeconfig names a cluster or user it does not define" % name)
    cluster = copy.deepcopy(cluster.get("cluster") or {})
    if server:
        cluster["server"] = server
    if not cluster.get("server"):
        raise KubeconfigError("the cluster's kubeconfig has no server address; give one with server")
    return {"cluster": cluster, "user": copy.deepcopy(user.get("user") or {}),
            "context": {k: v for k, v in ctx.items() if k not in ("cluster", "user")}}


def merge(target, entries, name, current=True):
    """``target`` (a parsed kubeconfig, or None) with ``entries`` (from :func:`extract`) stored as ``name``.

    The cluster, the user and the context are all named ``name``; other entries
    of ``target`` are kept. Returns a new dict; ``target`` is not modified.
    """
    merged = copy.deepcopy(target) if target else empty()
    if not isinstance(merged, dict):
        raise KubeconfigError("the kubeconfig to merge into is not a YAML mapping; fix or move it away")
    for section, key in SECTIONS:
        value = copy.deepcopy(entries[key])
        if key == "context":
            value = dict(value, cluster=name, user=name)
        items = list(merged.get(section) or [])
        entry = _named(items, name)
        if entry is None:
            items.append({"name": name, key: value})
        else:
            items[items.index(entry)] = {"name": name, key: value}
        merged[section] = items
    for key, value in empty().items():
        merged.setdefault(key, value)
    if current:
        merged["current-context"] = name
    return merged


def remove(target, name):
    """``target`` without the cluster, user and context called ``name``."""
    if not target:
        return target
    removed = copy.deepcopy(target)
    for section, dummy in SECTIONS:
        if removed.get(section):
            removed[section] = [e for e in removed[section] if not (isinstance(e, dict) and e.get("name") == name)]
    if removed.get("current-context") == name:
        removed["current-context"] = ""
    return removed


def view(config, name):
    """What a diff shows of ``name`` in ``config``: its three entries, secrets hidden."""
    if not config:
        return {}
    shown = {}
    for section, key in SECTIONS:
        entry = _named(config.get(section), name)
        if entry is not None:
            value = copy.deepcopy(entry.get(key) or {})
            if key == "user":
                value = dict((k, "<hidden>" if k in SECRET_KEYS and v else v) for k, v in value.items())
            shown[key] = value
    if shown:
        shown["current"] = config.get("current-context") == name
    return shown
