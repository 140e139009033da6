# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the wiring phase: links derived from the apps, the plan of a run, secrets filled in."""

from __future__ import annotations

import base64

from ansible.errors import AnsibleFilterError

from ansible_collections.arrkestra.homelab.plugins.module_utils import _links


def wiring_links(apps, settings=None):
    """Every link between ``apps`` (see plugins/module_utils/_links.py)."""
    try:
        return _links.derive(list(apps or []), dict(settings or {}))
    except _links.LinkError as exc:
        raise AnsibleFilterError("Cannot wire the stack: %s" % exc)


def wiring_plan(links, apps, previous=None):
    """``{app: {group: [items]}}``: what to make, and what the previous run made that is gone."""
    return _links.plan(list(apps or []), list(links or []), list(previous or []))


def wiring_record(links):
    """What the next run must know of this run's links."""
    return _links.record(list(links or []))


def wiring_resolve(items, credentials):
    """``items`` with each ``_secrets`` reference replaced by the credential it names.

    The result holds secrets: use it only in the arguments of a module that
    marks those options ``no_log``.
    """
    resolved = []
    for item in items or ():
        item = dict(item)
        references = item.pop("_secrets", None) or {}
        if item.get("state") == "absent":
            references = {}     # deleting by name needs no secret
        for option, (app, key) in references.items():
            value = ((credentials or {}).get(app) or {}).get(key)
            if value in (None, ""):
                raise AnsibleFilterError(
                    "No %s is known for %s, which a link needs: the apps phase keeps it in the app's Kubernetes "
                    "Secret; without a cluster give it in wiring_credentials['%s']['%s']." % (key, app, app, key))
            item[option] = value
        resolved.append(item)
    return resolved


def wiring_secret(item, option, credentials):
    """The credential the reference ``item._secrets[option]`` names, or None when it has none.

    Loops go over the items with their references, so that no secret ever
    shows in a loop result; each task takes its secret with this filter in an
    option the module marks ``no_log``.
    """
    reference = (item.get("_secrets") or {}).get(option)
    if not reference or item.get("state") == "absent":
        return None
    return wiring_resolve([{"_secrets": {option: reference}}], credentials)[0][option]


def wiring_items(apps, calls, group):
    """``[[app, item], ...]``: the items of ``group`` planned for each of ``apps``, for a loop."""
    return [[app, item] for app in apps or () for item in ((calls or {}).get(app["name"]) or {}).get(group) or ()]


def wiring_credentials(secret_reads, given=None):
    """``{app: {key: value}}`` from the registered results of a ``k8s_info`` loop over the apps' Secrets.

    Each result must carry the app as ``item`` (``item.name``); ``given``
    (``wiring_credentials`` from the inventory) wins over what the Secrets hold.
    """
    found = {}
    for read in (secret_reads or {}).get("results", ()):
        if read.get("skipped"):
            continue
        resources = read.get("resources") or []
        data = (resources[0].get("data") or {}) if resources else {}
        found[read["item"]["name"]] = dict(
            (key, base64.b64decode(value).decode("utf-8")) for key, value in data.items())
    for app, values in (given or {}).items():
        found[app] = dict(found.get(app) or {}, **(values or {}))
    return found


class FilterModule:
    def filters(self):
        return {
            "wiring_links": wiring_links,
            "wiring_plan": wiring_plan,
            "wiring_record": wiring_record,
            "wiring_resolve": wiring_resolve,
            "wiring_credentials": wiring_credentials,
            "wiring_secret": wiring_secret,
            "wiring_items": wiring_items,
        }
