#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sonarr_root_folder
short_description: Manage a root folder of Sonarr
version_added: 0.1.0
description:
  - Adds or removes one root folder of Sonarr, found by its path (a trailing C(/) is ignored).
  - The path is checked by Sonarr on its own filesystem, in its container - not on the controller. It must
    not be configured already, nor be a parent or a child of another root folder, and must exist and be
    writable by Sonarr.
  - Sonarr root folders have nothing but their path, so an existing one is left as it is.
  - Other root folders are never touched.
author: Arrkestra engineers (@arrkestra)
options:
  path:
    description:
      - Absolute path of the folder as Sonarr sees it.
    type: str
    required: true
  state:
    description:
      - V(present) adds the folder, V(absent) removes it from Sonarr (the files stay).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.sonarr
seealso:
  - module: arrkestra.homelab.sonarr_download_client
"""

EXAMPLES = r"""
- name: Give Sonarr its library folder
  module_defaults:
    group/arrkestra.homelab.sonarr:
      url: http://sonarr.media.svc:8989
      api_key: "{{ sonarr_api_key }}"
  block:
    - name: Library on the shared /data volume
      arrkestra.homelab.sonarr_root_folder:
        path: /data/media/tv

    - name: Forget an old folder
      arrkestra.homelab.sonarr_root_folder:
        path: /old/library
        state: absent
"""

RETURN = r"""
root_folder:
  description: The root folder as Sonarr has it after the task (V({}) once deleted); free space is left out.
  returned: always
  type: dict
  sample:
    id: 1
    path: /data/media/tv
    accessible: true
changes:
  description: What differs (or differed) from what Sonarr had.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import root_folder_spec, run_root_folder


def main():
    run_root_folder("sonarr", root_folder_spec("sonarr"))


if __name__ == "__main__":
    main()
