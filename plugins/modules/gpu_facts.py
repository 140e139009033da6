#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_facts
short_description: Find the GPU of a node, for hardware transcoding
version_added: 0.1.0
description:
  - Reads, on the node, every DRM render node C(/dev/dri/renderD*) - its PCI vendor (C(0x8086) Intel, C(0x1002) AMD)
    and kernel driver from C(/sys/class/drm/renderD*/device), and the group id and mode of the device file itself
    (C(stat)), since the C(render) group has no fixed id across distributions - and whether the node is a Raspberry
    Pi (the device tree's model).
  - The nodes phase runs it on every k3s node before any change (C(arrkestra.homelab.node_prep) preflight) and labels
    each node with what it found (C(arrkestra.io/gpu), C(arrkestra.io/render-gid)); the apps phase schedules Jellyfin
    by those labels. Changes nothing.
author: Arrkestra engineers (@arrkestra)
options:
  root:
    description:
      - The folder the node's C(/dev) and C(/sys) (and C(/proc)) are read under. V(/) on a node; tests give a tree
        of their own.
    type: path
    default: /
attributes:
  check_mode:
    description: Reads only; runs in check mode too.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
notes:
  - Raspberry Pis have a render node (the V3D GPU, a platform device with no PCI vendor); it is listed with vendor
    V(unknown) and never chosen - Jellyfin has no hardware transcoding for them.
"""

EXAMPLES = r"""
- name: Find the node's GPU
  arrkestra.homelab.gpu_facts:
  register: gpu

- name: Say what the node has
  ansible.builtin.debug:
    msg: "{{ gpu.gpu.vendor }} at {{ gpu.gpu.render_node }}, group {{ gpu.gpu.render_gid }}"
"""

RETURN = r"""
gpu:
  description: What the node has.
  returned: always
  type: dict
  contains:
    vendor:
      description: V(intel) or V(amd) - the vendor of the first render node the collection can give a pod - or V(none).
      type: str
      sample: intel
    render_node:
      description: That render node's path (None without one).
      type: str
      sample: /dev/dri/renderD128
    driver:
      description: Its kernel driver (V(i915), V(xe), V(amdgpu)), when sysfs says.
      type: str
      sample: i915
    render_gid:
      description: The group id that owns its device file, read from the file.
      type: int
      sample: 993
    world_accessible:
      description: Whether anyone may open it (mode 0666) - then no group is needed.
      type: bool
    render_nodes:
      description: Every render node, with C(path), C(vendor), C(vendor_id), C(device_id), C(driver), C(uid), C(gid),
        C(mode) and C(world_accessible).
      type: list
      elements: dict
    model:
      description: The board's model from the device tree (None on a PC).
      type: str
      sample: Raspberry Pi 5 Model B Rev 1.0
    raspberry_pi:
      description: Whether the node is a Raspberry Pi.
      type: bool
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.arrkestra.homelab.plugins.module_utils.gpu import detect


def main():
    module = AnsibleModule(argument_spec={"root": {"type": "path", "default": "/"}}, supports_check_mode=True)
    module.exit_json(changed=False, gpu=detect(module.params["root"]))


if __name__ == "__main__":
    main()
