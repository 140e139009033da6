"""Framework for the test doubles of the apps' HTTP APIs.

A *double* is a real HTTP server on 127.0.0.1 that behaves like one app (as
``/work/shared/reference/api-behaviour.md`` describes it) and checks every
request it serves and every answer it gives against the app's OpenAPI
document, so the double cannot drift from the real API.

Build one in three steps::

    from tests.doubles._base import DoubleApp, Reply, api_key_auth

    class Pinger(DoubleApp):
        name = "Pinger"
        version = "1.2.3"                            # sent as X-Application-Version
        spec = "/path/to/pinger.openapi.json"        # or None: no contract check

        def __init__(self, api_key="secret", **kwargs):
            super().__init__(auth=api_key_auth(api_key), **kwargs)
            self.add_route("GET", "/ping", self.ping, public=True)
            self.add_route("GET", "/api/v1/thing/{id}", self.get_thing)

        def ping(self, request):
            return Reply(200, {"status": "OK"})

        def get_thing(self, request):              # request.params == {"id": "7"}
            return Reply(200, {"id": int(request.params["id"])})

    with Pinger().serve() as server:              # a thread; port 0 = a free port
        httpx.get(server.url + "/ping")
        assert server.app.writes() == []           # (method, path) of non-GET requests
        server.app.assert_contract()               # no OpenAPI violation seen

or as a process: ``run_cli(Pinger, argv)`` parses ``--port`` / ``--host`` and
serves until SIGTERM (see ``tests/doubles/servarr.py``).

Pieces
- :class:`Request` (method, path, query, headers, body, ``json``, ``params``
  from the route template) and :class:`Reply` (status, body: dict/list is sent
  as JSON, str/bytes as they are, None as an empty body; headers).
- :class:`DoubleApp`: routing on OpenAPI-style templates (``/x/{id}``; the
  template is also the key looked up in the OpenAPI document), authentication
  hook (``auth(request) -> bool``; routes with ``public=True`` skip it; a
  refusal answers ``unauthorized()``, by default 401 with an empty body), the
  request ``log`` (method, path; every request, authenticated or not),
  ``writes()``, ``reset_log()``, ``violations`` and ``assert_contract()``.
  Handlers raise :class:`HttpError` to answer an error from deep inside.
- :class:`OpenApiContract`: validates requests (parameters, body, security)
  and answers (body) with openapi-core. Routes not in the document need
  ``documented=False``. Answers with a 2xx status the document does not list
  (the Swashbuckle documents of the Servarr apps say 200 where the apps answer
  201/202) are checked against the documented 2xx answer; error answers are
  checked against ``DoubleApp.error_schemas[status]`` (a JSON schema) when
  given. A violation is recorded in ``violations`` and answered with 500
  "OpenAPI contract violation" so the test using the double fails.
- :class:`DoubleServer`: the server thread (``serve()`` / ``start()`` /
  ``stop()``; ``url``; context manager).

Nothing here is specific to one app; app doubles live next to this file
(``servarr.py`` for Radarr, Sonarr, Lidarr and Prowlarr).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

__all__ = ["DoubleApp", "DoubleServer", "HttpError", "OpenApiContract", "Reply", "Request",
           "api_key_auth", "run_cli"]

WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


class Request:
    """One request as a handler sees it."""

    def __init__(self, method, path, query, headers, body, params=None):
        self.method = method
        self.path = path
        self.query = query  # {name: last value}; see ``query_all`` for repeated names
        self.query_all = {}
        self.headers = headers  # case-insensitive (http.client.HTTPMessage)
        self.body = body or b""
        self.params = params or {}

    @property
    def json(self):
        """The body parsed as JSON (None for an empty body); HttpError 400 when it is not JSON."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise HttpError(400, {"message": "The request body is not valid JSON"})

    def flag(self, name):
        """A boolean query parameter (``?forceSave=true``)."""
        return str(self.query.get(name, "")).lower() in ("1", "true", "yes")


