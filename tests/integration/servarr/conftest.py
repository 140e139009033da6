"""Playbook-level tests of the Servarr modules against the doubles and real download clients."""

import json
import os
import subprocess
import sys

import pytest

from tests.doubles.servarr import ServarrDouble
from tests.lab.clients import nzbget, qbittorrent, transmission  # noqa: F401 pylint: disable=unused-import

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
API_KEY = "0123456789abcdef0123456789abcdef"


class Playbook:
    """Runs tasks with ansible-playbook on localhost; the result of every task, by task name."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.count = 0
        inventory = tmp_path / "inventory.ini"
        inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
        self.inventory = str(inventory)

    def run(self, tasks, check=False, diff=False, verbosity=0, raw=False, module_defaults=None):
        self.count += 1
        play = [{"name": "servarr test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        if module_defaults:
            play[0]["module_defaults"] = module_defaults
        path = self.tmp_path / ("play%d.yml" % self.count)
        path.write_text(json.dumps(play))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
                   ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
        if not raw:
            env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
        argv = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory, str(path)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if raw:
            return proc
        try:
            out = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError("ansible-playbook gave no JSON (rc %d):\n%s\n%s"
                                 % (proc.returncode, proc.stdout, proc.stderr))
        results = {}
        for task in out["plays"][0]["tasks"]:
            results[task["task"]["name"]] = task["hosts"]["localhost"]
        return results


@pytest.fixture
def playbook(tmp_path):
    return Playbook(tmp_path)


def _double(kind):
    app = ServarrDouble(kind, api_key=API_KEY)
    server = app.serve()
    app.url = server.url
    yield app
    server.stop()
    app.assert_contract()


@pytest.fixture
def radarr():
    yield from _double("radarr")


@pytest.fixture
def sonarr():
    yield from _double("sonarr")


@pytest.fixture
def lidarr():
    yield from _double("lidarr")


@pytest.fixture
def prowlarr():
    yield from _double("prowlarr")


def conn(app):
    return {"url": app.url, "api_key": API_KEY}
