#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: jellyfin_api_key
short_description: Ensure a named API key of Jellyfin, and return it
version_added: 0.1.0
description:
  - Finds the API key of the given app name, creates it if there is none, and returns it, so that the other apps
    (Seerr, Prowlarr...) and modules can use it.
  - With O(api_key) - the key a previous run returned - the module first lists the keys with it; when it is still
    the key of that name, nothing signs in, so a re-run sends no request Jellyfin records. Otherwise it signs in as
    the administrator.
  - Jellyfin answers the creation with no body, so the module reads the key back. C(state=absent) revokes every key
    of that name.
author: Arrkestra engineers (@arrkestra)
options:
  name:
    description:
      - App name of the key, as Jellyfin lists it in Dashboard > API Keys.
    type: str
    required: true
  state:
    description:
      - V(present) ensures the key, V(absent) revokes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.jellyfin
notes:
  - O(admin_user) and O(admin_password) are required (the sign-in when O(api_key) is not, or no longer, the key).
  - The key is returned in RV(api_key); register the result with C(no_log) on the task.
"""

EXAMPLES = r"""
- name: The API key the stack uses
  arrkestra.homelab.jellyfin_api_key:
    url: http://jellyfin.media.svc:8096
    admin_user: admin
    admin_password: "{{ jellyfin_admin_password }}"
    name: arrkestra
  register: jellyfin_key
  no_log: true
"""

RETURN = r"""
api_key:
  description:
    - The key (absent in check mode when it would be created, and once revoked).
    - Not returned when it is the O(api_key) given (a no_log value would come back censored).
  returned: when the key exists and is not the one given
  type: str
  sample: 3f1c0d9a6b2e4e0f9a7b5c3d1e2f4a6b
key:
  description: The key's app name and how many keys have it.
  returned: always
  type: dict
  sample:
    name: arrkestra
    count: 1
changes:
  description: Always empty (a key is created or revoked, never changed).
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.jellyfin import api_key_spec, jellyfin_module, run_api_key


def main():
    module = jellyfin_module(api_key_spec())
    if not module.params["admin_user"]:
        module.fail_json(msg="jellyfin_api_key signs in as the administrator: give `admin_user` and `admin_password`.")
    run_api_key(module)


if __name__ == "__main__":
    main()
