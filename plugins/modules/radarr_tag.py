#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: radarr_tag
short_description: Manage a tag of Radarr
version_added: 0.1.0
description:
  - Creates or deletes one tag of Radarr. Radarr stores labels in lower case and compares them ignoring
    case; so does the module.
  - The other modules of the collection create the tags they are given, so this module is needed only to
    create tags ahead of time or to delete them.
author: Arrkestra engineers (@arrkestra)
options:
  label:
    description:
      - Label of the tag (letters, digits and C(-)).
    type: str
    required: true
  state:
    description:
      - V(present) creates the tag, V(absent) deletes it (Radarr removes it from the resources that had it).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.radarr
"""

EXAMPLES = r"""
- name: A tag for 4K content
  arrkestra.homelab.radarr_tag:
    url: http://radarr.media.svc:7878
    api_key: "{{ radarr_api_key }}"
    label: uhd
"""

RETURN = r"""
tag:
  description: The tag as Radarr has it (V({}) once deleted).
  returned: always
  type: dict
  sample:
    id: 3
    label: uhd
changes:
  description: Always empty for tags (a tag is created or deleted, never changed).
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import run_tag, tag_spec


def main():
    run_tag("radarr", tag_spec())


if __name__ == "__main__":
    main()
