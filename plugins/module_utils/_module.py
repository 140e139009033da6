# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every API module of the collection shares: connection options and error handling."""

from __future__ import annotations

import functools

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from . import link_table
from ._http import HTTPX_IMPORT_ERROR, ApiError, HttpClient
from ._reconcile import reconcile_groups

# Options documented by the doc fragment arrkestra.homelab.connection.
CONNECTION_SPEC = {
    "url": {"type": "str", "required": True, "fallback": (env_fallback, ["ARRKESTRA_URL"])},
    "api_key": {"type": "str", "no_log": True, "fallback": (env_fallback, ["ARRKESTRA_API_KEY"])},
    "timeout": {"type": "float", "default": 30.0},
    "retries": {"type": "int", "default": 3},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "client_cert": {"type": "path"},
    "client_key": {"type": "path", "no_log": False},
}


def connection_spec():
    """A copy of :data:`CONNECTION_SPEC` for one module's argument spec.

    ``api_key`` is not marked required (the doc fragment documents it as
    optional, since some apps log in with a user instead); modules of apps
    that need a key call :func:`require_api_key`, which says where to find one.
    """
    return dict((k, dict(v)) for k, v in CONNECTION_SPEC.items())


def new_module(argument_spec, **kwargs):
    """An AnsibleModule with the connection options merged in and check mode on."""
    spec = connection_spec()
    spec.update(argument_spec)
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, **kwargs)
    if HTTPX_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("httpx"), exception=HTTPX_IMPORT_ERROR)
    return module


def require_api_key(module, where):
    """Fail clearly when the module has no ``api_key``; ``where`` says where the app shows it."""
    if not module.params.get("api_key"):
        module.fail_json(msg="`api_key` is required: the API key of the app (%s), in the task, in "
                             "module_defaults or in the environment variable ARRKESTRA_API_KEY." % where)


def client_from_module(module, app, **kwargs):
    """An :class:`HttpClient` for ``app`` built from the module's connection options."""
    p = module.params
    return HttpClient(p["url"], app, timeout=p["timeout"], retries=p["retries"],
                      validate_certs=p["validate_certs"], ca_path=p["ca_path"],
                      client_cert=p.get("client_cert"), client_key=p.get("client_key"), **kwargs)


def run(module, body):
    """Call ``body()`` and turn an :class:`ApiError` into a clean ``fail_json``."""
    try:
        body()
    except ApiError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())


def run_in_session(module, open_session, work):
    """The whole run of a module: ``open_session(module)`` (an object with ``close()``: the app's client and what
    it signed in with), ``work(session)`` giving the result, the session closed, the result given back to Ansible;
    an :class:`ApiError` ends the run in the app's own words (:func:`run`)."""
    def body():
        session = open_session(module)
        try:
            result = work(session)
        finally:
            session.close()
        module.exit_json(**result)
    run(module, body)


def run_reconciler(module, open_session, make):
    """The whole run of a resource module: ``make(session).reconcile()`` in :func:`run_in_session`."""
    run_in_session(module, open_session, lambda session: make(session).reconcile())


def link_groups(module, session, module_name, reconcilers):
    """``[(option, make(params), header)]`` of a links module, in the order of the link table: ``reconcilers`` are
    ``{option: (reconciler class or factory (module, session, params), header(params))}``."""
    return [(name, functools.partial(reconcilers[name][0], module, session), reconcilers[name][1])
            for name in link_table.groups(module_name=module_name)]


def run_links_module(module, open_session, groups, skip=None, finish=None):
    """The whole run of a links module: every list of items of one app in one session, each collection read once.
    ``groups(session)`` gives ``[(option, make(params), header)]`` in the order the lists are made; ``skip`` as
    :func:`reconcile_groups` takes it; ``finish(result)`` adds what the module returns besides. The result adds
    the requests the run sent and how many wrote."""
    def work(session):
        result = reconcile_groups(module, groups(session), skip)
        if finish is not None:
            finish(result)
        client = getattr(session, "client", session)
        result["requests"] = len(client.requests)
        result["writes"] = client.write_count
        return result
    run_in_session(module, open_session, work)
