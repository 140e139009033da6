#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: qbittorrent_category
short_description: Manage a download category of qBittorrent
version_added: 0.1.0
description:
  - Creates, updates or deletes one category of qBittorrent, by name, with its save path.
  - Give each Radarr/Sonarr/Lidarr instance its own category saved on the shared data volume (for example
    C(/data/torrents/radarr-4k)), so that the arr apps can hardlink finished downloads into the media tree.
author: Arrkestra engineers (@arrkestra)
options:
  name:
    description:
      - Name of the category; qBittorrent compares names exactly.
    type: str
    required: true
  save_path:
    description:
      - Where torrents of the category are saved, as qBittorrent sees the file system. Empty means qBittorrent's
        default save path joined with the category name. Left out, an existing category keeps its path.
    type: str
  state:
    description:
      - V(present) creates or updates the category, V(absent) deletes it (its torrents stay, uncategorised).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.qbittorrent
"""

EXAMPLES = r"""
- name: A category per arr instance
  arrkestra.homelab.qbittorrent_category:
    url: http://qbittorrent.media.svc:8080
    username: admin
    password: "{{ qbittorrent_password }}"
    name: "{{ item }}"
    save_path: "/data/torrents/{{ item }}"
  loop: [radarr, radarr-4k, sonarr]
"""

RETURN = r"""
category:
  description: The category as qBittorrent has it (V({}) once deleted).
  returned: always
  type: dict
  sample:
    name: radarr
    save_path: /data/torrents/radarr
changes:
  description: What differed (V(save_path)).
  returned: always
  type: list
  elements: str
  sample: [save_path]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.qbittorrent import (
    CategoryReconciler, category_spec, qbittorrent_module, run_with_session)


def main():
    module = qbittorrent_module(category_spec())
    run_with_session(module, CategoryReconciler)


if __name__ == "__main__":
    main()
