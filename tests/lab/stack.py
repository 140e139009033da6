"""The wiring lab: a whole media stack on loopback, without a cluster.

Every app of the stack runs here as the tests need it: the test double of
each app (tests/doubles/) or the real download client from Debian's packages
(tests/lab/clients.py). :class:`StackLab` starts them, writes an inventory
that points the wiring phase at them, runs ``playbooks/wiring.yml`` and lets
the tests read what each app saw::

    lab = StackLab(tmp_path)
    lab.start("radarr"); lab.start("radarr-4k", "radarr"); lab.start("qbittorrent")
    run = lab.wire()
    assert run.rc == 0 and run.changed == 0 and not lab.writes()
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import yaml

from tests.doubles.bazarr import BazarrDouble
from tests.doubles.flaresolverr import FlareSolverrDouble
from tests.doubles.jellyfin import JellyfinDouble
from tests.doubles.sabnzbd import SabnzbdDouble
from tests.doubles.seerr import SeerrDouble
from tests.doubles.servarr import ServarrDouble
from tests.lab.clients import NZBGet, QBittorrent, Transmission

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def _double_factories():
    """kind -> callable(instance name) making the double of that app."""
    factories = {kind: (lambda name, kind=kind: ServarrDouble(kind, api_key=api_key(name)))
                 for kind in ("radarr", "sonarr", "lidarr", "prowlarr")}
    factories.update(flaresolverr=lambda name: FlareSolverrDouble(), jellyfin=lambda name: JellyfinDouble(),
                     seerr=lambda name: SeerrDouble(api_key=api_key(name)),
                     sabnzbd=lambda name: SabnzbdDouble(api_key=api_key(name)),
                     bazarr=lambda name: BazarrDouble(api_key=api_key(name)))
    return factories


DOUBLES = _double_factories()
CLIENTS = {"qbittorrent": QBittorrent, "transmission": Transmission, "nzbget": NZBGet}


def api_key(name):
    """The API key an app of the lab has: known up front, as the apps phase makes them."""
    return ("%s-key-0123456789abcdef0123456789abcdef" % name)[:32].replace("-", "0")


class Run:
    """One ansible-playbook run: return code, output, stats and the result of every task."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout, self.stderr = proc.stdout, proc.stderr
        try:
            out = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("ansible-playbook gave no JSON (rc %d):\n%s\n%s"
                                 % (proc.returncode, proc.stdout[-5000:], proc.stderr[-5000:]))
        self.stats = out["stats"].get("localhost", {})
        self.changed = self.stats.get("changed", 0)
        self.tasks = [(t["task"]["name"], t["hosts"].get("localhost", {})) for play in out["plays"] for t in play["tasks"]]

    def failures(self):
        """(task [item], message) of everything that failed, loop items one by one."""
        found = []
        for name, result in self.tasks:
            if not result.get("failed"):
                continue
            items = [i for i in result.get("results") or () if isinstance(i, dict) and i.get("failed")]
            found.extend(("%s [%s]" % (name, i.get("_ansible_item_label", "")), i.get("msg")) for i in items)
            if not items:
                found.append((name, result.get("msg")))
        return found

    def changed_tasks(self):
        names = []
        for name, result in self.tasks:
            items = result.get("results") or [result]
            names.extend("%s [%s]" % (name, item.get("_ansible_item_label", "")) for item in items
                         if isinstance(item, dict) and item.get("changed"))
        return names


