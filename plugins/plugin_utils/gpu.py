# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hardware transcoding: an app's GPU (``arrkestra_apps.<jellyfin>.transcoding``), the node labels that say which
node has one, the device plugin that hands it to the pod, and what the pod asks for.

The nodes phase reads each node's GPU (``plugins/module_utils/gpu.py``: the render node, its vendor and the gid of
its device file) and labels the node (:func:`node_labels`). The model checks the option (:func:`options`) and
decides, from those labels when it has them (:func:`resolve`), the vendor, the resource and the groups; the pod
asks for one device of the vendor's device plugin, on a node labelled with that vendor, with the render node's
group as a supplemental group (neither plugin sets it: the runtime makes the device file with the host's owner
and mode). The platform phase runs the device plugins (:func:`platform_objects`).

Upstream facts (docs/upstream-facts.md): Intel's GPU plugin v0.36.0 registers ``gpu.intel.com/i915`` (or ``xe``)
for Intel GPUs only, runs unprivileged with ``/dev/dri`` and ``/sys/class/drm`` read-only
(deployments/gpu_plugin/base/intel-gpu-plugin.yaml:32-77); AMD's own plugin (ROCm/k8s-device-plugin) is privileged,
needs ROCm's ``/dev/kfd`` and hands it to the pod too, so AMD GPUs go through squat/generic-device-plugin 0.1.0 with
one device group - the render node alone (deviceplugin/path.go:85 only globs the paths: it runs unprivileged here).

Pure functions, no I/O: errors are :class:`checks.InputError` naming the variable to fix.
"""

from __future__ import annotations

import copy

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import checks, kube

#: Node labels the nodes phase sets from what it finds on each node.
LABEL = "arrkestra.io/gpu"
DRIVER_LABEL = "arrkestra.io/gpu-driver"
GID_LABEL = "arrkestra.io/render-gid"
PI_LABEL = "arrkestra.io/raspberry-pi"
#: What ``transcoding.device`` may be: none (the default, as Jellyfin's own: software), a vendor, or auto (the vendor
#: the nodes' labels show, none without one).
DEVICES = ("none", "auto", "intel", "amd")
VENDORS = ("intel", "amd")
OPTIONS = ("device", "render_gid", "decode_codecs")
#: The app kinds that transcode on a GPU the collection gives them.
KINDS = ("jellyfin",)
#: Codecs Jellyfin may decode on the GPU (its HardwareDecodingCodecs, as ffmpeg names them).
CODECS = ("h264", "hevc", "mpeg2video", "mpeg4", "vc1", "vp8", "vp9", "av1")
#: What every Intel (Skylake and later) and AMD (Polaris, Raven and later) GPU of a mini-PC decodes: Jellyfin's own
#: default (h264, vc1) and HEVC.
DEFAULT_CODECS = ("h264", "hevc", "vc1")
#: The images of the device plugins, pinned (replaceable by arrkestra_images, like the collection's own).
IMAGES = {
    "intel_gpu_plugin": "docker.io/intel/intel-gpu-plugin:0.36.0",
    "generic_device_plugin": "ghcr.io/squat/generic-device-plugin:0.1.0",
}
#: The AMD render node's device group of the generic device plugin: resource ``squat.ai/<name>``, one pod per render
#: node, mounted in the pod at /dev/dri/renderD128 whatever its number on the node (Jellyfin's VaapiDevice).
AMD_DEVICE = "amdgpu-render"
AMD_RESOURCE = "squat.ai/" + AMD_DEVICE
RENDER_NODE = "/dev/dri/renderD128"
MAX_GID = 2147483647
ARM = ("arm64", "arm")


def options(given, where, kind):
    """``transcoding`` of an app, checked: ``{device, render_gid, decode_codecs}``."""
    where = where + ".transcoding"
    given = checks.mapping(given, where, OPTIONS)
    device = given.get("device", "none")
    device = "none" if device in (None, False) else device
    if device not in DEVICES:
        raise checks.InputError("%s.device: %r is not a GPU choice; give none, auto, intel or amd%s"
                                % (where, device, checks.closest(str(device), DEVICES)))
    if device != "none" and kind not in KINDS:
        raise checks.InputError("%s: %s does not transcode on a GPU the collection gives it (only %s does); leave "
                                "transcoding out" % (where, kind, ", ".join(KINDS)))
    gid = given.get("render_gid")
    if gid is not None:
        gid = checks.integer(gid, where + ".render_gid", 1, MAX_GID)
    given_codecs = checks.listing(given.get("decode_codecs", list(DEFAULT_CODECS)), where + ".decode_codecs")
    codecs = [str(c).lower() for c in given_codecs]
    wrong = [c for c in codecs if c not in CODECS]
    if wrong:
        raise checks.InputError("%s.decode_codecs: %s is not a codec Jellyfin decodes on a GPU; give some of %s"
                                % (where, ", ".join(wrong), ", ".join(CODECS)))
    return {"device": device, "render_gid": gid, "decode_codecs": list(dict.fromkeys(codecs))}


def node_labels(facts):
    """The labels of a node from what :func:`module_utils.gpu.detect` found on it (``node_prep_gpu``)."""
    facts = facts or {}
    vendor = facts.get("vendor") if facts.get("vendor") in VENDORS else "none"
    gid = facts.get("render_gid")
    return {LABEL: vendor, DRIVER_LABEL: (facts.get("driver") or "none") if vendor != "none" else "none",
            GID_LABEL: str(gid) if vendor != "none" and gid is not None and not facts.get("world_accessible")
            else "none",
            PI_LABEL: "true" if facts.get("raspberry_pi") else "false"}


def _labels(value):
    """A node's labels: ``labels`` as they are, or the facts of the nodes phase turned into labels."""
    value = value or {}
    if "vendor" in value or "raspberry_pi" in value:
        out = node_labels(value)
        if value.get("arch"):
            out["kubernetes.io/arch"] = {"aarch64": "arm64", "x86_64": "amd64"}.get(value["arch"], value["arch"])
        if value.get("node_name"):
            out["kubernetes.io/hostname"] = value["node_name"]
        return out
    return dict(value)


