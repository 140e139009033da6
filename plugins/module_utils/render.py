# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects as a GitOps directory: one YAML file per object and a kustomization.

:func:`files` names and serialises the objects; :func:`plan` compares them with the directory
and says what to write and what to delete. The module ``k8s_render`` does the I/O.
"""

from __future__ import annotations

import os
import re

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core requires PyYAML
    yaml = None

FILE_RE = re.compile(r"^[a-z0-9][-a-z0-9.]*\.yaml$")
KUSTOMIZATION = "kustomization.yaml"


class RenderError(ValueError):
    """The objects cannot be written (no kind or name, two objects with one file)."""


class _Dumper(yaml.SafeDumper if yaml else object):
    """Block style; multi-line strings (scripts, chart values, dashboards) as literal blocks."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper, value):
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


if yaml:
    _Dumper.add_representer(str, _str)


def dump(obj):
    """An object as YAML text."""
    return yaml.dump(obj, Dumper=_Dumper, default_flow_style=False, sort_keys=False, allow_unicode=True, width=120)


def filename(obj, with_namespace=False):
    """``<kind>-<name>.yaml`` lower case; ``<namespace>.<kind>-<name>.yaml`` with ``with_namespace``."""
    try:
        name = "%s-%s.yaml" % (obj["kind"].lower(), obj["metadata"]["name"])
    except (KeyError, TypeError, AttributeError):
        raise RenderError("an object without kind or metadata.name: %r" % (obj,))
    namespace = (obj.get("metadata") or {}).get("namespace")
    if with_namespace and namespace:
        name = "%s.%s" % (namespace, name)
    if not FILE_RE.match(name):
        raise RenderError("%s is not a file name the objects can have" % name)
    return name


def files(objects, with_namespace=False, namespace=None):
    """``{file name: text}`` of the objects and, last, their kustomization (``namespace``: its namespace)."""
    out = {}
    for obj in objects:
        name = filename(obj, with_namespace)
        if name in out:
            raise RenderError("two objects would be written to %s; render them with with_namespace" % name)
        out[name] = dump(obj)
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    if namespace:
        kustomization["namespace"] = namespace
    kustomization["resources"] = list(out)
    out[KUSTOMIZATION] = dump(kustomization)
    return out


def read(directory, names):
    """``{file name: text}`` of the YAML files of ``directory`` (only ``names`` are read)."""
    out = {}
    if not os.path.isdir(directory):
        return out
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(".yaml") and os.path.isfile(path):
            if name in names:
                with open(path, encoding="utf-8") as handle:
                    out[name] = handle.read()
            else:
                out[name] = None
    return out


def plan(wanted, existing, prune=True, keep=False):
    """``(write, delete)``: the files whose text differs (or that are missing) and those no object has.

    ``keep``: an existing file is never rewritten (credentials made once)."""
    write = [n for n, text in wanted.items() if n not in existing or (not keep and existing[n] != text)]
    delete = sorted(n for n in existing if n not in wanted) if prune else []
    return write, delete
