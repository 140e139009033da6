#!/usr/bin/python
# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: jellyfin_encoding
short_description: Set Jellyfin's transcoding options
version_added: 0.1.0
description:
  - Sets the fields of Jellyfin's encoding options (Dashboard > Playback > Transcoding) that the task names -
    hardware acceleration, its device, the codecs it decodes, tone mapping - and only those.
  - Jellyfin replaces the whole object on a write and resets every field left out, so the module reads it, changes
    the named fields and sends all of it back; a run that changes nothing only reads.
  - Signs in with O(api_key) when given (the key C(jellyfin_api_key) made), else as O(admin_user).
author: Arrkestra engineers (@arrkestra)
options:
  hardware_acceleration:
    description:
      - C(HardwareAccelerationType) - V(vaapi) for Intel and AMD GPUs through VA-API, V(qsv) for Intel Quick Sync,
        V(none) for software only. Raspberry Pis have no hardware transcoding that Jellyfin supports (V(v4l2m2m) is
        deprecated since 10.10).
    type: str
    choices: [none, amf, qsv, nvenc, v4l2m2m, vaapi, videotoolbox, rkmpp]
  vaapi_device:
    description:
      - C(VaapiDevice), the render node VA-API opens (Jellyfin's default V(/dev/dri/renderD128)).
    type: str
  qsv_device:
    description:
      - C(QsvDevice), the render node Quick Sync opens (empty - Jellyfin's default - lets ffmpeg choose).
    type: str
  enable_hardware_encoding:
    description: C(EnableHardwareEncoding) - encode on the GPU too, not only decode.
    type: bool
  hardware_decoding_codecs:
    description:
      - C(HardwareDecodingCodecs), the codecs the GPU decodes, as ffmpeg names them (V(h264), V(hevc), V(vp9),
        V(av1), V(mpeg2video), V(vc1)...). Compared without order or case.
    type: list
    elements: str
  enable_10bit_hevc_decoding:
    description: C(EnableDecodingColorDepth10Hevc) (needs V(hevc) in O(hardware_decoding_codecs)).
    type: bool
  enable_10bit_vp9_decoding:
    description: C(EnableDecodingColorDepth10Vp9) (needs V(vp9) in O(hardware_decoding_codecs)).
    type: bool
  prefer_system_native_hw_decoder:
    description: C(PreferSystemNativeHwDecoder).
    type: bool
  intel_low_power_h264_encoder:
    description: C(EnableIntelLowPowerH264HwEncoder) - the low-power encoder of recent Intel GPUs.
    type: bool
  intel_low_power_hevc_encoder:
    description: C(EnableIntelLowPowerHevcHwEncoder).
    type: bool
  enable_tonemapping:
    description: C(EnableTonemapping) - HDR to SDR with OpenCL.
    type: bool
  enable_vpp_tonemapping:
    description: C(EnableVppTonemapping) - HDR to SDR with Intel's video processor.
    type: bool
  allow_hevc_encoding:
    description: C(AllowHevcEncoding).
    type: bool
  allow_av1_encoding:
    description: C(AllowAv1Encoding).
    type: bool
  transcoding_temp_path:
    description: C(TranscodingTempPath) - must exist in the Jellyfin container (Jellyfin refuses a folder it cannot find).
    type: str
  encoding_thread_count:
    description: C(EncodingThreadCount) (V(-1) lets ffmpeg choose).
    type: int
  options:
    description:
      - Any other field of C(GET /System/Configuration/encoding) by its name, with its case (Jellyfin ignores a name
        spelt otherwise); laid over the typed options. C(EncoderAppPath) is Jellyfin's own and refused.
    type: dict
extends_documentation_fragment:
  - arrkestra.homelab.connection
  - arrkestra.homelab.connection.attributes
  - arrkestra.homelab.jellyfin
notes:
  - The container needs the GPU's render node and its group (see the collection's docs/apps.md); the official image
    carries the Intel and AMD VA-API drivers.
seealso:
  - module: arrkestra.homelab.jellyfin_api_key
"""

EXAMPLES = r"""
- name: Intel or AMD GPU through VA-API
  arrkestra.homelab.jellyfin_encoding:
    url: http://jellyfin.media.svc:8096
    api_key: "{{ jellyfin_api_key }}"
    hardware_acceleration: vaapi
    vaapi_device: /dev/dri/renderD128
    hardware_decoding_codecs: [h264, hevc, vp9, mpeg2video, vc1]
    enable_tonemapping: true

- name: Back to software transcoding
  arrkestra.homelab.jellyfin_encoding:
    url: http://jellyfin.media.svc:8096
    api_key: "{{ jellyfin_api_key }}"
    hardware_acceleration: none
"""

RETURN = r"""
encoding:
  description: The fields the task named, as Jellyfin has them after the task.
  returned: always
  type: dict
  sample:
    HardwareAccelerationType: vaapi
    VaapiDevice: /dev/dri/renderD128
changes:
  description: The fields that differ (or differed).
  returned: always
  type: list
  elements: str
  sample: [HardwareAccelerationType]
"""

from ansible_collections.arrkestra.homelab.plugins.module_utils.jellyfin import encoding_spec, jellyfin_module, run_encoding


def main():
    module = jellyfin_module(encoding_spec())
    if not (module.params["admin_user"] or module.params["api_key"]):
        module.fail_json(msg="jellyfin_encoding needs `api_key` (an API key of Jellyfin) or `admin_user` and "
                             "`admin_password`: Jellyfin lets only an administrator change the encoding options.")
    run_encoding(module)


if __name__ == "__main__":
    main()
