#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: seerr_setup
short_description: Set Seerr up with Jellyfin, without a browser
version_added: 0.1.0
description:
  - On a new Seerr, signs in with the Jellyfin administrator (which makes Jellyfin Seerr's media server and that user
    Seerr's owner), syncs Jellyfin's libraries, enables those named in O(libraries) and finishes the setup.
  - On a Seerr already set up, only checks that the libraries named are enabled, and enables those that are not
    (syncing from Jellyfin when one is new); a run with nothing to do changes nothing.
  - Returns Seerr's API key (RV(api_key)) for M(arrkestra.homelab.seerr_service).
  - Seerr (v3) is the successor of Jellyseerr and Overseerr.
author: Arrkestra engineers (@arrkestra)
options:
  api_key:
    description:
      - Seerr's API key, when known up front (the apps phase writes it into Seerr's settings). Without it the module
        signs in with the Jellyfin user to read it.
    type: str
  jellyfin_hostname:
    description:
      - Host of Jellyfin as Seerr reaches it (an in-cluster service name), used only on a new Seerr.
    type: str
    required: true
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
    type: str
    required: true
  jellyfin_password:
    description:
      - Password of O(jellyfin_username).
    type: str
    required: true
  email:
    description:
      - E-mail of Seerr's owner.
    type: str
    required: true
  libraries:
    description:
      - Jellyfin libraries Seerr scans (movie and show libraries, by name). Libraries enabled by hand stay enabled.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - Tested against a test double of Seerr 3.1 that signs in to a Jellyfin double for real and checks every request
    against Seerr's OpenAPI document.
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
"""

RETURN = r"""
setup:
  description: Whether Seerr is set up, and the libraries it scans.
  returned: always
  type: dict
  sample:
    initialized: true
    libraries: [Movies, Shows]
api_key:
  description: Seerr's API key (not in check mode on a new Seerr). Register the result with C(no_log).
  returned: when known
  type: str
changes:
  description: What was done (V(initialized), V(libraries)).
  returned: always
  type: list
  elements: str
  sample: [initialized, libraries]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.seerr import run_setup, setup_module, setup_spec


def main():
    module = setup_module(setup_spec())
    run_setup(module)


if __name__ == "__main__":
    main()
