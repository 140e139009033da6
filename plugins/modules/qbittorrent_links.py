#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: qbittorrent_links
short_description: Manage every category of one qBittorrent in one run
version_added: 0.1.0
description:
  - Reconciles the list O(categories) of one qBittorrent in one run and one WebUI session, with the same behaviour as M(arrkestra.homelab.qbittorrent_category)
    for each item.
  - 'The categories are read once however many items name them: a run that changes nothing sends one C(GET) (and no sign-in
    while the kept session works). This is what the wiring phase (C(arrkestra.homelab.wiring)) uses.'
author: Arrkestra engineers (@arrkestra)
options:
  categories:
    description:
      - Categories, found by name. Each item takes the options of M(arrkestra.homelab.qbittorrent_category).
      - Items not listed are never touched; an item with O(categories[].state=absent) is deleted or switched off.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the category; qBittorrent compares names exactly.
        type: str
        required: true
      save_path:
        description:
          - Where torrents of the category are saved, as qBittorrent sees the file system. Empty means qBittorrent's default
            save path joined with the category name. Left out, an existing category keeps its path.
        type: str
      state:
        description:
          - V(present) creates or updates the category, V(absent) deletes it (its torrents stay, uncategorised).
        type: str
        choices:
          - present
          - absent
        default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.qbittorrent
"""

EXAMPLES = r"""
- name: A category per arr instance, in one run
  arrkestra.homelab.qbittorrent_links:
    url: http://qbittorrent.media.svc:8080
    username: admin
    password: "{{ qbittorrent_password }}"
    categories:
      - {name: radarr, save_path: /data/torrents/radarr}
      - {name: sonarr, save_path: /data/torrents/sonarr}
      - {name: old-instance, state: absent}
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

from ansible_collections.arrkestra.homelab.plugins.module_utils.qbittorrent import qbittorrent_module, run_links, category_spec


def main():
    module = qbittorrent_module({"categories": {"type": "list", "elements": "dict", "default": [], "options": category_spec()}})
    run_links(module)


if __name__ == "__main__":
    main()
