"""The real talosctl for the tests, built from Talos's Go modules (go.mod pins the version).

    python -m tests.talos.build      builds it if missing and prints its path

Cached under ``~/.cache/arrkestra/talos/<version>/bin`` (first build: ~6 min on 2 cores).
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def version():
    with open(os.path.join(HERE, "go.mod"), encoding="utf-8") as handle:
        return re.search(r"^require github.com/siderolabs/talos (v\S+)", handle.read(), re.M).group(1)


def path():
    base = os.environ.get("ARRKESTRA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "arrkestra")
    return os.path.join(base, "talos", version(), "bin", "talosctl")


def build():
    """Build talosctl if missing; return its path."""
    target = path()
    if not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        sys.stderr.write("[talos] building talosctl %s (first time: several minutes)\n" % version())
        env = dict(os.environ, GOFLAGS="-mod=mod", CGO_ENABLED="0")
        subprocess.run(["nice", "-n", "5", "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", target + ".tmp",
                        "github.com/siderolabs/talos/cmd/talosctl"], cwd=HERE, env=env, check=True)
        os.rename(target + ".tmp", target)
    return target


if __name__ == "__main__":
    print(build())
