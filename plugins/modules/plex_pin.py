#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plex_pin
short_description: Sign in to plex.tv with a code typed at plex.tv/link
version_added: 0.1.0
description:
  - The plex.tv PIN sign-in, in two calls. Without O(pin_id), asks plex.tv for a PIN (C(POST /api/v2/pins), the plain
    mode whose 4-character code a person types at U(https://plex.tv/link)) and returns RV(pin_id), RV(code), RV(url) and
    RV(expires_in); show the code to the person. With O(pin_id), asks plex.tv for that PIN every O(poll_interval)
    seconds (C(GET /api/v2/pins/{id})) until someone signed in with its code, and returns the account token RV(token).
  - With O(token), an account token kept from an earlier sign-in, first checks that plex.tv still accepts it
    (C(GET /api/v2/user)); if it does, returns RV(token_valid=true) and changes nothing, so a re-run of the sign-in asks
    for no code. If it does not, the module warns and returns RV(token_valid=false) - with O(pin_id) it then waits as
    without O(token); without, it makes no PIN (run it again without O(token) for a code).
  - plex.tv ties a PIN to the client that asked for it, so the call that makes the PIN and the call that waits for it
    must give the same O(client_identifier).
  - Used by the playbook C(arrkestra.homelab.plex_signin), which keeps the token in the Plex app's Secret.
author: Arrkestra engineers (@arrkestra)
options:
  client_identifier:
    description:
      - The C(X-Plex-Client-Identifier) of the sign-in, a stable name of this client (for example
        V(arrkestra-media)); plex.tv lists the signed-in device under it.
    type: str
    required: true
  pin_id:
    description:
      - The RV(pin_id) an earlier call returned - wait for the sign-in with its code. Left out, a new PIN is made.
    type: int
  token:
    description:
      - An account token kept from an earlier sign-in, to check. When plex.tv still accepts it, no PIN is made and no
        wait happens; when it does not, no PIN is made either (see above).
    type: str
  plex_tv_url:
    description:
      - Base URL of plex.tv (tests point it at a double).
    type: str
    default: https://plex.tv
  timeout:
    description:
      - Seconds to wait for the sign-in with O(pin_id). A code lives 15 minutes; after O(timeout) the module fails
        saying the code expired and to run again.
    type: float
    default: 600
  poll_interval:
    description:
      - Seconds between two looks at the PIN while waiting.
    type: float
    default: 2
  validate_certs:
    description:
      - Whether plex.tv's TLS certificate is verified.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of a certificate authority to verify plex.tv's certificate with, instead of the system's.
    type: path
attributes:
  check_mode:
    description: In check mode no PIN is made (RV(code) is none); a wait with O(pin_id) and a check of O(token) only read.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
requirements:
  - httpx >= 0.24 on the host that runs the module
notes:
  - RV(token) signs in as the plex.tv account, and Plex servers claimed by it accept it as their owner. Register the
    result of the wait with C(no_log) on the task, and keep the token in a secret store.
  - Ansible hides every value of an option marked C(no_log) in a module's result, so a valid O(token) cannot be
    returned again; RV(token_valid) says it works.
  - Tested against a test double of plex.tv built from python-plexapi 4.16.1 (C(MyPlexPinLogin)) and recorded
    plex.tv answers.
"""

EXAMPLES = r"""
- name: Check the token kept, if any
  arrkestra.homelab.plex_pin:
    client_identifier: arrkestra-media
    token: "{{ plex_account_token }}"
  register: plex_checked
  when: plex_account_token | default('') | length > 0
  no_log: true

- name: Ask plex.tv for a code
  arrkestra.homelab.plex_pin:
    client_identifier: arrkestra-media
  register: plex_pin
  when: not (plex_checked.token_valid | default(false))

- name: Tell the person what to do
  ansible.builtin.debug:
    msg: "Open {{ plex_pin.url }}, sign in to plex.tv and enter the code {{ plex_pin.code }}"
  when: plex_pin is not skipped

- name: Wait for the sign-in
  arrkestra.homelab.plex_pin:
    client_identifier: arrkestra-media
    pin_id: "{{ plex_pin.pin_id }}"
  register: plex_linked
  when: plex_pin is not skipped
  no_log: true
"""

RETURN = r"""
pin_id:
  description: The id of the PIN, for the call that waits (O(pin_id)); none in check mode.
  returned: when a PIN was made or waited for
  type: int
  sample: 111222333
code:
  description: The 4-character code the person types at RV(url); none in check mode.
  returned: when a PIN was made or waited for
  type: str
  sample: K7QD
url:
  description: Where the person types the code.
  returned: always
  type: str
  sample: https://plex.tv/link
expires_in:
  description: Seconds the new code lives.
  returned: when a PIN was made
  type: int
  sample: 900
token:
  description: The account token plex.tv handed over once the person signed in. A secret - register the result with C(no_log).
  returned: when the wait with O(pin_id) succeeded
  type: str
token_valid:
  description: Whether plex.tv still accepts O(token).
  returned: when O(token) was given
  type: bool
  sample: true
username:
  description: The plex.tv account's user name.
  returned: when known (a valid O(token), or a finished sign-in)
  type: str
  sample: arrkestra
client_identifier:
  description: O(client_identifier), to give the next call.
  returned: always
  type: str
msg:
  description: What happened, or what the person has to do.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.arrkestra.homelab.plugins.module_utils._http import HTTPX_IMPORT_ERROR
from ansible_collections.arrkestra.homelab.plugins.module_utils.plex import PLEX_TV_URL, run_pin


def main():
    module = AnsibleModule(argument_spec={
        "client_identifier": {"type": "str", "required": True},
        "pin_id": {"type": "int"},
        "token": {"type": "str", "no_log": True},
        "plex_tv_url": {"type": "str", "default": PLEX_TV_URL},
        "timeout": {"type": "float", "default": 600},
        "poll_interval": {"type": "float", "default": 2},
        "validate_certs": {"type": "bool", "default": True},
        "ca_path": {"type": "path"},
    }, supports_check_mode=True)
    if HTTPX_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    if module.params["poll_interval"] <= 0 or module.params["timeout"] < 0:
        module.fail_json(msg="`poll_interval` must be more than 0 seconds, and `timeout` 0 or more.")
    run_pin(module)


if __name__ == "__main__":
    main()
