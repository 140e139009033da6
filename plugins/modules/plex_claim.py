#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: plex_claim
short_description: Claim a Plex Media Server with a plex.tv account
version_added: 0.1.0
description:
  - Reads C(GET /identity), which Plex answers without a token. A server already claimed is only checked - C(GET /)
    with O(token) must work - and left as it is; a server claimed by another account fails, saying so and what to do.
  - An unclaimed server is claimed by the account of O(token) - a claim token is minted at plex.tv
    (C(GET /api/claim/token.json)) right before Plex is asked to claim itself with it (C(POST /myplex/claim)), so
    there is no race with the few minutes a claim token lives, as with the image's C(PLEX_CLAIM_TOKEN).
  - Plex accepts a claim only from a client on a network it sees as local; a refused claim fails, saying so and how
    to claim the server otherwise.
author: Arrkestra engineers (@arrkestra)
options:
  token:
    description:
      - The plex.tv account token (M(arrkestra.homelab.plex_pin) returns one). The server is claimed by its account,
        and every request to a claimed server carries it (C(X-Plex-Token), which passes the Kubernetes API server's
        service proxy).
    type: str
    required: true
  plex_tv_url:
    description:
      - Base URL of plex.tv, where the claim token is minted (tests point it at a double). Its certificate is verified
        against the system's CAs; the TLS options are for O(url).
    type: str
    default: https://plex.tv
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - O(api_key) is not used - Plex takes the plex.tv account token, O(token).
  - In check mode an unclaimed server is reported as changed, and nothing is written, at plex.tv or in Plex.
  - Tested against test doubles of Plex Media Server 1.43 and plex.tv built from python-plexapi 4.16.1.
"""

EXAMPLES = r"""
- name: Plex claimed by the account signed in with plex_pin
  arrkestra.homelab.plex_claim:
    url: http://plex.media.svc:32400
    token: "{{ plex_account_token }}"
"""

RETURN = r"""
server:
  description: The server's claim as it is after the run.
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
    username:
      description: The account that owns it (none in check mode, before the claim).
      type: str
  sample:
    claimed: true
    machine_identifier: 0f3c4c4d5c8b0a1e2d3f4a5b6c7d8e9f00112233
    version: 1.43.3.10896-cb3ebc72d
    username: arrkestra
changes:
  description: V(claimed) when the server was (or, in check mode, would be) claimed.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.plex import plex_module, plex_tv_spec, run_claim, token_spec


def main():
    spec = plex_tv_spec()
    spec.update(token_spec(required=True))
    run_claim(plex_module(spec))


if __name__ == "__main__":
    main()
