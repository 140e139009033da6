#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: seerr_service
short_description: Link Seerr to a Radarr or Sonarr instance
version_added: 0.1.0
description:
  - Creates, updates or deletes one Radarr or Sonarr server of Seerr, with its quality profile and root folder given by
    name and path - resolved through Seerr's own test of the server - its 4K and default flags.
  - Seerr appends a new server on every C(POST) without checking names, so the module finds the server first by name
    (ignoring case), then by host and port; a re-run never makes a duplicate.
  - Seerr checks the server when it is created or when its address, key, profile or folder changes; errors say that
    the host must be reachable from Seerr.
author: Arrkestra engineers (@arrkestra)
options:
  kind:
    description:
      - Radarr or Sonarr.
    type: str
    required: true
    choices: [radarr, sonarr]
  name:
    description:
      - Name of the server in Seerr (the instance name, for example V(radarr-4k)).
    type: str
    required: true
  hostname:
    description:
      - Host of Radarr/Sonarr as Seerr reaches it (an in-cluster service name).
    type: str
  port:
    description:
      - Port of Radarr/Sonarr.
    type: int
  use_ssl:
    description:
      - Whether Seerr talks to it over HTTPS.
    type: bool
  base_url:
    description:
      - URL base of Radarr/Sonarr, if any.
    type: str
  app_api_key:
    description:
      - API key of Radarr/Sonarr.
    type: str
  quality_profile:
    description:
      - Quality profile by name; the first profile of the server when a new server leaves it out.
    type: str
  root_folder:
    description:
      - Root folder by path; the first root folder of the server when a new server leaves it out.
    type: str
  is_4k:
    description:
      - Whether this server takes 4K requests.
    type: bool
  is_default:
    description:
      - Whether this is the default server of its kind and resolution (Seerr clears the flag on the others).
    type: bool
  minimum_availability:
    description:
      - Radarr only - when a movie counts as available.
    type: str
    choices: [announced, inCinemas, released]
  enable_season_folders:
    description:
      - Sonarr only - whether series get season folders.
    type: bool
  sync_enabled:
    description:
      - Whether Seerr scans the server.
    type: bool
  prevent_search:
    description:
      - Whether Seerr stops the server from searching when a request is approved.
    type: bool
  external_url:
    description:
      - URL of the server that users open from Seerr.
    type: str
  state:
    description:
      - V(present) creates or updates the server, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - O(api_key) is Seerr's own API key, required (M(arrkestra.homelab.seerr_setup) returns it).
"""

EXAMPLES = r"""
- name: The 4K Radarr, default for 4K requests
  arrkestra.homelab.seerr_service:
    url: http://seerr.media.svc:5055
    api_key: "{{ seerr_api_key }}"
    kind: radarr
    name: radarr-4k
    hostname: radarr-4k.media.svc.cluster.local
    port: 7878
    app_api_key: "{{ radarr_4k_api_key }}"
    quality_profile: Ultra-HD
    root_folder: /data/media/movies-4k
    is_4k: true
    is_default: true
"""

RETURN = r"""
service:
  description: The server as Seerr has it (API key hidden; V({}) once deleted).
  returned: always
  type: dict
  sample:
    id: 0
    name: radarr-4k
    hostname: radarr-4k.media.svc.cluster.local
    port: 7878
    apiKey: <hidden>
    activeProfileName: Ultra-HD
    activeDirectory: /data/media/movies-4k
    is4k: true
    isDefault: true
changes:
  description: Seerr's fields that differed.
  returned: always
  type: list
  elements: str
  sample: [activeProfileId, activeProfileName]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils._module import new_module
from ansible_collections.arrkestra.homelab.plugins.module_utils._module import new_module
from ansible_collections.arrkestra.homelab.plugins.module_utils.seerr import run_service, service_spec


def main():
    module = new_module(service_spec())
    run_service(module)


if __name__ == "__main__":
    main()