class Reply:
    """What a handler answers."""

    def __init__(self, status=200, body=None, headers=None, content_type=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.content_type = content_type

    def encode(self):
        """(bytes, content type) of the body."""
        if self.body is None:
            return b"", self.content_type or ""
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.content_type or "text/plain; charset=utf-8"
        return json.dumps(self.body).encode("utf-8"), self.content_type or "application/json; charset=utf-8"


class HttpError(Exception):
    """Raise from a handler to answer ``Reply(status, body)``."""

    def __init__(self, status, body=None, headers=None):
        super().__init__("%s %r" % (status, body))
        self.reply = Reply(status, body, headers)


class Route:
    def __init__(self, method, template, handler, public=False, documented=True):
        self.method = method.upper()
        self.template = template
        self.handler = handler
        self.public = public
        self.documented = documented
        names = []

        def repl(match):
            names.append(match.group(1))
            return "(?P<%s>[^/]+)" % match.group(1)

        self.regex = re.compile("^" + re.sub(r"\{(\w+)\}", repl, re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$")
        self.names = names

    def match(self, method, path):
        if method != self.method:
            return None
        found = self.regex.match(path)
        return found.groupdict() if found else None


def api_key_auth(api_key, header="X-Api-Key", query="apikey", bearer=True):
    """An ``auth`` hook accepting the key as header, query parameter or ``Authorization: Bearer``."""

    def check(request):
        if request.headers.get(header) == api_key:
            return True
        if query and request.query.get(query) == api_key:
            return True
        if bearer and request.headers.get("Authorization", "") == "Bearer " + api_key:
            return True
        return False

    return check


_SPEC_CACHE = {}
_SPEC_LOCK = threading.Lock()


class OpenApiContract:
    """Checks requests and answers against one OpenAPI 3.0 document (openapi-core).

    ``credentials`` is what the validated copy of an authenticated request
    carries for the document's security scheme (the double checks auth
    itself, accepting more styles than a document may list), e.g.
    ``{"header": {"X-Api-Key": "k"}}``.
    """

    def __init__(self, spec_path, credentials=None, host="http://double", prefix=""):
        from openapi_core import Config, OpenAPI  # imported late: only doubles with a document need it

        # ``host`` must match the document's servers; ``prefix`` is the path its servers
        # put before every path (Seerr's "/api/v1"): routes carry it, the document's paths do not
        # (openapi-core matches the full URL against server + path itself).
        self.host, self.prefix = host, prefix.rstrip("/")

        with _SPEC_LOCK:
            if spec_path not in _SPEC_CACHE:
                with open(spec_path, encoding="utf-8") as handle:
                    document = json.load(handle) if spec_path.endswith(".json") else _load_yaml(handle)
                # The upstream documents are not always valid to the letter (a "/{path}"
                # route without its parameter): validate messages, not the document.
                _SPEC_CACHE[spec_path] = (document, OpenAPI.from_dict(document, config=Config(spec_validator_cls=None)))
        self.document, self.api = _SPEC_CACHE[spec_path]
        self.credentials = credentials or {}

    def _strip(self, path):
        return path[len(self.prefix):] if self.prefix and path.startswith(self.prefix) else path

    def operation(self, template, method):
        return self.document.get("paths", {}).get(self._strip(template), {}).get(method.lower())

    def check_request(self, route, request, authenticated):
        from openapi_core.testing import MockRequest

        if self.operation(route.template, request.method) is None:
            return ["%s %s is not in the OpenAPI document" % (request.method, route.template)]
        headers = dict(request.headers.items())
        args = dict(request.query)
        if authenticated:
            headers.update(self.credentials.get("header", {}))
            args.update(self.credentials.get("query", {}))
        content_type = (request.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        mock = MockRequest(self.host, request.method.lower(), request.path, path_pattern=route.template,
                           args=args, view_args=request.params, headers=headers,
                           data=request.body or None, content_type=content_type)
        try:
            self.api.validate_request(mock)
        except Exception as exc:  # pylint: disable=broad-except
            return ["request %s %s: %s" % (request.method, request.path, _explain(exc))]
        return []

    def check_reply(self, route, request, reply, error_schemas):
        from openapi_core.testing import MockRequest, MockResponse

        operation = self.operation(route.template, request.method) or {}
        documented = operation.get("responses", {})
        status = str(reply.status)
        data, content_type = reply.encode()
        if status not in documented:
            if 200 <= reply.status < 300:
                twoxx = sorted(s for s in documented if s.startswith("2"))
                if not twoxx:
                    return ["answer %d to %s %s: no 2xx answer documented" % (reply.status, request.method, route.template)]
                status = twoxx[0]
            else:
                schema = error_schemas.get(reply.status)
                if schema is None or reply.body is None:
                    return []
                import jsonschema

                try:
                    jsonschema.validate(reply.body, schema)
                except jsonschema.ValidationError as exc:
                    return ["error answer %d to %s %s: %s" % (reply.status, request.method, request.path, exc.message)]
                return []
        mock_request = MockRequest(self.host, request.method.lower(), request.path,
                                   path_pattern=route.template, view_args=request.params)
        mock_response = MockResponse(data, status_code=int(status), content_type=content_type.split(";")[0])
        try:
            self.api.validate_response(mock_request, mock_response)
        except Exception as exc:  # pylint: disable=broad-except
            return ["answer %d to %s %s: %s" % (reply.status, request.method, request.path, _explain(exc))]
        return []


def _load_yaml(handle):
    import yaml

    return yaml.safe_load(handle)


def _explain(exc):
    cause = exc.__cause__ or exc
    details = sorted(set(str(e).split("\n\n", maxsplit=1)[0] for e in getattr(cause, "schema_errors", ()) or ()))
    text = "%s%s" % (exc, (" (" + "; ".join(details) + ")") if details else "")
    return text if len(text) <= 2000 else text[:1000] + " ... " + text[-900:]


class DoubleApp:
    """One app: routes, authentication, request log, contract checks."""

    #: the app's name (messages, logs)
    name = "App"
    #: sent as X-Application-Version with every answer (None: no header)
    version = None
    #: path of the OpenAPI document, or None for no contract check
    spec = None
    #: {status: JSON schema} for error answers the document does not describe
    error_schemas = {}
    #: scheme and host that match the document's ``servers``, and the path they add
    spec_host = "http://double"
    spec_prefix = ""

    def __init__(self, auth=None, credentials=None, strict=True):
        self.auth = auth
        self.routes = []
        self.log = []  # (method, path) of every request, in order
        self.violations = []
        self.strict = strict
        self.lock = threading.RLock()  # handlers run under it: one request at a time changes state
        self.contract = OpenApiContract(self.spec, credentials, self.spec_host, self.spec_prefix) if self.spec else None

    # -- set-up ----------------------------------------------------------------
    def add_route(self, method, template, handler, public=False, documented=True):
        self.routes.append(Route(method, template, handler, public=public, documented=documented))

    def serve(self, host="127.0.0.1", port=0):
        """A started :class:`DoubleServer` for this app."""
        return DoubleServer(self, host, port).start()

    # -- what tests read ---------------------------------------------------------
    def writes(self):
        """(method, path) of every request that could change something."""
        return [entry for entry in self.log if entry[0] in WRITE_METHODS]

    def reset_log(self):
        with self.lock:
            del self.log[:]

    def assert_contract(self):
        assert not self.violations, "%s double saw OpenAPI contract violations:\n%s" % (
            self.name, "\n".join(self.violations))

    # -- hooks -------------------------------------------------------------------
    def unauthorized(self, request):
        return Reply(401, None)

    def not_found(self, request):
        return Reply(404, None)

    def headers(self):
        return {"X-Application-Version": self.version} if self.version else {}

    # -- engine ------------------------------------------------------------------
    def handle(self, request):
        self.log.append((request.method, request.path))
        route = None
        for candidate in self.routes:
            params = candidate.match(request.method, request.path)
            if params is not None:
                route, request.params = candidate, params
                break
        if route is None:
            return self._finish(self.not_found(request))
        if route.public:
            # Public routes (liveness) skip the lock: a handler may call its own app's /ping.
            return self._dispatch(route, request)
        with self.lock:
            return self._dispatch(route, request)

    def _dispatch(self, route, request):
        authenticated = route.public or self.auth is None or self.auth(request)
        if not authenticated:
            return self._finish(self.unauthorized(request))
        check = self.contract is not None and route.documented
        if check:
            problems = self.contract.check_request(route, request, authenticated)
            if problems and self._violation(problems):
                return self._finish(Reply(500, "OpenAPI contract violation: " + "; ".join(problems)))
        try:
            reply = route.handler(request)
        except HttpError as exc:
            reply = exc.reply
        if check:
            problems = self.contract.check_reply(route, request, reply, self.error_schemas)
            if problems and self._violation(problems):
                return self._finish(Reply(500, "OpenAPI contract violation: " + "; ".join(problems)))
        return self._finish(reply)

    def _violation(self, problems):
        """Record ``problems``; True when the request must be answered with 500."""
        self.violations.extend(problems)
        return self.strict

    def _finish(self, reply):
        reply.headers = dict(self.headers(), **reply.headers)
        return reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ArrkestraDouble/1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # quiet: the app keeps its own log

    def _serve(self):
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query_all = parse_qs(parts.query, keep_blank_values=True)
        request = Request(self.command, parts.path, dict((k, v[-1]) for k, v in query_all.items()),
                          self.headers, body)
        request.query_all = query_all
        try:
            reply = self.server.app.handle(request)
        except Exception as exc:  # pylint: disable=broad-except
            self.server.app.violations.append("handler crashed on %s %s: %r" % (self.command, self.path, exc))
            reply = Reply(500, "double crashed: %r" % (exc,))
        data, content_type = reply.encode()
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); nothing to tell it

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve


class DoubleServer:
    """An app served on ``host:port`` (port 0: a free one) from a daemon thread."""

    def __init__(self, app, host="127.0.0.1", port=0):
        self.app = app
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.app = app
        self.host, self.port = self.httpd.server_address[:2]
        self.thread = None

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="double-%s" % self.app.name,
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread:
            self.thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_cli(factory, argv=None, description=None, add_arguments=None):
    """Serve ``factory(args)`` in the foreground until SIGTERM/SIGINT; print the URL on stdout.

    ``add_arguments(parser)`` adds the double's own options to ``--host``/``--port``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args(argv)
    app = factory(args)
    server = DoubleServer(app, args.host, args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    server.start()
    print(server.url, flush=True)
    while not stop.is_set():
        time.sleep(0.2)
    server.stop()
    if app.violations:
        print("\n".join(app.violations))
        return 1
    return 0
