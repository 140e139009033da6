# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client of the collection.

Every app module talks to its app through :class:`HttpClient`: authentication
headers, timeouts, retries with backoff on connection errors and 5xx answers,
TLS options, and errors turned into :class:`ApiError` with a plain message and
a hint on what to fix. App families plug in how their error bodies read
(``error_parser``) and nothing else.
"""

from __future__ import annotations

import json
import ssl
import sys
import time
import traceback

# httpx loads its command-line client (click and rich) when they are installed, for ``httpx.main``: two thirds of
# its import time, paid by every module run, and never used here. A None entry in sys.modules makes that one import
# fail, and httpx goes on without its command line (httpx/__init__.py catches the ImportError).
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)

try:
    import httpx
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    httpx = None
    HTTPX_IMPORT_ERROR = traceback.format_exc()
else:
    HTTPX_IMPORT_ERROR = None

# Methods that are safe to send again when the server answered 5xx: the
# request either did nothing or will do the same thing twice.
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "OPTIONS", "PUT", "DELETE"))
RETRY_STATUSES = frozenset((502, 503, 504))
MAX_BODY_IN_MESSAGE = 500


class ApiError(Exception):
    """An error an app gave, or the failure to reach it, in plain words.

    ``message`` says what happened (with the app's own words where it gave
    some), ``hint`` what to do about it. ``status`` is the HTTP status, or
    None when no answer came. ``details`` holds the parsed error body.
    """

    def __init__(self, message, hint=None, status=None, details=None, method=None, url=None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.details = details
        self.method = method
        self.url = url

    def __str__(self):
        if self.hint:
            return "%s %s" % (self.message.rstrip(), self.hint)
        return self.message

    def to_result(self):
        """Extra keys for ``module.fail_json``."""
        result = {"status": self.status}
        if self.details is not None:
            result["api_errors"] = self.details
        if self.method and self.url:
            result["request"] = "%s %s" % (self.method, self.url)
        return result


def _short(text):
    text = (text or "").strip()
    if len(text) > MAX_BODY_IN_MESSAGE:
        return text[:MAX_BODY_IN_MESSAGE] + "..."
    return text


def default_error_parser(response):
    """Return ``(message, details)`` from an error answer of any app.

    Understands JSON bodies with a ``message``/``error``/``title`` key and
    plain text; HTML bodies (login pages, proxies) are not repeated.
    """
    text = response.text
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "errorMessage", "error", "title", "detail"):
            if body.get(key):
                return str(body[key]), body
        return _short(json.dumps(body)), body
    if body is not None:
        return _short(json.dumps(body)), body
    if "<html" in text[:200].lower():
        return "", None
    return _short(text), None


class Response:
    """What a request gave back: status, headers and the parsed body."""

    def __init__(self, status, headers, body, text):
        self.status = status
        self.headers = headers
        self.body = body
        self.text = text


def tls_context(validate_certs=True, ca_path=None, client_cert=None, client_key=None):
    """What httpx's ``verify`` takes: a bool, or an SSL context with a CA and/or a client certificate.

    A client certificate is how the controller reaches an app through the
    Kubernetes API server's service proxy with only a kubeconfig.
    """
    if not (ca_path or client_cert):
        return bool(validate_certs)
    context = ssl.create_default_context(cafile=ca_path if (validate_certs and ca_path) else None)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert:
        try:
            context.load_cert_chain(client_cert, client_key)
        except (OSError, ssl.SSLError) as exc:
            raise ApiError("Cannot load the client certificate %s%s: %s"
                           % (client_cert, " with key %s" % client_key if client_key else "", exc),
                           hint="`client_cert` must be a PEM certificate and `client_key` its PEM private key "
                                "(or both in `client_cert`).")
    return context


class HttpClient:
    """A small, strict HTTP client for one app.

    :param base_url: the app's URL as the controller reaches it; paths are
        appended to it (``/api/v3`` style roots go in ``api_root``).
    :param app: the app's name for messages ("Radarr", "qBittorrent").
    :param headers: headers sent with every request (authentication).
    :param error_parser: ``f(httpx.Response) -> (message, details)``.
    :param transport: an ``httpx`` transport, for tests.
    """

    def __init__(self, base_url, app, api_root="", headers=None, auth=None, timeout=30.0,
                 retries=3, backoff=0.5, validate_certs=True, ca_path=None, client_cert=None,
                 client_key=None, error_parser=None, transport=None, sleep=time.sleep):
        if httpx is None:
            raise ApiError("The Python library httpx is required on the host that runs this module.",
                           hint="Install it with `pip install httpx` in the Python that runs the module.")
        self.base_url = base_url.rstrip("/")
        self.app = app
        self.api_root = "/" + api_root.strip("/") if api_root.strip("/") else ""
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.timeout = timeout
        self.error_parser = error_parser or default_error_parser
        self.sleep = sleep
        self.app_version = None
        self.requests = []  # (method, path) of every request sent, for tests and benchmarks
        # A plain-HTTP URL never opens TLS (redirects are not followed): no CA bundle to load for it.
        https = self.base_url.lower().startswith("https://")
        verify = tls_context(validate_certs, ca_path, client_cert, client_key) if https else False
        self._client = httpx.Client(base_url=self.base_url, headers=headers or {}, auth=auth,
                                    timeout=timeout, verify=verify, transport=transport,
                                    follow_redirects=False)

    # -- lifecycle -------------------------------------------------------
    def close(self):
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def cookies(self):
        return self._client.cookies

    @property
    def headers(self):
        """Headers sent with every request; a session may add its token once it has one."""
        return self._client.headers

    @property
    def write_count(self):
        return sum(1 for method, dummy in self.requests if method not in ("GET", "HEAD"))

    # -- requests --------------------------------------------------------
    def url_for(self, path, raw=False):
        path = "/" + path.lstrip("/")
        return path if raw else self.api_root + path

    def request(self, method, path, params=None, json_body=None, data=None, headers=None,
                raw_path=False, expect=None):
        """Send a request and return a :class:`Response`; raise :class:`ApiError`.

        ``expect`` is an iterable of statuses that are not errors besides 2xx
        (e.g. ``(409,)`` for Transmission's session handshake).
        """
        method = method.upper()
        url = self.url_for(path, raw=raw_path)
        attempt = 0
        while True:
            attempt += 1
            self.requests.append((method, url))
            try:
                resp = self._client.request(method, url, params=params, json=json_body, data=data,
                                            headers=headers)
            except httpx.ConnectError as exc:
                # Nothing reached the app: always safe to try again.
                if attempt <= self.retries:
                    self._wait(attempt)
                    continue
                raise self._transport_error(exc, method, url)
            except httpx.TransportError as exc:
                if method in IDEMPOTENT_METHODS and attempt <= self.retries:
                    self._wait(attempt)
                    continue
                raise self._transport_error(exc, method, url)
            if resp.status_code in RETRY_STATUSES and method in IDEMPOTENT_METHODS and attempt <= self.retries:
                self._wait(attempt)
                continue
            break

        version = resp.headers.get("X-Application-Version")
        if version:
            self.app_version = version
        if resp.is_success or (expect and resp.status_code in expect):
            return self._response(resp)
        raise self._status_error(resp, method, url)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs).body

    def post(self, path, json_body=None, **kwargs):
        return self.request("POST", path, json_body=json_body, **kwargs).body

    def put(self, path, json_body=None, **kwargs):
        return self.request("PUT", path, json_body=json_body, **kwargs).body

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs).body

    # -- helpers ---------------------------------------------------------
    def _wait(self, attempt):
        self.sleep(self.backoff * (2 ** (attempt - 1)))

    @staticmethod
    def _response(resp):
        text = resp.text
        body = None
        if text.strip():
            ctype = resp.headers.get("content-type", "")
            if "json" in ctype or text.lstrip()[:1] in ("{", "["):
                try:
                    body = resp.json()
                except ValueError:
                    body = text
            else:
                body = text
        return Response(resp.status_code, resp.headers, body, text)

    def _transport_error(self, exc, method, url):
        full = self.base_url + url
        if isinstance(exc, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return ApiError(
                "The TLS certificate of %s at %s could not be verified: %s." % (self.app, self.base_url, exc),
                hint="Give the CA that signed it with `ca_path`, or set `validate_certs: false` "
                     "for a self-signed certificate you trust.",
                method=method, url=full)
        if isinstance(exc, httpx.TimeoutException):
            return ApiError(
                "%s at %s did not answer %s %s within %s seconds (tried %d times)."
                % (self.app, self.base_url, method, url, self.timeout, self.retries + 1),
                hint="Check that the app is running and not overloaded, or raise `timeout`.",
                method=method, url=full)
        return ApiError(
            "Cannot connect to %s at %s: %s (tried %d times)." % (self.app, self.base_url, exc, self.retries + 1),
            hint="Check that `url` is right and reachable from the host that runs this module "
                 "(the Ansible controller), and that %s is running." % self.app,
            method=method, url=full)

    def _status_error(self, resp, method, url):
        status = resp.status_code
        full = self.base_url + url
        try:
            message, details = self.error_parser(resp)
        except Exception:  # pylint: disable=broad-except
            message, details = _short(resp.text), None
        said = (": " + message) if message else "."
        if status == 401:
            return ApiError("%s refused the request %s %s as unauthorized (401)%s" % (self.app, method, url, said),
                            hint="Check the API key or credentials given to the module; they must be the ones "
                                 "%s uses now." % self.app,
                            status=status, details=details, method=method, url=full)
        if status == 403:
            return ApiError("%s forbids %s %s (403)%s" % (self.app, method, url, said),
                            hint="The credentials are valid but lack the permission, or a CSRF/host check "
                                 "rejected the request.",
                            status=status, details=details, method=method, url=full)
        if status == 404:
            return ApiError("%s has no %s (404)%s" % (self.app, url, said),
                            hint="Check that `url` points at %s (including its URL base) and that this "
                                 "version of %s has this API." % (self.app, self.app),
                            status=status, details=details, method=method, url=full)
        if status in (502, 503, 504):
            return ApiError("%s at %s is unavailable: %s %s answered %d%s"
                            % (self.app, self.base_url, method, url, status, said),
                            hint="A proxy or ingress in front of %s answered for it: the app is down, starting "
                                 "or restarting. Check that it runs, then run again." % self.app,
                            status=status, details=details, method=method, url=full)
        if status >= 500:
            return ApiError("%s failed on %s %s with %d%s" % (self.app, method, url, status, said),
                            hint="This is an error inside %s; its logs say more." % self.app,
                            status=status, details=details, method=method, url=full)
        return ApiError("%s rejected %s %s (%d)%s" % (self.app, method, url, status, said),
                        status=status, details=details, method=method, url=full)
