#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lidarr_notification
short_description: Manage a notification (Connect) of Lidarr
version_added: 0.1.0
description:
  - Creates, updates or deletes one notification of Lidarr (Connect - Emby / Jellyfin, Plex Media Server, a
    webhook or any implementation Lidarr offers), found by name ignoring case.
  - Made for the media servers - Lidarr tells Jellyfin or Plex about each import, upgrade, rename and deletion, so the
    library updates without a scan - with typed options for their settings; any other implementation takes
    O(fields).
  - A new notification is built from Lidarr's own schema (C(GET /api/v1/notification/schema)); an existing one keeps
    every setting the task does not name. The events are the app's C(on*) flags, read from the app.
  - Notifications the task does not name are never touched.
author: Arrkestra engineers (@arrkestra)
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.provider
  - arrkestra.homelab.servarr.notification
  - arrkestra.homelab.servarr.lidarr
notes:
  - 'Lidarr tests a notification whose events are on when it saves it - even with O(force_save) on creation. The
    Emby / Jellyfin test only proves the server answers: it posts to an endpoint Jellyfin does not have, and Lidarr
    takes any answer but 401 as a success, so a wrong key is not caught (upstream C(MediaBrowserService.cs)).'
  - Jellyfin 12 turns off the C(X-MediaBrowser-Token) header the notification authenticates with (its setting
    C(EnableLegacyAuthorization)); on Jellyfin 12 the library update is refused until that setting is on again.
  - Lidarr 2.14's Emby / Jellyfin notification sends the word C(music) instead of the album's folder when it asks
    Jellyfin to update (upstream C(MediaBrowserService.cs:38) at v2.14.5.4836), so Jellyfin's own scan still finds
    new music; the Plex Media Server notification sends real paths.
seealso:
  - module: arrkestra.homelab.servarr_links
  - module: arrkestra.homelab.servarr_info
"""

EXAMPLES = r"""
- name: Tell Jellyfin about every import, upgrade, rename and deletion
  arrkestra.homelab.lidarr_notification:
    url: http://lidarr.media.svc:8686
    api_key: "{{ lidarr_api_key }}"
    name: Jellyfin
    implementation: MediaBrowser
    host: jellyfin.media.svc
    port: 8096
    server_api_key: "{{ jellyfin_api_key }}"
    update_library: true
    notify: false
    events: [release_import, upgrade, rename, artist_delete, album_delete]

- name: The same for Plex Media Server, with the Plex account token
  arrkestra.homelab.lidarr_notification:
    url: http://lidarr.media.svc:8686
    api_key: "{{ lidarr_api_key }}"
    name: Plex
    implementation: PlexServer
    host: plex.media.svc
    port: 32400
    auth_token: "{{ plex_token }}"
    events: [release_import, upgrade, rename, artist_delete, album_delete]

- name: Remove a notification
  arrkestra.homelab.lidarr_notification:
    url: http://lidarr.media.svc:8686
    api_key: "{{ lidarr_api_key }}"
    name: Old server
    state: absent
"""

RETURN = r"""
notification:
  description:
    - The notification as Lidarr has it after the task (V({}) after O(state=absent)); secret fields show V(<hidden>)
      when set, tags are labels, C(events) lists the events that are on.
  returned: always
  type: dict
  sample:
    id: 1
    name: Jellyfin
    implementation: MediaBrowser
    implementationName: Emby / Jellyfin
    configContract: MediaBrowserSettings
    events: [release_import, upgrade, rename]
    tags: []
    fields:
      host: jellyfin.media.svc
      port: 8096
      apiKey: <hidden>
      updateLibrary: true
      notify: false
changes:
  description: What differs (or differed) from what Lidarr had - C(fields.<name>) for fields, the C(on*) flag for an event.
  returned: always
  type: list
  elements: str
  sample: [onReleaseImport, fields.host]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import notification_spec, run_notification


def main():
    run_notification("lidarr", notification_spec())


if __name__ == "__main__":
    main()