def _selected(app, nodes):
    """The nodes (name, labels) the app's node_selector lets it run on."""
    wanted = app["node_selector"]
    out = []
    for name, labels in sorted(nodes.items()):
        labels = dict(labels, **{"kubernetes.io/hostname": labels.get("kubernetes.io/hostname", name)})
        if all(str(labels.get(k)) == str(v).lower() if isinstance(v, bool) else str(labels.get(k)) == str(v)
               for k, v in wanted.items()):
            out.append((name, labels))
    return out


def _is_pi(labels):
    return labels.get(PI_LABEL) == "true"


def resolve(apps, nodes=None):
    """Decides each app's GPU: ``transcoding`` gets ``vendor`` (intel, amd or None), ``resource``, ``gids`` (the
    render groups of the nodes it may run on, and ``render_gid``) and ``resolved``. ``nodes``: ``{name: labels}``
    (or the nodes phase's facts) of the cluster's nodes; None when not known (the nodes are not read: rendering)."""
    known = {}
    for name, value in (nodes or {}).items():
        known[name] = _labels(value)
    labelled = dict((n, v) for n, v in known.items() if v.get(LABEL))
    for app in apps:
        transcoding = app.get("transcoding")
        if not transcoding:
            continue
        where = "arrkestra_apps.%s.transcoding.device" % app["name"]
        device = transcoding["device"]
        vendor = device if device in VENDORS else None
        gids = set()
        resolved = device == "none"
        if device != "none" and app["external"]:
            raise checks.InputError("%s: %s is external (not deployed by the collection): its GPU is its own; leave "
                                    "transcoding out" % (where, app["name"]))
        arch = str(app["node_selector"].get("kubernetes.io/arch", ""))
        if vendor and arch in ARM:
            raise checks.InputError(
                "%s is %s, and arrkestra_apps.%s.node_selector pins it to %s nodes: Raspberry Pis and other ARM boards "
                "have no Intel or AMD GPU (Jellyfin has no hardware transcoding for the Pi; the Pi 5 has no video "
                "encoder). Set device: none, or select an amd64 node with a GPU" % (where, device, app["name"], arch))
        if device != "none" and labelled:
            selected = _selected(app, labelled)
            pis = [n for n, labels in selected if _is_pi(labels)]
            have = dict((v, [n for n, labels in selected if labels.get(LABEL) == v]) for v in VENDORS)
            if device == "auto":
                vendor = "intel" if have["intel"] else "amd" if have["amd"] else None
            elif not have[device]:
                if selected and len(pis) == len(selected):
                    raise checks.InputError(
                        "%s is %s, and the node%s Jellyfin may run on (%s) %s a Raspberry Pi: Raspberry Pis get no "
                        "hardware transcoding (Jellyfin dropped it; the Pi 5 has no video encoder). Set device: none, "
                        "or run Jellyfin on an amd64 node with an %s GPU (arrkestra_apps.%s.node_selector)"
                        % (where, device, "s" if len(pis) > 1 else "", ", ".join(pis), "are" if len(pis) > 1 else "is",
                           "Intel" if device == "intel" else "AMD", app["name"]))
                found = ", ".join("%s: %s" % (n, labels.get(LABEL)) for n, labels in selected) or "none"
                raise checks.InputError(
                    "%s is %s, and no node Jellyfin may run on has an %s GPU (what the nodes phase found: %s). Set "
                    "device to the GPU a node has (auto takes it), or none; or fix arrkestra_apps.%s.node_selector"
                    % (where, device, "Intel" if device == "intel" else "AMD", found, app["name"]))
            for dummy, labels in selected:
                if labels.get(LABEL) == vendor and str(labels.get(GID_LABEL, "")).isdigit():
                    gids.add(int(labels[GID_LABEL]))
            drivers = set(labels.get(DRIVER_LABEL) for dummy, labels in selected if labels.get(LABEL) == vendor)
            transcoding["driver"] = "xe" if vendor == "intel" and drivers == {"xe"} else None
            resolved = True
        elif vendor:
            resolved = True
        if transcoding["render_gid"]:
            gids.add(transcoding["render_gid"])
        transcoding.update(vendor=vendor, gids=sorted(gids), resolved=resolved, render_node=RENDER_NODE if vendor else None,
                           resource=resource(vendor, transcoding.get("driver")))
    return apps


