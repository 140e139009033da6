#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: seerr_setup
short_description: Set Seerr up with Jellyfin or Plex, without a browser
version_added: 0.1.0
description:
  - On a new Seerr, signs in with the media server's administrator - the Jellyfin administrator, or the plex.tv
    account that owns the Plex server - which makes that server Seerr's media server for good and that user Seerr's
    owner; with Plex, gives Seerr the address of Plex Media Server; then syncs the server's libraries, enables those
    named in O(libraries) and finishes the setup.
  - On a Seerr already set up, only checks that the libraries named are enabled, and enables those that are not
    (syncing from the server when one is new); with Plex, also that Seerr reaches Plex at the address given, and
    gives it the new one when it changed. A run with nothing to do changes nothing.
  - A Seerr set up with another media server than the one asked for is an error (Seerr keeps the server of its first
    sign-in).
  - Returns Seerr's API key (RV(api_key)) for M(arrkestra.homelab.seerr_service).
  - Seerr (v3) is the successor of Jellyseerr and Overseerr.
author: Arrkestra engineers (@arrkestra)
options:
  api_key:
    description:
      - Seerr's API key, when known up front (the apps phase writes it into Seerr's settings). Without it the module
        signs in with the media server's user to read it. A new Seerr is always signed in to, as its key opens nothing
        before it has an owner.
    type: str
  media_server:
    description:
      - The media server Seerr is set up with.
      - Left out, V(plex) when O(plex_hostname) or O(plex_token) is given, else V(jellyfin).
      - Each server needs its own options - V(jellyfin) O(jellyfin_hostname), O(jellyfin_username),
        O(jellyfin_password) and O(email); V(plex) O(plex_hostname) and O(plex_token) - and the other server's are
        refused.
    type: str
    choices: [jellyfin, plex]
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
    default: ""
  jellyfin_username:
    description:
      - A Jellyfin administrator; on a new Seerr it becomes Seerr's owner.
      - Required with Jellyfin.
    type: str
  jellyfin_password:
    description:
      - Password of O(jellyfin_username).
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
        C(arrkestra.homelab.plex_signin), keeps it). On a new Seerr that account becomes Seerr's owner, and Seerr calls
        Plex with its token.
      - Seerr asks plex.tv (U(https://plex.tv)) for the account of the token, so Seerr needs a way out to the internet
        when the module signs in.
      - Required with Plex.
    type: str
  libraries:
    description:
      - Libraries Seerr scans, by name - Jellyfin's movie and show libraries, or Plex's movie and show libraries
        (by their title, for example V(Movies)). Libraries enabled by hand stay enabled.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - Tested against a test double of Seerr 3.1 that signs in to a Jellyfin double, or asks a plex.tv double and a Plex
    Media Server double, for real and checks every request against Seerr's OpenAPI document.
"""

EXAMPLES = r"""
- name: Seerr signs in with Jellyfin and scans Movies and Shows
  arrkestra.homelab.seerr_setup:
    url: http://seerr.media.svc:5055
    jellyfin_hostname: jellyfin.media.svc.cluster.local
    jellyfin_username: admin
    jellyfin_password: "{{ jellyfin_admin_password }}"
    email: admin@media.home.arpa
    libraries: [Movies, Shows]
  register: seerr
  no_log: true

- name: Seerr signs in with the plex.tv account that owns Plex, and scans Movies and Shows
  arrkestra.homelab.seerr_setup:
    url: http://seerr.media.svc:5055
    api_key: "{{ seerr_api_key }}"
    media_server: plex
    plex_hostname: plex.media.svc.cluster.local
    plex_token: "{{ plex_account_token }}"
    libraries: [Movies, Shows]
  no_log: true
"""

RETURN = r"""
setup:
  description:
    - The media server, whether Seerr is set up, the libraries it scans and, with Plex, where it reaches Plex
      (C(server) - C(hostname), C(port), C(use_ssl)).
  returned: always
  type: dict
  sample:
    media_server: plex
    initialized: true
    libraries: [Movies, Shows]
    server: {hostname: plex.media.svc.cluster.local, port: 32400, use_ssl: false}
api_key:
  description: Seerr's API key (not in check mode on a new Seerr). Register the result with C(no_log).
  returned: when known
  type: str
changes:
  description: What was done (V(initialized), V(server), V(libraries)).
  returned: always
  type: list
  elements: str
  sample: [initialized, server, libraries]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.seerr import run_setup, setup_module, setup_spec


def main():
    module = setup_module(setup_spec())
    run_setup(module)


if __name__ == "__main__":
    main()
