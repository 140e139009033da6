"""A stand-in of Traefik v3.5.1 as the cluster's ingress: Ingress routing plus forwardAuth Middlewares.

Built from the rendered Kubernetes objects (``routes_from_objects``): each ``networking.k8s.io/v1`` Ingress rule
(host, path prefix -> Service name and port) becomes a route, and the ``traefik.io/v1alpha1`` Middlewares its
``traefik.ingress.kubernetes.io/router.middlewares`` annotation names (``<namespace>-<name>@kubernetescrd``) are
applied on it - only ``forwardAuth`` ones (address, authResponseHeaders, trustForwardHeader,
addAuthCookiesToResponse). For each request, as Traefik does (docs/research/sso.md section 3, lines cited below):
the route is chosen by the Host header (no route: 404 ``404 page not found``); each forward-auth middleware asks
its address with a GET carrying the request's headers and the ``X-Forwarded-*`` Traefik computes; a 2xx answer
lets the request through to the backend with the ``authResponseHeaders`` copied onto it, anything else is sent
back to the client as the auth server answered it (status, headers, body).

    proxy = IngressProxy(routes_from_objects(objects, resolve))   # resolve(service, namespace, port) -> "host:port"
    with proxy.serve() as server: ...                              # a thread, like the doubles' serve()

As a pod: ``serve.py ingress`` (tests/doubles/serve.py) with the objects in ``$ARRKESTRA_INGRESS_OBJECTS``.

Limits: no TLS (``X-Forwarded-Proto`` is ``http`` unless ``IngressProxy(scheme="https")`` says the entry point
terminated TLS), the client address sent as ``X-Forwarded-For`` is ``client_ip`` (the double's server does not
pass the peer address on), path matching is by prefix (longest first), and the raw query string is rebuilt from
the parsed one.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from urllib.parse import urlencode, urljoin, urlsplit

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, Reply  # noqa: E402 pylint: disable=wrong-import-position

ANNOTATION = "traefik.ingress.kubernetes.io/router.middlewares"
#: pkg/middlewares/auth/forward.go:35-45: hop-by-hop headers, never copied to the auth request nor back.
HOP_HEADERS = ("connection", "keep-alive", "te", "trailers", "transfer-encoding", "upgrade")
#: What Go's HTTP client sets itself, whatever the header map says (the request's Host and body length).
_FRAMING = ("host", "content-length")
TIMEOUT = 30.0          # forward.go:94-99
#: What the stand-in's own HTTP server writes on every answer (so not copied from upstream answers, to avoid doubles).
_OWN = ("content-length", "server", "date")


class ForwardAuth:
    """A Middleware's ``spec.forwardAuth`` (pkg/provider/kubernetes/crd/kubernetes.go:944-964)."""

    def __init__(self, name, address, auth_response_headers=(), trust_forward_header=False,
                 add_auth_cookies_to_response=(), auth_request_headers=()):
        if not address:
            raise ValueError("forward authentication requires an address (Middleware %s)" % name)   # kubernetes.go:948-950
        self.name = name
        self.address = address
        self.auth_response_headers = list(auth_response_headers or ())
        self.trust_forward_header = bool(trust_forward_header)
        self.add_auth_cookies_to_response = list(add_auth_cookies_to_response or ())
        self.auth_request_headers = list(auth_request_headers or ())


class Route:
    """Requests for ``host`` (None: any host) under ``prefix`` go to ``backend`` ("host:port") through ``middlewares``."""

    def __init__(self, host, backend, middlewares=(), prefix="/", name=""):
        self.host = host.lower() if host else None
        self.backend = backend
        self.middlewares = list(middlewares)
        self.prefix = prefix or "/"
        self.name = name

    def matches(self, host, path):
        if self.host is not None:
            if self.host.startswith("*."):
                if not host.endswith(self.host[1:]) or host.count(".") != self.host.count("."):
                    return False
            elif host != self.host:
                return False
        return path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/") or self.prefix == "/"


