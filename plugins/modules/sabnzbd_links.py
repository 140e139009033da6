#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sabnzbd_links
short_description: Manage every category of one SABnzbd in one run
version_added: 0.1.0
description:
  - Reconciles the list O(categories) of one SABnzbd in one run, with the same behaviour as M(arrkestra.homelab.sabnzbd_category)
    for each item.
  - 'The categories are read once however many items name them: a run that changes nothing sends one C(GET). This is what
    the wiring phase (C(arrkestra.homelab.wiring)) uses.'
author: Arrkestra engineers (@arrkestra)
options:
  categories:
    description:
      - Categories, found by name (SABnzbd stores names in lower case). Each item takes the options of M(arrkestra.homelab.sabnzbd_category).
      - Items not listed are never touched; an item with O(categories[].state=absent) is deleted or switched off.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the category (compared ignoring case). The default category C(*) cannot be managed.
        type: str
        required: true
      dir:
        description:
          - Folder of finished downloads of the category; relative paths are under SABnzbd's complete folder. Left out,
            an existing category keeps its folder.
        type: str
      priority:
        description:
          - Priority of the category's downloads. Left out, an existing category keeps its priority.
        type: str
        choices:
          - default
          - paused
          - low
          - normal
          - high
          - force
      pp:
        description:
          - Post-processing - V(download) only, +V(repair), +V(unpack), +V(delete) (the archives after unpacking), or SABnzbd's
            V(default).
        type: str
        choices:
          - default
          - download
          - repair
          - unpack
          - delete
      script:
        description:
          - Post-processing script, or V(None) for none, or V(Default).
        type: str
      state:
        description:
          - V(present) creates or updates the category, V(absent) deletes it.
        type: str
        choices:
          - present
          - absent
        default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
"""

EXAMPLES = r"""
- name: A category per arr instance, in one run
  arrkestra.homelab.sabnzbd_links:
    url: http://sabnzbd.media.svc:8080
    api_key: "{{ sabnzbd_api_key }}"
    categories:
      - {name: radarr, dir: /data/usenet/radarr}
      - {name: sonarr, dir: /data/usenet/sonarr}
"""

RETURN = r"""
categories:
  description: One result per item of O(categories), in order - C(changed), C(changes) and C(category).
  returned: always
  type: list
  elements: dict
requests:
  description: HTTP requests the run sent to the app (a run that changes nothing sends one C(GET) per collection).
  returned: success
  type: int
  sample: 2
writes:
  description: Requests among RV(requests) that were not C(GET).
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.sabnzbd import sabnzbd_module, run_links, category_spec


def main():
    module = sabnzbd_module({"categories": {"type": "list", "elements": "dict", "default": [], "options": category_spec()}})
    run_links(module)


if __name__ == "__main__":
    main()
