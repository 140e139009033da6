"""Test double of Bazarr's settings API: the links to Radarr and Sonarr.

Bazarr (1.4/1.5) authenticates with ``X-API-KEY`` (or ``apikey`` in the query)
and answers ``401`` otherwise. ``GET /api/system/settings`` returns every
setting, grouped by section (``general``, ``radarr``, ``sonarr``...); ``POST
/api/system/settings`` takes form fields named ``settings-<section>-<key>``,
changes only those, and answers ``204``. Booleans travel as the strings
``true``/``false``; ports as strings.

There is no ``/api/system/ping`` in Bazarr 1.5.1: every ``/api/...`` route needs
the key (bazarr/api/utils.py:19-32 at v1.5.1). What answers without it is the UI's
catch-all ``GET /`` (bazarr/app/ui.py:69-111): ``200`` with the page when
``auth.type`` is None or ``form`` (the page carries the API key only when no login
is asked or the session is logged in, ui.py:104-105), ``401`` with
``WWW-Authenticate: Basic`` for ``basic`` (ui.py:81-87).

The ``auth`` section is what config.yaml holds (bazarr/app/config.py:157-161):
``apikey``, ``type`` (None, ``basic`` or ``form``), ``username`` and ``password``
as the MD5 hex digest of the password. ``GET /api/system/settings`` returns it as
stored (only ``flask_secret_key`` is left out, config.py:473, 520-536); a
``settings-auth-password`` posted is hashed with MD5 unless it equals the stored
digest (config.py:629-631), so sending the digest back keeps the password.

    python -m tests.doubles.bazarr --port 6767 --api-key K
"""

from __future__ import annotations

import copy
import hashlib
import os
import sys
from urllib.parse import parse_qsl

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply, api_key_auth, run_cli  # noqa: E402 pylint: disable=wrong-import-position


def _service(port):
    return {"ip": "127.0.0.1", "port": port, "base_url": "/", "ssl": False, "http_timeout": 60, "apikey": "",
            "full_update": "Daily", "only_monitored": False, "excluded_tags": [], "sync_only_monitored_series": False}


class BazarrDouble(DoubleApp):
    name = "Bazarr"
    version = "1.5.1"

    def __init__(self, api_key="bazarr00key0123456789abcdef01234"):
        super().__init__(auth=api_key_auth(api_key, header="X-API-KEY", bearer=False))
        self.api_key = api_key
        self.settings = {"general": {"use_radarr": False, "use_sonarr": False, "port": 6767, "base_url": ""},
                         "auth": {"apikey": api_key, "type": None, "username": "", "password": ""},
                         "radarr": _service(7878), "sonarr": _service(8989)}
        self.add_route("GET", "/", self.index, public=True)
        self.add_route("GET", "/api/system/settings", lambda req: Reply(200, copy.deepcopy(self.settings)))
        self.add_route("POST", "/api/system/settings", self.save)

    def index(self, request):
        auth = self.settings["auth"]
        if auth["type"] == "basic":
            return Reply(401, "Unauthorized", headers={"WWW-Authenticate": 'Basic realm="Login Required"'})
        return Reply(200, "<!doctype html><html><body>Bazarr</body></html>", content_type="text/html; charset=utf-8")

    def set_login(self, kind, username, password):
        """Seed the login as config.yaml would hold it (for tests)."""
        self.settings["auth"].update(type=kind, username=username,
                                     password=hashlib.md5(password.encode("utf-8")).hexdigest())

    def save(self, request):
        form = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
        for name, value in form:
            parts = name.split("-", 2)
            if len(parts) != 3 or parts[0] != "settings" or parts[1] not in self.settings:
                return Reply(400, "Unknown setting %s" % name)
            section, key = self.settings[parts[1]], parts[2]
            if key not in section:
                return Reply(400, "Unknown setting %s" % name)
            old = section[key]
            if parts[1] == "auth" and key == "password" and value != old:
                section[key] = hashlib.md5(value.encode("utf-8")).hexdigest()
            elif parts[1] == "auth" and key == "type":
                if value not in ("", "None", "null", "basic", "form"):
                    return Reply(400, "auth.type must be None, basic or form")
                section[key] = value if value in ("basic", "form") else None
            elif isinstance(old, bool):
                section[key] = value.lower() == "true"
            elif isinstance(old, int):
                try:
                    section[key] = int(value)
                except ValueError:
                    return Reply(400, "%s must be a number" % name)
            else:
                section[key] = value
        return Reply(204, None)


if __name__ == "__main__":
    def _args(parser):
        parser.add_argument("--api-key", default="bazarr00key0123456789abcdef01234")
    sys.exit(run_cli(lambda args: BazarrDouble(api_key=args.api_key), description=__doc__.splitlines()[0],
                     add_arguments=_args))
