#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plex_preferences
short_description: Set preferences of a Plex Media Server
version_added: 0.1.0
description:
  - Sets the preferences the task names (Settings of Plex Web, the attributes of C(Preferences.xml)), and only those.
  - Reads C(GET /:/prefs), compares each named preference as a value of its type there (boolean, whole number, number
    or text), and writes every change in one C(PUT /:/prefs); a run with nothing to change only reads.
  - An id Plex does not have fails, naming it and the ids it is close to; nothing is written then.
author: Arrkestra engineers (@arrkestra)
options:
  preferences:
    description:
      - Preferences by their Plex id, with its case, and the value to set - for example C(FriendlyName),
        C(AcceptedEULA), C(ManualPortMappingMode), C(ManualPortMappingPort), C(allowedNetworks), C(customConnections),
        C(secureConnections).
      - Booleans take V(true)/V(false) (or V(1)/V(0)); whole numbers and numbers must parse as such.
      - Every address or network in C(allowedNetworks) is an administrator without a token.
    type: dict
    required: true
  token:
    description:
      - The plex.tv account token of a claimed server (M(arrkestra.homelab.plex_pin) returns one). An unclaimed server
        serves local clients without one.
    type: str
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - O(api_key) is not used - Plex takes the plex.tv account token, O(token).
  - Tested against a test double of Plex Media Server 1.43 whose settings are those of a recorded real C(/:/prefs).
"""

EXAMPLES = r"""
- name: Name the server and publish it on the router's port
  arrkestra.homelab.plex_preferences:
    url: http://plex.media.svc:32400
    token: "{{ plex_account_token }}"
    preferences:
      FriendlyName: Arrkestra
      ManualPortMappingMode: true
      ManualPortMappingPort: 443
"""

RETURN = r"""
preferences:
  description: The named preferences as Plex has them after the run (typed).
  returned: always
  type: dict
  sample: {FriendlyName: Arrkestra, ManualPortMappingMode: true, ManualPortMappingPort: 443}
changes:
  description: The ids whose value differed.
  returned: always
  type: list
  elements: str
  sample: [FriendlyName]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.plex import plex_module, run_preferences


def main():
    run_preferences(plex_module({"preferences": {"type": "dict", "required": True}}))


if __name__ == "__main__":
    main()
