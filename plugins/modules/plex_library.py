#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plex_library
short_description: Manage a library of a Plex Media Server
version_added: 0.1.0
description:
  - Creates, updates or deletes one library (section) of Plex, found by its name (ignoring case and surrounding
    spaces, as python-plexapi finds it), with its type, agent, scanner, language and folders.
  - The name is looked for first, so a re-run never makes a second library of the same name, as a plain
    C(POST /library/sections) would. Two libraries with the name already fail, naming both; the module does not guess.
  - Before a folder is added, the module checks that Plex sees it (C(GET /services/browse) of its parent, as
    python-plexapi does); a missing one fails with a message saying it must exist inside the Plex container.
author: Arrkestra engineers (@arrkestra)
options:
  name:
    description:
      - Name of the library. An existing library whose name differs only in case is renamed to O(name).
    type: str
    required: true
  type:
    description:
      - Content of the library. Needed to make it; Plex cannot change the type of an existing library, and a different
        type fails, saying to delete the library first.
    type: str
    choices: [movie, show, artist, photo]
  paths:
    description:
      - Folders of the library as Plex sees them - the whole list, which replaces Plex's. Needed to make the library;
        left out, an existing library keeps its folders.
    type: list
    elements: str
  agent:
    description:
      - Metadata agent. Left out, a new library gets the modern one of its type - V(tv.plex.agents.movie),
        V(tv.plex.agents.series), V(tv.plex.agents.music), V(com.plexapp.agents.none) for photos - and an existing
        one keeps its own.
    type: str
  scanner:
    description:
      - Scanner. Left out, a new library gets the one of its type - V(Plex Movie), V(Plex TV Series), V(Plex Music),
        V(Plex Photo Scanner) - and an existing one keeps its own.
    type: str
  language:
    description:
      - Metadata language. Left out, a new library gets V(en-US) (V(en) for photos) and an existing one keeps its own.
    type: str
  state:
    description:
      - V(present) creates or updates the library, V(absent) deletes it (the media files stay).
    type: str
    choices: [present, absent]
    default: present
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
  - Tested against a test double of Plex Media Server 1.43 built from python-plexapi 4.16.1.
"""

EXAMPLES = r"""
- name: Movies from every Radarr instance
  arrkestra.homelab.plex_library:
    url: http://plex.media.svc:32400
    token: "{{ plex_account_token }}"
    name: Movies
    type: movie
    paths: [/data/media/movies, /data/media/movies-4k]

- name: No more photos
  arrkestra.homelab.plex_library:
    url: http://plex.media.svc:32400
    token: "{{ plex_account_token }}"
    name: Photos
    state: absent
"""

RETURN = r"""
library:
  description: The library as Plex has it (V({}) once deleted); C(key) is the section's id (none in check mode before
    it is made).
  returned: always
  type: dict
  sample:
    key: "1"
    name: Movies
    type: movie
    agent: tv.plex.agents.movie
    scanner: Plex Movie
    language: en-US
    paths: [/data/media/movies]
changes:
  description: What differed (V(name), V(agent), V(scanner), V(language), V(paths)).
  returned: always
  type: list
  elements: str
  sample: [paths]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.plex import library_spec, plex_module, run_library


def main():
    run_library(plex_module(library_spec()))


if __name__ == "__main__":
    main()
