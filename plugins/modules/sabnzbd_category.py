#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sabnzbd_category
short_description: Manage a category of SABnzbd
version_added: 0.1.0
description:
  - Creates, updates or deletes one category of SABnzbd, by name (SABnzbd stores names in lower case), with its
    folder, priority, post-processing and script.
  - Give each Radarr/Sonarr/Lidarr instance its own category with a folder on the shared data volume (for example
    C(/data/usenet/radarr)), so that the arr apps find and hardlink what SABnzbd finished.
  - The API key is known up front - the apps phase writes it to C(sabnzbd.ini) - so no browser is needed.
author: Arrkestra engineers (@arrkestra)
options:
  name:
    description:
      - Name of the category (compared ignoring case). The default category C(*) cannot be managed.
    type: str
    required: true
  dir:
    description:
      - Folder of finished downloads of the category; relative paths are under SABnzbd's complete folder.
        Left out, an existing category keeps its folder.
    type: str
  priority:
    description:
      - Priority of the category's downloads. Left out, an existing category keeps its priority.
    type: str
    choices: [default, paused, low, normal, high, force]
  pp:
    description:
      - Post-processing - V(download) only, +V(repair), +V(unpack), +V(delete) (the archives after unpacking),
        or SABnzbd's V(default).
    type: str
    choices: [default, download, repair, unpack, delete]
  script:
    description:
      - Post-processing script, or V(None) for none, or V(Default).
    type: str
  state:
    description:
      - V(present) creates or updates the category, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - O(api_key) is required; SABnzbd shows it under Config > General > Security.
"""

EXAMPLES = r"""
- name: A category per arr instance
  arrkestra.homelab.sabnzbd_category:
    url: http://sabnzbd.media.svc:8080
    api_key: "{{ sabnzbd_api_key }}"
    name: "{{ item }}"
    dir: "/data/usenet/{{ item }}"
  loop: [radarr, sonarr]
"""

RETURN = r"""
category:
  description: The category as SABnzbd has it (V({}) once deleted).
  returned: always
  type: dict
  sample:
    name: radarr
    dir: /data/usenet/radarr
    priority: default
    pp: default
    script: Default
changes:
  description: What differed.
  returned: always
  type: list
  elements: str
  sample: [dir]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.sabnzbd import category_spec, run_category, sabnzbd_module


def main():
    module = sabnzbd_module(category_spec())
    run_category(module)


if __name__ == "__main__":
    main()
