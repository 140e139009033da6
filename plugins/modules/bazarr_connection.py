#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: bazarr_connection
short_description: Link Bazarr to Radarr or Sonarr
version_added: 0.1.0
description:
  - Sets Bazarr's connection to Radarr or to Sonarr - host, port, URL base, TLS and API key - and switches it on,
    so that Bazarr finds the movies and series that need subtitles.
  - Bazarr talks to one Radarr and one Sonarr. Only the settings the task names are compared and sent; a run with
    nothing to change sends no write.
author: Arrkestra engineers (@arrkestra)
options:
  kind:
    description:
      - Which connection.
    type: str
    required: true
    choices: [radarr, sonarr]
  host:
    description:
      - Host name of Radarr/Sonarr as Bazarr reaches it (an in-cluster service name such as
        V(radarr.media.svc.cluster.local), not the controller's view). Left out, the current one is kept.
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
      - API key of Radarr/Sonarr. Written when Bazarr has none or a different one; when Bazarr hides it,
        written again only with O(update_secrets=true).
    type: str
  update_secrets:
    description:
      - Write O(app_api_key) on every run.
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
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
notes:
  - O(api_key) is Bazarr's own API key (Settings > General > Security), required.
"""

EXAMPLES = r"""
- name: Bazarr finds the movies of Radarr
  arrkestra.homelab.bazarr_connection:
    url: http://bazarr.media.svc:6767
    api_key: "{{ bazarr_api_key }}"
    kind: radarr
    host: radarr.media.svc.cluster.local
    port: 7878
    app_api_key: "{{ radarr_api_key }}"
"""

RETURN = r"""
connection:
  description: The connection as Bazarr has it now, API key hidden.
  returned: always
  type: dict
  sample:
    enabled: true
    host: radarr.media.svc.cluster.local
    port: 7878
    base_url: /
    use_ssl: false
    api_key: <hidden>
changes:
  description: What differed.
  returned: always
  type: list
  elements: str
  sample: [host, api_key]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.bazarr import bazarr_module, connection_spec, run_connection


def main():
    module = bazarr_module(connection_spec())
    run_connection(module)


if __name__ == "__main__":
    main()
