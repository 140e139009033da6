# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the wiring phase: links derived from the apps, the plan of a run, secrets filled in."""

from __future__ import annotations

import base64
import os

from ansible.errors import AnsibleFilterError

from ansible_collections.arrkestra.homelab.plugins.module_utils import link_table, servarr
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as links_model


def wiring_links(apps, settings=None, on_error="raise"):
    """Every link between ``apps`` (see plugins/plugin_utils/links.py); the links the user adds are checked
    against the item specs of the arr apps' modules. With ``on_error='return'``, a wrong link or setting gives
    ``{"error": message}`` (the role fails with it alone, before any call)."""
    settings = dict(settings or {})
    settings["item_specs"] = dict((name, spec["options"]) for name, spec in servarr.links_spec().items()
                                  if name in link_table.groups(module_name="servarr_links"))
    try:
        return links_model.derive(list(apps or []), settings)
    except links_model.LinkError as exc:
        if on_error == "return":
            return {"error": "Wrong wiring setting, nothing was changed: %s" % exc}
        raise AnsibleFilterError("Cannot wire the stack: %s" % exc)


def wiring_plan(links, apps, previous=None):
    """``{app: {group: [items]}}``: what to make, and what the previous run made that is gone; the items whose app
    masks their secrets carry what :func:`wiring_resolve` needs to rewrite a rotated one."""
    return links_model.plan(list(apps or []), list(links or []), previous or [])


def wiring_fingerprints(links, apps, credentials, key):
    """Keyed fingerprints of the secrets of every link, and of the arr apps' logins (see ``plugin_utils/links.py``)."""
    logins = [a["name"] for a in apps or () if a["kind"] in links_model.SERVARR_KINDS
              and ((credentials or {}).get(a["name"]) or {}).get("password")]
    return links_model.fingerprints(list(links or []), logins, credentials or {}, key)


def wiring_new_key(dummy=None):
    """A new random key for the fingerprints (64 hex digits)."""
    return os.urandom(32).hex()


def wiring_rotated(fingerprints, previous):
    """The ids of ``fingerprints`` the ``previous`` record holds another value for (``login/<app>``: a login)."""
    return links_model.rotated(previous, fingerprints or {})


def wiring_record(links, fingerprints=None):
    """What the next run must know of this run's links (and the fingerprints of the secrets they pushed)."""
    return links_model.record(list(links or []), fingerprints)


def wiring_resolve(items, credentials, missing_ok=False, key=None):
    """``items`` with each ``_secrets`` reference replaced by the credential it names.

    The result holds secrets: use it only in the arguments of a module that
    marks those options ``no_log``. With ``missing_ok`` (check mode), a credential
    not known yet - one the run itself makes, like Jellyfin's API key - is left out
    instead of failing. An item that needs a credential a person gives
    (``links.GIVEN_CREDENTIALS``: Plex's plex.tv token) that is not known yet is
    left out whole, for the run after the Plex sign-in. With the wiring's ``key``,
    an item whose secrets differ from what the previous run pushed gets
    ``update_secrets`` (decided now, with the credentials known now).
    """
    resolved = []
    for item in items or ():
        rewrite = key is not None and links_model.needs_rewrite(item, credentials, key)
        item = dict(item)
        item.pop("_rotation", None)
        if rewrite:
            item["update_secrets"] = True
        references = item.pop("_secrets", None) or {}
        if item.get("state") == "absent":
            references = {}     # deleting by name needs no secret
        given_missing = False
        for option, (app, name) in references.items():
            value = ((credentials or {}).get(app) or {}).get(name)
            if value in (None, "") and name in links_model.GIVEN_CREDENTIALS:
                given_missing = True    # a person gives it (the Plex sign-in): the link waits for it
                break
            if value in (None, "") and missing_ok:
                continue
            if value in (None, ""):
                raise AnsibleFilterError(
                    "No %s is known for %s, which a link needs: the apps phase keeps it in the app's Kubernetes "
                    "Secret; without a cluster give it in wiring_credentials['%s']['%s']." % (name, app, app, name))
            item[option] = value
        if not given_missing:
            resolved.append(item)
    return resolved


def wiring_single(items, credentials, extra=None):
    """The one item of a group that a links module takes as a single option (Jellyfin's wizard, Seerr's setup):
    the first present item of ``items``, its secrets resolved (left out when ``credentials`` is None), without
    ``state``, with ``extra`` over it; None when there is none. Holds secrets like :func:`wiring_resolve`."""
    present = [i for i in items or () if i.get("state", "present") == "present"]
    if not present:
        return None
    if credentials is None:     # its secrets are the module's own options, given apart
        item = dict((k, v) for k, v in present[0].items() if k not in ("_secrets", "_rotation"))
    else:
        resolved = wiring_resolve(present[:1], credentials)
        if not resolved:    # it waits for a credential a person gives (the Plex sign-in)
            return None
        item = resolved[0]
    item.pop("state", None)
    item.update(extra or {})
    return item


