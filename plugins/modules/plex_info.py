#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plex_info
short_description: Read a Plex Media Server's identity, sign-in state, libraries and preferences
version_added: 0.1.0
description:
  - Reads C(GET /identity) (answered without a token), C(GET /), C(GET /library/sections) and C(GET /:/prefs).
    Changes nothing.
  - A claimed server without O(token) shows only its identity; the module warns and says how to get the token.
author: Arrkestra engineers (@arrkestra)
options:
  token:
    description:
      - The plex.tv account token of a claimed server (M(arrkestra.homelab.plex_pin) returns one). An unclaimed server
        serves local clients without one.
    type: str
extends_documentation_fragment:
  - arrkestra.homelab.connection
attributes:
  check_mode:
    description: Reads only; runs in check mode too.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
notes:
  - O(api_key) is not used - Plex takes the plex.tv account token, O(token).
"""

EXAMPLES = r"""
- name: What Plex has
  arrkestra.homelab.plex_info:
    url: http://plex.media.svc:32400
    token: "{{ plex_account_token | default(omit) }}"
  register: plex
"""

RETURN = r"""
identity:
  description: C(GET /identity).
  returned: always
  type: dict
  contains:
    claimed:
      description: Whether a plex.tv account owns the server.
      type: bool
    machine_identifier:
      description: The server's C(machineIdentifier).
      type: str
    version:
      description: The version of Plex Media Server.
      type: str
server:
  description: C(GET /) - none when the server is claimed and no O(token) was given.
  returned: always
  type: dict
  contains:
    friendly_name:
      description: The server's name (C(FriendlyName), or the host name while it is empty).
      type: str
    machine_identifier:
      description: The server's C(machineIdentifier).
      type: str
    version:
      description: The version of Plex Media Server.
      type: str
    platform:
      description: The server's platform.
      type: str
    signin_state:
      description: C(myPlexSigninState) - V(ok) once claimed, V(none) before.
      type: str
    username:
      description: The plex.tv account that owns the server.
      type: str
    mapping_state:
      description: C(myPlexMappingState) (remote access).
      type: str
libraries:
  description: Every library as M(arrkestra.homelab.plex_library) shows one - none when the server is claimed and no
    O(token) was given.
  returned: always
  type: list
  elements: dict
  sample: [{key: "1", name: Movies, type: movie, agent: tv.plex.agents.movie, scanner: Plex Movie, language: en-US,
            paths: [/data/media/movies]}]
preferences:
  description: Every preference by its id, typed - none when the server is claimed and no O(token) was given.
  returned: always
  type: dict
  sample: {FriendlyName: Arrkestra, AcceptedEULA: true, ManualPortMappingPort: 32400}
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.plex import plex_module, run_info


def main():
    run_info(plex_module({}))


if __name__ == "__main__":
    main()
