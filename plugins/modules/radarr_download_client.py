#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: radarr_download_client
short_description: Manage a download client of Radarr
version_added: 0.1.0
description:
  - Creates, updates or deletes one download client of Radarr (qBittorrent, Transmission, SABnzbd, NZBGet or
    any implementation Radarr offers), found by name ignoring case.
  - A new download client is built from Radarr's own schema (C(GET /api/v3/downloadclient/schema)), so every field
    has its default; an existing one keeps every setting the task does not name.
  - Download clients the task does not name are never touched.
author: Arrkestra engineers (@arrkestra)
options:
  category:
    description:
      - Category (label) Radarr gives its downloads in the client. Field C(movieCategory).
      - Radarr warns ("Category is recommended") and, without O(force_save), refuses to save a torrent client
        without one.
    type: str
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.provider
  - arrkestra.homelab.servarr.download_client
  - arrkestra.homelab.servarr.radarr
seealso:
  - module: arrkestra.homelab.servarr_info
  - module: arrkestra.homelab.radarr_root_folder
"""

EXAMPLES = r"""
- name: Wire Radarr to its download clients
  module_defaults:
    group/arrkestra.homelab.radarr:
      url: http://radarr.media.svc:7878
      api_key: "{{ radarr_api_key }}"
  block:
    - name: qBittorrent, reached by Radarr through its service name
      arrkestra.homelab.radarr_download_client:
        name: qBittorrent
        implementation: QBittorrent
        host: qbittorrent.media.svc
        port: 8080
        username: admin
        password: "{{ qbittorrent_password }}"
        category: movies
        priority: 1
        tags: [torrents]

    - name: NZBGet, second choice
      arrkestra.homelab.radarr_download_client:
        name: NZBGet
        implementation: Nzbget
        host: nzbget.media.svc
        port: 6789
        username: nzbget
        password: "{{ nzbget_password }}"
        category: movies
        fields:
          addPaused: true

    - name: Rewrite the stored password if qBittorrent no longer accepts it
      arrkestra.homelab.radarr_download_client:
        name: qBittorrent
        password: "{{ qbittorrent_password }}"
        verify: true

    - name: Save even though the client is not running yet
      arrkestra.homelab.radarr_download_client:
        name: Transmission
        implementation: Transmission
        host: transmission.media.svc
        port: 9091
        category: movies
        force_save: true

    - name: Remove a download client
      arrkestra.homelab.radarr_download_client:
        name: Old client
        state: absent
"""

RETURN = r"""
download_client:
  description:
    - The download client as Radarr has it after the task (V({}) after O(state=absent)).
    - Secret fields show V(<hidden>) when set; tags are labels.
  returned: always
  type: dict
  sample:
    id: 1
    name: qBittorrent
    implementation: QBittorrent
    implementationName: qBittorrent
    configContract: QBittorrentSettings
    protocol: torrent
    enable: true
    priority: 1
    removeCompletedDownloads: true
    removeFailedDownloads: true
    tags: [torrents]
    fields:
      host: qbittorrent.media.svc
      port: 8080
      username: admin
      password: <hidden>
      movieCategory: movies
changes:
  description: What differs (or differed) from what Radarr had, C(fields.<name>) for fields.
  returned: always
  type: list
  elements: str
  sample: [priority, fields.movieCategory]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import download_client_spec, run_download_client


def main():
    run_download_client("radarr", download_client_spec())


if __name__ == "__main__":
    main()
