"""tests/doubles/forward_auth.py: the Traefik stand-in over rendered Ingresses and forwardAuth Middlewares, in front of
the tinyauth double and a tiny backend (docs/research/sso.md section 3)."""

from __future__ import annotations

import json
import threading

import bcrypt
import httpx
import pytest

from tests.doubles import _net, serve
from tests.doubles._base import DoubleApp, Reply
from tests.doubles.forward_auth import IngressProxy, routes_from_objects
from tests.doubles.tinyauth import TinyauthDouble

PASSWORD = "s3cret"
BROWSER = "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15"
MIDDLEWARE = "media-arrkestra-sso@kubernetescrd"


class Echo(DoubleApp):
    """The app behind the ingress: answers with what it was sent."""
    name = "Echo"

    def __init__(self):
        super().__init__()
        for method in ("GET", "POST"):
            self.add_route(method, "/{rest}", self.echo, documented=False)
        self.add_route("GET", "/", self.echo, documented=False)

    def echo(self, request):
        return Reply(200, {"method": request.method, "path": request.path, "query": request.query_all,
                           "headers": dict((k.lower(), v) for k, v in request.headers.items()),
                           "body": request.body.decode()}, {"Set-Cookie": "app=1; Path=/"})


def ingress(name, host, service, port, middleware=None, namespace="media"):
    meta = {"name": name, "namespace": namespace}
    if middleware:
        meta["annotations"] = {"traefik.ingress.kubernetes.io/router.middlewares": middleware}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta,
            "spec": {"rules": [{"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                "service": {"name": service, "port": port}}}]}}]}}


def objects():
    return [
        {"apiVersion": "traefik.io/v1alpha1", "kind": "Middleware", "metadata": {"name": "arrkestra-sso", "namespace": "media"},
         "spec": {"forwardAuth": {"address": "http://tinyauth.media.svc.cluster.local:3000/api/auth/traefik",
                                  "authResponseHeaders": ["Remote-User", "Remote-Name", "Remote-Email", "Remote-Groups"]}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "radarr", "namespace": "media"},
         "spec": {"ports": [{"name": "http", "port": 7878}]}},
        ingress("radarr", "radarr.media.example.com", "radarr", {"name": "http"}, MIDDLEWARE),
        ingress("sso", "sso.media.example.com", "tinyauth", {"number": 3000}),
        ingress("open", "open.media.example.com", "echo", {"number": 80}),
        # Grafana's namespace naming the stack's Middleware: Traefik's Ingress provider does not check namespaces
        ingress("grafana", "grafana.media.example.com", "grafana", {"number": 3000}, MIDDLEWARE, namespace="monitoring"),
    ]


@pytest.fixture
def stack():
    digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    tinyauth = TinyauthDouble("http://sso.media.example.com", users={"admin": digest}).serve()
    backend = Echo().serve()
    _net.add("tinyauth.media.svc.cluster.local", 3000, tinyauth.port)
    ports = {"tinyauth": tinyauth.port}
    proxy = IngressProxy(routes_from_objects(objects(), lambda svc, ns, port: "127.0.0.1:%d" % ports.get(svc, backend.port)))
    front = proxy.serve()
    yield front, tinyauth, backend
    _net.remove("tinyauth.media.svc.cluster.local", 3000)
    stops = [threading.Thread(target=s.stop) for s in (front, tinyauth, backend)]
    for stop in stops:
        stop.start()
    for stop in stops:
        stop.join()


def get(front, host, path="/", **headers):
    return httpx.get(front.url + path, headers=dict({"Host": host, "User-Agent": BROWSER}, **headers))


def test_routes_from_the_rendered_objects():
    routes = routes_from_objects(objects(), lambda svc, ns, port: "%s.%s:%s" % (svc, ns, port))
    by_host = dict((r.host, r) for r in routes)
    assert by_host["radarr.media.example.com"].backend == "radarr.media:7878"      # the Service's named port
    assert [m.name for m in by_host["radarr.media.example.com"].middlewares] == ["media-arrkestra-sso"]
    assert by_host["grafana.media.example.com"].middlewares[0].address.endswith("/api/auth/traefik")
    assert by_host["open.media.example.com"].middlewares == []
    broken = objects()[1:]       # the Middleware missing
    with pytest.raises(ValueError, match="media-arrkestra-sso@kubernetescrd"):
        routes_from_objects(broken, lambda *a: "x:1")


def test_sign_in_through_the_ingress(stack):
    front, tinyauth, backend = stack
    refused = get(front, "radarr.media.example.com", "/movies?sort=title")
    assert refused.status_code == 307
    assert refused.headers["Location"] == ("http://sso.media.example.com/login?redirect_uri="
                                           "http%3A%2F%2Fradarr.media.example.com%2Fmovies%3Fsort%3Dtitle")
    assert backend.app.log == []
    script = get(front, "radarr.media.example.com", "/api/v3/movie", **{"User-Agent": "python-httpx"})
    assert script.status_code == 401 and "x-tinyauth-location" in script.headers
    # the login page is an Ingress of its own, without the middleware
    assert get(front, "sso.media.example.com", "/login").status_code == 200
    signed = httpx.post(front.url + "/api/user/login", headers={"Host": "sso.media.example.com"},
                        json={"username": "admin", "password": PASSWORD})
    assert signed.status_code == 200
    cookie = signed.headers["Set-Cookie"].split(";")[0]
    ok = get(front, "radarr.media.example.com", "/movies?sort=title", Cookie=cookie, **{"Remote-User": "forged"})
    assert ok.status_code == 200
    seen = ok.json()
    assert (seen["path"], seen["query"]) == ("/movies", {"sort": ["title"]})
    assert seen["headers"]["remote-user"] == "admin" and seen["headers"]["remote-email"] == "admin@media.example.com"
    assert seen["headers"]["host"] == "radarr.media.example.com"
    assert ok.headers["Set-Cookie"] == "app=1; Path=/"
    # tinyauth saw the X-Forwarded-* Traefik computes, and the browser's cookie
    assert front.app.auth_calls[-1] == ("media-arrkestra-sso", 200)
    post = httpx.post(front.url + "/x", headers={"Host": "grafana.media.example.com", "Cookie": cookie}, content=b"body")
    assert post.status_code == 200 and post.json()["body"] == "body" and post.json()["method"] == "POST"


def test_an_ingress_without_the_middleware_passes_directly(stack):
    front, tinyauth, backend = stack
    answer = get(front, "open.media.example.com", "/hello")
    assert answer.status_code == 200 and answer.json()["path"] == "/hello"
    assert "remote-user" not in answer.json()["headers"]
    assert front.app.auth_calls == []


def test_unknown_host_is_404(stack):
    front, dummy, dummy2 = stack
    answer = get(front, "sonarr.media.example.com")
    assert (answer.status_code, answer.text) == (404, "404 page not found\n")


def test_auth_server_down_is_500(stack):
    front, tinyauth, dummy = stack
    _net.add("tinyauth.media.svc.cluster.local", 3000, 1)      # nothing listens on port 1
    assert get(front, "radarr.media.example.com").status_code == 500


def test_serve_ingress_reads_the_objects_file(tmp_path, capsys):
    (tmp_path / "objects.json").write_text(json.dumps(objects()), encoding="utf-8")
    env = {"ARRKESTRA_INGRESS_OBJECTS": "/objects.json"}
    app, port, source = serve.make("ingress", env, str(tmp_path))
    assert port == 80 and "4 routes (2 behind forward-auth)" in source
    assert app.route("radarr.media.example.com", "/").backend == "radarr.media.svc.cluster.local:7878"
    assert serve.main(["ingress", "--check"], env={}, root=str(tmp_path)) == 1
    assert "ARRKESTRA_INGRESS_OBJECTS" in capsys.readouterr().err
