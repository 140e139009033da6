#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: servarr_links
short_description: Manage many links of one Radarr, Sonarr, Lidarr or Prowlarr in one run
version_added: 0.1.0
description:
- Reconciles lists of tags, root folders, download clients, notifications, Prowlarr applications and indexer proxies of one app, in one run
  and one HTTP session, with the same behaviour as the single-resource modules (M(arrkestra.homelab.radarr_download_client),
  M(arrkestra.homelab.prowlarr_application), ...).
- Each collection of the app is read once however many items name it, so a run that changes nothing sends one C(GET) per collection
  and no write. This is what the wiring phase (C(arrkestra.homelab.wiring)) uses.
- Items are reconciled in this order - the login (O(auth)), tags, root folders, download clients, notifications, applications, indexer proxies
  - and in list order within each.
author: Arrkestra engineers (@arrkestra)
options:
  app:
    description:
    - Which app O(url) points at; it decides the API root (C(/api/v3) or C(/api/v1)) and the category field of download clients.
    type: str
    required: true
    choices:
    - lidarr
    - prowlarr
    - radarr
    - sonarr
  auth:
    description:
    - The UI login of the app, as M(arrkestra.homelab.servarr_auth) sets it; reconciled first. Left out, the login is not
      looked at.
    type: dict
    suboptions:
      method:
        description:
        - V(forms) shows a login page and needs O(auth.username) and O(auth.password).
        - V(external) leaves the login to a proxy in front of the app (the app asks nothing).
        - V(none) turns the login off; the apps then show the "Authentication Required" dialog to every visitor.
        - When the container sets the environment variable C(<APP>__AUTH__METHOD) (for example C(RADARR__AUTH__METHOD=Forms))
          the app ignores what is saved here; the module then fails, naming the variable, if the method it wants is another
          one.
        type: str
        choices:
        - external
        - forms
        - none
        default: forms
      required:
        description:
        - V(enabled) asks every visitor to log in; V(disabled_for_local_addresses) lets visitors from private networks (LAN,
          pod network) in without one.
        - Overridden by the environment variable C(<APP>__AUTH__REQUIRED) when the container sets it.
        type: str
        choices:
        - disabled_for_local_addresses
        - enabled
        default: enabled
      username:
        description:
        - Name of the user; the apps store it in lower case and the module compares it so.
        - Required with O(auth.method=forms), together with O(auth.password).
        type: str
      password:
        description:
        - Password of the user. When it is written follows O(auth.update_password).
        type: str
      update_password:
        description:
        - V(on_create) writes the password only when the app has no user yet. A changed O(auth.password) is not noticed -
          the apps cannot tell - so to rotate it run once with V(always) or V(verify).
        - V(verify) signs in with O(auth.username) and O(auth.password) (C(POST /login), which changes nothing in the app)
          and writes the password only when that fails. It costs one sign-in per run, which the app logs (a failed one as
          a warning).
        - V(always) writes the password on every run; the task then always reports a change.
        type: str
        choices:
        - always
        - on_create
        - verify
        default: on_create
  tags:
    description:
    - Tags of the app (any app), by label; they are reconciled first, so the other resources can name them.
    - Items not listed are never touched; an item with O(tags[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      label:
        description:
        - Label of the tag (letters, digits and C(-)).
        required: true
        type: str
      state:
        choices:
        - present
        - absent
        default: present
        description:
        - V(present) creates the tag, V(absent) deletes it (Radarr removes it from the resources that had it).
        type: str
  root_folders:
    description:
    - Root folders (Radarr, Sonarr, Lidarr), found by path. Each item takes the options of M(arrkestra.homelab.radarr_root_folder)
      (and for Lidarr those of M(arrkestra.homelab.lidarr_root_folder)).
    - Items not listed are never touched; an item with O(root_folders[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      default_monitor:
        choices:
        - all
        - future
        - missing
        - existing
        - latest
        - first
        - none
        - unknown
        description:
        - Lidarr only.
        - Which existing albums of a new artist are monitored.
        type: str
      default_new_item_monitor:
        choices:
        - all
        - none
        - new
        description:
        - Lidarr only.
        - Which new albums of an artist are monitored.
        type: str
      default_tags:
        description:
        - Lidarr only.
        - Tag labels given to artists added to the folder; missing tags are created.
        elements: str
        type: list
      metadata_profile:
        description:
        - Lidarr only.
        - Default metadata profile of artists added to the folder, by name (or id). A new folder gets the first profile when
          omitted.
        type: str
      name:
        description:
        - Lidarr only.
        - Name of the root folder; required to create one.
        type: str
      path:
        description:
        - Absolute path of the folder as Lidarr sees it.
        required: true
        type: str
      quality_profile:
        description:
        - Lidarr only.
        - Default quality profile of artists added to the folder, by name (or id). A new folder gets the first profile when
          omitted.
        type: str
      state:
        choices:
        - present
        - absent
        default: present
        description:
        - V(present) adds the folder, V(absent) removes it from Lidarr (the files stay).
        type: str
  download_clients:
    description:
    - Download clients (Radarr, Sonarr, Lidarr). Each item takes the options of M(arrkestra.homelab.radarr_download_client).
    - Items not listed are never touched; an item with O(download_clients[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      category:
        description:
        - 'Category (label) the app gives its downloads in the client: field C(movieCategory) of Radarr, C(tvCategory) of
          Sonarr, C(musicCategory) of Lidarr.'
        - The apps warn (C(Category is recommended)) and, without O(download_clients[].force_save), refuse to save a torrent
          client without one.
        type: str
      client_api_key:
        description:
        - API key of the download client (SABnzbd; secret, see O(download_clients[].update_secrets)). Field C(apiKey).
        type: str
      enable:
        description:
        - Whether the app uses the download client. New download clients are enabled.
        type: bool
      fields:
        description:
        - Any field of the implementation by its API name (as listed by C(GET /<resource>/schema) and in RV(ignore:fields)
          of the result), for settings the typed options do not cover.
        - Laid over the typed options. Every other field keeps its current value (or its default for a new resource) - the
          module always sends the complete field list, because the apps reset a field left out.
        - Fields that the schema marks as secret (privacy C(password) or C(apiKey)) follow O(download_clients[].update_secrets).
        type: dict
      force_save:
        default: false
        description:
        - Save with C(forceSave=true). The app then lets its warnings pass (for example C(Category is recommended)) and skips
          its connection test on an update; it still checks name, priority and implementation, and it still runs the connection
          test when it B(creates) an enabled resource (the apps' C(ProviderControllerBase)).
        - Use it to update a resource while the other side is not running. Without it the app's validation messages are reported
          as they are.
        type: bool
      host:
        description:
        - Host name of the download client B(as the app reaches it) (in Kubernetes, its service name), not as the controller
          does. Field C(host).
        type: str
      implementation:
        description:
        - The download client, as the app's schema names it (case ignored), for example V(QBittorrent), V(Transmission), V(Sabnzbd),
          V(Nzbget), or any other implementation of C(GET /downloadclient/schema).
        - Required to create the download client; an existing one cannot change implementation.
        type: str
      name:
        description:
        - Name of the resource in the app. The apps compare names ignoring case, and so does the module to find the resource;
          the name is then set exactly as given.
        required: true
        type: str
      password:
        description:
        - Password the app logs into the download client with (secret, see O(download_clients[].update_secrets)). Field C(password).
        type: str
      port:
        description:
        - Port of the download client. Field C(port).
        type: int
      priority:
        description:
        - Priority among clients of the same protocol, V(1) (highest) to V(50). New clients get V(1).
        type: int
      remove_completed:
        description:
        - Remove downloads from the client's history once imported (C(removeCompletedDownloads)).
        type: bool
      remove_failed:
        description:
        - Remove failed downloads from the client's history (C(removeFailedDownloads)).
        type: bool
      state:
        choices:
        - present
        - absent
        default: present
        description:
        - V(present) creates or updates the named resource, V(absent) deletes it.
        - Nothing the module is not told about by name is ever changed or deleted.
        type: str
      tags:
        description:
        - Tag labels of the resource (lower-case letters, digits and C(-)). Missing tags are created.
        - Omitted, the resource keeps its tags; V([]) removes them all.
        elements: str
        type: list
      update_secrets:
        default: false
        description:
        - The apps never give secrets back (they read V(********)), so the module cannot compare them. A secret is written
          when the resource is created, and on later runs only when this is V(true) (the run then always reports a change)
          or when O(download_clients[].verify) finds it wrong.
        type: bool
      url_base:
        description:
        - URL base of the download client, for example V(/transmission/). Field C(urlBase).
        type: str
      use_ssl:
        description:
        - Connect to the download client with HTTPS. Field C(useSsl).
        type: bool
      username:
        description:
        - User name the app logs into the download client with. Field C(username).
        type: str
      verify:
        default: false
        description:
        - Run the app's own connection test on the stored settings (C(POST /<resource>/test)) even when nothing else changes.
          When the test fails on authentication and the secret is given, the secret is rewritten; any other failure fails
          the task with the app's messages.
        type: bool
  notifications:
    description:
    - Notifications ("Connect") of Radarr, Sonarr and Lidarr. Each item takes the options of M(arrkestra.homelab.radarr_notification).
    - Items not listed are never touched; an item with O(notifications[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      auth_token:
        description:
        - Plex account token (C(X-Plex-Token)) the app calls Plex Media Server with (secret, see O(notifications[].update_secrets)).
          Field C(authToken); the app fails without one.
        type: str
      events:
        description:
        - The events the notification acts on, as snake-case words of the app's C(on*) flags - for Radarr V(grab), V(download),
          V(upgrade), V(rename), V(movie_added), V(movie_delete), V(movie_file_delete), V(movie_file_delete_for_upgrade),
          V(health_issue), V(health_restored), V(application_update), V(manual_interaction_required); Sonarr has V(import_complete),
          V(series_add), V(series_delete), V(episode_file_delete)...; Lidarr V(release_import), V(artist_add), V(album_delete),
          V(track_retag)... (the flags are read from the app, so the module follows its version).
        - Every event not listed is off. An event the implementation does not act on (its C(supportsOn*) is false) is refused,
          since the app would store it and do nothing. Omitted, the events stay as they are (none on a new notification);
          a notification with no event is not tested by the app.
        type: list
        elements: str
      fields:
        description:
        - Any field of the implementation by its API name (as listed by C(GET /<resource>/schema) and in RV(ignore:fields)
          of the result), for settings the typed options do not cover.
        - Laid over the typed options. Every other field keeps its current value (or its default for a new resource) - the
          module always sends the complete field list, because the apps reset a field left out.
        - Fields that the schema marks as secret (privacy C(password) or C(apiKey)) follow O(notifications[].update_secrets).
        type: dict
      force_save:
        description:
        - Save with C(forceSave=true). The app then lets its warnings pass (for example C(Category is recommended)) and skips
          its connection test on an update; it still checks name, priority and implementation, and it still runs the connection
          test when it B(creates) an enabled resource (the apps' C(ProviderControllerBase)).
        - Use it to update a resource while the other side is not running. Without it the app's validation messages are reported
          as they are.
        type: bool
        default: false
      host:
        description:
        - Host name of the media server B(as the app reaches it) (in Kubernetes, its service name), without C(http://). Field
          C(host).
        type: str
      implementation:
        description:
        - The notification, as the app's schema names it (case ignored) - V(MediaBrowser) ("Emby / Jellyfin"), V(PlexServer)
          ("Plex Media Server"), or any other implementation of C(GET /notification/schema) (V(Webhook), V(Discord)...), whose
          settings then go in O(notifications[].fields).
        - Required to create the notification; an existing one cannot change implementation.
        type: str
      include_health_warnings:
        description:
        - With V(health_issue), notify about health warnings too, not only errors (C(includeHealthWarnings)).
        type: bool
      map_from:
        description:
        - Path prefix as the app sees its media, to rewrite into O(notifications[].map_to) when the media server mounts the
          media elsewhere (C(mapFrom); Radarr and Sonarr, and Lidarr's Plex notification).
        type: str
      map_to:
        description:
        - Path prefix as the media server sees the media (C(mapTo)).
        type: str
      name:
        description:
        - Name of the resource in the app. The apps compare names ignoring case, and so does the module to find the resource;
          the name is then set exactly as given.
        type: str
        required: true
      notify:
        description:
        - Emby only - send a message to the server's dashboard (C(notify)); Jellyfin has no such endpoint.
        type: bool
      port:
        description:
        - Port of the media server (the apps default to V(8096) for Emby / Jellyfin, V(32400) for Plex). Field C(port).
        type: int
      server_api_key:
        description:
        - API key of Emby / Jellyfin (secret, see O(notifications[].update_secrets)). Field C(apiKey); required by the app.
        type: str
      state:
        description:
        - V(present) creates or updates the named resource, V(absent) deletes it.
        - Nothing the module is not told about by name is ever changed or deleted.
        type: str
        choices:
        - present
        - absent
        default: present
      tags:
        description:
        - Tag labels of the resource (lower-case letters, digits and C(-)). Missing tags are created.
        - Omitted, the resource keeps its tags; V([]) removes them all.
        type: list
        elements: str
      update_library:
        description:
        - Ask the media server to look at the folder of what was imported, renamed or deleted (C(updateLibrary)).
        type: bool
      update_secrets:
        description:
        - The apps never give secrets back (they read V(********)), so the module cannot compare them. A secret is written
          when the resource is created, and on later runs only when this is V(true) (the run then always reports a change)
          or when O(notifications[].verify) finds it wrong.
        type: bool
        default: false
      url_base:
        description:
        - URL base of the media server, a path such as V(/jellyfin) (not a URL). Field C(urlBase).
        type: str
      use_ssl:
        description:
        - Connect to the media server with HTTPS. Field C(useSsl).
        type: bool
      verify:
        description:
        - Run the app's own connection test on the stored settings (C(POST /<resource>/test)) even when nothing else changes.
          When the test fails on authentication and the secret is given, the secret is rewritten; any other failure fails
          the task with the app's messages.
        type: bool
        default: false
  applications:
    description:
    - Prowlarr applications (Prowlarr only). Each item takes the options of M(arrkestra.homelab.prowlarr_application).
    - Items not listed are never touched; an item with O(applications[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      app_api_key:
        description:
        - API key of the app (secret, see O(applications[].update_secrets)). Field C(apiKey).
        type: str
      base_url:
        description:
        - URL of the app as Prowlarr reaches it, for example V(http://radarr.media.svc:7878). Field C(baseUrl).
        type: str
      fields:
        description:
        - Any field of the implementation by its API name (as listed by C(GET /<resource>/schema) and in RV(ignore:fields)
          of the result), for settings the typed options do not cover.
        - Laid over the typed options. Every other field keeps its current value (or its default for a new resource) - the
          module always sends the complete field list, because the apps reset a field left out.
        - Fields that the schema marks as secret (privacy C(password) or C(apiKey)) follow O(applications[].update_secrets).
        type: dict
      force_save:
        default: false
        description:
        - Save with C(forceSave=true). The app then lets its warnings pass (for example C(Category is recommended)) and skips
          its connection test on an update; it still checks name, priority and implementation, and it still runs the connection
          test when it B(creates) an enabled resource (the apps' C(ProviderControllerBase)).
        - Use it to update a resource while the other side is not running. Without it the app's validation messages are reported
          as they are.
        type: bool
      implementation:
        description:
        - The kind of app, as Prowlarr's schema names it (case ignored) - V(Radarr), V(Sonarr), V(Lidarr), V(Readarr), or
          any other implementation of C(GET /api/v1/applications/schema).
        - Required to create the application; an existing one cannot change implementation.
        type: str
      name:
        description:
        - Name of the resource in the app. The apps compare names ignoring case, and so does the module to find the resource;
          the name is then set exactly as given.
        required: true
        type: str
      prowlarr_url:
        description:
        - URL of Prowlarr as the app reaches it, for example V(http://prowlarr.media.svc:9696). Field C(prowlarrUrl).
        type: str
      state:
        choices:
        - present
        - absent
        default: present
        description:
        - V(present) creates or updates the named resource, V(absent) deletes it.
        - Nothing the module is not told about by name is ever changed or deleted.
        type: str
      sync_categories:
        description:
        - Newznab categories Prowlarr syncs to the app (for example V([2000, 2040]) for movies). Omitted, a new application
          gets the app's defaults and an existing one keeps its own. Field C(syncCategories).
        elements: int
        type: list
      sync_level:
        choices:
        - add_only
        - disabled
        - full_sync
        description:
        - V(disabled) - no sync; V(add_only) - indexers are added to the app, never removed or updated; V(full_sync) - the
          app's indexers follow Prowlarr's. New applications get V(full_sync).
        type: str
      tags:
        description:
        - Tag labels of the resource (lower-case letters, digits and C(-)). Missing tags are created.
        - Omitted, the resource keeps its tags; V([]) removes them all.
        elements: str
        type: list
      update_secrets:
        default: false
        description:
        - The apps never give secrets back (they read V(********)), so the module cannot compare them. A secret is written
          when the resource is created, and on later runs only when this is V(true) (the run then always reports a change)
          or when O(applications[].verify) finds it wrong.
        type: bool
      verify:
        default: false
        description:
        - Run the app's own connection test on the stored settings (C(POST /<resource>/test)) even when nothing else changes.
          When the test fails on authentication and the secret is given, the secret is rewritten; any other failure fails
          the task with the app's messages.
        type: bool
  indexer_proxies:
    description:
    - Indexer proxies (Prowlarr only). Each item takes the options of M(arrkestra.homelab.prowlarr_indexer_proxy).
    - Items not listed are never touched; an item with O(indexer_proxies[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      fields:
        description:
        - Any field of the implementation by its API name (as listed by C(GET /<resource>/schema) and in RV(ignore:fields)
          of the result), for settings the typed options do not cover.
        - Laid over the typed options. Every other field keeps its current value (or its default for a new resource) - the
          module always sends the complete field list, because the apps reset a field left out.
        - Fields that the schema marks as secret (privacy C(password) or C(apiKey)) follow O(indexer_proxies[].update_secrets).
        type: dict
      force_save:
        default: false
        description:
        - Save with C(forceSave=true). The app then lets its warnings pass (for example C(Category is recommended)) and skips
          its connection test on an update; it still checks name, priority and implementation, and it still runs the connection
          test when it B(creates) an enabled resource (the apps' C(ProviderControllerBase)).
        - Use it to update a resource while the other side is not running. Without it the app's validation messages are reported
          as they are.
        type: bool
      host:
        description:
        - FlareSolverr's URL as Prowlarr reaches it, for example V(http://flaresolverr.media.svc:8191/). Field C(host).
        type: str
      implementation:
        default: FlareSolverr
        description:
        - The kind of proxy, as Prowlarr's schema names it (case ignored) - V(FlareSolverr), V(Http), V(Socks4), V(Socks5).
        type: str
      name:
        description:
        - Name of the resource in the app. The apps compare names ignoring case, and so does the module to find the resource;
          the name is then set exactly as given.
        required: true
        type: str
      request_timeout:
        description:
        - Seconds FlareSolverr may take to solve a challenge. Field C(requestTimeout).
        type: int
      state:
        choices:
        - present
        - absent
        default: present
        description:
        - V(present) creates or updates the named resource, V(absent) deletes it.
        - Nothing the module is not told about by name is ever changed or deleted.
        type: str
      tags:
        description:
        - Tag labels of the resource (lower-case letters, digits and C(-)). Missing tags are created.
        - Omitted, the resource keeps its tags; V([]) removes them all.
        elements: str
        type: list
      update_secrets:
        default: false
        description:
        - The apps never give secrets back (they read V(********)), so the module cannot compare them. A secret is written
          when the resource is created, and on later runs only when this is V(true) (the run then always reports a change)
          or when O(indexer_proxies[].verify) finds it wrong.
        type: bool
      verify:
        default: false
        description:
        - Run the app's own connection test on the stored settings (C(POST /<resource>/test)) even when nothing else changes.
          When the test fails on authentication and the secret is given, the secret is rewritten; any other failure fails
          the task with the app's messages.
        type: bool
extends_documentation_fragment:
- arrkestra.homelab.connection
- arrkestra.homelab.connection.attributes
- arrkestra.homelab.servarr.info
notes:
- Secrets (passwords, API keys) are never shown in the result or the diff; they appear as C(<hidden>) when set.
- The diff lists one before/after per item that changes.
seealso:
- module: arrkestra.homelab.servarr_info
- module: arrkestra.homelab.radarr_download_client
- module: arrkestra.homelab.prowlarr_application
"""

EXAMPLES = r"""
- name: Every link of Radarr in one task
  arrkestra.homelab.servarr_links:
    app: radarr
    url: http://radarr.media.svc:7878
    api_key: "{{ radarr_api_key }}"
    tags:
      - label: arrkestra
    root_folders:
      - path: /data/media/movies
    download_clients:
      - name: qBittorrent
        implementation: QBittorrent
        host: qbittorrent.media.svc
        port: 8080
        username: admin
        password: "{{ qbittorrent_password }}"
        category: radarr
        tags: [arrkestra]
      - name: Old client
        state: absent

- name: Prowlarr feeds two Radarr instances and uses FlareSolverr
  arrkestra.homelab.servarr_links:
    app: prowlarr
    url: http://prowlarr.media.svc:9696
    api_key: "{{ prowlarr_api_key }}"
    applications:
      - name: radarr
        implementation: Radarr
        prowlarr_url: http://prowlarr.media.svc:9696
        base_url: http://radarr.media.svc:7878
        app_api_key: "{{ radarr_api_key }}"
      - name: radarr-4k
        implementation: Radarr
        prowlarr_url: http://prowlarr.media.svc:9696
        base_url: http://radarr-4k.media.svc:7878
        app_api_key: "{{ radarr_4k_api_key }}"
    indexer_proxies:
      - name: FlareSolverr
        host: http://flaresolverr.media.svc:8191/
        tags: [flaresolverr]
"""

RETURN = r"""
auth:
  description: The result of O(auth) - C(changed), C(changes) and C(auth) (the password hidden); None without O(auth).
  returned: always
  type: dict
tags:
  description: One result per item of O(tags), in order - C(changed), C(changes) and C(tag).
  returned: always
  type: list
  elements: dict
root_folders:
  description: One result per item of O(root_folders) - C(changed), C(changes) and C(root_folder).
  returned: always
  type: list
  elements: dict
download_clients:
  description:
    - One result per item of O(download_clients) - C(changed), C(changes) (what differs, C(fields.<name>) for
      fields) and C(download_client) (secrets show V(<hidden>)).
  returned: always
  type: list
  elements: dict
  sample:
    - changed: false
      changes: []
      download_client: {id: 1, name: qBittorrent, implementation: QBittorrent, fields: {password: <hidden>}}
notifications:
  description: One result per item of O(notifications) - C(changed), C(changes) and C(notification) (secrets show
    V(<hidden>), C(events) the events that are on).
  returned: always
  type: list
  elements: dict
applications:
  description: One result per item of O(applications) - C(changed), C(changes) and C(application).
  returned: always
  type: list
  elements: dict
indexer_proxies:
  description: One result per item of O(indexer_proxies) - C(changed), C(changes) and C(indexer_proxy).
  returned: always
  type: list
  elements: dict
requests:
  description: HTTP requests the run sent to the app (a run that changes nothing sends one C(GET) per collection).
  returned: success
  type: int
  sample: 4
writes:
  description: Requests among RV(requests) that were not C(GET).
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import links_spec, run_links


def main():
    run_links(links_spec())


if __name__ == "__main__":
    main()