def _namespace(obj):
    return (obj.get("metadata") or {}).get("namespace") or "default"


def routes_from_objects(objects, resolve):
    """The routes of the Ingresses among ``objects`` (dicts of rendered Kubernetes objects).

    A Middleware is known by ``<namespace>-<name>`` (crd/kubernetes.go:228-229, 1389-1395) and an Ingress names it
    with ``@kubernetescrd`` in its annotation, copied onto every router of the Ingress
    (ingress/annotations.go:91-113; ingress/kubernetes.go:670-682) - from any namespace: the Ingress provider does not
    check it (allowCrossNamespace only governs IngressRoutes, crd/kubernetes_http.go:147-192). A named Service port is
    looked up in the Services among ``objects``. ``resolve(service, namespace, port)`` gives the backend "host:port".
    A reference to a middleware that is not there, or not a forwardAuth, is a ValueError (Traefik would leave the
    router out: its requests would get the 404).
    """
    objects = [o for o in objects if isinstance(o, dict)]
    middlewares, services = {}, {}
    for obj in objects:
        kind, api = obj.get("kind"), str(obj.get("apiVersion", ""))
        if kind == "Middleware" and api.split("/", maxsplit=1)[0] in ("traefik.io", "traefik.containo.us"):
            key = "%s-%s" % (_namespace(obj), obj["metadata"]["name"])
            spec = (obj.get("spec") or {}).get("forwardAuth")
            middlewares[key] = None if spec is None else ForwardAuth(
                key, spec.get("address"), spec.get("authResponseHeaders"), spec.get("trustForwardHeader"),
                spec.get("addAuthCookiesToResponse"), spec.get("authRequestHeaders"))
        elif kind == "Service" and api == "v1":
            services[(_namespace(obj), obj["metadata"]["name"])] = obj
    routes = []
    for obj in objects:
        if obj.get("kind") != "Ingress" or obj.get("apiVersion") != "networking.k8s.io/v1":
            continue
        namespace, name = _namespace(obj), obj["metadata"]["name"]
        chain = []
        for ref in [r.strip() for r in ((obj["metadata"].get("annotations") or {}).get(ANNOTATION) or "").split(",")
                    if r.strip()]:
            key, dummy, provider = ref.partition("@")
            if provider != "kubernetescrd" or key not in middlewares:
                raise ValueError("Ingress %s/%s names the middleware %r, which is not a Middleware among the objects "
                                 "(<namespace>-<name>@kubernetescrd)" % (namespace, name, ref))
            if middlewares[key] is None:
                raise ValueError("Middleware %s is not a forwardAuth: the stand-in only applies forwardAuth" % key)
            chain.append(middlewares[key])
        spec = obj.get("spec") or {}

        def backend(ref, namespace=namespace):
            service = ref["service"]
            port = service.get("port") or {}
            number = port.get("number")
            if number is None and port.get("name"):
                svc = services.get((namespace, service["name"]))
                for sport in ((svc or {}).get("spec") or {}).get("ports") or ():
                    if sport.get("name") == port["name"]:
                        number = sport.get("port")
                if number is None:
                    number = port["name"]
            return resolve(service["name"], namespace, number)

        for rule in spec.get("rules") or ():
            for path in ((rule.get("http") or {}).get("paths")) or ():
                routes.append(Route(rule.get("host"), backend(path["backend"]), chain, path.get("path") or "/",
                                    "%s/%s" % (namespace, name)))
        if spec.get("defaultBackend"):      # ingress/kubernetes.go:290-300: the default backend gets the middlewares
            routes.append(Route(None, backend(spec["defaultBackend"]), chain, "/", "%s/%s default" % (namespace, name)))
    return routes


