"""Test double of SABnzbd's API (``/api?mode=...``): version, categories, API-key errors.

SABnzbd is not packaged by Debian, so this double stands in for it. It answers
as SABnzbd 4.x does: every call is a GET (or POST) to ``/api`` with ``mode``,
``apikey`` and ``output=json``; a missing or wrong key answers HTTP 200 with
``{"status": false, "error": "API Key Required" | "API Key Incorrect"}``;
``get_config`` returns sections as lists of items; ``set_config`` of a
category creates it when the keyword is new and changes only the fields given;
``del_config`` removes it. The ``*`` category always exists and cannot be
deleted.

    python -m tests.doubles.sabnzbd --port 8080 --api-key K
"""

from __future__ import annotations

import copy
import os
import sys

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply, run_cli  # noqa: E402 pylint: disable=wrong-import-position

CATEGORY_FIELDS = ("name", "order", "pp", "script", "dir", "newzbin", "priority")
PRIORITIES = (-100, -4, -3, -2, -1, 0, 1, 2)


class SabnzbdDouble(DoubleApp):
    name = "SABnzbd"
    version = "4.3.3"

    def __init__(self, api_key="sabnzbd0key0123456789abcdef01234"):
        super().__init__()
        self.api_key = api_key
        self.categories = [{"name": "*", "order": 0, "pp": "3", "script": "None", "dir": "", "newzbin": "",
                            "priority": 0}]
        self.api_log = []  # (mode, keyword) of every API call
        self.add_route("GET", "/api", self.api, public=True)
        self.add_route("POST", "/api", self.api, public=True)

    def writes(self):
        return [entry for entry in self.api_log if entry[0] in ("set_config", "del_config")]

    def reset_log(self):
        super().reset_log()
        del self.api_log[:]

    def api(self, request):
        args = dict((k, v[0] if isinstance(v, list) else v) for k, v in (request.query or {}).items())
        mode = args.get("mode", "")
        self.api_log.append((mode, args.get("keyword")))
        if mode == "version":
            return Reply(200, {"version": self.version})
        if not args.get("apikey"):
            return Reply(200, {"status": False, "error": "API Key Required"})
        if args["apikey"] != self.api_key:
            return Reply(200, {"status": False, "error": "API Key Incorrect"})
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