class StackLab:
    """Apps on loopback plus an inventory that points the wiring phase at them."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.apps = {}       # name -> {"kind", "app" (double or client), "server", "url"}
        self.media = tmp_path / "data" / "media"
        self.extra_vars = {}

    # -- apps -------------------------------------------------------------------
    def start(self, name, kind=None, port=0):
        kind = kind or name
        if kind in CLIENTS:
            workdir = self.tmp_path / name
            workdir.mkdir(parents=True, exist_ok=True)
            client = CLIENTS[kind](str(workdir)).start()
            entry = {"kind": kind, "app": client, "server": None, "url": client.url,
                     "credentials": {"username": client.username, "password": client.password}}
        else:
            double = DOUBLES[kind](name)
            server = double.serve(port=port)
            entry = {"kind": kind, "app": double, "server": server, "url": server.url,
                     "credentials": self._double_credentials(name, kind, double)}
        self.apps[name] = entry
        return entry["app"]

    @staticmethod
    def _double_credentials(name, kind, double):
        if kind in ("radarr", "sonarr", "lidarr", "prowlarr"):
            return {"api_key": double.api_key}
        creds = {}
        for key in ("api_key", "username", "password"):
            value = getattr(double, key, None)
            if isinstance(value, str) and value:    # a double without a login has an empty password
                creds[key] = value
        return creds

    def stop(self, name):
        """Stop an app, keeping what it stored (its port stays its own: restart with :meth:`restart`)."""
        entry = self.apps[name]
        if entry["server"] is not None:
            entry["server"].stop()
            entry["server"] = None

    def restart(self, name):
        entry = self.apps[name]
        port = int(entry["url"].rsplit(":", 1)[1])
        entry["server"] = entry["app"].serve(port=port)

    def remove(self, name):
        """Take an app out of the stack (and stop it), as deleting it from the inventory does."""
        self.stop(name)
        entry = self.apps.pop(name)
        if entry["kind"] in CLIENTS:
            entry["app"].stop()

    def close(self):
        for name in list(self.apps):
            self.remove(name)

    def double(self, name):
        return self.apps[name]["app"]

    def port(self, name):
        return int(self.apps[name]["url"].rsplit(":", 1)[1])

    def writes(self):
        """{app: [(method, path), ...]} of every write request each double saw since :meth:`reset`."""
        return dict((name, e["app"].writes()) for name, e in self.apps.items()
                    if e["server"] is not None and e["app"].writes())

    def reset(self):
        for entry in self.apps.values():
            if entry["kind"] not in CLIENTS:
                entry["app"].reset_log()

    def requests(self):
        """{app: number of requests} each double served since :meth:`reset`."""
        return dict((name, len(e["app"].log)) for name, e in self.apps.items() if e["kind"] not in CLIENTS)

    # -- inventory and runs --------------------------------------------------------
    def inventory(self):
        """An inventory like the user's, with every app's URL pointing at this lab."""
        for folder in ("movies", "movies-4k", "tv", "tv-4k", "music"):
            (self.media / folder).mkdir(parents=True, exist_ok=True)
        inv = self.tmp_path / "inventory"
        (inv / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
        (inv / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
        # The stack as a user writes it; only where each app answers differs from a cluster.
        apps = dict((name, {"kind": e["kind"], "url": e["url"], "controller_url": e["url"]})
                    for name, e in self.apps.items())
        settings = {
            "arrkestra_apps": apps,
            "arrkestra_data_mount": str(self.tmp_path / "data"),
            "wiring_credentials_source": "inventory",
            "wiring_credentials": dict((name, e["credentials"]) for name, e in self.apps.items()),
            "wiring_record_file": str(self.tmp_path / "state" / "wiring.json"),
            "wiring_wait_timeout": 10,
        }
        settings.update(self.extra_vars)
        (inv / "group_vars" / "all" / "stack.yml").write_text(yaml.safe_dump(settings))
        return str(inv)

    def wire_interrupted(self, when, timeout=300):
        """A wiring run interrupted as Ctrl-C does (SIGINT to its process group) once ``when()`` is true; the
        finished process."""
        argv, env = self._wire_command()
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        deadline = time.monotonic() + timeout
        while not when() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        out, dummy = proc.communicate(timeout=120)
        return subprocess.CompletedProcess(argv, proc.returncode, out, "")

    def _wire_command(self, check=False, diff=False, verbosity=0, raw=True):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
                   ANSIBLE_RETRY_FILES_ENABLED="0")
        if not raw:
            env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        argv = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory(),
                os.path.join(ROOT, "playbooks", "wiring.yml")]
        argv += ["--check"] if check else []
        argv += ["--diff"] if diff else []
        argv += ["-" + "v" * verbosity] if verbosity else []
        return argv, env

    def wire(self, check=False, diff=False, verbosity=0, raw=False):
        argv, env = self._wire_command(check, diff, verbosity, raw)
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        return proc if raw else Run(proc)
