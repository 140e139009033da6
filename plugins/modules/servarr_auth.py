#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: servarr_auth
short_description: Manage the UI login of Radarr, Sonarr, Lidarr or Prowlarr
version_added: 0.1.0
description:
  - Sets how the web UI of one app asks for a login - the authentication method, when it is required, and the
    one user of the app - through C(GET)/C(PUT /config/host) (C(/api/v3) for Radarr and Sonarr, C(/api/v1) for
    Lidarr and Prowlarr). The API key keeps working for the API whatever is set here.
  - Until a method is set the apps answer every visitor of the UI with an "Authentication Required" dialog
    that asks for one; once O(method=forms) is set with a user, the UI shows a login page.
  - The apps read back the user's name (stored lower case) and a salted hash of the password, never the salt,
    so the module cannot compare a password it is given with the stored one; O(update_password) decides
    when the password is written. With the default V(on_create), a run that finds the method, requirement
    and user as wanted sends one C(GET) and nothing else.
  - Every write sends the complete host configuration back, as the apps save every key of it; when the
    password is not to change, the stored hash is sent as the password, which the apps keep as it is.
author: Arrkestra engineers (@arrkestra)
options:
  app:
    description:
      - Which app O(url) points at; it decides the API root.
    type: str
    required: true
    choices: [lidarr, prowlarr, radarr, sonarr]
  method:
    description:
      - V(forms) shows a login page and needs O(username) and O(password).
      - V(external) leaves the login to a proxy in front of the app (the app asks nothing).
      - V(none) turns the login off; the apps then show the "Authentication Required" dialog to every visitor.
      - When the container sets the environment variable C(<APP>__AUTH__METHOD) (for example
        C(RADARR__AUTH__METHOD=Forms)) the app ignores what is saved here; the module then fails, naming the
        variable, if the method it wants is another one.
    type: str
    choices: [external, forms, none]
    default: forms
  required:
    description:
      - V(enabled) asks every visitor to log in; V(disabled_for_local_addresses) lets visitors from private
        networks (LAN, pod network) in without one.
      - Overridden by the environment variable C(<APP>__AUTH__REQUIRED) when the container sets it.
    type: str
    choices: [disabled_for_local_addresses, enabled]
    default: enabled
  username:
    description:
      - Name of the user; the apps store it in lower case and the module compares it so.
      - Required with O(method=forms), together with O(password).
    type: str
  password:
    description:
      - Password of the user. When it is written follows O(update_password).
    type: str
  update_password:
    description:
      - V(on_create) writes the password only when the app has no user yet. A changed O(password) is not
        noticed - the apps cannot tell - so to rotate it run once with V(always) or V(verify).
      - V(verify) signs in with O(username) and O(password) (C(POST /login), which changes nothing in the app)
        and writes the password only when that fails. It costs one sign-in per run, which the app logs
        (a failed one as a warning).
      - V(always) writes the password on every run; the task then always reports a change.
    type: str
    choices: [always, on_create, verify]
    default: on_create
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.info
notes:
  - The password is never shown in the result or the diff; a stored one appears as C(<hidden>).
  - The apps have no API to delete the user, so there is no O(ignore:state); O(method=none) turns the login off.
  - V(verify) needs the method to be C(forms) already when the app started or first served C(/login), because
    the apps read the method for sign-ins once. After the method was switched from C(none) to C(forms) through
    the API and a sign-in was tried before, every sign-in fails until the app restarts, and V(verify) would
    write the password on every run.
seealso:
  - module: arrkestra.homelab.servarr_links
"""

EXAMPLES = r"""
- name: A login page on Radarr, with a generated password
  arrkestra.homelab.servarr_auth:
    app: radarr
    url: http://radarr.media.svc:7878
    api_key: "{{ radarr_api_key }}"
    username: admin
    password: "{{ radarr_ui_password }}"

- name: Rotate the password of Prowlarr (one sign-in per run, a write only when it fails)
  arrkestra.homelab.servarr_auth:
    app: prowlarr
    url: http://prowlarr.media.svc:9696
    api_key: "{{ prowlarr_api_key }}"
    username: admin
    password: "{{ new_prowlarr_password }}"
    update_password: verify

- name: Behind an authenticating proxy, with no login in Sonarr itself
  arrkestra.homelab.servarr_auth:
    app: sonarr
    url: http://sonarr.media.svc:8989
    api_key: "{{ sonarr_api_key }}"
    method: external
"""

RETURN = r"""
auth:
  description:
    - The login settings as the app has them after the run (in check mode, as they would be).
    - C(method) is V(none), V(basic), V(forms) or V(external); C(required) V(enabled) or
      V(disabledForLocalAddresses) (the app's spelling); C(username) is empty without a user; C(password) is
      V(<hidden>) when a user has one, empty otherwise.
  returned: always
  type: dict
  sample:
    method: forms
    required: enabled
    username: admin
    password: <hidden>
changes:
  description:
    - What differed - C(method), C(required), C(username), C(password) - and was (or would be) written.
  returned: always
  type: list
  elements: str
  sample: [method, username, password]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import auth_spec, run_auth


def main():
    run_auth(auth_spec())


if __name__ == "__main__":
    main()
