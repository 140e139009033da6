#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: jellyfin_startup
short_description: Complete Jellyfin's first-run wizard
version_added: 0.1.0
description:
  - Completes the wizard a new Jellyfin server shows in the browser, without a browser - server name, languages,
    country, the administrator and remote access - in the order Jellyfin requires, then signs in as the new
    administrator to prove it works.
  - A server whose wizard is complete is left alone - the module reports V(changed=false) and sends nothing but
    one C(GET /System/Info/Public); it never changes the administrator of a server already set up.
author: Arrkestra engineers (@arrkestra)
options:
  server_name:
    description:
      - Name of the server, shown to clients.
    type: str
    default: Jellyfin
  ui_culture:
    description:
      - Language of the web interface.
    type: str
    default: en-US
  metadata_language:
    description:
      - Preferred metadata language (ISO 639-1).
    type: str
    default: en
  metadata_country:
    description:
      - Metadata country (ISO 3166-1 alpha-2).
    type: str
    default: US
  admin_user:
    description:
      - The administrator the wizard creates.
    type: str
    required: true
  admin_password:
    description:
      - Password of the administrator.
    type: str
    required: true
  enable_remote_access:
    description:
      - Whether Jellyfin accepts connections from outside the local network.
    type: bool
    default: true
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - O(api_key) is not used.
"""

EXAMPLES = r"""
- name: Set up a new Jellyfin without a browser
  arrkestra.homelab.jellyfin_startup:
    url: http://jellyfin.media.svc:8096
    server_name: Home
    admin_user: admin
    admin_password: "{{ jellyfin_admin_password }}"
"""

RETURN = r"""
startup:
  description: Whether the wizard is complete, and the server name.
  returned: always
  type: dict
  sample:
    wizard_completed: true
    server_name: Home
version:
  description: Jellyfin's version.
  returned: always
  type: str
  sample: 10.11.11
changes:
  description: What the wizard set (empty when it was already complete).
  returned: always
  type: list
  elements: str
  sample: [wizard_completed, server_name]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils._module import new_module
from ansible_collections.arrkestra.homelab.plugins.module_utils.jellyfin import run_startup, startup_spec


def main():
    module = new_module(dict(startup_spec(), admin_user={"type": "str", "required": True},
                             admin_password={"type": "str", "required": True, "no_log": True}))
    run_startup(module)


if __name__ == "__main__":
    main()
