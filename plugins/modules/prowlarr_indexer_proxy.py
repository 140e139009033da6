#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: prowlarr_indexer_proxy
short_description: Manage an indexer proxy of Prowlarr (FlareSolverr)
version_added: 0.1.0
description:
  - Creates, updates or deletes one indexer proxy of Prowlarr, found by name ignoring case - usually
    FlareSolverr, which solves the browser challenges some indexers put in front of their site.
  - B(A proxy applies only to the indexers that share one of its tags.) A proxy without tags is used by no
    indexer; the module warns when O(tags) is empty.
  - Prowlarr tests the proxy on every save (unless O(force_save)).
author: Arrkestra engineers (@arrkestra)
options:
  implementation:
    description:
      - The kind of proxy, as Prowlarr's schema names it (case ignored) - V(FlareSolverr), V(Http),
        V(Socks4), V(Socks5).
    type: str
    default: FlareSolverr
  host:
    description:
      - FlareSolverr's URL as Prowlarr reaches it, for example V(http://flaresolverr.media.svc:8191/). Field C(host).
    type: str
  request_timeout:
    description:
      - Seconds FlareSolverr may take to solve a challenge. Field C(requestTimeout).
    type: int
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.provider
  - arrkestra.homelab.servarr.prowlarr
seealso:
  - module: arrkestra.homelab.prowlarr_application
"""

EXAMPLES = r"""
- name: FlareSolverr for the indexers tagged flaresolverr
  arrkestra.homelab.prowlarr_indexer_proxy:
    url: http://prowlarr.media.svc:9696
    api_key: "{{ prowlarr_api_key }}"
    name: FlareSolverr
    host: http://flaresolverr.media.svc:8191/
    request_timeout: 60
    tags: [flaresolverr]
"""

RETURN = r"""
indexer_proxy:
  description: The indexer proxy as Prowlarr has it after the task (V({}) once deleted).
  returned: always
  type: dict
  sample:
    id: 1
    name: FlareSolverr
    implementation: FlareSolverr
    tags: [flaresolverr]
    fields:
      host: http://flaresolverr.media.svc:8191/
      requestTimeout: 60
changes:
  description: What differs (or differed) from what Prowlarr had, C(fields.<name>) for fields.
  returned: always
  type: list
  elements: str
  sample: [fields.requestTimeout]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import indexer_proxy_spec, run_indexer_proxy


def main():
    run_indexer_proxy(indexer_proxy_spec())


if __name__ == "__main__":
    main()
