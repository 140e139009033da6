"""Run tasks with ansible-playbook on localhost, as the integration tests of every module do."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
        play = [{"name": "module test", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
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


def _playbook_command(playbook, inventory, extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".collections"),
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_NOCOLOR="1")
    argv = [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), os.path.join(ROOT, "playbooks", playbook),
            "-e", "ansible_python_interpreter=%s" % sys.executable] + list(extra)
    return argv, env


def run_playbook(playbook, inventory, *extra):
    """``ansible-playbook playbooks/<playbook>`` of the collection with the JSON callback; the process."""
    argv, env = _playbook_command(playbook, inventory, extra)
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def start_playbook(playbook, inventory, *extra):
    """:func:`run_playbook` started, not waited for: the ``Popen`` (text pipes)."""
    argv, env = _playbook_command(playbook, inventory, extra)
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def local_inventory(directory, variables):
    """An inventory of localhost alone in ``directory``, with ``variables`` in group_vars/all; its path."""
    (directory / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    (directory / "hosts.yml").write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    (directory / "group_vars" / "all" / "main.yml").write_text(json.dumps(variables))
    return directory
