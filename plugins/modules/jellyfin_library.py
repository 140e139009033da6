#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: jellyfin_library
short_description: Manage a library of Jellyfin
version_added: 0.1.0
description:
  - Creates, updates or deletes one library (virtual folder) of Jellyfin, by name, with its collection type, its
    folders and library options.
  - Existing names are found first (ignoring case), so a re-run never makes C(Movies2) as a plain C(POST) would.
    Folders are added and removed to match O(paths); duplicates another tool added are dropped.
  - Jellyfin checks that each folder exists on the server; a missing one fails with a message saying it must exist
    inside the Jellyfin container.
author: Arrkestra engineers (@arrkestra)
options:
  name:
    description:
      - Name of the library.
    type: str
    required: true
  collection_type:
    description:
      - Content of the library. Jellyfin cannot change the type of an existing library; a different type fails.
    type: str
    choices: [movies, tvshows, music, musicvideos, homevideos, boxsets, books, mixed]
  paths:
    description:
      - Folders of the library as Jellyfin sees them. Left out, an existing library keeps its folders.
    type: list
    elements: str
  options:
    description:
      - Library options by Jellyfin's names (C(EnableRealtimeMonitor), C(SaveLocalMetadata),
        C(PreferredMetadataLanguage), C(AutomaticRefreshIntervalDays)...); only those given are compared and set.
    type: dict
  state:
    description:
      - V(present) creates or updates the library, V(absent) deletes it (the files stay).
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.jellyfin
notes:
  - Give O(api_key) (an API key of Jellyfin, see M(arrkestra.homelab.jellyfin_api_key)) or O(admin_user) and
    O(admin_password).
"""

EXAMPLES = r"""
- name: Movies from every Radarr instance
  arrkestra.homelab.jellyfin_library:
    url: http://jellyfin.media.svc:8096
    api_key: "{{ jellyfin_api_key }}"
    name: Movies
    collection_type: movies
    paths: [/data/media/movies, /data/media/movies-4k]
    options:
      EnableRealtimeMonitor: true
"""

RETURN = r"""
library:
  description: The library as Jellyfin has it (V({}) once deleted).
  returned: always
  type: dict
  sample:
    name: Movies
    collection_type: movies
    paths: [/data/media/movies]
    options: {EnableRealtimeMonitor: true}
changes:
  description: What differed (V(paths), V(options.<name>)).
  returned: always
  type: list
  elements: str
  sample: [paths]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.jellyfin import jellyfin_module, library_spec, run_library


def main():
    module = jellyfin_module(library_spec(), required_one_of=[["api_key", "admin_user"]])
    run_library(module)


if __name__ == "__main__":
    main()
