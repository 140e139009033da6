"""The collection as users get it: built, installed, documented, playbooks that parse."""

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)

pytestmark = pytest.mark.integration


def run(*args, env=None, cwd=ROOT):
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "%s failed (%d):\n%s\n%s" % (" ".join(args), proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def module_names():
    return sorted(os.path.splitext(os.path.basename(p))[0]
                  for p in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
                  if not os.path.basename(p).startswith("_"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection built with ansible-galaxy and installed into an empty collections path."""
    tmp = tmp_path_factory.mktemp("galaxy")
    # Built from a copy of the checkout with what a user leaves in it: rendered Secrets, an inventory of their own.
    src = tmp / "src"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in files:
        if name and os.path.isfile(os.path.join(ROOT, name)):
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(os.path.join(ROOT, name), src / name)
    for decoy in ("rendered/apps/secrets/radarr-credentials.yaml", "playbooks/rendered/apps/secrets/x.yaml",
                  "inventories/mine/group_vars/all/vault.yml", "inventories/mine/talos/secrets.yaml"):
        (src / decoy).parent.mkdir(parents=True, exist_ok=True)
        (src / decoy).write_text("api_key: DECOY-SECRET\n")
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp / "dist"), cwd=str(src))
    tarballs = glob.glob(str(tmp / "dist" / "arrkestra-homelab-*.tar.gz"))
    assert len(tarballs) == 1
    path = tmp / "collections"
    path.mkdir()
    (path / "ansible.cfg").write_text("[defaults]\n")
    # Away from the checkout (whose ansible.cfg finds the collection through its link);
    # --no-deps: Galaxy is not reachable here, the dependencies come from the ansible package.
    run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", str(path), tarballs[0],
        env=installed_env(path), cwd=str(path))
    assert (path / "ansible_collections" / "arrkestra" / "homelab" / "MANIFEST.json").is_file()
    return path, tarballs[0]


def installed_env(path):
    """Environment in which only the installed copy of the collection is visible."""
    return {"ANSIBLE_COLLECTIONS_PATH": str(path), "ANSIBLE_CONFIG": str(path / "ansible.cfg")}


def test_tarball_leaves_out_local_state(installed):
    path, tarball = installed
    listing = run("tar", "-tzf", tarball)
    for unwanted in (".venv/", ".collections/", ".git/", "tests/output/", ".cache/", ".pytest_cache/"):
        assert unwanted not in listing
    names = listing.split()
    # Never a secret of the user's, nor the project's tests, molecule scenarios, benchmarks or scripts.
    for name in names:
        assert not name.startswith(("rendered", "playbooks/rendered", "inventories/mine", "tests", "molecule",
                                    "benchmarks", "scripts")), name
    assert "inventories/local/hosts.yml" in names and "inventories/example/hosts.yml" in names
    assert "DECOY-SECRET" not in run("tar", "-xzOf", tarball)
    manifest = json.loads(run("tar", "-xzOf", tarball, "MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["license"]) == ("arrkestra", "homelab", ["GPL-3.0-or-later"])
    assert "kubernetes.core" in info["dependencies"]


def test_ansible_doc_lists_and_renders_every_module(installed):
    path, dummy = installed
    env = installed_env(path)
    listed = json.loads(run(os.path.join(BIN, "ansible-doc"), "-l", "-j", "arrkestra.homelab", env=env, cwd=str(path)))
    names = module_names()
    assert sorted(name.split(".")[-1] for name in listed) == names
    for name in names:
        out = run(os.path.join(BIN, "ansible-doc"), "arrkestra.homelab." + name, env=env, cwd=str(path))
        assert "arrkestra.homelab." + name in out


def test_installed_playbooks_are_addressable(installed):
    path, dummy = installed
    env = installed_env(path)
    out = run(os.path.join(BIN, "ansible-playbook"), "arrkestra.homelab.site", "--list-tasks",
              "-i", os.path.join(ROOT, "inventories", "local"), env=env, cwd=str(path))
    for phase in ("Nodes phase", "Platform phase", "Apps phase", "Wiring phase"):
        assert phase in out
    # Every playbook the README names, by its installed name (a folder beside a playbook of the same
    # name would shadow it: ansible-core tries the bare name first).
    names = sorted(os.path.splitext(p)[0].replace(os.sep, ".") for p in glob.glob("**/*.yml", root_dir=os.path.join(
        ROOT, "playbooks"), recursive=True))
    assert "apps" in names and "app.radarr" in names
    for name in names:
        run(os.path.join(BIN, "ansible-playbook"), "arrkestra.homelab." + name, "--syntax-check",
            "-i", os.path.join(ROOT, "inventories", "local"), env=env, cwd=str(path))


@pytest.mark.parametrize("inventory", ["local", "example"])
def test_site_syntax_and_phases(inventory):
    inv = os.path.join("inventories", inventory)
    run(os.path.join(BIN, "ansible-playbook"), "site.yml", "-i", inv, "--syntax-check")
    out = run(os.path.join(BIN, "ansible-playbook"), "site.yml", "-i", inv, "--list-tasks")
    positions = [out.index(phase) for phase in ("Nodes phase", "Platform phase", "Apps phase", "Wiring phase")]
    assert positions == sorted(positions)


@pytest.mark.parametrize("playbook", sorted(
    os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "playbooks", "**", "*.yml"), recursive=True)))
def test_every_playbook_parses(playbook):
    run(os.path.join(BIN, "ansible-playbook"), playbook, "-i", "inventories/local", "--syntax-check")
