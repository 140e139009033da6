# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes objects as a GitOps directory: one YAML file per object and a kustomization.

:func:`files` names and serialises the objects; :func:`ownership` says which files of the directory a render
wrote (from its :data:`MARKER`) and refuses a folder holding anything else; :func:`plan` says what to write and
what to delete. The module ``k8s_render`` does the I/O.
"""

from __future__ import annotations

import json
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


#: The record a render keeps in its folder: what it holds and the files it wrote. Only those are ever rewritten or
#: deleted; a folder without it is rendered into only when it is empty (or holds nothing but files of this render).
MARKER = ".arrkestra-render.json"


def read(directory, names):
    """``{file name: text}`` of the files ``names`` that are in ``directory``."""
    out = {}
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                out[name] = handle.read()
    return out


def ownership(directory, what, names):
    """The files of ``directory`` this render (``what``: apps, platform...) wrote before, from its marker; raises
    :class:`RenderError` when the folder holds anything else the collection did not write there."""
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            raise RenderError("%s is a file, not a folder" % directory)
        return []
    marker = os.path.join(directory, MARKER)
    entries = sorted(e for e in os.listdir(directory) if e != MARKER)
    if os.path.isfile(marker):
        try:
            with open(marker, encoding="utf-8") as handle:
                record = json.load(handle)
            owner, written = record["what"], list(record["files"])
        except (ValueError, KeyError, TypeError):
            raise RenderError("%s is not a render record; move it away and render again" % marker)
        if owner != what:
            raise RenderError("%s holds the %s files of another render; render the %s into a folder of its own"
                              % (directory, owner, what))
        return [n for n in written if n in entries]
    foreign = [e for e in entries if e not in names and not os.path.isfile(os.path.join(directory, e, MARKER))]
    if foreign:
        raise RenderError("%s holds files the collection did not write (%s%s): render only into an empty folder, or "
                          "one it rendered into before; nothing was written or deleted"
                          % (directory, ", ".join(foreign[:5]), ", ..." if len(foreign) > 5 else ""))
    return entries


def record(what, names):
    """The text of the marker of a folder that now holds ``names``."""
    return json.dumps({"what": what, "files": sorted(names),
                       "note": "written by arrkestra.homelab.k8s_render: it rewrites and deletes only these files"},
                      indent=1) + "\n"


def plan(wanted, existing, owned=None, prune=True, keep=False):
    """``(write, delete)``: the files whose text differs (or that are missing), and those of ``owned`` (the files
    this render wrote before) that no object has any more.

    ``keep``: an existing file is never rewritten (credentials made once)."""
    write = [n for n, text in wanted.items() if n not in existing or (not keep and existing[n] != text)]
    delete = sorted(n for n in (owned or ()) if n not in wanted) if prune else []
    return write, delete


def inside_installed_collection(directory):
    """The installed collection (a folder with MANIFEST.json under ansible_collections/) ``directory`` is in."""
    path = os.path.realpath(directory)
    while True:
        parent = os.path.dirname(path)
        if os.path.basename(os.path.dirname(parent)) == "ansible_collections" and \
                os.path.isfile(os.path.join(path, "MANIFEST.json")):
            return path
        if parent == path:
            return None
        path = parent
