#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: prowlarr_application
short_description: Connect Prowlarr to Radarr, Sonarr, Lidarr or Readarr
version_added: 0.1.0
description:
  - Creates, updates or deletes one application of Prowlarr, found by name ignoring case. Prowlarr then
    pushes its indexers to that app.
  - Two URLs are involved and both are seen from inside the apps, never from the controller -
    O(base_url) is how B(Prowlarr) reaches the app, O(prowlarr_url) how B(the app) reaches Prowlarr. In a
    cluster both are in-cluster service URLs, not the ingress URLs users open.
  - On save Prowlarr tests the connection (unless O(force_save)) and reports, for example, "Unable to complete
    application test, cannot connect to Radarr" or "API Key is invalid".
author: Arrkestra engineers (@arrkestra)
options:
  implementation:
    description:
      - The kind of app, as Prowlarr's schema names it (case ignored) - V(Radarr), V(Sonarr), V(Lidarr),
        V(Readarr), or any other implementation of C(GET /api/v1/applications/schema).
      - Required to create the application; an existing one cannot change implementation.
    type: str
  sync_level:
    description:
      - V(disabled) - no sync; V(add_only) - indexers are added to the app, never removed or updated;
        V(full_sync) - the app's indexers follow Prowlarr's. New applications get V(full_sync).
    type: str
    choices: [add_only, disabled, full_sync]
  prowlarr_url:
    description:
      - URL of Prowlarr as the app reaches it, for example V(http://prowlarr.media.svc:9696). Field C(prowlarrUrl).
    type: str
  base_url:
    description:
      - URL of the app as Prowlarr reaches it, for example V(http://radarr.media.svc:7878). Field C(baseUrl).
    type: str
  app_api_key:
    description:
      - API key of the app (secret, see O(update_secrets)). Field C(apiKey).
    type: str
  sync_categories:
    description:
      - Newznab categories Prowlarr syncs to the app (for example V([2000, 2040]) for movies). Omitted, a new
        application gets the app's defaults and an existing one keeps its own. Field C(syncCategories).
    type: list
    elements: int
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.servarr.provider
  - arrkestra.homelab.servarr.prowlarr
seealso:
  - module: arrkestra.homelab.prowlarr_indexer_proxy
"""

EXAMPLES = r"""
- name: Let Prowlarr feed the apps
  module_defaults:
    group/arrkestra.homelab.prowlarr:
      url: http://prowlarr.media.svc:9696
      api_key: "{{ prowlarr_api_key }}"
  block:
    - name: Radarr
      arrkestra.homelab.prowlarr_application:
        name: Radarr
        implementation: Radarr
        sync_level: full_sync
        prowlarr_url: http://prowlarr.media.svc:9696
        base_url: http://radarr.media.svc:7878
        app_api_key: "{{ radarr_api_key }}"

    - name: Sonarr, including anime categories
      arrkestra.homelab.prowlarr_application:
        name: Sonarr
        implementation: Sonarr
        prowlarr_url: http://prowlarr.media.svc:9696
        base_url: http://sonarr.media.svc:8989
        app_api_key: "{{ sonarr_api_key }}"
        fields:
          animeSyncCategories: [5070]
        tags: [anime]
"""

RETURN = r"""
application:
  description: The application as Prowlarr has it after the task (V({}) once deleted); the API key shows V(<hidden>).
  returned: always
  type: dict
  sample:
    id: 1
    name: Radarr
    implementation: Radarr
    implementationName: Radarr
    configContract: RadarrSettings
    syncLevel: fullSync
    tags: []
    fields:
      prowlarrUrl: http://prowlarr.media.svc:9696
      baseUrl: http://radarr.media.svc:7878
      apiKey: <hidden>
      syncCategories: [2000, 2010, 2020, 2030, 2040, 2045, 2050, 2060, 2070, 2080]
changes:
  description: What differs (or differed) from what Prowlarr had, C(fields.<name>) for fields.
  returned: always
  type: list
  elements: str
  sample: [syncLevel]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.servarr import application_spec, run_application


def main():
    run_application(application_spec())


if __name__ == "__main__":
    main()
