#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lidarr_download_client
short_description: Manage a download client of Lidarr
version_added: 0.1.0
description:
  - Creates, updates or deletes one download client of Lidarr (qBittorrent, Transmission, SABnzbd, NZBGet or
    any implementation Lidarr offers), found by name ignoring case.
  - A new download client is built from Lidarr's own schema (C(GET /api/v1/downloadclient/schema)), so every field
    has its default; an existing one keeps every setting the task does not name.
  - Download clients the task does not name are never touched.
author: Arrkestra engineers (@arrkestra)
options:
  category:
    description:
      - Category (label) Lidarr gives its downloads in the client. Field C(musicCategory).
      - Lidarr warns ("Category is recommended") and, without O(force_save), refuses to save a torrent client
        without one.
    type: str
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.provider
  - arrkestra.homelab.servarr.download_client
  - arrkestra.homelab.servarr.lidarr
seealso:
  - module: arrkestra.homelab.servarr_info
  - module: arrkestra.homelab.lidarr_root_folder
"""

EXAMPLES = r"""
- name: Wire Lidarr to its download clients
  module_defaults:
    group/arrkestra.homelab.lidarr:
      url: http://lidarr.media.svc:8686
      api_key: "{{ lidarr_api_key }}"
  block:
    - name: qBittorrent, reached by Lidarr through its service name
      arrkestra.homelab.lidarr_download_client:
        name: qBittorrent
        implementation: QBittorrent
        host: qbittorrent.media.svc
        port: 8080
        username: admin
        password: "{{ qbittorrent_password }}"
        category: music
        priority: 1
        tags: [torrents]

    - name: NZBGet, second choice
      arrkestra.homelab.lidarr_download_client:
        name: NZBGet
        implementation: Nzbget
        host: nzbget.media.svc
        port: 6789
        username: nzbget
        password: "{{ nzbget_password }}"
        category: music
        fields:
          addPaused: true

    - name: Rewrite the stored password if qBittorrent no longer accepts it
      arrkestra.homelab.lidarr_download_client:
        name: qBittorrent
        password: "{{ qbittorrent_password }}"
        verify: true

    - name: Save even though the client is not running yet
      arrkestra.homelab.lidarr_download_client:
        name: Transmission
        implementation: Transmission
        host: transmission.media.svc
        port: 9091
        category: music
        force_save: true

    - name: Remove a download client
      arrkestra.homelab.lidarr_download_client:
        name: Old client
        state: absent
"""

RETURN = r"""
download_client:
  description:
    - The download client as Lidarr has it after the task (V({}) after O(state=absent)).
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
      musicCategory: music
changes:
  description: What differs (or differed) from what Lidarr had, C(fields.<name>) for fields.
  returned: always
  type: list
  elements: str
  sample: [priority, fields.musicCategory]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import download_client_spec, run_download_client


def main():
    run_download_client("lidarr", download_client_spec())


if __name__ == "__main__":
    main()
