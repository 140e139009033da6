#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: qbittorrent_preferences
short_description: Set preferences of qBittorrent
version_added: 0.1.0
description:
  - Sets the application preferences of qBittorrent that the task names - save paths, incomplete path, seeding
    limits, listening port, queueing, speed limits... - and leaves every other preference as it is.
  - Reads the preferences once, compares only the keys given and sends only those that differ, in one
    C(setPreferences) call; a run with nothing to change sends no write.
author: Arrkestra engineers (@arrkestra)
options:
  preferences:
    description:
      - Preferences by their API name, as C(GET /api/v2/app/preferences) returns them, for example
        C(save_path), C(temp_path_enabled), C(temp_path), C(max_ratio_enabled), C(max_ratio), C(max_ratio_act),
        C(listen_port), C(max_active_downloads).
      - A name qBittorrent does not know fails the task before any change. C(web_ui_password) is refused, since
        qBittorrent never returns it and it cannot be compared; set it in qBittorrent.conf before the first start.
      - Leave C(listen_port) out for a qBittorrent behind the VPN with C(arrkestra_vpn.port_forwarding) on - its
        forwardarr sidecar sets it to the port the VPN forwards, which changes; the collection's wiring never sets it.
    type: dict
    required: true
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.qbittorrent
"""

EXAMPLES = r"""
- name: Save on the shared volume, keep incomplete downloads apart, stop seeding at ratio 2
  arrkestra.homelab.qbittorrent_preferences:
    url: http://qbittorrent.media.svc:8080
    password: "{{ qbittorrent_password }}"
    preferences:
      save_path: /data/torrents
      temp_path_enabled: true
      temp_path: /data/torrents/incomplete
      max_ratio_enabled: true
      max_ratio: 2
      listen_port: 50413
"""

RETURN = r"""
preferences:
  description: The preferences the task named, as qBittorrent has them now (secrets hidden).
  returned: always
  type: dict
  sample:
    save_path: /data/torrents
    max_ratio: 2
changes:
  description: The preferences that differed.
  returned: always
  type: list
  elements: str
  sample: [max_ratio]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.qbittorrent import (
    PreferencesReconciler, qbittorrent_module, run_with_session)


def main():
    module = qbittorrent_module({"preferences": {"type": "dict", "required": True}})
    run_with_session(module, PreferencesReconciler)


if __name__ == "__main__":
    main()
