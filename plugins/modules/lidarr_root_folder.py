#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lidarr_root_folder
short_description: Manage a root folder of Lidarr
version_added: 0.1.0
description:
  - Adds or removes one root folder of Lidarr, found by its path (a trailing C(/) is ignored).
  - The path is checked by Lidarr on its own filesystem, in its container - not on the controller. It must
    not be configured already, nor be a parent or a child of another root folder, and must exist and be
    writable by Lidarr.
  - Lidarr root folders also carry a name, default profiles, monitoring and tags for new artists; those are
    updated in place.
  - Other root folders are never touched.
author: Arrkestra engineers (@arrkestra)
options:
  path:
    description:
      - Absolute path of the folder as Lidarr sees it.
    type: str
    required: true
  state:
    description:
      - V(present) adds the folder, V(absent) removes it from Lidarr (the files stay).
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Name of the root folder; required to create one.
    type: str
  quality_profile:
    description:
      - Default quality profile of artists added to the folder, by name (or id). A new folder gets the
        first profile when omitted.
    type: str
  metadata_profile:
    description:
      - Default metadata profile of artists added to the folder, by name (or id). A new folder gets the
        first profile when omitted.
    type: str
  default_monitor:
    description:
      - Which existing albums of a new artist are monitored.
    type: str
    choices: [all, future, missing, existing, latest, first, none, unknown]
  default_new_item_monitor:
    description:
      - Which new albums of an artist are monitored.
    type: str
    choices: [all, none, new]
  default_tags:
    description:
      - Tag labels given to artists added to the folder; missing tags are created.
    type: list
    elements: str
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.lidarr
seealso:
  - module: arrkestra.homelab.lidarr_download_client
"""

EXAMPLES = r"""
- name: Give Lidarr its library folder
  module_defaults:
    group/arrkestra.homelab.lidarr:
      url: http://lidarr.media.svc:8686
      api_key: "{{ lidarr_api_key }}"
  block:
    - name: Library on the shared /data volume
      arrkestra.homelab.lidarr_root_folder:
        path: /data/media/music
        name: Music
        quality_profile: Lossless
        metadata_profile: Standard
        default_monitor: all
        default_tags: [lossless]

    - name: Forget an old folder
      arrkestra.homelab.lidarr_root_folder:
        path: /old/library
        state: absent
"""

RETURN = r"""
root_folder:
  description: The root folder as Lidarr has it after the task (V({}) once deleted); free space is left out.
  returned: always
  type: dict
  sample:
    id: 1
    name: Music
    path: /data/media/music
    accessible: true
    defaultQualityProfileId: 2
    defaultMetadataProfileId: 1
    defaultMonitorOption: all
    defaultNewItemMonitorOption: all
    defaultTags: [lossless]
changes:
  description: What differs (or differed) from what Lidarr had.
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import root_folder_spec, run_root_folder


def main():
    run_root_folder("lidarr", root_folder_spec("lidarr"))


if __name__ == "__main__":
    main()
