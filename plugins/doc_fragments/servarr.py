# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options and attributes the Radarr, Sonarr, Lidarr and Prowlarr modules share."""

from __future__ import annotations


class ModuleDocFragment:

    # Provider resources: download clients, Prowlarr applications, indexer proxies.
    PROVIDER = r"""
options:
  name:
    description:
      - Name of the resource in the app. The apps compare names ignoring case, and so does the module
        to find the resource; the name is then set exactly as given.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the named resource, V(absent) deletes it.
      - Nothing the module is not told about by name is ever changed or deleted.
    type: str
    choices: [present, absent]
    default: present
  tags:
    description:
      - Tag labels of the resource (lower-case letters, digits and C(-)). Missing tags are created.
      - Omitted, the resource keeps its tags; V([]) removes them all.
    type: list
    elements: str
  fields:
    description:
      - Any field of the implementation by its API name (as listed by C(GET /<resource>/schema) and in
        RV(ignore:fields) of the result), for settings the typed options do not cover.
      - Laid over the typed options. Every other field keeps its current value (or its default for a new
        resource) - the module always sends the complete field list, because the apps reset a field left out.
      - Fields that the schema marks as secret (privacy C(password) or C(apiKey)) follow O(update_secrets).
    type: dict
  update_secrets:
    description:
      - The apps never give secrets back (they read V(********)), so the module cannot compare them.
        A secret is written when the resource is created, and on later runs only when this is V(true)
        (the run then always reports a change) or when O(verify) finds it wrong.
    type: bool
    default: false
  verify:
    description:
      - Run the app's own connection test on the stored settings (C(POST /<resource>/test)) even when
        nothing else changes. When the test fails on authentication and the secret is given, the secret
        is rewritten; any other failure fails the task with the app's messages.
    type: bool
    default: false
  force_save:
    description:
      - Save with C(forceSave=true). The app then lets its warnings pass (for example C(Category is recommended))
        and skips its connection test on an update; it still checks name, priority and implementation, and it
        still runs the connection test when it B(creates) an enabled resource (the apps' C(ProviderControllerBase)).
      - Use it to update a resource while the other side is not running. Without it the app's validation messages
        are reported as they are.
    type: bool
    default: false
notes:
  - Secrets (passwords, API keys) are never shown in the result or the diff; they appear as C(<hidden>)
    when set.
  - A second run with the same options only reads (one C(GET) per collection) and reports no change.
"""

    # Download clients of Radarr, Sonarr and Lidarr (category documented by each module).
    DOWNLOAD_CLIENT = r"""
options:
  implementation:
    description:
      - The download client, as the app's schema names it (case ignored), for example V(QBittorrent),
        V(Transmission), V(Sabnzbd), V(Nzbget), or any other implementation of C(GET /downloadclient/schema).
      - Required to create the download client; an existing one cannot change implementation.
    type: str
  enable:
    description:
      - Whether the app uses the download client. New download clients are enabled.
    type: bool
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
  host:
    description:
      - Host name of the download client B(as the app reaches it) (in Kubernetes, its service name),
        not as the controller does. Field C(host).
    type: str
  port:
    description:
      - Port of the download client. Field C(port).
    type: int
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
  password:
    description:
      - Password the app logs into the download client with (secret, see O(update_secrets)). Field C(password).
    type: str
  client_api_key:
    description:
      - API key of the download client (SABnzbd; secret, see O(update_secrets)). Field C(apiKey).
    type: str
"""

    # Notifications ("Connect") of Radarr, Sonarr and Lidarr.
    NOTIFICATION = r"""
options:
  implementation:
    description:
      - The notification, as the app's schema names it (case ignored) - V(MediaBrowser) ("Emby / Jellyfin"),
        V(PlexServer) ("Plex Media Server"), or any other implementation of C(GET /notification/schema)
        (V(Webhook), V(Discord)...), whose settings then go in O(fields).
      - Required to create the notification; an existing one cannot change implementation.
    type: str
  events:
    description:
      - The events the notification acts on, as snake-case words of the app's C(on*) flags - for Radarr
        V(grab), V(download), V(upgrade), V(rename), V(movie_added), V(movie_delete), V(movie_file_delete),
        V(movie_file_delete_for_upgrade), V(health_issue), V(health_restored), V(application_update),
        V(manual_interaction_required); Sonarr has V(import_complete), V(series_add), V(series_delete),
        V(episode_file_delete)...; Lidarr V(release_import), V(artist_add), V(album_delete), V(track_retag)...
        (the flags are read from the app, so the module follows its version).
      - Every event not listed is off. An event the implementation does not act on (its C(supportsOn*) is false)
        is refused, since the app would store it and do nothing. Omitted, the events stay as they are (none on a
        new notification); a notification with no event is not tested by the app.
    type: list
    elements: str
  include_health_warnings:
    description:
      - With V(health_issue), notify about health warnings too, not only errors (C(includeHealthWarnings)).
    type: bool
  host:
    description:
      - Host name of the media server B(as the app reaches it) (in Kubernetes, its service name), without
        C(http://). Field C(host).
    type: str
  port:
    description:
      - Port of the media server (the apps default to V(8096) for Emby / Jellyfin, V(32400) for Plex). Field C(port).
    type: int
  use_ssl:
    description:
      - Connect to the media server with HTTPS. Field C(useSsl).
    type: bool
  url_base:
    description:
      - URL base of the media server, a path such as V(/jellyfin) (not a URL). Field C(urlBase).
    type: str
  server_api_key:
    description:
      - API key of Emby / Jellyfin (secret, see O(update_secrets)). Field C(apiKey); required by the app.
    type: str
  auth_token:
    description:
      - Plex account token (C(X-Plex-Token)) the app calls Plex Media Server with (secret, see O(update_secrets)).
        Field C(authToken); the app fails without one.
    type: str
  update_library:
    description:
      - Ask the media server to look at the folder of what was imported, renamed or deleted (C(updateLibrary)).
    type: bool
  notify:
    description:
      - Emby only - send a message to the server's dashboard (C(notify)); Jellyfin has no such endpoint.
    type: bool
  map_from:
    description:
      - Path prefix as the app sees its media, to rewrite into O(map_to) when the media server mounts the media
        elsewhere (C(mapFrom); Radarr and Sonarr, and Lidarr's Plex notification).
    type: str
  map_to:
    description:
      - Path prefix as the media server sees the media (C(mapTo)).
    type: str
"""

    RADARR = r"""
attributes:
  action_group:
    description: Use C(group/arrkestra.homelab.radarr) (or C(group/arrkestra.homelab.servarr)) in C(module_defaults)
      to set the connection options once.
    support: full
    membership:
      - arrkestra.homelab.radarr
      - arrkestra.homelab.servarr
"""

    SONARR = r"""
attributes:
  action_group:
    description: Use C(group/arrkestra.homelab.sonarr) (or C(group/arrkestra.homelab.servarr)) in C(module_defaults)
      to set the connection options once.
    support: full
    membership:
      - arrkestra.homelab.sonarr
      - arrkestra.homelab.servarr
"""

    LIDARR = r"""
attributes:
  action_group:
    description: Use C(group/arrkestra.homelab.lidarr) (or C(group/arrkestra.homelab.servarr)) in C(module_defaults)
      to set the connection options once.
    support: full
    membership:
      - arrkestra.homelab.lidarr
      - arrkestra.homelab.servarr
"""

    PROWLARR = r"""
attributes:
  action_group:
    description: Use C(group/arrkestra.homelab.prowlarr) (or C(group/arrkestra.homelab.servarr)) in C(module_defaults)
      to set the connection options once.
    support: full
    membership:
      - arrkestra.homelab.prowlarr
      - arrkestra.homelab.servarr
"""

    INFO = r"""
attributes:
  action_group:
    description: Use C(group/arrkestra.homelab.servarr) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - arrkestra.homelab.servarr
"""
