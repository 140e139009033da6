"""Container images for the test node, built here from Debian's files, without a registry.

A real kubelet node (containerd from Debian) needs images for its pods, and this
machine can pull none. Each image here is one layer made of files of this
machine - Debian's ``busybox-static``, ``sqlite3``, ``python3`` and
``qbittorrent-nox`` with the shared libraries ``ldd`` finds for them - written as
a docker-archive tarball (layer tar, config JSON, ``manifest.json`` with its
``RepoTags``) by :mod:`tarfile`; no docker, podman or buildah. All are tagged
``arrkestra.test/<name>:1`` (:data:`IMAGES`, :func:`reference`):

- ``pause``: busybox, ``/bin/busybox sleep infinity`` (containerd's ``sandbox_image``);
- ``busybox``: busybox with its applet links (``sh``, ``mkdir``, ``chown``, ``nc``...) for
  the init containers' scripts (stands in for ``docker.io/library/busybox``; its ``wget``
  segfaults in so small an image, ``nc`` works);
- ``sqlite``: ``sqlite3`` and busybox (stands in for ``keinos/sqlite3``, the backups);
- ``doubles``: Debian's python3, the site-packages the test doubles import and
  ``tests/doubles/``; ``tests/doubles/serve.py <kind>`` runs one double as its app's
  container would (credentials where the app reads them). The same archive also tags
  ``doubles-<kind>`` for each kind (:func:`double`): the same layer, started as that app,
  so that a pod needs nothing but the image - what an inventory's
  ``arrkestra_apps.<name>.image`` replaces;
- ``qbittorrent``: Debian's real ``qbittorrent-nox`` started as the
  ghcr.io/home-operations/qbittorrent image starts it (profile under ``/config``).

Tarballs are cached under ``${ARRKESTRA_CACHE:-~/.cache/arrkestra}/images/<name>-<hash>.tar``;
the hash covers every input (paths, sizes, modification times, the config), so an
unchanged image is not rebuilt. ``load`` imports them into a containerd's ``k8s.io``
namespace with ``ctr images import``.

    python -m tests.controlplane.images build [NAME...]
    python -m tests.controlplane.images load --address /run/containerd/containerd.sock [NAME...]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REGISTRY = "arrkestra.test"
TAG = "1"
#: name -> what the image stands in for
IMAGES = {
    "pause": "containerd's sandbox image (registry.k8s.io/pause)",
    "busybox": "the helper image (docker.io/library/busybox): seed and data layout scripts",
    "sqlite": "the backups' image (docker.io/keinos/sqlite3)",
    "doubles": "the test doubles of the apps (tests/doubles/serve.py <kind>)",
    "qbittorrent": "ghcr.io/home-operations/qbittorrent, with Debian's qbittorrent-nox",
}
#: the apps the ``doubles`` image can be (tests/doubles/serve.py)
DOUBLE_KINDS = ("radarr", "sonarr", "lidarr", "prowlarr", "bazarr", "sabnzbd", "flaresolverr", "jellyfin", "seerr")
#: bump when the way images are made changes (part of every image's hash)
FORMAT = "2"
NAMESPACE = "k8s.io"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = "/bin/busybox"
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
PYTHON = "python3.11"
#: distributions the doubles never need: .pth hooks of the venv, and httpx's command line (httpx/__init__.py:14-16
#: imports it in a try and does without it on ImportError)
SKIP_DISTRIBUTIONS = ("pip", "setuptools", "wheel", "click", "Pygments", "rich", "markdown-it-py", "mdurl")
#: stdlib folders no double imports (tests, GUIs, the static libpython...)
SKIP_STDLIB = ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data", "distutils",
               "venv", "site-packages", "dist-packages")

# The qbittorrent image as home-operations/containers builds it (apps/qbittorrent at a9b84a48):
# Dockerfile:9-12 sets QBT_CONFIRM_LEGAL_NOTICE=1, HOME, XDG_CONFIG_HOME and XDG_DATA_HOME to /config (so the
# profile is /config/qBittorrent/qBittorrent.conf, no --profile); Dockerfile:40-44 runs it as nobody:nogroup in
# WORKDIR /config, ENTRYPOINT catatonit -- /entrypoint.sh; entrypoint.sh:3-26 copies /defaults/qBittorrent.conf only
# when the conf is missing, links the log to stdout, removes a stale lockfile and execs qbittorrent-nox "$@".
QBITTORRENT_DEFAULTS = """[AutoRun]
enabled=false
program=

[LegalNotice]
Accepted=true

