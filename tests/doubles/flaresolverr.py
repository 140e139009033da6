"""Test double of FlareSolverr: what Prowlarr's indexer-proxy test and a health check reach.

FlareSolverr answers ``GET /`` with its version and ``GET /health`` with
``{"status": "ok"}``; it has no authentication and no OpenAPI document.
Solving challenges is out of scope: ``POST /v1`` answers an error.

    python -m tests.doubles.flaresolverr --port 8191
"""

from __future__ import annotations

import os
import sys

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply, run_cli  # noqa: E402 pylint: disable=wrong-import-position


class FlareSolverrDouble(DoubleApp):
    name = "FlareSolverr"
    version = "3.3.21"

    def __init__(self):
        super().__init__()
        ready = {"msg": "FlareSolverr is ready!", "version": self.version, "userAgent": "Mozilla/5.0"}
        self.add_route("GET", "/", lambda req: Reply(200, ready), public=True)
        self.add_route("GET", "/health", lambda req: Reply(200, {"status": "ok"}), public=True)
        self.add_route("POST", "/v1", lambda req: Reply(500, {"status": "error", "message": "not solved by a double"}),
                       public=True)


if __name__ == "__main__":
    sys.exit(run_cli(lambda args: FlareSolverrDouble(), description=__doc__.splitlines()[0]))
