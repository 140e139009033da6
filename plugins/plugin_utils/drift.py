# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drift report: what a real run of the phases would change, read from the results of a check-mode run.

Pure functions, no I/O. The stdout callback ``arrkestra.homelab.drift`` (plugins/callback/drift.py) hands each task
result of ``playbooks/drift.yml`` (run with ``--check --diff``) to :func:`rows_of`, each failure to :func:`error_of`,
and at the end prints :func:`table` and :func:`summary` and writes :func:`report` as JSON.

A row is one difference::

    {"phase": "wiring",                    # nodes, platform, apps, wiring (from the play's name)
     "app": "radarr",                      # the app it belongs to, or None
     "object": "download client qbittorrent",   # a Kubernetes object "Deployment/radarr", or a link's item
     "field": "fields.movieCategory",      # dotted path; "(object)" when the whole object is missing or extra
     "declared": "radarr",                 # what the inventory says, "(secret)" for a secret, "absent"/"present"
     "actual": "movies",                   # what the cluster or the app has
     "action": "update",                   # what a real run would do: create, update, delete
     "link": "radarr/download_clients/qbittorrent"}   # the wiring link id (plugins/plugin_utils/links.py), or None

The JSON document (:func:`report`; ``scripts/drift.sh --json``, the callback's ``ARRKESTRA_DRIFT_JSON`` file), which
the stack map (``plugins/plugin_utils/stackmap.py``) also reads::

    {"stack": "media",                     # the stack's namespace
     "in_sync": false, "exit_code": 2,     # 0 in sync, 2 drift, 1 error (see exit_code)
     "summary": "Drift: 3 objects differ in 3 apps (wiring 2, apps 1); 0 errors",
     "rows": [row, ...],
     "errors": [{"phase": "wiring", "app": "radarr", "message": "radarr (radarr) did not answer at ..."}],
     "domain": "media.example.org", "distribution": "k3s",
     "nodes": [{"name": "pi-1", "address": "192.168.1.11"}],        # the inventory's cluster hosts
     "apps": [{"name", "kind", "url", "web_url", "node", "external", "cronjob"}],   # stackmap.slim of the model
     "links": [{"id", "app", "group", "to", "url", "detail"}],       # stackmap.slim of wiring_links; no secret
     "duration": 12.3}                     # seconds of the run

Sources, and the upstream shapes they rely on:

- ``kubernetes.core.k8s`` (6.2.0, installed under ``.venv/lib/python3.11/site-packages/ansible_collections/kubernetes/
  core``). In check mode the client sends every write as a server-side dry run (``plugins/module_utils/k8s/core.py:48-49``
  ``server_side_dry_run``; ``plugins/module_utils/k8s/client.py:306-334`` adds ``dryRun=All`` to apply, create, patch,
  replace and delete). With ``apply: true`` (as the roles call it) the method is ``apply`` (``plugins/module_utils/k8s/
  runner.py:175-177``) and the diff is taken for every method but create and delete (``runner.py:213-226``): ``diff``
  is ``{"before", "after"}``, the two halves of ``recursive_diff(existing, dry-run answer)`` (``service.py:493-510``;
  ``ansible/module_utils/common/dict_transformations.py:126-153``: dicts recursed, anything else - lists included -
  whole), ``existing`` being ``{}`` for an object that does not exist yet. A missing ``existing`` is therefore an
  object to create. One definition gives the result itself; a list of definitions gives ``result.results[]``, one
  such result each (``runner.py:125-128``). ``state: absent`` gives ``method: delete``, ``changed`` when it exists.
- The collection's links modules (``plugins/module_utils/_reconcile.py`` ``reconcile_groups``): one list of item results
  per option (``changed``, ``changes``, the resource view) and, in diff mode, ``diff`` as a list with one
  ``{before, after, before_header, after_header}`` per changed item, in the order of the items; secrets already
  hidden (``_reconcile.HIDDEN``). ``before == {}``: the item is missing (create); ``after == {}``: it is removed
  (delete).
- Any other changed task: one row with the task's name. A ``no_log`` task's result is censored by Ansible (only
  ``changed`` and a few keys kept): one row, every value ``(secret)``.

Values shown are never secrets: a Secret's ``data``/``stringData``, a value the modules hide (``<hidden>``), the apps'
mask (``********``), and Ansible's ``VALUE_SPECIFIED_IN_NO_LOG_PARAMETER`` all become ``(secret)``.
"""

from __future__ import annotations

import json
import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import stackmap

SECRET = "(secret)"
OBJECT = "(object)"
PHASES = ("nodes", "platform", "apps", "wiring")
#: What the modules and the apps show in place of a secret.
HIDDEN_VALUES = ("<hidden>", "********", "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER")
#: Fields the API server manages: a dry run changes them without any difference in what is declared.
SERVER_FIELDS = ("status", "metadata.managedFields", "metadata.resourceVersion", "metadata.generation",
                 "metadata.uid", "metadata.creationTimestamp", "metadata.selfLink",
                 "metadata.annotations.kubectl.kubernetes.io/last-applied-configuration",
                 "metadata.annotations.deployment.kubernetes.io/revision")
#: Kinds whose data are secrets.
SECRET_KINDS = ("Secret",)
SECRET_FIELDS = ("data", "stringData")
#: The loop variables of the roles that name an app.
APP_LOOP_VARS = ("wiring_app", "apps_app")
ROW_KEYS = ("phase", "app", "object", "field", "declared", "actual", "action", "link")
#: The wiring's message for an app that does not answer (roles/wiring/tasks/wait.yml).
_NOT_ANSWERING = re.compile(r"^\s*(\S+) \((\w[\w-]*)\) did not answer")
_ID_KEYS = ("name", "path", "label", "id")


# -- helpers ---------------------------------------------------------------------------------------
def phase_of(play_name, role_name=None):
    """The phase of a play ("Wiring phase: link the apps..." -> "wiring"), else of its role, else None."""
    text = (play_name or "").strip().lower()
    for phase in PHASES:
        if text.startswith(phase + " phase"):
            return phase
    role = (role_name or "").rsplit(".", 1)[-1]
    return {"platform": "platform", "apps": "apps", "wiring": "wiring", "k3s": "nodes", "talos": "nodes",
            "node_prep": "nodes", "existing_cluster": "nodes"}.get(role)


def _secretish(value):
    return isinstance(value, str) and value in HIDDEN_VALUES


def show(value):
    """A value as the table shows it: strings as they are, the rest as compact JSON; a hidden secret as (secret)."""
    if _secretish(value):
        return SECRET
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _has_secret(value):
    if _secretish(value):
        return True
    if isinstance(value, dict):
        return any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def _ignored(path):
    return any(path == f or path.startswith(f + ".") or path.startswith(f + "[") for f in SERVER_FIELDS)


def _named(items):
    """{name: item} of a list whose items are all dicts with distinct names (containers, ports, env), else None."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    names = [i["name"] for i in items]
    return dict(zip(names, items)) if len(set(names)) == len(names) else None


_MISSING = object()


def differences(before, after, path=""):
    """[(dotted path, before value, after value)] of the leaves that differ; a side that lacks a key has
    :data:`_MISSING`. Dicts are recursed, lists of named dicts by name (``containers[radarr].image``), lists of the
    same length item by item; anything else is compared whole. A dict on one side only is compared with {}."""
    if isinstance(before, dict) and after is _MISSING:
        after = {}
    if isinstance(after, dict) and before is _MISSING:
        before = {}
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            sub = "%s.%s" % (path, key) if path else str(key)
            found.extend(differences(before.get(key, _MISSING), after.get(key, _MISSING), sub))
        return found
    if isinstance(before, list) and isinstance(after, list):
        old, new = _named(before), _named(after)
        if old is not None and new is not None:
            found = []
            for name in sorted(set(old) | set(new)):
                found.extend(differences(old.get(name, _MISSING), new.get(name, _MISSING), "%s[%s]" % (path, name)))
            return found
        if len(before) == len(after) and before != after:
            found = []
            for index, (one, two) in enumerate(zip(before, after)):
                found.extend(differences(one, two, "%s[%d]" % (path, index)))
            return found
    if before is _MISSING and after is _MISSING:
        return []
    if before != after:
        return [(path or ".", before, after)]
    return []


def lookup(value, path):
    """The value at a dotted ``path`` of ``value`` (dict keys; ``_MISSING`` when absent). A key may itself hold dots
    (``fields.movieCategory`` is one level down, but annotation keys are not): the longest key that matches wins."""
    if path in ("", "."):
        return value
    if not isinstance(value, dict):
        return _MISSING
    if path in value:
        return value[path]
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        key = ".".join(parts[:cut])
        if key in value:
            return lookup(value[key], ".".join(parts[cut:]))
    return _MISSING


def _value(value, secret=False):
    if value is _MISSING:
        return "(none)"
    if secret:
        return SECRET
    return show(value)


def row(phase, app, obj, field, declared, actual, action, link=None):
    return {"phase": phase, "app": app, "object": obj, "field": field, "declared": declared, "actual": actual,
            "action": action, "link": link}


def app_of(result, task_name=None):
    """The app a task result is about: its loop variable (``wiring_app``, ``apps_app``), else the wiring's message
    "radarr (radarr) did not answer at ...", else a task name "...: radarr" of the wiring's per-app tasks."""
    if not isinstance(result, dict):
        return None
    for name in APP_LOOP_VARS:
        item = result.get(name)
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            return item["name"]
    match = _NOT_ANSWERING.match(str(result.get("msg") or ""))
    if match:
        return match.group(1)
    match = re.search(r"(?:not answering|Wait for (?:an answer of|the API of)): (\S+)$", task_name or "")
    if match:
        return match.group(1)
    return None


# -- Kubernetes objects ----------------------------------------------------------------------------
def _k8s_results(result):
    """The per-object results of a kubernetes.core.k8s result: itself, or ``result.results[]`` for a list."""
    inner = result.get("result")
    if isinstance(inner, dict) and isinstance(inner.get("results"), list) and "method" not in result:
        return [r for r in inner["results"] if isinstance(r, dict)]
    return [result]


def _object_name(obj, args=None):
    obj = obj if isinstance(obj, dict) else {}
    args = args or {}
    kind = obj.get("kind") or args.get("kind") or "?"
    meta = obj.get("metadata") or {}
    name = meta.get("name") or args.get("name") or "?"
    return "%s/%s" % (kind, name)


def _labels_app(*objects):
    for obj in objects:
        labels = ((obj or {}).get("metadata") or {}).get("labels") or {} if isinstance(obj, dict) else {}
        app = labels.get("app.kubernetes.io/instance")
        if app:
            return app
    return None


def is_k8s_result(result):
    """Whether ``result`` is the result of kubernetes.core.k8s (a ``method``, or a list of such results)."""
    if not isinstance(result, dict):
        return False
    if "method" in result and "result" in result:
        return True
    inner = result.get("result")
    return (isinstance(inner, dict) and isinstance(inner.get("results"), list)
            and all(isinstance(r, dict) and "method" in r for r in inner["results"]))


def k8s_rows(phase, result, app=None):
    """The rows of one kubernetes.core.k8s result (check and diff mode): an object to create, to delete, or each
    field of it that differs from what the phase declares."""
    rows = []
    args = ((result.get("invocation") or {}).get("module_args") or {})
    for one in _k8s_results(result):
        if not one.get("changed"):
            continue
        instance = one.get("result") if isinstance(one.get("result"), dict) else {}
        diff = one.get("diff") if isinstance(one.get("diff"), dict) else {}
        before, after = diff.get("before") or {}, diff.get("after") or {}
        method = one.get("method")
        name = _object_name(instance if instance.get("kind") else after, args)
        owner = _labels_app(instance, after, before) or app
        secret = (instance.get("kind") or after.get("kind") or args.get("kind")) in SECRET_KINDS
        if method == "delete":
            rows.append(row(phase, owner, name, OBJECT, "absent", "present", "delete"))
            continue
        # apply on an object that does not exist: the diff is against {}, so its "after" is the whole object (an
        # existing object has the same kind and name: they are in no diff)
        if method == "create" or (not before and "kind" in after and "metadata" in after):
            rows.append(row(phase, owner, name, OBJECT, "present", "absent", "create"))
            continue
        found = [(p, b, a) for p, b, a in differences(before, after) if not _ignored(p)]
        for path, was, wanted in found:
            hide = secret and path.split(".")[0] in SECRET_FIELDS
            rows.append(row(phase, owner, name, path, _value(wanted, hide), _value(was, hide), "update"))
        if not found and not diff:
            rows.append(row(phase, owner, name, "(unknown: run with --diff)", "?", "?", "update"))
    return rows


# -- the collection's links modules ----------------------------------------------------------------
def _identity(item):
    for key in _ID_KEYS:
        value = (item or {}).get(key) if isinstance(item, dict) else None
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            return str(value)
    return None


def _groups(result):
    """[(option, [item results])] of a links module's result, in its order; an option of one item as a list of one."""
    out = []
    for key, value in result.items():
        if key in ("diff", "invocation", "changed", "results") or key.startswith("_"):
            continue
        if isinstance(value, dict) and "changed" in value and "changes" in value:
            out.append((key, [value]))
        elif isinstance(value, list) and value and all(isinstance(v, dict) and "changes" in v for v in value):
            out.append((key, value))
    return out


def is_links_result(result):
    """Whether ``result`` is the result of one of the collection's links or resource modules (``changes``)."""
    if not isinstance(result, dict):
        return False
    return "changes" in result or bool(_groups(result))


def _resource_of(item):
    """The resource view in an item result (the key besides changed/changes)."""
    for key, value in item.items():
        if key not in ("changed", "changes") and isinstance(value, dict):
            return value
    return {}


def links_rows(phase, app, result):
    """The rows of a links module's result (or a single resource module's): each item to create or delete, and
    each field of an item to update, with its link id."""
    rows = []
    args = ((result.get("invocation") or {}).get("module_args") or {})
    diffs = result.get("diff")
    diffs = list(diffs) if isinstance(diffs, list) else ([diffs] if isinstance(diffs, dict) else [])
    groups = _groups(result) or [(None, [result])]
    for group, items in groups:
        given = args.get(group) if group else args
        given = [given] if isinstance(given, dict) else (given or [])
        for index, item in enumerate(items):
            if not item.get("changed"):
                continue
            wanted = given[index] if index < len(given) and isinstance(given[index], dict) else {}
            name = _identity(wanted) or _identity(_resource_of(item))
            diff = diffs.pop(0) if diffs else {}
            header = diff.get("before_header") or diff.get("after_header")
            label = header or ("%s %s" % ((group or "item").replace("_", " ").rstrip("s"), name or "")).strip()
            link = "%s/%s/%s" % (app, group, name) if (app and group and name) else None
            before, after = diff.get("before"), diff.get("after")
            if wanted.get("state") == "absent" or (diff and before and not after):
                rows.append(row(phase, app, label, OBJECT, "absent", "present", "delete", link))
                continue
            if diff and not before:
                rows.append(row(phase, app, label, OBJECT, "present", "absent", "create", link))
                continue
            for change in item.get("changes") or [OBJECT]:
                path, dummy, note = str(change).partition(" (")
                hide = "secret" in note
                was = lookup(before, path) if isinstance(before, dict) else _MISSING
                now = lookup(after, path) if isinstance(after, dict) else _MISSING
                hide = hide or _has_secret(was) or _has_secret(now)
                rows.append(row(phase, app, label, path, _value(now, hide), _value(was, hide), "update", link))
    return rows


# -- any task --------------------------------------------------------------------------------------
def rows_of(phase, task_name, result, censored=False):
    """The rows of one task's result (a loop's result: every item's), nothing when it changes nothing."""
    if not isinstance(result, dict):
        return []
    if isinstance(result.get("results"), list) and "ansible_loop_var" not in result and \
            all(isinstance(r, dict) for r in result["results"]) and result["results"] and \
            any("ansible_loop_var" in r or "_ansible_item_label" in r or "_ansible_no_log" in r for r in result["results"]):
        out = []
        for item in result["results"]:
            out.extend(rows_of(phase, task_name, item, censored))
        return out
    if not result.get("changed") or result.get("skipped") or result.get("failed"):
        return []
    app = app_of(result, task_name)
    if censored or result.get("_ansible_no_log") or "censored" in result:
        return [row(phase, app, task_name, SECRET, SECRET, SECRET, "update")]
    if is_k8s_result(result):
        return k8s_rows(phase, result, app)
    if is_links_result(result):
        return links_rows(phase, app, result)
    return [row(phase, app, task_name, "(task)", "changed", "unchanged", "update")]


def not_answering(result):
    """Whether a task result is the wiring's "radarr (radarr) did not answer at ...": an error of the report also
    when the run went on past it (``wiring_keep_going``: the task does not fail, the other apps are compared)."""
    return isinstance(result, dict) and bool(_NOT_ANSWERING.match(str(result.get("msg") or "")))


def error_of(phase, task_name, result):
    """An error ``{phase, app, message}`` from a failed (or unreachable) task result."""
    result = result if isinstance(result, dict) else {}
    if isinstance(result.get("results"), list):
        failed = [r for r in result["results"] if isinstance(r, dict) and r.get("failed")]
        if failed:
            one = error_of(phase, task_name, failed[0])
            return one if one["app"] else dict(one, app=app_of(result, task_name))
    message = result.get("msg") or result.get("message") or result.get("reason") or "failed"
    if result.get("censored"):
        message = "%s (output hidden: no_log)" % task_name
    message = " ".join(str(message).split())
    message = re.sub(r" and not \[[0-9, ]+\]", "", message)     # the uri module's list of accepted statuses
    return {"phase": phase, "app": app_of(result, task_name), "message": "%s: %s" % (task_name, message)
            if task_name and not _NOT_ANSWERING.match(message) else message}


# -- output ----------------------------------------------------------------------------------------
COLUMNS = (("phase", "PHASE"), ("app", "APP"), ("object", "OBJECT OR LINK"), ("field", "FIELD"),
           ("declared", "DECLARED"), ("actual", "ACTUAL"), ("action", "ACTION"))


def _cell(value, width=48):
    text = "-" if value in (None, "") else " ".join(str(value).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _object_cell(one):
    return one.get("link") or one.get("object")


def table(rows, width=48):
    """An aligned text table of the rows, one line each (values cut at ``width`` characters)."""
    lines = [[title for dummy, title in COLUMNS]]
    for one in rows:
        lines.append([_cell(_object_cell(one) if key == "object" else one.get(key), width) for key, dummy in COLUMNS])
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in lines)


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def summary(rows, errors):
    """One line: how many objects differ, in how many apps, per phase; and the errors, each app named."""
    objects = set((r.get("phase"), r.get("app"), r.get("link") or r.get("object")) for r in rows)
    apps = set(r.get("app") for r in rows if r.get("app"))
    per_phase = {}
    for phase, dummy, dummy2 in objects:
        per_phase[phase] = per_phase.get(phase, 0) + 1
    order = [p for p in PHASES if p in per_phase] + sorted(p for p in per_phase if p not in PHASES and p)
    order += [None] if None in per_phase else []
    text = ("In sync: nothing differs" if not objects else "Drift: %s differ%s in %s (%s)" % (
        _plural(len(objects), "object"), "s" if len(objects) == 1 else "", _plural(len(apps), "app"),
        ", ".join("%s %d" % (p or "other", per_phase[p]) for p in order)))
    text += "; " + _plural(len(errors), "error")
    named = sorted(set(e.get("app") for e in errors if e.get("app")))
    if named:
        text += " (%s)" % ", ".join(named)
    return text


def exit_code(rows, errors):
    """Like Terraform's ``plan -detailed-exitcode``: 1 on any error, else 2 when anything differs, else 0."""
    if errors:
        return 1
    return 2 if rows else 0


def report(stack, rows, errors, model=None, links=None, duration=None):
    """The JSON document of a drift run (its shape is at the top of this file)."""
    rows = [dict((k, r.get(k)) for k in ROW_KEYS) for r in rows]
    # What the map draws, in the map's own form (stackmap.slim: URLs without credentials, no link item, no secret)
    drawn = stackmap.slim(model or {}, links if isinstance(links, list) else [])
    return {"stack": stack, "domain": drawn["domain"], "distribution": drawn["distribution"], "nodes": drawn["nodes"],
            "in_sync": not rows and not errors, "exit_code": exit_code(rows, errors),
            "summary": summary(rows, errors), "rows": rows, "errors": list(errors), "apps": drawn["apps"],
            "links": drawn["links"], "duration": round(duration, 1) if duration is not None else None}
