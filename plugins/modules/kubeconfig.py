#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: kubeconfig
short_description: Merge a cluster's kubeconfig into a kubeconfig file under a named context
version_added: 0.2.0
description:
  - Takes the cluster, user and context that a cluster's own kubeconfig points at (k3s's
    C(/etc/rancher/k3s/k3s.yaml), the output of C(talosctl kubeconfig)), names all three O(name), sets the
    server to the address the controller reaches, and stores them in O(path).
  - Every other cluster, user and context of O(path) is kept as it was; only entries called O(name) are replaced.
  - The file is written only when something differs, atomically and readable by its owner only.
author: Arrkestra engineers (@arrkestra)
options:
  path:
    description:
      - The kubeconfig file to merge into, for example C(~/.kube/config). Created, with its folder, when missing.
    type: path
    required: true
  name:
    description:
      - Name of the context, and of its cluster and user entries.
    type: str
    required: true
  content:
    description:
      - The cluster's kubeconfig, as text (YAML). It holds the client key, so it is never logged.
      - Required with O(state=present), unless O(src) is given.
    type: str
  src:
    description:
      - Path of the cluster's kubeconfig on the host the module runs on, instead of O(content).
    type: path
  server:
    description:
      - The API server address to write, for example C(https://192.168.1.10:6443) (k3s writes C(127.0.0.1)).
        Left out, the address of the cluster's kubeconfig is kept.
    type: str
  current:
    description:
      - Make O(name) the current context of O(path).
    type: bool
    default: true
  state:
    description:
      - V(present) stores the context, V(absent) removes the context, cluster and user called O(name).
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details:
      - The client key and tokens show as C(<hidden>).
notes:
  - "Run it on the controller (C(delegate_to: localhost)) with O(content) read from the node with M(ansible.builtin.slurp)."
"""

EXAMPLES = r"""
- name: Read k3s's kubeconfig from the first server
  ansible.builtin.slurp:
    src: /etc/rancher/k3s/k3s.yaml
  register: k3s_yaml
  no_log: true

- name: Merge it into ~/.kube/config as the context pi-media
  arrkestra.homelab.kubeconfig:
    path: ~/.kube/config
    name: pi-media
    content: "{{ k3s_yaml.content | b64decode }}"
    server: https://192.168.1.11:6443
  delegate_to: localhost

- name: Forget the cluster (after a reset)
  arrkestra.homelab.kubeconfig:
    path: ~/.kube/config
    name: pi-media
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
server:
  description: The server address of the context (V(null) once removed).
  returned: always
  type: str
  sample: https://192.168.1.11:6443
changes:
  description: Which entries were added, changed or removed.
  returned: always
  type: list
  elements: str
  sample: [cluster, user, context, current-context]
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arrkestra.homelab.plugins.module_utils.kubeconfig import (
    KubeconfigError, extract, merge, remove, view)

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core requires PyYAML
    yaml = None


def _load(text, what):
    try:
        return yaml.safe_load(text) if text and text.strip() else None
    except yaml.YAMLError as exc:
        raise KubeconfigError("%s is not valid YAML (%s)" % (what, to_native(exc).splitlines()[0]))


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "name": {"type": "str", "required": True},
            "content": {"type": "str", "no_log": True},
            "src": {"type": "path"},
            "server": {"type": "str"},
            "current": {"type": "bool", "default": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        mutually_exclusive=[("content", "src")],
        required_if=[("state", "present", ("content", "src"), True)],
        supports_check_mode=True,
    )
    p = module.params
    path, name = p["path"], p["name"]
    try:
        text = None
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
        before = _load(text, "%s" % path)
        if p["state"] == "present":
            source_text = p["content"]
            if p["src"]:
                with open(p["src"]) as f:
                    source_text = f.read()
            source = _load(source_text, "the cluster's kubeconfig")
            after = merge(before, extract(source, p["server"]), name, current=p["current"])
        else:
            after = remove(before, name)
    except (KubeconfigError, IOError, OSError) as exc:
        module.fail_json(msg="Cannot merge context %s into %s: %s" % (name, path, to_native(exc)))

    old, new = view(before, name), view(after, name)
    changes = [key for key in ("cluster", "user", "context") if old.get(key) != new.get(key)]
    if (before or {}).get("current-context") != (after or {}).get("current-context"):
        changes.append("current-context")
    if (before or {}) != (after or {}) and not changes:
        changes.append("format")
    changed = bool(changes)
    if changed and not module.check_mode:
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        tmp = os.path.join(directory, ".%s.arrkestra.tmp" % os.path.basename(path))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(after or {}, f, default_flow_style=False, sort_keys=False)
        module.atomic_move(tmp, path)
        os.chmod(path, 0o600)
    result = {"changed": changed, "changes": changes,
              "server": ((new.get("cluster") or {}).get("server"))}
    if module._diff:
        result["diff"] = {"before": old, "after": new,
                          "before_header": "%s (context %s)" % (path, name),
                          "after_header": "%s (context %s)" % (path, name)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
