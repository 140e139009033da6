#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: seerr_links
short_description: Set up one Seerr and its Radarr and Sonarr servers in one run
version_added: 0.1.0
description:
  - Sets Seerr up with Jellyfin or Plex (O(setup), as M(arrkestra.homelab.seerr_setup)), then its Radarr and Sonarr
    servers O(services) (as M(arrkestra.homelab.seerr_service)), in one run and one session; each collection is read
    once.
  - 'Without O(api_key), the setup reads Seerr''s key (signing in with the Jellyfin user or the plex.tv account) and the
    servers are made with it; it is returned in RV(api_key). In check mode, a Seerr still to set up has no owner yet,
    and its key opens nothing before it has one: the servers are left for the real run.'
  - This is what the wiring phase (C(arrkestra.homelab.wiring)) uses.
author: Arrkestra engineers (@arrkestra)
options:
  api_key:
    description:
      - Seerr's API key, when known up front (the apps phase writes it into Seerr's settings).
    type: str
  setup:
    description:
      - The setup with Jellyfin or Plex; its options are those of M(arrkestra.homelab.seerr_setup). Left out, the setup
        is not looked at.
    type: dict
    suboptions:
      media_server:
        description:
          - The media server Seerr is set up with.
          - Left out, V(plex) when O(setup.plex_hostname) or O(setup.plex_token) is given, else V(jellyfin).
          - Each server needs its own options - V(jellyfin) O(setup.jellyfin_hostname), O(setup.jellyfin_username),
            O(setup.jellyfin_password) and O(setup.email); V(plex) O(setup.plex_hostname) and O(setup.plex_token) - and
            the other server's are refused.
        type: str
        choices:
          - jellyfin
          - plex
      jellyfin_hostname:
        description:
          - Host of Jellyfin as Seerr reaches it (an in-cluster service name), used only on a new Seerr.
          - Required with Jellyfin.
        type: str
      jellyfin_port:
        description:
          - Port of Jellyfin.
        type: int
        default: 8096
      jellyfin_use_ssl:
        description:
          - Whether Seerr talks to Jellyfin over HTTPS.
        type: bool
        default: false
      jellyfin_url_base:
        description:
          - URL base of Jellyfin, if any.
        type: str
        default: ''
      jellyfin_username:
        description:
          - A Jellyfin administrator; on a new Seerr it becomes Seerr's owner.
          - Required with Jellyfin.
        type: str
      jellyfin_password:
        description:
          - Password of O(setup.jellyfin_username).
          - Required with Jellyfin.
        type: str
      email:
        description:
          - E-mail of Seerr's owner.
          - Required with Jellyfin; with Plex it is not used (Seerr takes the e-mail of the plex.tv account).
        type: str
      plex_hostname:
        description:
          - Host of Plex Media Server as Seerr reaches it (an in-cluster service name).
          - Required with Plex.
        type: str
      plex_port:
        description:
          - Port of Plex Media Server.
        type: int
        default: 32400
      plex_use_ssl:
        description:
          - Whether Seerr talks to Plex Media Server over HTTPS.
        type: bool
        default: false
      plex_token:
        description:
          - The plex.tv token of the account that owns the Plex server (the Plex sign-in,
            C(arrkestra.homelab.plex_signin), keeps it). On a new Seerr that account becomes Seerr's owner, and Seerr
            calls Plex with its token.
          - Seerr asks plex.tv (U(https://plex.tv)) for the account of the token, so Seerr needs a way out to the
            internet when the module signs in.
          - Required with Plex.
        type: str
      libraries:
        description:
          - Libraries Seerr scans, by name - Jellyfin's movie and show libraries, or Plex's movie and show libraries
            (by their title, for example V(Movies)). Libraries enabled by hand stay enabled.
        type: list
        elements: str
        default: []
  services:
    description:
      - Radarr and Sonarr servers, found by name, as M(arrkestra.homelab.seerr_service) makes them.
      - Items not listed are never touched; an item with O(services[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description:
          - Radarr or Sonarr.
        type: str
        required: true
        choices:
          - radarr
          - sonarr
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
        choices:
          - announced
          - inCinemas
          - released
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
        choices:
          - present
          - absent
        default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
"""

EXAMPLES = r"""
- name: Seerr with Jellyfin, Radarr and Sonarr, in one run
  arrkestra.homelab.seerr_links:
    url: http://seerr.media.svc:5055
    api_key: "{{ seerr_api_key }}"
    setup:
      jellyfin_hostname: jellyfin.media.svc.cluster.local
      jellyfin_username: admin
      jellyfin_password: "{{ jellyfin_password }}"
      email: admin@media.home.arpa
      libraries: [Movies, Shows]
    services:
      - {kind: radarr, name: radarr, hostname: radarr.media.svc.cluster.local, port: 7878, app_api_key: "{{ radarr_api_key }}",
         root_folder: /data/media/movies, is_default: true}
  no_log: true

- name: Seerr with Plex and Radarr, in one run
  arrkestra.homelab.seerr_links:
    url: http://seerr.media.svc:5055
    api_key: "{{ seerr_api_key }}"
    setup:
      media_server: plex
      plex_hostname: plex.media.svc.cluster.local
      plex_token: "{{ plex_account_token }}"
      libraries: [Movies, Shows]
    services:
      - {kind: radarr, name: radarr, hostname: radarr.media.svc.cluster.local, port: 7878, app_api_key: "{{ radarr_api_key }}",
         root_folder: /data/media/movies, is_default: true}
  no_log: true
"""

RETURN = r"""
setup:
  description: The result of O(setup) - C(changed), C(changes) and C(setup) (None without O(setup)).
  returned: always
  type: dict
services:
  description: One result per item of O(services) - C(changed), C(changes) and C(service) (its key shows V(<hidden>)).
  returned: always
  type: list
  elements: dict
api_key:
  description: Seerr's API key, read by the setup. Keep it secret (use C(no_log)).
  returned: when O(setup) is given and the key is known
  type: str
requests:
  description: HTTP requests the run sent to Seerr.
  returned: success
  type: int
  sample: 4
writes:
  description: Requests among RV(requests) that were not C(GET).
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.seerr import run_links, service_spec, setup_module, setup_spec


def main():
    module = setup_module({
        "setup": {"type": "dict", "options": setup_spec()},
        "services": {"type": "list", "elements": "dict", "default": [], "options": service_spec()},
    })
    if module.params["services"] and not (module.params["api_key"] or module.params["setup"]):
        module.fail_json(msg="Seerr's servers need its API key: give `api_key`, or `setup` to read it.")
    run_links(module)


if __name__ == "__main__":
    main()
