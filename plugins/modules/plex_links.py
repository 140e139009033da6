#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plex_links
short_description: Set up one Plex Media Server - its claim, preferences and libraries - in one run
version_added: 0.1.0
description:
  - Claims the server with the account of O(token) when O(claim=true) (as M(arrkestra.homelab.plex_claim)), sets the
    preferences O(preferences) (as M(arrkestra.homelab.plex_preferences)), then the libraries O(libraries) (as
    M(arrkestra.homelab.plex_library)), in that order, in one run and one session; each collection is read once. This
    is what the wiring phase (C(arrkestra.homelab.wiring)) uses, once per Plex server.
  - 'Without O(token), does what an unclaimed server lets a local client do (preferences and libraries), leaves the
    claim for later and returns RV(needs_sign_in=true) with a RV(msg) saying to run C(ansible-playbook
    arrkestra.homelab.plex_signin). A server that is claimed already is only looked at without O(token): nothing can
    be set on it.'
  - A run with nothing to change sends only reads.
author: Arrkestra engineers (@arrkestra)
options:
  token:
    description:
      - The plex.tv account token (the Plex sign-in, M(arrkestra.homelab.plex_pin), keeps it in the Plex app's Secret).
        Every request to a claimed server carries it (C(X-Plex-Token)).
    type: str
  plex_tv_url:
    description:
      - Base URL of plex.tv, where claim tokens are minted (tests point it at a double). Its certificate is verified
        against the system's CAs; the TLS options are for O(url).
    type: str
    default: https://plex.tv
  claim:
    description:
      - Claim an unclaimed server with the account of O(token), a claim token minted right before it is used; check a
        claimed one (the token must open it, else the run fails). Without O(token) the claim waits, and RV(msg) says
        how to sign in.
    type: bool
    default: false
  preferences:
    description:
      - Preferences by their Plex id (with its case) and value, as M(arrkestra.homelab.plex_preferences) sets them -
        only those named are read, compared as values of their type and written, all in one C(PUT /:/prefs).
    type: dict
    default: {}
  libraries:
    description:
      - Libraries, found by name, as M(arrkestra.homelab.plex_library) makes them.
      - Items not listed are never touched; an item with O(libraries[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - Name of the library.
        type: str
        required: true
      type:
        description:
          - Content of the library; needed to make it. Plex cannot change the type of a library; a different type fails.
        type: str
        choices: [movie, show, artist, photo]
      paths:
        description:
          - Folders of the library as Plex sees them - the whole list. Left out, an existing library keeps its folders.
        type: list
        elements: str
      agent:
        description:
          - Metadata agent; left out, the modern one of the type for a new library, the library's own otherwise.
        type: str
      scanner:
        description:
          - Scanner; left out, the one of the type for a new library, the library's own otherwise.
        type: str
      language:
        description:
          - Metadata language; left out, V(en-US) (V(en) for photos) for a new library, the library's own otherwise.
        type: str
      state:
        description:
          - V(present) creates or updates the library, V(absent) deletes it (the media files stay).
        type: str
        choices: [present, absent]
        default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - O(api_key) is not used - Plex takes the plex.tv account token, O(token).
  - Tested against test doubles of Plex Media Server 1.43 and plex.tv built from python-plexapi 4.16.1.
"""

EXAMPLES = r"""
- name: Plex claimed, named, and its libraries
  arrkestra.homelab.plex_links:
    url: http://plex.media.svc:32400
    token: "{{ plex_account_token | default(omit) }}"
    claim: true
    preferences:
      FriendlyName: Arrkestra
    libraries:
      - {name: Movies, type: movie, paths: [/data/media/movies, /data/media/movies-4k]}
      - {name: Shows, type: show, paths: [/data/media/tv]}
  register: plex

- name: Say what Plex still needs
  ansible.builtin.debug:
    msg: "{{ plex.msg }}"
  when: plex.needs_sign_in
"""

RETURN = r"""
claim:
  description: The result of the claim - C(changed), C(changes) and C(server) (as M(arrkestra.homelab.plex_claim) returns
    them); none without O(claim) or without O(token).
  returned: always
  type: dict
preferences:
  description: The result of O(preferences) - C(changed), C(changes) and C(preferences) (the named ones, typed); none
    when the server is claimed and no O(token) was given.
  returned: always
  type: dict
libraries:
  description: One result per item of O(libraries) - C(changed), C(changes) and C(library) (with the section's C(key));
    empty when the server is claimed and no O(token) was given.
  returned: always
  type: list
  elements: dict
claimed:
  description: Whether the server is claimed after the run (or would be, in check mode).
  returned: success
  type: bool
machine_identifier:
  description: The server's C(machineIdentifier).
  returned: success
  type: str
version:
  description: The version of Plex Media Server.
  returned: success
  type: str
  sample: 1.43.3.10896-cb3ebc72d
needs_sign_in:
  description: True when no O(token) was given - the claim, and whatever needs the plex.tv account, waits for the Plex
    sign-in (C(ansible-playbook arrkestra.homelab.plex_signin)).
  returned: success
  type: bool
msg:
  description: The server's state in a sentence, and what to do when RV(needs_sign_in) is true.
  returned: success
  type: str
requests:
  description: HTTP requests the run sent to Plex (not counting plex.tv).
  returned: success
  type: int
  sample: 3
writes:
  description: Requests among RV(requests) that were not C(GET).
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.plex import links_argument_spec, plex_module, run_links


def main():
    run_links(plex_module(links_argument_spec()))


if __name__ == "__main__":
    main()
