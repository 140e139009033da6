"""The sign-on bites: through the ingress, a request to an arr app's UI without a session is answered by the sign-on
service and never reaches the app; signed in, it passes; and the apps still reach each other at their Services -
on the real node, where kube-router enforces the stack's NetworkPolicies.

The example inventory (``arrkestra_sso`` on, tinyauth) is rendered as its apps and platform phases render it for
GitOps, into a namespace of the test. Applied as rendered: the NetworkPolicies, the Services, the Deployments of
Radarr, Prowlarr and tinyauth (their first container, the image a private registry would hold - the doubles,
started as each image starts its app - and an emptyDir for the config claim), and the Secrets with the credentials
the apps phase makes (credentials.complete_credentials: the users file with the generated user's bcrypt hash).
Traefik is stood in by tests/doubles/forward_auth.py in kube-system with Traefik's labels, configured from the
rendered Ingresses and the rendered ``forwardAuth`` Middleware alone: it routes by host and asks the address of the
middleware as Traefik does (docs/upstream-facts.md, "Single sign-on").

What is proven: the Middleware and the annotations the phases render make an arr UI unreachable through the
ingress without a session (the sign-on's answer, and no request at the app); the sign-in at the sign-on's hostname
with the generated user's password from the Secret; the same request then passing, with the user's header; Radarr
serving its UI with no login of its own (``External``); Prowlarr reaching Radarr's API at its Service with the key,
no middleware on the way; and a pod that is neither Traefik nor a caller refused by the NetworkPolicy.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
from urllib.parse import quote

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import credentials, model as stack_model, sso
from tests.controlplane import cluster, images, node
from tests.controlplane.fixture import controlplane, real_node  # noqa: F401 pylint: disable=unused-import
from tests.doubles.serve import REQUEST
from tests.integration.controlplane.test_network_policies import Lab, _enforced
from tests.integration.controlplane.test_node import _wait
from tests.integration.render.test_platform_render import render as render_platform
from tests.integration.render.test_render import render as render_apps
from tests.lab.playbook import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.controlplane, pytest.mark.slow]

SOURCE = os.path.join(ROOT, "inventories", "example")
APPS = ("radarr", "prowlarr", "tinyauth")
INGRESS_PORT = 8000
#: A browser's User-Agent: tinyauth redirects browsers to its sign-in page, other clients get 401.
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
#: A path no probe asks: its lines in Radarr's request log are the test's requests only.
MARK = "/sso-check"


def _load(out):
    objects = {}
    for entry in sorted(os.listdir(out)):
        if entry.endswith(".yaml") and entry != "kustomization.yaml":
            with open(os.path.join(out, entry), encoding="utf-8") as handle:
                doc = yaml.safe_load(handle)
            objects.setdefault(doc["kind"], []).append(doc)
    return objects


def _render(tmp_path, ns):
    """{kind: [object]} of the example's apps and platform phases (render mode), in namespace ``ns``."""
    extra = json.dumps({"arrkestra_namespace": ns})
    out = {}
    for name, render in (("apps", render_apps), ("platform", render_platform)):
        proc = render(SOURCE, str(tmp_path / name), "-e", extra)
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        for kind, docs in _load(tmp_path / name).items():
            out.setdefault(kind, []).extend(docs)
    return out


def _pod(deployment, image, args=None):
    """The rendered Deployment's pod, as a Pod on the real node: its first container (the app) with ``image``,
    the config claim as an emptyDir (the claim's volume is not what is tested here)."""
    template = deployment["spec"]["template"]
    spec = dict(template["spec"], **node.placement())
    container = dict(spec["containers"][0], image=image, imagePullPolicy="IfNotPresent")
    if args:
        container["args"] = list(args)
    spec.update(containers=[container], terminationGracePeriodSeconds=0)
    spec.pop("initContainers", None)
    spec["volumes"] = [dict(name=v["name"], emptyDir={}) if "persistentVolumeClaim" in v else v
                       for v in spec.get("volumes", ())]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": deployment["metadata"]["name"],
                                                            "labels": dict(template["metadata"]["labels"])},
            "spec": spec}


