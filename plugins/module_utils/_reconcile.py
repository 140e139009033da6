# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state against current state, for every resource module.

A resource module describes *how* to read, build, write and delete one kind of
resource (a :class:`Reconciler` subclass, usually one per app family); this
file decides *what* to do: nothing, create, update or delete, in check mode or
not, with a before/after diff in which secrets never appear, and the same
result keys for every module.
"""

from __future__ import annotations

import copy

MASK = "********"
"""What the Servarr apps (and others) send back in place of a stored secret."""

HIDDEN = "<hidden>"
"""What a diff or a result shows in place of a secret."""


def find_by_name(items, name, key="name"):
    """The item whose ``key`` equals ``name`` ignoring case, like the apps compare; or None."""
    wanted = (name or "").casefold()
    for item in items or ():
        value = item.get(key)
        if isinstance(value, str) and value.casefold() == wanted:
            return item
    return None


def deep_merge(current, desired):
    """``desired`` laid over ``current``: keys that ``desired`` leaves out keep their value.

    Dictionaries merge recursively; any other value in ``desired`` (lists
    included) replaces the current one. Neither argument is modified.
    """
    if not isinstance(current, dict) or not isinstance(desired, dict):
        return copy.deepcopy(desired)
    merged = copy.deepcopy(current)
    for key, value in desired.items():
        merged[key] = deep_merge(current.get(key), value) if key in current else copy.deepcopy(value)
    return merged


def differences(current, desired, path=""):
    """Dotted paths of the values in ``desired`` that ``current`` does not have.

    Only what ``desired`` names is compared: a key it leaves out is not a
    difference. Dictionaries are compared key by key, anything else whole.
    """
    if isinstance(desired, dict) and isinstance(current, dict):
        found = []
        for key in sorted(desired):
            sub = "%s.%s" % (path, key) if path else str(key)
            if key not in current:
                found.append(sub)
            else:
                found.extend(differences(current[key], desired[key], sub))
        return found
    if current != desired:
        return [path or "."]
    return []


def redact(value, secret_keys=(), hidden=HIDDEN):
    """A copy of ``value`` with every dict entry named in ``secret_keys`` hidden.

    Entries whose value is empty (None or "") stay as they are, so a diff still
    shows whether a secret is set at all.
    """
    if isinstance(value, dict):
        return dict((k, hidden if (k in secret_keys and v not in (None, "")) else redact(v, secret_keys, hidden))
                    for k, v in value.items())
    if isinstance(value, list):
        return [redact(v, secret_keys, hidden) for v in value]
    return value


class Plan:
    """What a reconcile decided: ``action`` is None, "create", "update" or "delete"."""

    def __init__(self, action=None, before=None, after=None, changes=()):
        self.action = action
        self.before = before
        self.after = after
        self.changes = list(changes)

    @property
    def changed(self):
        return self.action is not None


class Reconciler:
    """Base class of every resource module's logic.

    Subclasses implement:

    - ``fetch()`` - the current resource, or None when it does not exist;
    - ``build(current)`` - the complete resource to send, from the module's
      parameters laid over ``current`` (or over defaults when None);
    - ``compare(current, wanted)`` - the list of what differs (field names);
    - ``create(wanted)``, ``update(current, wanted)``, ``remove(current)`` -
      the writes; each returns the resource as the app now has it (or None);
    - ``present_view(resource)`` - the resource as shown in the result and the
      diff, secrets hidden (default: ``redact(resource, self.secret_keys)``).

    ``reconcile()`` ties them together and returns the result; ``params`` are the
    options of the resource (the module's, or one item of a list the module
    was given), ``module`` gives check and diff modes and warnings.
    """

    #: key of the result that holds the resource (e.g. "download_client")
    result_key = "resource"
    #: names of dict entries that are secrets anywhere in the resource
    secret_keys = ()

    def __init__(self, module, params=None):
        self.module = module
        self.params = module.params if params is None else params
        self.result = {"changed": False}

    # hooks ---------------------------------------------------------------
    def fetch(self):
        raise NotImplementedError

    def build(self, current):
        raise NotImplementedError

    def compare(self, current, wanted):
        return differences(current, wanted)

    def create(self, wanted):
        raise NotImplementedError

    def update(self, current, wanted):
        raise NotImplementedError

    def remove(self, current):
        raise NotImplementedError

    def present_view(self, resource):
        return redact(resource, self.secret_keys)

    # engine --------------------------------------------------------------
    def plan(self):
        """Read the current state and decide, without writing anything."""
        current = self.fetch()
        if self.params.get("state", "present") == "absent":
            if current is None:
                return Plan(before=None, after=None)
            return Plan("delete", before=current, after=None)
        wanted = self.build(current)
        if current is None:
            return Plan("create", before=None, after=wanted)
        changes = self.compare(current, wanted)
        if changes:
            return Plan("update", before=current, after=wanted, changes=changes)
        return Plan(before=current, after=current)

    def apply(self, plan):
        """Carry out ``plan`` (unless in check mode); return the resource after it."""
        if not plan.changed or self.module.check_mode:
            return plan.after
        if plan.action == "create":
            return self.create(plan.after)
        if plan.action == "update":
            return self.update(plan.before, plan.after)
        self.remove(plan.before)
        return None

    def view(self, resource):
        """``present_view`` of a copy of ``resource``, or {} for no resource."""
        return self.present_view(copy.deepcopy(resource)) if resource is not None else {}

    def reconcile(self):
        """Decide, carry out (unless in check mode), and return the result: ``changed``, ``changes``, the
        resource under :attr:`result_key` and, in diff mode, ``diff``."""
        plan = self.plan()
        # Views are taken before any write: a write may change the objects in place.
        diff = {"before": self.view(plan.before), "after": self.view(plan.after)}
        after = self.apply(plan)
        if after is None and plan.action != "delete":
            after = plan.after
        self.result["changed"] = plan.changed
        self.result["changes"] = plan.changes
        self.result[self.result_key] = self.view(after)
        if self.module._diff:
            self.result["diff"] = diff
        return self.result


def reconcile_items(items, make, header, diff_mode=False):
    """Reconcile each item with ``make(params).reconcile()``, in order; return the combined result.

    ``items`` are option dicts as the module validated them; ``header(item)``
    names an item in the diff. The result has ``changed``, ``results`` (one
    per item: its ``changed``, ``changes`` and resource view) and, in diff
    mode, ``diff`` as a list with one before/after per changed item.
    """
    results, diffs = [], []
    for params in items:
        result = make(params).reconcile()
        diff = result.pop("diff", None)
        if diff is not None and result.get("changed"):
            diffs.append(dict(diff, before_header=header(params), after_header=header(params)))
        results.append(result)
    combined = {"changed": any(r.get("changed") for r in results), "results": results}
    if diff_mode:
        combined["diff"] = diffs
    return combined


def reconcile_groups(module, groups, skip=None):
    """Every list of items of a links module, in the order of ``groups``: ``(option, make(params), header)``;
    one result with ``changed``, a list of results per option and, in diff mode, one ``diff`` list. ``skip(name,
    result)`` may say that a list cannot be read yet (in check mode, before a setup it needs): its result is
    empty."""
    result, diffs = {"changed": False}, []
    for name, make, header in groups:
        given = module.params.get(name)
        one = isinstance(given, dict)       # an option of one item (Jellyfin's wizard, Seerr's setup)
        if skip is not None and skip(name, result):
            result[name] = None if one else []
            continue
        done = reconcile_items([given] if one else (given or []), make, header, module._diff)
        result[name] = (done["results"] or [None])[0] if one else done["results"]
        result["changed"] = result["changed"] or done["changed"]
        diffs.extend(done.get("diff", ()))
    if module._diff:
        result["diff"] = diffs
    return result