def resource(vendor, driver=None):
    """The extended resource the pod asks one of: the device plugin's."""
    if vendor == "intel":
        # Intel's plugin names the resource after the kernel driver (cmd/gpu_plugin/README.md:44-52).
        return "gpu.intel.com/%s" % ("xe" if driver == "xe" else "i915")
    if vendor == "amd":
        return AMD_RESOURCE
    return None


def vendors(stack):
    """The vendors whose device plugin the platform runs: those an app asks for; both for auto (each plugin runs
    only where the nodes' labels, or for Intel its own check of the PCI vendor, find its GPU)."""
    wanted = set()
    for app in stack["apps"]:
        device = (app.get("transcoding") or {}).get("device", "none")
        if app["external"] or device == "none":
            continue
        wanted.update(VENDORS if device == "auto" else (device,))
    return [v for v in VENDORS if v in wanted]


def pod(stack, app, spec):
    """One device of the vendor's plugin for the app's container, on a node labelled with that vendor, and the
    render group as a supplemental group (the device file keeps the host's owner and mode in the container)."""
    transcoding = app.get("transcoding") or {}
    if not transcoding.get("vendor"):
        return
    name = transcoding["resource"]
    container = spec["containers"][0]
    for key in ("requests", "limits"):
        container["resources"].setdefault(key, {})[name] = "1"
    spec["nodeSelector"] = dict(spec.get("nodeSelector") or {}, **{LABEL: transcoding["vendor"]})
    if transcoding["gids"]:
        groups = list(spec["securityContext"].get("supplementalGroups") or [])
        spec["securityContext"]["supplementalGroups"] = groups + [g for g in transcoding["gids"] if g not in groups]


def _plugin_security():
    # Unprivileged: every capability dropped, nothing written but the plugin's socket in the kubelet's folder.
    return {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"}}


def _daemonset(name, labels, node_selector, container, volumes):
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": kube.platform_meta(name, "kube-system"),
            "spec": {"selector": {"matchLabels": labels},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
                     "template": {"metadata": {"labels": dict(labels, **kube.labels(component="platform"))},
                                  "spec": {"nodeSelector": node_selector, "automountServiceAccountToken": False,
                                           "priorityClassName": "system-node-critical",
                                           "containers": [container], "volumes": volumes}}}}


def _host(name, path, kind=None):
    source = {"path": path}
    if kind:
        source["type"] = kind
    return {"name": name, "hostPath": source}