class _Headers(dict):
    """Reply headers that keep repeated names (Set-Cookie): ``items()`` gives every pair."""

    def __init__(self, pairs=()):
        super().__init__()
        self.pairs = list(pairs)

    def items(self):
        return list(self.pairs)

    def add(self, key, value):
        self.pairs.append((key, value))

    def set(self, key, value):
        self.pairs = [(k, v) for k, v in self.pairs if k.lower() != key.lower()] + [(key, value)]


def _call(method, url, headers, body=None):
    """(status, [(name, value)], body) of one HTTP request, redirects not followed (forward.go:94-99)."""
    from tests.doubles import _net     # in-cluster names of the doubles standing in for pods

    url, dummy = _net.resolve(url)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=TIMEOUT)
    try:
        conn.putrequest(method, (parts.path or "/") + ("?" + parts.query if parts.query else ""),
                        skip_host=True, skip_accept_encoding=True)
        for key, value in headers:
            conn.putheader(key, value)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


class IngressProxy(DoubleApp):
    """Traefik's web entry point over ``routes`` (see :func:`routes_from_objects`)."""

    name = "Traefik"
    version = None

    def __init__(self, routes, scheme="http", client_ip="127.0.0.1"):
        super().__init__()
        self.routes_in = list(routes)
        self.scheme = scheme
        self.client_ip = client_ip
        self.auth_calls = []      # (middleware name, status) of each forward-auth call

    def route(self, host, path):
        host = (host or "").rsplit(":", 1)[0].lower() if not (host or "").startswith("[") else host.lower()
        candidates = [r for r in self.routes_in if r.matches(host, path)]
        # exact hosts before wildcards before host-less rules, longer prefixes first
        candidates.sort(key=lambda r: (r.host is None, bool(r.host and r.host.startswith("*.")), -len(r.prefix)))
        return candidates[0] if candidates else None

    def handle(self, request):
        self.log.append((request.method, request.path))
        route = self.route(request.headers.get("Host"), request.path)
        if route is None:   # pkg/server/router/router.go:116, 130: no router matched -> http.NotFoundHandler
            return Reply(404, "404 page not found\n", content_type="text/plain; charset=utf-8")
        query = urlencode([(k, v) for k, values in request.query_all.items() for v in values])
        uri = request.path + ("?" + query if query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_HEADERS]
        auth_cookies = []
        for middleware in route.middlewares:
            status, auth_headers, body = self._ask(middleware, request, headers, uri)
            self.auth_calls.append((middleware.name, status))
            if not 200 <= status < 300:
                return self._refusal(middleware, status, auth_headers, body)
            # forward.go:264-270: each authResponseHeaders name is removed from the request, then copied from the answer
            for name in middleware.auth_response_headers:
                headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
                headers += [(name, v) for k, v in auth_headers if k.lower() == name.lower()]
            # forward.go:290-296, 311-330: cookies the auth server set that are named in addAuthCookiesToResponse
            auth_cookies += [v for k, v in auth_headers if k.lower() == "set-cookie"
                             and v.split("=", 1)[0].strip() in middleware.add_auth_cookies_to_response]
        return self._forward(route, request, headers, uri, auth_cookies)

    def _ask(self, middleware, request, headers, uri):
        """The auth request (forward.go:138-194, 353-413): a GET to the address with the request's headers (only
        ``authRequestHeaders`` when set, 415-429) and the X-Forwarded-* headers."""
        sent = [(k, v) for k, v in headers if k.lower() not in _FRAMING]
        if middleware.auth_request_headers:
            wanted = set(h.lower() for h in middleware.auth_request_headers)
            sent = [(k, v) for k, v in sent if k.lower() in wanted]
        trust = middleware.trust_forward_header

        def incoming(name):
            return request.headers.get(name) if trust else None

        prior = request.headers.get_all("X-Forwarded-For") if trust else None
        forwarded = {
            "X-Forwarded-For": ", ".join(list(prior or ()) + [self.client_ip]),                     # :361-368
            "X-Forwarded-Method": incoming("X-Forwarded-Method") or request.method,                  # :370-378
            "X-Forwarded-Proto": incoming("X-Forwarded-Proto") or self.scheme,                       # :380-388
            "X-Forwarded-Host": incoming("X-Forwarded-Host") or request.headers.get("Host") or "",  # :394-402
            "X-Forwarded-Uri": incoming("X-Forwarded-Uri") or uri,                                   # :404-412
        }
        if trust and request.headers.get("X-Forwarded-Port"):                                         # :390-392
            forwarded["X-Forwarded-Port"] = request.headers["X-Forwarded-Port"]
        sent = [(k, v) for k, v in sent if k.lower() not in set(f.lower() for f in forwarded)] + list(forwarded.items())
        address = urlsplit(middleware.address)
        sent.append(("Host", address.netloc))
        try:
            return _call("GET", middleware.address, sent)
        except OSError:
            return 500, [], b""   # forward.go:194-206: the auth server cannot be reached -> 500

    def _refusal(self, middleware, status, auth_headers, body):
        """forward.go:233-262: the auth server's status, headers (minus hop-by-hop) and body; a Location made absolute
        against the auth address (301-302: http.Response.Location)."""
        def location(key, value):
            return ("Location", urljoin(middleware.address, value)) if key.lower() == "location" else (key, value)
        return _passed(status, body, auth_headers, location)

    def _forward(self, route, request, headers, uri, auth_cookies):
        """To the backend, Host kept (Traefik's passHostHeader default), the body passed on."""
        sent = [(k, v) for k, v in headers if k.lower() not in ("content-length",)]
        if not any(k.lower() == "host" for k, dummy in sent):
            sent.append(("Host", request.headers.get("Host") or route.backend))
        base = route.backend if "://" in route.backend else "http://" + route.backend
        try:
            status, back_headers, body = _call(request.method, base.rstrip("/") + uri, sent, request.body or None)
        except OSError:
            return Reply(502, "Bad Gateway", content_type="text/plain; charset=utf-8")
        names = [c.split("=", 1)[0].strip() for c in auth_cookies]

        def cookie(key, value):
            if key.lower() == "set-cookie" and value.split("=", 1)[0].strip() in names:
                return None     # forward.go:316-320: the auth server's cookie of that name wins
            return key, value
        return _passed(status, body, back_headers, cookie, [("Set-Cookie", c) for c in auth_cookies])


