#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: servarr_info
short_description: Read what a Radarr, Sonarr, Lidarr, Readarr or Prowlarr has and how it is wired
version_added: 0.1.0
description:
  - Finds out which app answers at O(url) (C(GET /api), then C(system/status)) and returns its version,
    health checks, tags and wiring - download clients and root folders, or for Prowlarr its applications
    and indexer proxies.
  - Secrets are never returned (they show V(<hidden>)). Changes nothing.
author: Arrkestra engineers (@arrkestra)
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.servarr.info
attributes:
  check_mode:
    description: Reads only; runs in check mode too.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
"""

EXAMPLES = r"""
- name: What does Radarr have?
  arrkestra.homelab.servarr_info:
    url: http://radarr.media.svc:7878
    api_key: "{{ radarr_api_key }}"
  register: radarr

- name: Every health problem is a failure
  ansible.builtin.assert:
    that: radarr.health | selectattr('type', 'equalto', 'error') | list | length == 0
    fail_msg: "{{ radarr.health | map(attribute='message') | list }}"
"""

RETURN = r"""
app:
  description: The app, lower case (V(radarr), V(sonarr), V(lidarr), V(readarr), V(prowlarr)).
  returned: always
  type: str
  sample: radarr
app_name:
  description: The app's own name.
  returned: always
  type: str
  sample: Radarr
version:
  description: The app's version.
  returned: always
  type: str
  sample: 6.0.3.10276
api_version:
  description: The API the module used.
  returned: always
  type: str
  sample: v3
status:
  description: C(system/status) as the app gives it.
  returned: always
  type: dict
  sample: {appName: Radarr, version: 6.0.3.10276, urlBase: "", isDocker: true}
health:
  description: The app's health checks (C(source), C(type) - V(ok), V(notice), V(warning) or V(error) -, C(message)).
  returned: always
  type: list
  elements: dict
  sample: [{source: DownloadClientCheck, type: error, message: Unable to communicate with qBittorrent}]
tags:
  description: Tag labels.
  returned: always
  type: list
  elements: str
  sample: [torrents]
download_clients:
  description: Download clients (empty for Prowlarr), fields as a dict, secrets V(<hidden>), tags as labels.
  returned: always
  type: list
  elements: dict
  sample: [{name: qBittorrent, implementation: QBittorrent, enable: true, priority: 1,
            fields: {host: qbittorrent, port: 8080, password: <hidden>}, tags: []}]
root_folders:
  description: Root folders (empty for Prowlarr).
  returned: always
  type: list
  elements: dict
  sample: [{id: 1, path: /data/media/movies, accessible: true, freeSpace: 1000000000}]
applications:
  description: Prowlarr's applications (empty for the other apps), API keys V(<hidden>).
  returned: always
  type: list
  elements: dict
  sample: [{name: Radarr, implementation: Radarr, syncLevel: fullSync,
            fields: {baseUrl: http://radarr:7878, apiKey: <hidden>}, tags: []}]
indexer_proxies:
  description: Prowlarr's indexer proxies (empty for the other apps).
  returned: always
  type: list
  elements: dict
  sample: [{name: FlareSolverr, implementation: FlareSolverr, fields: {host: http://flaresolverr:8191/}, tags: [cf]}]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import run_info


def main():
    run_info({})


if __name__ == "__main__":
    main()