def wiring_runs(apps, calls):
    """``[{module, apps}]``: the links module of each app kind, in the order of the link table, with the apps it
    runs for (those with planned calls; every arr app and Prowlarr, whose login is set besides)."""
    order = link_table.kinds()
    runs = []
    for app in sorted((a for a in apps or () if a["kind"] in order), key=lambda a: order.index(a["kind"])):
        if app["name"] not in (calls or {}) and app["kind"] not in links_model.SERVARR_KINDS:
            continue
        module = link_table.module(app["kind"])
        if not runs or runs[-1]["module"] != module:
            runs.append({"module": module, "apps": []})
        runs[-1]["apps"].append(app)
    return runs


def wiring_credentials(secret_reads, given=None, apps=None):
    """``{app: {key: value}}`` from what ``k8s_info`` read of the apps' Secrets: the results of a loop over the
    apps (each result carries the app as its loop variable, ``item`` or the task's ``loop_var``), or one read of
    the Secrets of the namespace, each found by the name ``apps`` give it. ``given`` (``wiring_credentials`` from
    the inventory) wins over what the Secrets hold.
    """
    found = {}
    by_secret = dict((a["secret"], a["name"]) for a in apps or () if a.get("secret"))
    for secret in (secret_reads or {}).get("resources") or ():
        name = by_secret.get((secret.get("metadata") or {}).get("name"))
        if name:
            found[name] = dict((key, base64.b64decode(value).decode("utf-8"))
                               for key, value in (secret.get("data") or {}).items())
    for read in (secret_reads or {}).get("results", ()):
        if read.get("skipped"):
            continue
        resources = read.get("resources") or []
        data = (resources[0].get("data") or {}) if resources else {}
        app = read.get(read.get("ansible_loop_var") or "item") or read.get("item")
        found[app["name"]] = dict(
            (key, base64.b64decode(value).decode("utf-8")) for key, value in data.items())
    for app, values in (given or {}).items():
        found[app] = dict(found.get(app) or {}, **(values or {}))
    return found


def wiring_kube_access(kubeconfig, context=None):
    """How the controller reaches the API server of a parsed kubeconfig: server and TLS material.

    Returns ``{"server", "ca_data", "cert_data", "key_data", "ca_file", "cert_file", "key_file"}``
    (PEM text of the ``*-data`` entries, or the files they name). Only client
    certificates are supported: the API server takes a bearer token as the
    controller's own and removes the ``Authorization`` header after
    authenticating (k8s.io/apiserver pkg/endpoints/filters/authentication.go),
    so the apps' credentials travel in headers of their own (``X-Api-Key``,
    ``X-Emby-Authorization``) or cookies.
    """
    kubeconfig = kubeconfig or {}
    name = context or kubeconfig.get("current-context")

    def pick(kind, wanted):
        for entry in kubeconfig.get(kind) or ():
            if entry.get("name") == wanted:
                return entry.get(kind[:-1]) or {}
        raise AnsibleFilterError("The kubeconfig has no %s named %r (it has: %s)." % (
            kind[:-1], wanted, ", ".join(sorted(e.get("name", "?") for e in kubeconfig.get(kind) or ())) or "none"))

    ctx = pick("contexts", name)
    cluster, user = pick("clusters", ctx.get("cluster")), pick("users", ctx.get("user"))
    if not (user.get("client-certificate-data") or user.get("client-certificate")):
        raise AnsibleFilterError(
            "The kubeconfig user of context %r has no client certificate (it uses %s); reaching the apps through "
            "the API server's service proxy needs one, as k3s and Talos kubeconfigs have. Use an admin kubeconfig, "
            "or set arrkestra_controller_access: direct (the controller then calls each app at its ingress)."
            % (name, ", ".join(sorted(k for k in user)) or "nothing"))

    def pem(data):
        return base64.b64decode(data).decode("ascii") if data else None

    return {"server": cluster.get("server", "").rstrip("/"),
            "ca_data": pem(cluster.get("certificate-authority-data")), "ca_file": cluster.get("certificate-authority"),
            "insecure": bool(cluster.get("insecure-skip-tls-verify")),
            "cert_data": pem(user.get("client-certificate-data")), "cert_file": user.get("client-certificate"),
            "key_data": pem(user.get("client-key-data")), "key_file": user.get("client-key")}


def wiring_proxied(apps, server):
    """``apps`` whose ``controller_access`` is ``apiserver_proxy`` with their ``controller_url`` through the API
    server's service proxy: the kubeconfig's ``server`` followed by the app's ``proxy_path`` (from the stack model)."""
    out = []
    for app in apps or ():
        if app.get("controller_access") == "apiserver_proxy":
            app = dict(app, controller_url=server.rstrip("/") + app["proxy_path"])
        out.append(app)
    return out


class FilterModule:
    def filters(self):
        return {
            "wiring_links": wiring_links,
            "wiring_plan": wiring_plan,
            "wiring_record": wiring_record,
            "wiring_fingerprints": wiring_fingerprints,
            "wiring_new_key": wiring_new_key,
            "wiring_rotated": wiring_rotated,
            "wiring_resolve": wiring_resolve,
            "wiring_credentials": wiring_credentials,
            "wiring_single": wiring_single,
            "wiring_runs": wiring_runs,
            "wiring_kube_access": wiring_kube_access,
            "wiring_proxied": wiring_proxied,
        }