def _ingress_pod(name):
    """Traefik's stand-in, with Traefik's labels in kube-system, reading the rendered objects from a ConfigMap."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "traefik"}},
            "spec": dict(node.placement(), terminationGracePeriodSeconds=0, containers=[{
                "name": "traefik", "image": images.reference("doubles"), "args": ["ingress", "--port", str(INGRESS_PORT)],
                "env": [{"name": "ARRKESTRA_INGRESS_OBJECTS", "value": "/objects/objects.json"}],
                "volumeMounts": [{"name": "objects", "mountPath": "/objects"}]}],
                volumes=[{"name": "objects", "configMap": {"name": name}}])}


def _logs(core, pods):
    out = []
    for ns, name in pods:
        try:
            out.append("--- %s/%s\n%s" % (ns, name, core.read_namespaced_pod_log(name, ns)[-3000:]))
        except Exception as exc:  # pylint: disable=broad-except
            out.append("--- %s/%s: %s" % (ns, name, exc))
    return "\n".join(out)


def _secret(name, data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "data": dict((k, base64.b64encode(v.encode()).decode()) for k, v in data.items())}


def _http(ip, method, host, path, headers=None, body=None):
    """One request to the ingress stand-in: (status, headers, body)."""
    conn = http.client.HTTPConnection(ip, INGRESS_PORT, timeout=10)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}, Host=host))
        reply = conn.getresponse()
        return reply.status, dict((k.lower(), v) for k, v in reply.getheaders()), reply.read().decode(errors="replace")
    finally:
        conn.close()


def test_the_sign_on_refuses_a_stranger_at_the_ingress_and_lets_the_apps_call_each_other(
        tmp_path, controlplane, real_node):  # noqa: F811
    # pylint: disable=redefined-outer-name,unused-argument,too-many-locals,too-many-statements
    from kubernetes.stream import stream

    api, client = cluster.client(controlplane)
    core, networking = client.CoreV1Api(api), client.NetworkingV1Api(api)
    ns = "sso-%s" % os.urandom(3).hex()
    rendered = _render(tmp_path, ns)
    deployments = dict((d["metadata"]["name"], d) for d in rendered["Deployment"])
    ingresses = [i for i in rendered["Ingress"] if i["metadata"]["namespace"] == ns]
    middlewares = [m for m in rendered["Middleware"] if m["metadata"]["namespace"] == ns]
    services = [v for v in rendered["Service"] if v["metadata"]["namespace"] == ns]    # the Ingresses' named ports
    domain = yaml.safe_load(open(os.path.join(SOURCE, "group_vars", "all", "main.yml"), encoding="utf-8"))[
        "arrkestra_domain"]
    radarr_host, auth_host = "radarr.%s" % domain, "auth.%s" % domain
    assert [m["metadata"]["name"] for m in middlewares] == [sso.MIDDLEWARE]
    behind = dict((i["spec"]["rules"][0]["host"], (i["metadata"].get("annotations") or {}).get(sso.ANNOTATION))
                  for i in ingresses)
    assert behind[radarr_host] == "%s-%s@kubernetescrd" % (ns, sso.MIDDLEWARE) and not behind[auth_host]

    # The credentials the apps phase makes for these apps (the same functions, the same inputs).
    stack = stack_model.build({"namespace": ns, "domain": domain, "sso": {"enabled": True},
                               "apps": dict((name, {}) for name in APPS if name != "tinyauth")})
    made = credentials.complete_credentials(stack, {}, os.urandom)
    created = [n for n in (ns,) if cluster.create(core.create_namespace, {"metadata": {"name": n}})]
    lab = Lab(core, stream)
    objects_map = "%s-ingress" % ns
    try:
        for name in APPS:
            core.create_namespaced_secret(ns, _secret("%s-credentials" % name, made[name]))
        for policy in rendered["NetworkPolicy"]:
            if policy["metadata"]["namespace"] == ns:
                networking.create_namespaced_network_policy(ns, policy)
        for service in services:
            if service["metadata"]["name"] in APPS:
                core.create_namespaced_service(ns, service)
        # Traefik's stand-in, configured from what the phases rendered and nothing else.
        core.create_namespaced_config_map("kube-system", {"metadata": {"name": objects_map}, "data": {
            "objects.json": json.dumps(ingresses + middlewares + services)}})
        with node.only(controlplane):
            core.create_namespaced_pod(ns, _pod(deployments["radarr"], images.double("radarr")))
            core.create_namespaced_pod(ns, _pod(deployments["prowlarr"], images.double("prowlarr")))
            core.create_namespaced_pod(ns, _pod(deployments["tinyauth"], images.reference("doubles"), ["tinyauth"]))
            lab.made += [(ns, name) for name in APPS]
            core.create_namespaced_pod("kube-system", _ingress_pod(objects_map))
            lab.made.append(("kube-system", objects_map))
            lab.caller(ns, "%s-stranger" % ns, {})
            ip = _wait("every pod of the lab running", lab.ips, 180)
            _wait("kube-router's rules for every pod", lambda: _enforced(ip.values()), 60)
            ingress_ip = ip[("kube-system", objects_map)]

            # 1. No session: the sign-on answers for Radarr, and Radarr sees nothing.
            def first():
                answer = _http(ingress_ip, "GET", radarr_host, MARK)
                return answer if answer[0] != 500 else None     # 500: the sign-on not answering yet (Traefik's)

            try:
                status, headers, dummy = _wait("the ingress and the sign-on answering", first, 60)
            except AssertionError:
                raise AssertionError(_logs(core, [(ns, "tinyauth"), ("kube-system", objects_map)]))
            assert status == 401 and headers["x-tinyauth-location"].startswith("https://%s/login?" % auth_host), (
                status, headers)
            # A browser is sent to the sign-in page, its way back the page it asked for (over http: the stand-in
            # has no TLS, so Traefik's X-Forwarded-Proto would be http).
            status, headers, dummy = _http(ingress_ip, "GET", radarr_host, MARK, {"User-Agent": BROWSER})
            assert status == 307 and headers["location"] == "https://%s/login?redirect_uri=%s" % (
                auth_host, quote("http://%s%s" % (radarr_host, MARK), safe="")), headers
            # 2. Sign in at the sign-on's hostname as the generated user, password from its Secret.
            password = made["tinyauth"]["password"]
            status, headers, body = _http(ingress_ip, "POST", auth_host, "/api/user/login",
                                          {"Content-Type": "application/json"},
                                          json.dumps({"username": sso.GENERATED_USER, "password": password}))
            assert status == 200, (status, body)
            cookie = "; ".join(part.split(";", 1)[0] for part in headers["set-cookie"].split(", ") if "=" in part)
            # 3. With the session: through to Radarr, which asks for no login of its own (External).
            status, headers, body = _http(ingress_ip, "GET", radarr_host, MARK + "-signed-in", {"Cookie": cookie})
            assert status != 302 and status != 401, (status, headers, body)
            status, dummy, body = _http(ingress_ip, "GET", radarr_host, "/api/v3/system/status",
                                        {"Cookie": cookie, "X-Api-Key": made["radarr"]["api_key"]})
            assert status == 200 and json.loads(body)["authentication"] == "external", body
            log = core.read_namespaced_pod_log("radarr", ns).splitlines()
            reached = [l for l in log if l.startswith(REQUEST + " ") and MARK in l]
            assert len(reached) == 1 and "-signed-in" in reached[0], reached

            # 4. The apps call each other at their Services, past no middleware: Prowlarr reaches Radarr's API.
            url = "http://radarr.%s.svc.cluster.local:7878/api/v3/system/status" % ns
            out = stream(core.connect_get_namespaced_pod_exec, "prowlarr", ns, command=[
                "/usr/bin/python3", "-c", "import sys, urllib.request; r = urllib.request.urlopen(urllib.request.Request("
                "sys.argv[1], headers={'X-Api-Key': sys.argv[2]}), timeout=10); print(r.status)",
                url, made["radarr"]["api_key"]], stderr=True, stdin=False, stdout=True, tty=False)
            assert out.strip().splitlines()[-1] == "200", out
            # 5. A pod that is neither Traefik nor a caller cannot walk past the sign-on to the app.
            found = lab.probe(ns, "%s-stranger" % ns, [["tcp", ip[(ns, "radarr")], 7878, "radarr"],
                                                       ["tcp", ip[(ns, "tinyauth")], 3000, "tinyauth"]])
            assert found == {"radarr": "closed", "tinyauth": "closed"}, found
    finally:
        lab.delete()
        try:
            core.delete_namespaced_config_map(objects_map, "kube-system")
        except Exception:  # pylint: disable=broad-except
            pass
        for name in created:
            core.delete_namespace(name)
