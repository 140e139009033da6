#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: k8s_render
short_description: Write Kubernetes objects to a GitOps directory, one YAML file each, with a kustomization
version_added: 0.3.0
description:
  - Writes each object of O(objects) to O(dest) as C(<kind>-<name>.yaml) (C(<namespace>.<kind>-<name>.yaml) with
    O(with_namespace)), and a C(kustomization.yaml) listing them, for Flux or Argo CD.
  - A file is written only when its text differs, so a second run with the same objects changes nothing.
  - The module writes only into an empty (or missing) folder, or one it rendered into before, and never deletes a
    file it did not write - it keeps the list of its files in C(.arrkestra-render.json) in O(dest). A folder holding
    anything else, or the files of another render (O(name)), is refused before anything is written. With
    O(prune), the files it wrote that no object has any more are deleted.
  - O(dest) inside an installed collection is refused - an upgrade would lose it.
  - With O(secrets), the objects are Secrets - written readable by the owner only, never logged, never shown in
    a diff, never rewritten once they exist (credentials made on the first render stay), never pruned, and
    without a kustomization (encrypt them before they go to git).
author: Arrkestra engineers (@arrkestra)
options:
  dest:
    description: The directory; made when missing.
    type: path
    required: true
  objects:
    description: The objects, as mappings with C(kind) and C(metadata.name).
    type: list
    elements: dict
    required: true
  name:
    description:
      - What the folder holds (C(apps), C(platform)), kept in its record; rendering something else into the same folder
        is refused. Defaults to the folder's name.
    type: str
  with_namespace:
    description: Put the namespace in the file names (objects of several namespaces with one name).
    type: bool
    default: false
  namespace:
    description: The C(namespace) of the kustomization.
    type: str
  prune:
    description: Delete the files the module wrote in O(dest) before that no object has any more.
    type: bool
    default: true
  secrets:
    description: The objects are Secrets - see the description.
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - One diff per written or deleted file; Secrets show as C(<hidden>).
"""

EXAMPLES = r"""
- name: Render the stack's objects for GitOps
  arrkestra.homelab.k8s_render:
    dest: "{{ playbook_dir }}/rendered/apps"
    objects: "{{ stack_model | arrkestra.homelab.stack_objects }}"
    namespace: media

- name: Render the Secrets beside them (encrypt them before committing)
  arrkestra.homelab.k8s_render:
    dest: "{{ playbook_dir }}/rendered/apps/secrets"
    objects: "{{ stack_model | arrkestra.homelab.stack_secrets(credentials) }}"
    secrets: true
  no_log: true
"""

RETURN = r"""
files:
  description: Every file of the objects (and the kustomization), in order.
  returned: always
  type: list
  elements: str
  sample: [namespace-media.yaml, deployment-radarr.yaml, kustomization.yaml]
written:
  description: The files written (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [deployment-radarr.yaml]
dest:
  description: The folder, as an absolute path.
  returned: always
  type: str
  sample: /home/me/homelab/rendered/apps
deleted:
  description: The files deleted because no object has them any more.
  returned: always
  type: list
  elements: str
  sample: [deployment-radarr-4k.yaml]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arrkestra.homelab.plugins.module_utils import render


def _write(module, path, text, mode):
    tmp = os.path.join(os.path.dirname(path), ".%s.tmp" % os.path.basename(path))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    module.atomic_move(tmp, path)
    os.chmod(path, mode)


def main():
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path", "required": True},
            "objects": {"type": "list", "elements": "dict", "required": True},
            "name": {"type": "str"},
            "with_namespace": {"type": "bool", "default": False},
            "namespace": {"type": "str"},
            "prune": {"type": "bool", "default": True},
            "secrets": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    p = module.params
    dest, secrets = os.path.abspath(p["dest"]), p["secrets"]
    what = p["name"] or os.path.basename(dest.rstrip("/"))
    installed = render.inside_installed_collection(dest)
    if installed:
        module.fail_json(msg="Cannot render into %s: it is inside the installed collection %s, which an upgrade "
                             "replaces. Give a folder of your own (apps_render_dir, platform_render_dir)."
                             % (dest, installed))
    try:
        wanted = render.files(p["objects"], p["with_namespace"], p["namespace"])
        if secrets:
            del wanted[render.KUSTOMIZATION]
        owned = render.ownership(dest, what, wanted)
    except render.RenderError as exc:
        module.fail_json(msg="Cannot render into %s: %s" % (dest, to_native(exc)))
    existing = render.read(dest, wanted)
    write, delete = render.plan(wanted, existing, owned, prune=p["prune"] and not secrets, keep=secrets)
    marker = render.record(what, sorted(set(wanted) | (set(owned) - set(delete))))
    old_marker = render.read(dest, [render.MARKER]).get(render.MARKER)
    if (write or delete or marker != old_marker) and not module.check_mode:
        try:
            if not os.path.isdir(dest):
                os.makedirs(dest, 0o700 if secrets else 0o755)
            for name in write:
                _write(module, os.path.join(dest, name), wanted[name], 0o600 if secrets else 0o644)
            for name in delete:
                os.remove(os.path.join(dest, name))
            _write(module, os.path.join(dest, render.MARKER), marker, 0o644)
        except (IOError, OSError) as exc:
            module.fail_json(msg="Cannot write into %s: %s. Check that the directory is yours and writable."
                                 % (dest, to_native(exc)))
    result = {"changed": bool(write or delete or marker != old_marker), "dest": dest, "files": list(wanted), "written": write,
              "deleted": delete}
    if module._diff:
        result["diff"] = [{"before_header": os.path.join(dest, n), "after_header": os.path.join(dest, n),
                           "before": "<hidden>\n" if secrets else (existing.get(n) or ""),
                           "after": "<hidden>\n" if secrets else wanted[n]} for n in write]
        result["diff"] += [{"before_header": os.path.join(dest, n), "after_header": "(deleted)",
                            "before": "<hidden>\n" if secrets else render.read(dest, [n]).get(n, ""), "after": ""}
                           for n in delete]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