[BitTorrent]
Session\\AsyncIOThreadsCount=10
Session\\DiskCacheSize=-1
Session\\DiskIOReadMode=DisableOSCache
Session\\DiskIOType=SimplePreadPwrite
Session\\DiskIOWriteMode=EnableOSCache
Session\\DiskQueueSize=4194304
Session\\FilePoolSize=40
Session\\HashingThreadsCount=2
Session\\Port=50413
Session\\ResumeDataStorageType=SQLite
Session\\UseOSCache=true

[Preferences]
Connection\\PortRangeMin=6881
Connection\\UPnP=false
General\\Locale=en
General\\UseRandomPort=false
WebUI\\Address=*
WebUI\\AuthSubnetWhitelist=10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16
WebUI\\AuthSubnetWhitelistEnabled=true
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
WebUI\\LocalHostAuth=false
WebUI\\Port=8080
WebUI\\ServerDomains=*
WebUI\\UseUPnP=false
"""  # apps/qbittorrent/defaults/qBittorrent.conf:1-34
QBITTORRENT_ENTRYPOINT = """#!/bin/sh
# apps/qbittorrent/entrypoint.sh of home-operations/containers, in busybox sh (no bash here)
CONFIG_FILE="/config/qBittorrent/qBittorrent.conf"
LOG_FILE="/config/qBittorrent/logs/qbittorrent.log"
LOCK_FILE="/config/qBittorrent/lockfile"
if [ ! -f "${CONFIG_FILE}" ]; then
    mkdir -p "${CONFIG_FILE%/*}"
    cp /defaults/qBittorrent.conf "${CONFIG_FILE}"
fi
if [ ! -f "${LOG_FILE}" ]; then
    mkdir -p "${LOG_FILE%/*}"
    ln -sf /proc/self/fd/1 "${LOG_FILE}"
fi
if [ -f "${LOCK_FILE}" ]; then
    echo "Removing stale lockfile..."
    rm -rf "${LOCK_FILE}"
fi
exec /usr/bin/qbittorrent-nox "$@"
"""
QT_PLUGINS = ("/usr/lib/x86_64-linux-gnu/qt5/plugins/sqldrivers/libqsqlite.so",)


def double(kind):
    """The image that starts the double of ``kind`` (one of DOUBLE_KINDS) as its app's image starts the app."""
    if kind not in DOUBLE_KINDS:
        raise KeyError("no double of kind %r (known: %s)" % (kind, ", ".join(DOUBLE_KINDS)))
    return "%s/doubles-%s:%s" % (REGISTRY, kind, TAG)


def reference(name):
    """The full reference of image ``name``: ``arrkestra.test/<name>:1``."""
    if name not in IMAGES:
        raise KeyError("no image %r (known: %s)" % (name, ", ".join(IMAGES)))
    return "%s/%s:%s" % (REGISTRY, name, TAG)