def _intel(stack):
    """Intel's GPU device plugin, as its v0.36.0 base deployment (deployments/gpu_plugin/base/intel-gpu-plugin.yaml):
    on amd64 nodes (it registers only where it finds an Intel GPU), one container per GPU."""
    labels = {"app": "intel-gpu-plugin"}
    env = [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
           {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}]
    container = {"name": "intel-gpu-plugin", "image": stack["images"]["intel_gpu_plugin"],
                 "imagePullPolicy": "IfNotPresent", "env": env, "securityContext": _plugin_security(),
                 "resources": kube.resources("40m", "45Mi", "100m", "90Mi"),
                 "volumeMounts": [{"name": "devfs", "mountPath": "/dev/dri", "readOnly": True},
                                  {"name": "sysfsdrm", "mountPath": "/sys/class/drm", "readOnly": True},
                                  {"name": "kubeletsockets", "mountPath": "/var/lib/kubelet/device-plugins"},
                                  {"name": "cdipath", "mountPath": "/var/run/cdi"}]}
    volumes = [_host("devfs", "/dev/dri"), _host("sysfsdrm", "/sys/class/drm"),
               _host("kubeletsockets", "/var/lib/kubelet/device-plugins"),
               _host("cdipath", "/var/run/cdi", "DirectoryOrCreate")]
    return _daemonset("intel-gpu-plugin", labels, {"kubernetes.io/arch": "amd64"}, container, volumes)


def _amd(stack):
    """squat/generic-device-plugin 0.1.0 with one device: an AMD node's render node, alone (no /dev/kfd, no card
    node), mounted at /dev/dri/renderD128. Only on the nodes labelled amd: its paths would match any vendor's."""
    labels = {"app.kubernetes.io/name": "generic-device-plugin"}
    device = ('{"name": "%s", "groups": [{"paths": [{"path": "/dev/dri/renderD*", "mountPath": "%s"}]}]}'
              % (AMD_DEVICE, RENDER_NODE))
    container = {"name": "generic-device-plugin", "image": stack["images"]["generic_device_plugin"],
                 "imagePullPolicy": "IfNotPresent", "args": ["--device", device],
                 "securityContext": _plugin_security(),
                 "resources": kube.resources("50m", "10Mi", "50m", "20Mi"),
                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                 "volumeMounts": [{"name": "device-plugin", "mountPath": "/var/lib/kubelet/device-plugins"},
                                  {"name": "dri", "mountPath": "/dev/dri", "readOnly": True}]}
    volumes = [_host("device-plugin", "/var/lib/kubelet/device-plugins"), _host("dri", "/dev/dri")]
    return _daemonset("amd-gpu-plugin", labels, {"kubernetes.io/arch": "amd64", LABEL: "amd"}, container, volumes)


def platform_objects(stack):
    """The device plugins the apps' GPUs need (none when no app asks for one)."""
    make = {"intel": _intel, "amd": _amd}
    return [make[v](stack) for v in vendors(stack)]


def encoding(app):
    """Jellyfin's encoding options for the app's GPU (jellyfin_encoding's options), or None when not decided
    (auto, with the nodes not read). Intel: Quick Sync, its VA-API device found by Intel's PCI vendor id (QsvDevice
    empty: EncodingHelper.cs:894-937 at v10.11.11); AMD: VA-API on the render node the plugin mounts."""
    transcoding = app.get("transcoding") or {}
    if not transcoding or app.get("external") or not transcoding.get("resolved"):
        return None
    vendor = transcoding.get("vendor")
    if not vendor:
        return {"hardware_acceleration": "none"}
    out = {"hardware_acceleration": "qsv" if vendor == "intel" else "vaapi",
           "hardware_decoding_codecs": list(transcoding["decode_codecs"])}
    if vendor == "intel":
        out["qsv_device"] = ""
    else:
        out["vaapi_device"] = transcoding["render_node"]
    return out


def summary(app):
    """A line about the app's GPU for the summary, or None."""
    transcoding = app.get("transcoding") or {}
    if not transcoding or transcoding["device"] == "none" or app.get("external"):
        return None
    if not transcoding.get("vendor"):
        return ("transcoding: auto - no GPU known (the nodes' labels were not read, or no node Jellyfin may run on "
                "has one): software")
    return "transcoding: %s GPU (%s%s)" % (
        "Intel" if transcoding["vendor"] == "intel" else "AMD", transcoding["resource"],
        ", render group %s" % ", ".join(str(g) for g in transcoding["gids"]) if transcoding["gids"] else
        "; no render group known - label the node arrkestra.io/render-gid or give transcoding.render_gid, unless its "
        "render node is mode 0666")


def with_nodes(stack, nodes):
    """The stack with its apps' GPUs decided again from ``nodes`` (``{name: labels}``)."""
    out = copy.deepcopy(stack)
    resolve(out["apps"], nodes)
    return out
