# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: drift
type: stdout
short_description: The drift report of arrkestra.homelab.drift - one table of what a real run would change
description:
  - Collects the results of a check-mode run of the phases (C(playbooks/drift.yml), run with C(--check --diff)) and
    prints, at the end, one table - phase, app, object or link, field, declared and actual value, the action a real
    run would take - with secrets shown as C((secret)), then a one-line summary.
  - Failed tasks are not printed as they happen; each becomes an error of the report, with the app it is about.
  - Writes the report as JSON to a file when asked (O(json_path)); its shape is documented in
    C(plugins/plugin_utils/drift.py). C(scripts/drift.sh) reads its exit code there (0 in sync, 2 drift, 1 error).
author: Arrkestra engineers (@arrkestra)
version_added: 0.3.0
requirements:
  - Set as the stdout callback (C(ANSIBLE_STDOUT_CALLBACK=arrkestra.homelab.drift)).
options:
  json_path:
    description:
      - Where to write the report as JSON (created or replaced, mode 0600). Nothing is written when empty.
    type: path
    env:
      - name: ARRKESTRA_DRIFT_JSON
    ini:
      - section: arrkestra_drift
        key: json_path
  quiet:
    description:
      - Print nothing on stdout (the JSON file is still written); C(scripts/drift.sh --json) prints the JSON instead.
    type: bool
    default: false
    env:
      - name: ARRKESTRA_DRIFT_QUIET
    ini:
      - section: arrkestra_drift
        key: quiet
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import drift


def _data(result):
    """The result's dict (``result`` from ansible-core 2.19, ``_result`` before)."""
    return result.result if hasattr(type(result), "result") else result._result


def _task(result):
    return result.task if hasattr(type(result), "task") else result._task


def _rescued(task):
    """Whether a failure of ``task`` is handled by the ``rescue`` of a block around it (the roles then fail with
    their own words, which the report keeps)."""
    child, parent = task, getattr(task, "_parent", None)
    while parent is not None:
        rescue = getattr(parent, "rescue", None)
        body = getattr(parent, "block", None)
        if rescue and isinstance(body, list) and any(getattr(t, "_uuid", None) == getattr(child, "_uuid", 0) for t in body):
            return True
        child, parent = parent, getattr(parent, "_parent", None)
    return False


class CallbackModule(CallbackBase):
    """The drift report: rows and errors while the run goes, the table, summary and JSON at its end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "arrkestra.homelab.drift"

    def __init__(self, display=None):
        super().__init__(display=display)
        self.rows, self.errors = [], []
        self.phase = None
        self.model, self.links = None, None
        self.started = time.monotonic()

    # -- where we are ---------------------------------------------------------------------------
    def v2_playbook_on_play_start(self, play):
        self.phase = drift.phase_of(play.get_name())

    def _phase(self, task):
        if self.phase:
            return self.phase
        role = getattr(task, "_role", None)
        return drift.phase_of(None, role.get_name() if role is not None else None) or "drift"

    # -- results -------------------------------------------------------------------------------
    def _facts(self, data):
        facts = data.get("ansible_facts") if isinstance(data, dict) else None
        if isinstance(facts, dict):
            if isinstance(facts.get("stack_model"), dict):
                self.model = facts["stack_model"]
            if isinstance(facts.get("wiring_links"), list):
                self.links = facts["wiring_links"]

    def v2_runner_on_ok(self, result):
        data, task = _data(result), _task(result)
        self._facts(data)
        if drift.not_answering(data):       # an app named, the run gone on with the others (wiring_keep_going)
            self.errors.append(drift.error_of(self._phase(task), task.get_name(), data))
            return
        self.rows.extend(drift.rows_of(self._phase(task), task.get_name(), data, bool(data.get("censored"))))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        task = _task(result)
        if ignore_errors or _rescued(task):
            return
        self.errors.append(drift.error_of(self._phase(task), task.get_name(), _data(result)))

    def v2_runner_on_unreachable(self, result):
        task = _task(result)
        self.errors.append(drift.error_of(self._phase(task), task.get_name(), _data(result)))

    # Loops report each item, then the whole task through v2_runner_on_ok/failed: the items are read there.
    def v2_runner_item_on_ok(self, result):
        pass

    def v2_runner_item_on_failed(self, result):
        pass

    def v2_runner_item_on_skipped(self, result):
        pass

    def v2_runner_on_skipped(self, result):
        pass

    def v2_runner_retry(self, result):
        pass

    def v2_playbook_on_stats(self, stats):
        failed = sum(len(getattr(stats, attr, {}) or {}) for attr in ("failures", "dark"))
        if failed and not self.errors:
            self.errors.append({"phase": self.phase, "app": None,
                                "message": "the run failed (%d host(s)); run ansible-playbook with -v to see why" % failed})
        namespace = (self.model or {}).get("namespace")
        document = drift.report(namespace, self.rows, self.errors, self.model, self.links,
                                time.monotonic() - self.started)
        path = self.get_option("json_path")
        if path:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(document, handle, indent=1, sort_keys=True)
                handle.write("\n")
        if self.get_option("quiet"):
            return
        lines = []
        if document["rows"]:
            lines.append(drift.table(document["rows"]))
        for error in document["errors"]:
            lines.append("ERROR %s%s: %s" % (error.get("phase") or "-", (" " + error["app"]) if error.get("app") else "",
                                             error.get("message")))
        lines.append(document["summary"])
        self._display.display("\n".join(lines))
