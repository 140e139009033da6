"""Test double of SABnzbd's API (``/api?mode=...``): version, categories, host and API-key checks.

SABnzbd is not packaged by Debian, so this double stands in for it. It answers
as SABnzbd 4.5.1 does (sabnzbd/interface.py at tag 4.5.1): every call is a GET
(or POST) to ``/api`` with ``mode``, ``apikey`` and ``output=json``. Before the
key, the Host header is checked (``check_hostname``, 227-259; skipped when a
web-UI username and password are both set, 233-234): the port is cut off and
the name lower-cased (242), then ``localhost``, an IPv4 or IPv6 address (245),
a name in ``host_whitelist`` (250) or a name ending in ``.local``/``.local.``
(255) pass; anything else, or no Host, is answered ``403`` with the text
"Access denied - Hostname verification failed: ..." (175-179, 100). Then the
key (``check_apikey``, 373-399): ``mode=version`` and ``auth`` need none (385);
a missing key answers ``403`` "API Key Required", a wrong one ``403`` "API Key
Incorrect" (181-186, 102-103) - plain text, not JSON. An empty
``host_whitelist`` is filled with the machine's host name at the first start
(sabnzbd/cfg.py:806-808). Errors of a mode itself are HTTP 200 with
``{"status": false, "error": ...}`` (sabnzbd/api.py ``report``, 1085-1115).
``get_config`` returns sections as lists of items; ``set_config`` of a
category creates it when the keyword is new and changes only the fields given;
``del_config`` removes it. The ``*`` category always exists and cannot be
deleted.

    python -m tests.doubles.sabnzbd --port 8080 --api-key K
"""

from __future__ import annotations

import copy
import ipaddress
import os
import re
import socket
import sys

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply, run_cli  # noqa: E402 pylint: disable=wrong-import-position

CATEGORY_FIELDS = ("name", "order", "pp", "script", "dir", "newzbin", "priority")
PRIORITIES = (-100, -4, -3, -2, -1, 0, 1, 2)
DENIED_HOSTNAME = "Access denied - Hostname verification failed: https://sabnzbd.org/hostname-check"


class SabnzbdDouble(DoubleApp):
    name = "SABnzbd"
    version = "4.5.1"

    def __init__(self, api_key="sabnzbd0key0123456789abcdef01234", host_whitelist=None, username="", password="",
                 misc=None):
        super().__init__()
        self.api_key = api_key
        # sabnzbd/cfg.py:525 (lower-cased, stripped); empty -> this machine's name at the first start (806-808)
        self.host_whitelist = [h.strip().lower() for h in (host_whitelist or []) if h.strip()] or \
            [socket.gethostname().lower()]
        self.username, self.password = username, password
        self.misc = dict(misc or {})       # the [misc] section it was started with (from_ini)
        self.categories = [{"name": "*", "order": 0, "pp": "3", "script": "None", "dir": "", "newzbin": "",
                            "priority": 0}]
        self.api_log = []  # (mode, keyword) of every API call
        self.add_route("GET", "/api", self.api, public=True)
        self.add_route("POST", "/api", self.api, public=True)

    @classmethod
    def from_ini(cls, path, **kwargs):
        """The double as SABnzbd starts from ``sabnzbd.ini`` (configobj syntax: ``key = value``, lists comma-separated,
        optional quotes); only ``[misc]`` is read."""
        misc, section = {}, None
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                if line.startswith("["):
                    section = line.strip("[]").strip()
                elif "=" in line and section == "misc":
                    key, value = (part.strip() for part in line.split("=", 1))
                    misc[key] = value[1:-1] if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"" \
                        else value
        whitelist = [h.strip().strip("'\"") for h in misc.get("host_whitelist", "").split(",")] \
            if "," in misc.get("host_whitelist", "") else misc.get("host_whitelist", "").split()
        return cls(api_key=misc.get("api_key") or "", host_whitelist=whitelist, username=misc.get("username", ""),
                   password=misc.get("password", ""), misc=misc, **kwargs)

    def host_allowed(self, host):
        """sabnzbd/interface.py ``check_hostname`` (227-259)."""
        if self.username and self.password:
            return True
        if not host:
            return False
        host = re.sub(":[0123456789]+$", "", host).lower()
        try:
            ipaddress.ip_address(host.strip("[]"))
            return True
        except ValueError:
            pass
        return host == "localhost" or host in self.host_whitelist or host.endswith((".local", ".local."))

    def writes(self):
        return [entry for entry in self.api_log if entry[0] in ("set_config", "del_config")]

    def reset_log(self):
        super().reset_log()
        del self.api_log[:]

    def api(self, request):
        args = dict((k, v[0] if isinstance(v, list) else v) for k, v in (request.query or {}).items())
        mode = args.get("mode", "")
        self.api_log.append((mode, args.get("keyword")))
        if not self.host_allowed(request.headers.get("Host")):
            return Reply(403, DENIED_HOSTNAME, content_type="text/html;charset=utf-8")
        if mode in ("version", "auth"):
            return Reply(200, {"version": self.version} if mode == "version" else {"auth": "apikey"})
        if not args.get("apikey"):
            return Reply(403, "API Key Required", content_type="text/html;charset=utf-8")
        if args["apikey"] != self.api_key:
            return Reply(403, "API Key Incorrect", content_type="text/html;charset=utf-8")
        if mode == "get_config":
            if args.get("section") not in (None, "categories"):
                return Reply(200, {"status": False, "error": "not implemented in the double"})
            return Reply(200, {"config": {"categories": copy.deepcopy(self.categories)}})
        if mode == "set_config" and args.get("section") == "categories":
            return self.set_category(args)
        if mode == "del_config" and args.get("section") == "categories":
            keyword = (args.get("keyword") or "").lower()
            if keyword == "*":
                return Reply(200, {"status": False, "error": "Cannot delete the default category"})
            self.categories = [c for c in self.categories if c["name"] != keyword]
            return Reply(200, {"status": True})
        return Reply(200, {"status": False, "error": "not implemented"})

    def set_category(self, args):
        keyword = (args.get("keyword") or "").strip().lower()   # SABnzbd stores category names lower case
        if not keyword:
            return Reply(200, {"status": False, "error": "keyword missing"})
        if "priority" in args:
            try:
                if int(args["priority"]) not in PRIORITIES:
                    raise ValueError
            except ValueError:
                return Reply(200, {"status": False, "error": "Invalid priority %s" % args["priority"]})
        item = next((c for c in self.categories if c["name"] == keyword), None)
        if item is None:
            item = {"name": keyword, "order": len(self.categories), "pp": "", "script": "Default", "dir": "",
                    "newzbin": "", "priority": -100}
            self.categories.append(item)
        for field in ("pp", "script", "dir", "newzbin", "order"):
            if field in args:
                item[field] = int(args[field]) if field == "order" else args[field]
        if "priority" in args:
            item["priority"] = int(args["priority"])
        return Reply(200, {"config": {"categories": [copy.deepcopy(item)]}})


if __name__ == "__main__":
    def _args(parser):
        parser.add_argument("--api-key", default="sabnzbd0key0123456789abcdef01234")
    sys.exit(run_cli(lambda args: SabnzbdDouble(api_key=args.api_key), description=__doc__.splitlines()[0],
                     add_arguments=_args))