def cache_dir():
    base = os.environ.get("ARRKESTRA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "arrkestra")
    return os.path.join(base, "images")


def log(message):
    sys.stderr.write("[images] %s\n" % message)
    sys.stderr.flush()


# -- the file tree of one layer -------------------------------------------------------------
class Tree:
    """The files of a layer: ``{path in the image: entry}``; parents are added as directories."""

    def __init__(self):
        self.entries = {"/": ("dir", 0o755)}

    def _parents(self, path):
        parent = os.path.dirname(path)
        while parent not in self.entries:
            self.entries[parent] = ("dir", 0o755)
            parent = os.path.dirname(parent)

    def dir(self, path, mode=0o755):
        self._parents(path)
        self.entries[path] = ("dir", mode)

    def file(self, path, source=None):
        """``source`` (default: the same path here), symlinks followed; its mode and mtime are kept."""
        real = os.path.realpath(source or path)
        info = os.stat(real)
        self._parents(path)
        self.entries[path] = ("file", real, stat.S_IMODE(info.st_mode), info.st_size, int(info.st_mtime))

    def data(self, path, text, mode=0o644):
        self._parents(path)
        self.entries[path] = ("data", text.encode("utf-8") if isinstance(text, str) else text, mode)

    def link(self, path, target):
        self._parents(path)
        self.entries[path] = ("link", target)

    def libraries(self, *paths):
        """``paths`` and the shared libraries (and loader) they need, at the paths ``ldd`` gives."""
        for path in paths:
            self.file(path)
        for lib in ldd(paths):
            if lib not in self.entries:
                self.file(lib)

    def fingerprint(self):
        digest = hashlib.sha256()
        for path in sorted(self.entries):
            entry = self.entries[path]
            if entry[0] == "data":
                entry = ("data", hashlib.sha256(entry[1]).hexdigest(), entry[2])
            digest.update(json.dumps([path, entry]).encode("utf-8"))
        return digest.hexdigest()

    def size(self):
        return sum(e[3] if e[0] == "file" else len(e[1]) if e[0] == "data" else 0 for e in self.entries.values())

    def write(self, fileobj):
        """The layer as an uncompressed tar, in path order, owned by root, reproducible."""
        with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for path in sorted(self.entries):
                if path == "/":
                    continue
                entry = self.entries[path]
                info = tarfile.TarInfo(path.lstrip("/"))
                info.uid = info.gid = 0
                info.mtime = 0
                if entry[0] == "dir":
                    info.type, info.mode = tarfile.DIRTYPE, entry[1]
                    tar.addfile(info)
                elif entry[0] == "link":
                    info.type, info.linkname, info.mode = tarfile.SYMTYPE, entry[1], 0o777
                    tar.addfile(info)
                elif entry[0] == "data":
                    info.size, info.mode = len(entry[1]), entry[2]
                    tar.addfile(info, io.BytesIO(entry[1]))
                else:
                    info.size, info.mode, info.mtime = entry[3], entry[2], entry[4]
                    with open(entry[1], "rb") as handle:
                        tar.addfile(info, handle)


def ldd(paths):
    """The shared libraries (and the dynamic loader) ``paths`` load, as ``ldd`` resolves them."""
    dynamic = [p for p in paths if _is_elf(p)]
    if not dynamic:
        return []
    out = subprocess.run(["ldd"] + dynamic, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         check=False).stdout
    missing = re.findall(r"^\s*(\S+) => not found", out, re.M)
    if missing:
        raise RuntimeError("ldd: libraries not found: %s" % ", ".join(sorted(set(missing))))
    libs = set(re.findall(r"=> (/\S+) \(", out)) | set(re.findall(r"^\s*(/\S+) \(0x", out, re.M))
    return sorted(libs)


def _is_elf(path):
    with open(path, "rb") as handle:
        return handle.read(4) == b"\x7fELF"


# -- the images ----------------------------------------------------------------------------
def _base(tree):
    tree.data("/etc/passwd", PASSWD)
    tree.data("/etc/group", GROUP)
    tree.dir("/tmp", 0o1777)
    tree.dir("/config", 0o777)


def _busybox(tree):
    """/bin/busybox and a link for each of its applets."""
    source = shutil.which("busybox") or BUSYBOX
    tree.file(BUSYBOX, source)
    applets = subprocess.run([source, "--list-full"], stdout=subprocess.PIPE, text=True, check=True).stdout.split()
    for applet in applets:
        path = "/" + applet.lstrip("/")
        if path != BUSYBOX:
            tree.link(path, BUSYBOX)


def _config(entrypoint=None, cmd=None, env=(), user="", workdir="/"):
    config = {"Env": ["PATH=" + PATH] + list(env), "WorkingDir": workdir, "User": user}
    if entrypoint:
        config["Entrypoint"] = list(entrypoint)
    if cmd:
        config["Cmd"] = list(cmd)
    return config


def image_pause():
    tree = Tree()
    tree.file(BUSYBOX, shutil.which("busybox") or BUSYBOX)
    return tree, _config(entrypoint=[BUSYBOX, "sleep", "infinity"])


def image_busybox():
    tree = Tree()
    _base(tree)
    _busybox(tree)
    return tree, _config(cmd=["sh"])


def image_sqlite():
    tree = Tree()
    _base(tree)
    _busybox(tree)
    tree.libraries(shutil.which("sqlite3") or "/usr/bin/sqlite3")
    return tree, _config(cmd=["sqlite3"])


def _venv_python():
    for candidate in (os.path.join(ROOT, ".venv", "bin", "python"), sys.executable):
        if os.path.exists(candidate):
            return candidate
    raise RuntimeError("no Python with the doubles' packages (run scripts/bootstrap.sh)")


#: Run by the venv's Python: imports every double (and what they import late), prints the files of the
#: distributions whose modules got loaded, relative to their site-packages.
_PROBE = r"""
import importlib.metadata as md, json, os, re, sys
sys.path.insert(0, sys.argv[1])
from tests.doubles import bazarr, flaresolverr, forward_auth, jellyfin, sabnzbd, seerr, servarr, tinyauth  # noqa
import openapi_core, openapi_core.testing, jsonschema, yaml, httpx, bcrypt  # noqa
servarr.ServarrDouble("radarr"); seerr.SeerrDouble(); jellyfin.JellyfinDouble()
sites = sorted({p for p in sys.path if p.endswith("site-packages")}, key=len, reverse=True)
tops = set()
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None) or ""
    for site in sites:
        if path.startswith(site + os.sep):
            top = path[len(site) + 1:].split(os.sep)[0]
            tops.add(top[:-3] if top.endswith(".py") else top.split(".")[0])
owners = md.packages_distributions()
# and what those need, installed, whether loaded yet or not (httpx imports httpcore on its first request)
found, todo = set(), [d for top in tops for d in owners.get(top, ())]
while todo:
    name = todo.pop()
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        continue
    key = dist.metadata["Name"].lower().replace("_", "-")
    if key in found:
        continue
    found.add(key)
    todo.extend(re.match(r"[A-Za-z0-9._-]+", r).group(0) for r in dist.requires or () if "extra ==" not in r)
names = sorted(found - {n.lower() for n in sys.argv[2].split(",")})
files = set()
for name in names:
    dist = md.distribution(name)
    for f in dist.files or ():
        full = os.path.realpath(dist.locate_file(f))
        for site in sites:
            if full.startswith(os.path.realpath(site) + os.sep) and os.path.isfile(full):
                files.add((os.path.realpath(site), full[len(os.path.realpath(site)) + 1:]))
print(json.dumps({"distributions": names, "files": sorted(files)}))
"""


def site_packages():
    """``(distributions, [(site-packages dir, relative path)])`` the doubles need."""
    out = subprocess.run([_venv_python(), "-c", _PROBE, ROOT, ",".join(SKIP_DISTRIBUTIONS)], stdout=subprocess.PIPE,
                         check=True, text=True, cwd=ROOT).stdout
    found = json.loads(out)
    return found["distributions"], found["files"]


def image_doubles():
    tree = Tree()
    _base(tree)
    _busybox(tree)
    python = "/usr/bin/" + PYTHON
    stdlib = "/usr/lib/" + PYTHON
    tree.libraries(python)
    tree.link("/usr/bin/python3", PYTHON)
    extensions = []
    for folder, dirs, files in os.walk(stdlib):
        if folder == stdlib:
            dirs[:] = [d for d in dirs if d not in SKIP_STDLIB and not d.startswith("config-")]
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            if not os.path.exists(path):
                continue  # a dangling link (sitecustomize.py -> /etc/python3.11/)
            tree.file(path)
            if name.endswith(".so"):
                extensions.append(path)
    dummy, files = site_packages()
    for site, relative in files:
        source = os.path.join(site, relative)
        tree.file("/app/site-packages/" + relative, source)
        if source.endswith(".so"):
            extensions.append(source)
    for lib in ldd(extensions):
        if lib not in tree.entries:
            tree.file(lib)
    doubles = os.path.join(ROOT, "tests", "doubles")
    tree.data("/app/tests/__init__.py", "")
    for folder, dirs, files in os.walk(doubles):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.startswith("test_") or name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            tree.file("/app/tests/doubles/" + os.path.relpath(path, doubles), path)
    env = ["PYTHONPATH=/app/site-packages:/app", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "LANG=C.UTF-8"]
    return tree, _config(entrypoint=["/usr/bin/python3", "/app/tests/doubles/serve.py"], env=env, workdir="/app")


def image_qbittorrent():
    tree = Tree()
    _base(tree)
    _busybox(tree)
    tree.libraries(shutil.which("qbittorrent-nox") or "/usr/bin/qbittorrent-nox",
                   *[p for p in QT_PLUGINS if os.path.exists(p)])
    tree.data("/defaults/qBittorrent.conf", QBITTORRENT_DEFAULTS)
    tree.data("/entrypoint.sh", QBITTORRENT_ENTRYPOINT, 0o755)
    env = ["QBT_CONFIRM_LEGAL_NOTICE=1", "HOME=/config", "XDG_CONFIG_HOME=/config", "XDG_DATA_HOME=/config"]
    return tree, _config(entrypoint=["/bin/sh", "/entrypoint.sh"], env=env, user="nobody:nogroup", workdir="/config")


BUILDERS = {"pause": image_pause, "busybox": image_busybox, "sqlite": image_sqlite, "doubles": image_doubles,
            "qbittorrent": image_qbittorrent}


# -- docker-archive ------------------------------------------------------------------------
def _architecture():
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def archive_path(name, tree, config):
    key = hashlib.sha256(json.dumps([FORMAT, reference(name), tree.fingerprint(), config],
                                    sort_keys=True).encode("utf-8")).hexdigest()[:16]
    return os.path.join(cache_dir(), "%s-%s.tar" % (name, key))


def write_archive(path, name, tree, config):
    """A docker-archive tarball at ``path``: ``<layer sha>/layer.tar``, ``<config sha>.json``, manifest.json."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        layer = os.path.join(tmp, "layer.tar")
        with open(layer, "wb") as handle:
            tree.write(handle)
        diff_id = _sha256_file(layer)
        image_config = json.dumps({
            "architecture": _architecture(), "os": "linux", "created": "1970-01-01T00:00:00Z", "config": config,
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "tests/controlplane/images.py " + name}],
        }, sort_keys=True).encode("utf-8")
        config_sha = hashlib.sha256(image_config).hexdigest()
        configs = {config_sha: (image_config, [reference(name)])}
        if name == "doubles":        # doubles-<kind>: the same layer, started as <kind>
            for kind in DOUBLE_KINDS:
                variant = json.loads(image_config)
                variant["config"]["Cmd"] = [kind]
                data = json.dumps(variant, sort_keys=True).encode("utf-8")
                configs[hashlib.sha256(data).hexdigest()] = (data, [double(kind)])
        manifest = json.dumps([{"Config": sha + ".json", "RepoTags": tags, "Layers": [diff_id + "/layer.tar"]}
                               for sha, (dummy, tags) in configs.items()]).encode("utf-8")
        partial = os.path.join(tmp, "image.tar")
        with tarfile.open(partial, "w", format=tarfile.GNU_FORMAT) as tar:
            def add(member, data=None, source=None):
                info = tarfile.TarInfo(member)
                info.mode, info.mtime = 0o644, 0
                if source:
                    info.size = os.path.getsize(source)
                    with open(source, "rb") as handle:
                        tar.addfile(info, handle)
                else:
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            dirinfo = tarfile.TarInfo(diff_id)
            dirinfo.type, dirinfo.mode, dirinfo.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(dirinfo)
            add(diff_id + "/layer.tar", source=layer)
            for sha, (data, dummy) in configs.items():
                add(sha + ".json", data)
            add("manifest.json", manifest)
        os.replace(partial, path)
    return path


def build(names=None):
    """Build what is not cached; return ``{name: path of its docker-archive tarball}``."""
    out = {}
    for name in names or IMAGES:
        started = time.monotonic()
        tree, config = BUILDERS[name]()
        path = archive_path(name, tree, config)
        if os.path.exists(path):
            out[name] = path
            continue
        write_archive(path, name, tree, config)
        for old in os.listdir(os.path.dirname(path)):
            if old.startswith(name + "-") and old.endswith(".tar") and os.path.join(cache_dir(), old) != path:
                os.unlink(os.path.join(cache_dir(), old))
        size, took = os.path.getsize(path) / 1e6, time.monotonic() - started
        log("built %s (%.1f MB) in %.1fs: %s" % (reference(name), size, took, path))
        out[name] = path
    return out


def ctr(address, *args, namespace=NAMESPACE, check=False, **kwargs):
    """``ctr --address <address> -n <namespace> <args>``; CompletedProcess (text)."""
    command = ["ctr", "--address", address, "-n", namespace] + list(args)
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=check, **kwargs)


def load(address, names=None, namespace=NAMESPACE):
    """Build (when needed) and import the images into the containerd at ``address``; return their references."""
    refs = []
    for name, path in build(names).items():
        done = ctr(address, "images", "import", path, namespace=namespace)
        if done.returncode != 0:
            raise RuntimeError("ctr images import %s: %s" % (path, (done.stderr or done.stdout).strip()))
        refs.append(reference(name))
        if name == "doubles":
            refs.extend(double(kind) for kind in DOUBLE_KINDS)
    return refs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build the docker-archive tarballs (cached); print their paths")
    build_cmd.add_argument("names", nargs="*", metavar="NAME")
    load_cmd = sub.add_parser("load", help="build and import them into a containerd")
    load_cmd.add_argument("--address", required=True, help="containerd's socket")
    load_cmd.add_argument("--namespace", default=NAMESPACE)
    load_cmd.add_argument("names", nargs="*", metavar="NAME")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in IMAGES]
    if unknown:
        parser.error("unknown image(s): %s (known: %s)" % (", ".join(unknown), ", ".join(IMAGES)))
    if args.command == "build":
        for name, path in build(args.names).items():
            print("%s %s" % (reference(name), path))
    else:
        for ref in load(args.address, args.names, args.namespace):
            print(ref)
    return 0


if __name__ == "__main__":
    sys.exit(main())
