#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: bazarr_links
short_description: Manage Bazarr's Radarr and Sonarr connections in one run
version_added: 0.1.0
description:
  - Reconciles the list O(connections) of one Bazarr in one run, with the same behaviour as M(arrkestra.homelab.bazarr_connection)
    for each item.
  - 'Bazarr''s settings are read once: a run that changes nothing sends one C(GET). This is what the wiring phase (C(arrkestra.homelab.wiring))
    uses.'
author: Arrkestra engineers (@arrkestra)
options:
  connections:
    description:
      - Connections, one per O(connections[].kind). Each item takes the options of M(arrkestra.homelab.bazarr_connection).
      - Items not listed are never touched; an item with O(connections[].state=absent) is deleted or switched off.
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description:
          - Which connection.
        type: str
        required: true
        choices:
          - radarr
          - sonarr
      host:
        description:
          - Host name of Radarr/Sonarr as Bazarr reaches it (an in-cluster service name such as V(radarr.media.svc.cluster.local),
            not the controller's view). Left out, the current one is kept.
        type: str
      port:
        description:
          - Port of Radarr/Sonarr.
        type: int
      base_url:
        description:
          - URL base of Radarr/Sonarr (V(/) for none).
        type: str
      use_ssl:
        description:
          - Whether Bazarr talks to Radarr/Sonarr over HTTPS.
        type: bool
      app_api_key:
        description:
          - API key of Radarr/Sonarr. Written when Bazarr has none or a different one; when Bazarr hides it, written again
            only with O(connections[].update_secrets=true).
        type: str
      update_secrets:
        description:
          - Write O(connections[].app_api_key) on every run.
        type: bool
        default: false
      enabled:
        description:
          - Whether Bazarr uses this connection.
        type: bool
        default: true
      state:
        description:
          - V(present) sets and switches on the connection; V(absent) switches it off and keeps its settings.
        type: str
        choices:
          - present
          - absent
        default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
"""

EXAMPLES = r"""
- name: Bazarr with Radarr and Sonarr
  arrkestra.homelab.bazarr_links:
    url: http://bazarr.media.svc:6767
    api_key: "{{ bazarr_api_key }}"
    connections:
      - {kind: radarr, host: radarr.media.svc, port: 7878, app_api_key: "{{ radarr_api_key }}"}
      - {kind: sonarr, host: sonarr.media.svc, port: 8989, app_api_key: "{{ sonarr_api_key }}"}
"""

RETURN = r"""
connections:
  description: One result per item of O(connections), in order - C(changed), C(changes) and C(connection).
  returned: always
  type: list
  elements: dict
requests:
  description: HTTP requests the run sent to the app (a run that changes nothing sends one C(GET) per collection).
  returned: success
  type: int
  sample: 2
writes:
  description: Requests among RV(requests) that were not C(GET).
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.bazarr import bazarr_module, run_links, connection_spec


def main():
    module = bazarr_module({"connections": {"type": "list", "elements": "dict", "default": [], "options": connection_spec()}})
    run_links(module)


if __name__ == "__main__":
    main()
