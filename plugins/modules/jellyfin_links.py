#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: jellyfin_links
short_description: Set up one Jellyfin and its libraries in one run
version_added: 0.1.0
description:
  - Runs the first-run wizard (O(startup), as M(arrkestra.homelab.jellyfin_startup)), ensures the API keys O(api_keys) (as
    M(arrkestra.homelab.jellyfin_api_key)), the libraries O(libraries) (as M(arrkestra.homelab.jellyfin_library)) and the
    encoding options O(encoding) (as M(arrkestra.homelab.jellyfin_encoding)), in that order, in one run and one session.
  - 'Signs in at most once: not at all when O(api_key) is a key Jellyfin still has, so that a run with nothing to change
    sends only reads; each collection is read once. This is what the wiring phase (C(arrkestra.homelab.wiring)) uses.'
  - 'In check mode, a server whose wizard is still to run has no administrator to sign in with yet: the API keys and libraries
    are left for the real run (their results are empty).'
author: Arrkestra engineers (@arrkestra)
options:
  startup:
    description:
      - The first-run wizard, run once with O(admin_user) and O(admin_password) as the administrator it makes; left out,
        the wizard is not looked at. Its options are those of M(arrkestra.homelab.jellyfin_startup).
    type: dict
    suboptions:
      server_name:
        description:
          - Name of the server, shown to clients.
        type: str
        default: Jellyfin
      ui_culture:
        description:
          - Language of the web interface.
        type: str
        default: en-US
      metadata_language:
        description:
          - Preferred metadata language (ISO 639-1).
        type: str
        default: en
      metadata_country:
        description:
          - Metadata country (ISO 3166-1 alpha-2).
        type: str
        default: US
      enable_remote_access:
        description:
          - Whether Jellyfin accepts connections from outside the local network.
        type: bool
        default: true
  api_keys:
    description:
      - API keys, by app name, as M(arrkestra.homelab.jellyfin_api_key) makes them; a key made or different from O(api_key)
        is returned in RV(api_key).
      - Items not listed are never touched; an item with O(api_keys[].state=absent) is deleted.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - App name of the key, as Jellyfin lists it in Dashboard > API Keys.
        type: str
        required: true
      state:
        description:
          - V(present) ensures the key, V(absent) revokes it.
        type: str
        choices:
          - present
          - absent
        default: present
  libraries:
    description:
      - Libraries, found by name, as M(arrkestra.homelab.jellyfin_library) makes them.
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
      collection_type:
        description:
          - Content of the library. Jellyfin cannot change the type of an existing library; a different type fails.
        type: str
        choices:
          - movies
          - tvshows
          - music
          - musicvideos
          - homevideos
          - boxsets
          - books
          - mixed
      paths:
        description:
          - Folders of the library as Jellyfin sees them. Left out, an existing library keeps its folders.
        type: list
        elements: str
      options:
        description:
          - Library options by Jellyfin's names (C(EnableRealtimeMonitor), C(SaveLocalMetadata), C(PreferredMetadataLanguage),
            C(AutomaticRefreshIntervalDays)...); only those given are compared and set.
        type: dict
      state:
        description:
          - V(present) creates or updates the library, V(absent) deletes it (the files stay).
        type: str
        choices:
          - present
          - absent
        default: present
  encoding:
    description:
      - Jellyfin's encoding options (hardware transcoding), as M(arrkestra.homelab.jellyfin_encoding) sets them - only
        the fields given are compared and set, the rest of the object is sent back as read; left out, they are not
        looked at.
      - The wiring phase gives C(hardware_acceleration) V(qsv) for an Intel GPU, V(vaapi) and C(vaapi_device) for an
        AMD one, V(none) without a GPU (C(arrkestra_apps.<jellyfin>.transcoding)).
    type: dict
    suboptions:
      hardware_acceleration:
        description:
          - C(HardwareAccelerationType).
        type: str
        choices: [none, amf, qsv, nvenc, v4l2m2m, vaapi, videotoolbox, rkmpp]
      vaapi_device:
        description:
          - C(VaapiDevice), the render node VA-API opens.
        type: str
      qsv_device:
        description:
          - C(QsvDevice) (empty - Jellyfin's default - finds the Intel GPU by its PCI vendor id).
        type: str
      enable_hardware_encoding:
        description:
          - C(EnableHardwareEncoding).
        type: bool
      hardware_decoding_codecs:
        description:
          - C(HardwareDecodingCodecs), compared without order or case.
        type: list
        elements: str
      enable_10bit_hevc_decoding:
        description:
          - C(EnableDecodingColorDepth10Hevc).
        type: bool
      enable_10bit_vp9_decoding:
        description:
          - C(EnableDecodingColorDepth10Vp9).
        type: bool
      prefer_system_native_hw_decoder:
        description:
          - C(PreferSystemNativeHwDecoder).
        type: bool
      intel_low_power_h264_encoder:
        description:
          - C(EnableIntelLowPowerH264HwEncoder).
        type: bool
      intel_low_power_hevc_encoder:
        description:
          - C(EnableIntelLowPowerHevcHwEncoder).
        type: bool
      enable_tonemapping:
        description:
          - C(EnableTonemapping).
        type: bool
      enable_vpp_tonemapping:
        description:
          - C(EnableVppTonemapping).
        type: bool
      allow_hevc_encoding:
        description:
          - C(AllowHevcEncoding).
        type: bool
      allow_av1_encoding:
        description:
          - C(AllowAv1Encoding).
        type: bool
      transcoding_temp_path:
        description:
          - C(TranscodingTempPath).
        type: str
      encoding_thread_count:
        description:
          - C(EncodingThreadCount).
        type: int
      options:
        description:
          - Any other field of C(GET /System/Configuration/encoding), by its name with its case.
        type: dict
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.jellyfin
"""

EXAMPLES = r"""
- name: Jellyfin set up, its key and its libraries, in one run
  arrkestra.homelab.jellyfin_links:
    url: http://jellyfin.media.svc:8096
    admin_user: admin
    admin_password: "{{ jellyfin_password }}"
    api_key: "{{ jellyfin_api_key | default(omit) }}"
    startup: {server_name: Arrkestra}
    api_keys: [{name: arrkestra}]
    libraries:
      - {name: Movies, collection_type: movies, paths: [/data/media/movies, /data/media/movies-4k]}
      - {name: Shows, collection_type: tvshows, paths: [/data/media/tv]}
    encoding: {hardware_acceleration: qsv, qsv_device: ""}
  register: jellyfin
  no_log: true
"""

RETURN = r"""
startup:
  description: The result of O(startup) - C(changed), C(changes), C(startup) and C(version) (None without O(startup)).
  returned: always
  type: dict
api_keys:
  description: One result per item of O(api_keys) - C(changed), C(changes), C(key) and, when made or different from O(api_key),
    C(api_key).
  returned: always
  type: list
  elements: dict
libraries:
  description: One result per item of O(libraries) - C(changed), C(changes) and C(library).
  returned: always
  type: list
  elements: dict
encoding:
  description: The result of O(encoding) - C(changed), C(changes) and C(encoding) (None without O(encoding)).
  returned: always
  type: dict
api_key:
  description: The first key of O(api_keys) that was made, or that differs from O(api_key). Keep it secret (use C(no_log)).
  returned: when a key was made or differs
  type: str
requests:
  description: HTTP requests the run sent to Jellyfin.
  returned: success
  type: int
  sample: 3
writes:
  description: Requests among RV(requests) that were not C(GET) (a sign-in is one).
  returned: success
  type: int
  sample: 0
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.jellyfin import (
    api_key_spec, encoding_spec, jellyfin_module, library_spec, run_links, startup_spec)


def main():
    module = jellyfin_module({
        "startup": {"type": "dict", "options": startup_spec()},
        # the names of the keys, not the keys
        "api_keys": {"type": "list", "elements": "dict", "default": [], "options": api_key_spec(), "no_log": False},
        "libraries": {"type": "list", "elements": "dict", "default": [], "options": library_spec()},
        "encoding": {"type": "dict", "options": encoding_spec()},
    }, required_one_of=[["api_key", "admin_user"]])
    if module.params["startup"] and not module.params["admin_user"]:
        module.fail_json(msg="The first-run wizard makes the administrator: give `admin_user` and `admin_password`.")
    run_links(module)


if __name__ == "__main__":
    main()