def _passed(status, body, pairs, change, more=()):
    """A reply of ``pairs`` (an answer's headers) less the hop-by-hop ones and those the server sets itself, each
    through ``change(key, value)`` (a pair, or None to drop it), then ``more``."""
    headers = _Headers()
    content_type = None
    for key, value in pairs:
        low = key.lower()
        if low in HOP_HEADERS or low in _OWN:
            continue
        if low == "content-type":
            content_type = value
            continue
        kept = change(key, value)
        if kept:
            headers.add(*kept)
    for key, value in more:
        headers.add(key, value)
    return _reply(status, body, headers, content_type)


def _reply(status, body, headers, content_type):
    reply = Reply(status, body if body or content_type else None, content_type=content_type)
    reply.headers = headers     # Reply copies its headers into a dict: repeated Set-Cookie headers would be lost
    return reply


def load_objects(path):
    """The objects of a JSON or YAML file: a list, a ``kind: List`` (``items``), or YAML documents."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        data = json.loads(text)
        documents = data if isinstance(data, list) else [data]
    except ValueError:
        import yaml

        documents = list(yaml.safe_load_all(text))
    objects = []
    for doc in documents:
        if isinstance(doc, list):
            objects += doc
        elif isinstance(doc, dict) and isinstance(doc.get("items"), list) and doc.get("kind", "").endswith("List"):
            objects += doc["items"]
        elif isinstance(doc, dict):
            objects.append(doc)
    return objects


def cluster_resolve(service, namespace, port):
    """A Service's in-cluster address (what the ingress controller reaches, via its endpoints)."""
    return "%s.%s.svc.cluster.local:%s" % (service, namespace, port)
