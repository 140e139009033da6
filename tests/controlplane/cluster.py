"""A real Kubernetes control plane on loopback, for the tests and by hand.

etcd (Debian's ``etcd-server``), ``kube-apiserver``, ``kube-controller-manager``
and ``kube-scheduler`` built from Kubernetes' own Go modules (``go.mod`` beside
this file pins the version), and ``kwok`` simulating one node, so that
Deployments become Ready without a kubelet. Certificates are made for each run;
everything listens on 127.0.0.1 only.

The pods never run, but a test can put something in a pod's place: kube-apiserver
sends its ``cluster`` traffic (the service and pod proxy) through the HTTP CONNECT
proxy of ``egress.py`` beside this file, and :func:`route` connects a pod's
``<podIP>:<port>`` to a test double or a real client on 127.0.0.1 (everything not
routed is refused, as an unreachable pod is). Builds are cached under
``~/.cache/arrkestra/controlplane/<version>/bin``.

    python -m tests.controlplane.cluster build | start | stop | status | env

(``scripts/controlplane.sh`` does the same.) ``start`` prints the path of an
admin kubeconfig (context ``arrkestra``); the tests get the same through the
``controlplane`` fixture (tests/controlplane/fixture.py).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KWOK_VERSION = "v0.7.0"
#: the real node's volumes, as k3s provisions them (tests/controlplane/node.py)
LOCAL_PATH_VERSION = "v0.0.30"
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
#: What a real node runs (tests/controlplane/node.py), built from the same module, only when asked for.
NODE_COMPONENTS = ("kubelet", "kube-proxy")
SERVICE_CIDR = "10.96.0.0/16"     # the Services' ClusterIPs
CONTEXT = "arrkestra"
NODE = "kwok-node-0"
PROCESSES = ("etcd", "egress", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def version():
    with open(os.path.join(HERE, "go.mod"), encoding="utf-8") as handle:
        return re.search(r"^require k8s.io/kubernetes (v\S+)", handle.read(), re.M).group(1)


def cache_dir():
    base = os.environ.get("ARRKESTRA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "arrkestra")
    return os.path.join(base, "controlplane", version())


def bin_dir():
    return os.path.join(cache_dir(), "bin")


def run_dir():
    return os.environ.get("ARRKESTRA_CONTROLPLANE_DIR") or os.path.join(cache_dir(), "run")


#: The API server logs every request it proxies to a pod or Service (who sent what to which app), nothing else.
AUDIT_POLICY = {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "omitStages": ["RequestReceived"],
                "rules": [{"level": "Metadata", "resources": [{"group": "", "resources": ["services/proxy",
                                                                                          "pods/proxy"]}]},
                          {"level": "None"}]}
#: The HTTP methods of the audit log's verbs (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go)
VERB_METHODS = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
                "delete": "DELETE", "deletecollection": "DELETE"}


def proxied(state, since=0):
    """``([(method, request URI)], offset)``: the requests the API server proxied to pods or Services after
    byte ``since`` of its audit log (pass the offset back to read only what came later)."""
    path = state.get("audit_log")
    if not path or not os.path.exists(path):
        return [], since
    with open(path, "rb") as handle:
        handle.seek(since)
        data = handle.read()
    complete = data[:data.rfind(b"\n") + 1]
    found = []
    for line in complete.decode("utf-8").splitlines():
        event = json.loads(line)
        if event.get("stage") == "ResponseComplete":
            found.append((VERB_METHODS.get(event["verb"], event["verb"].upper()), event["requestURI"]))
    return found, since + len(complete)


def log(message):
    sys.stderr.write("[controlplane] %s\n" % message)
    sys.stderr.flush()


# -- build -----------------------------------------------------------------------------------
def build(node=False):
    """Build what is missing (with ``node``, the real node's too: kubelet, kube-proxy, OWN_MODULES); return
    the bin directory."""
    target = bin_dir()
    os.makedirs(target, exist_ok=True)
    env = dict(os.environ, GOFLAGS="-mod=mod", CGO_ENABLED="0")
    for name in COMPONENTS + (NODE_COMPONENTS if node else ()):
        path = os.path.join(target, name)
        if not _says(path, "--version", version(), word=True):
            log("building %s %s (first time: several minutes)" % (name, version()))
            subprocess.run(["nice", "-n", "5", "go", "build", "-trimpath", "-ldflags", _ldflags(), "-o", path + ".tmp",
                            "k8s.io/kubernetes/cmd/" + name], cwd=HERE, env=env, check=True)
            os.rename(path + ".tmp", path)
    if node:
        for name in OWN_MODULES:
            _build_own_module(target, env, name)
    _go_install(target, env, "kwok", "sigs.k8s.io/kwok/cmd/kwok", KWOK_VERSION)
    if node:
        _go_install(target, env, "local-path-provisioner", "github.com/rancher/local-path-provisioner",
                    LOCAL_PATH_VERSION, "main.VERSION")
    return target


def _go_install(target, env, name, package, version_, stamp=None):
    """``go install <package>@<version_>`` into ``target`` (a module built as released, no replace lines),
    the version stamped into the variable ``stamp`` and checked with ``<name> --version``, if given."""
    path = os.path.join(target, name)
    if os.path.exists(path) and (not stamp or _says(path, "--version", version_, word=True)):
        return
    log("building %s %s" % (name, version_))
    ldflags = "-s -w" + (" -X %s=%s" % (stamp, version_) if stamp else "")
    subprocess.run(["nice", "-n", "5", "go", "install", "-trimpath", "-ldflags", ldflags, "%s@%s" % (package, version_)],
                   env=dict(env, GOBIN=target, GOFLAGS=""), check=True)


#: The real node's pieces from other projects, each built in a Go module of its own beside this one
#: (tests/controlplane/<name>: their requirements would move the control plane's module versions):
#: name -> (the module it builds, what ``<binary> -version`` prints before the version).
OWN_MODULES = {"coredns": ("github.com/coredns/coredns", "CoreDNS-"),           # the cluster's DNS
               "kube-router": ("github.com/cloudnativelabs/kube-router/v2", "kube-router-netpol v")}  # policies


def own_module_version(name):
    """The version of ``OWN_MODULES[name]`` that tests/controlplane/<name>/go.mod pins."""
    module = OWN_MODULES[name][0]
    with open(os.path.join(HERE, name, "go.mod"), encoding="utf-8") as handle:
        return re.search(r"^\s*(?:require )?%s (v\S+)" % re.escape(module), handle.read(), re.M).group(1)


def _build_own_module(target, env, name):
    path = os.path.join(target, name)
    module, marker = OWN_MODULES[name]
    pinned = own_module_version(name)
    if _says(path, "-version", marker + pinned.lstrip("v")):
        return
    log("building %s from %s %s (first time: a few minutes)" % (name, module, pinned))
    subprocess.run(["nice", "-n", "5", "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", path + ".tmp", "."],
                   cwd=os.path.join(HERE, name), env=env, check=True)
    os.rename(path + ".tmp", path)


def _ldflags():
    """Stamp the version as Kubernetes' own build does (hack/lib/version.sh), so that /version
    answers v1.34.4 and not v0.0.0-master: the nodes phase checks a cluster's version."""
    major, minor = version().lstrip("v").split(".")[:2]
    stamps = {"gitVersion": version(), "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return " ".join(["-s", "-w"] + ["-X k8s.io/%s.%s=%s" % (package, key, value)
                                    for package in ("component-base/version", "client-go/pkg/version")
                                    for key, value in stamps.items()])


def _says(path, flag, text, word=False):
    """The binary at ``path`` is there and ``<path> <flag>`` prints ``text`` (as a whole word, with ``word``):
    the version a build stamped (older caches hold unstamped or older builds)."""
    if not os.path.exists(path):
        return False
    out = subprocess.run([path, flag], capture_output=True, text=True, check=False).stdout
    return text in (out.split() if word else out)


# -- certificates ------------------------------------------------------------------------------
def _pki(directory, api_host="127.0.0.1"):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def key():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def write(name, data, mode=0o600):
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(data)
        os.chmod(path, mode)
        return path

    def pem_key(k):
        return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                               serialization.NoEncryption())

    def cert(subject, signer, signer_key, public, ca=False, sans=None, client=False, org=None):
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, subject)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        name = x509.Name(attrs)
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(signer or name).public_key(public)
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(days=30))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                            critical=True)
        else:
            usage = x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH if client else x509.oid.ExtendedKeyUsageOID.SERVER_AUTH
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(signer_key, hashes.SHA256())

    ca_key = key()
    ca = cert("arrkestra-test-ca", None, ca_key, ca_key.public_key(), ca=True)
    files = {"ca_crt": write("ca.crt", ca.public_bytes(serialization.Encoding.PEM), 0o644),
             "ca_key": write("ca.key", pem_key(ca_key))}
    server_key = key()
    names = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
             "kubernetes.default.svc.cluster.local")
    sans = [x509.DNSName(n) for n in names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in sorted({"127.0.0.1", api_host, "10.96.0.1"})]
    server = cert("kube-apiserver", ca.subject, ca_key, server_key.public_key(), sans=sans)
    files["server_crt"] = write("apiserver.crt", server.public_bytes(serialization.Encoding.PEM), 0o644)
    files["server_key"] = write("apiserver.key", pem_key(server_key))
    admin_key = key()
    admin = cert("arrkestra-admin", ca.subject, ca_key, admin_key.public_key(), client=True, org="system:masters")
    files["admin_crt"] = write("admin.crt", admin.public_bytes(serialization.Encoding.PEM), 0o644)
    files["admin_key"] = write("admin.key", pem_key(admin_key))
    sa_key = key()
    files["sa_key"] = write("sa.key", pem_key(sa_key))
    files["sa_pub"] = write("sa.pub", sa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return files


def _kubeconfig(path, host, port, files):
    import base64

    def b64(name):
        with open(files[name], "rb") as handle:
            return base64.b64encode(handle.read()).decode()

    cluster = {"server": "https://%s:%d" % (host, port), "certificate-authority-data": b64("ca_crt")}
    user = {"client-certificate-data": b64("admin_crt"), "client-key-data": b64("admin_key")}
    config = {"apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
              "clusters": [{"name": CONTEXT, "cluster": cluster}],
              "users": [{"name": "arrkestra-admin", "user": user}],
              "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "arrkestra-admin"}}]}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)
    os.chmod(path, 0o600)
    return path


# -- processes ----------------------------------------------------------------------------------
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn(state, name, argv):
    """Start ``argv`` in a session of its own, its output in ``<state["dir"]>/<name>.log``; its pid in state."""
    logfile = open(os.path.join(state["dir"], name + ".log"), "ab")  # pylint: disable=consider-using-with
    # Debian's etcd (3.4) has no watch progress requests: clients must not ask for watch lists.
    env = dict(os.environ, KUBE_FEATURE_WatchListClient="false")
    proc = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    state["pids"][name] = proc.pid
    state.setdefault("argv", {})[name] = list(argv)
    return proc


def restart_api_server(state, down=3.0, timeout=120):
    """Stop the API server, leave it down ``down`` seconds, start it again as it was started; wait until it answers."""
    terminate(state["pids"]["kube-apiserver"])
    time.sleep(down)
    spawn(state, "kube-apiserver", state["argv"]["kube-apiserver"])
    save(state)
    api, k8s = _client(state["kubeconfig"])
    wait_until("kube-apiserver", lambda: k8s.VersionApi(api).get_code(), timeout, state, "kube-apiserver")


def wait_until(what, check, timeout, state, name):
    """Call ``check()`` until it is true; fail with the end of ``name``'s log if it does not, or if ``name`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # pylint: disable=broad-except
            pass
        pid = state["pids"].get(name)
        if pid and not alive(pid):
            break
        time.sleep(0.5)
    tail = ""
    path = os.path.join(state["dir"], name + ".log")
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as handle:
            tail = handle.read()[-3000:]
    raise RuntimeError("%s did not come up within %d s:\n%s" % (what, timeout, tail))


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:   # a zombie (exited, not reaped) is not alive
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            return handle.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def terminate(pid):
    """SIGTERM to ``pid``'s process group (or to it alone when it leads none), SIGKILL after 5 s."""
    if not pid or not alive(pid):
        return

    def send(sig):
        try:
            os.killpg(pid, sig)
        except OSError:
            try:
                os.kill(pid, sig)
            except OSError:
                pass

    send(signal.SIGTERM)
    for dummy in range(50):
        if not alive(pid):
            return
        time.sleep(0.1)
    send(signal.SIGKILL)


def _client(kubeconfig):
    from kubernetes import client, config

    return config.new_client_from_config(config_file=kubeconfig, context=CONTEXT), client


def client(state):
    """(ApiClient, the ``kubernetes.client`` module) for the running control plane ``state``."""
    return _client(state["kubeconfig"])


def create(call, *args):
    """``call(*args)`` - a ``create_*`` method of a kubernetes client API - tolerating an object that is already
    there: whether it was created."""
    from kubernetes.client import ApiException

    try:
        call(*args)
    except ApiException as exc:
        if exc.status != 409:
            raise
        return False
    return True


def start(timeout=180):
    """Start everything (building what is missing); return the state: kubeconfig, ports, pids."""
    current = status()
    if current:
        return current
    from tests.controlplane import node

    binaries = build()
    if not shutil.which("etcd"):
        raise SystemExit("etcd is missing: install Debian's etcd-server (scripts/test.sh does, from tests/apt-packages.txt)")
    directory = run_dir()
    node.clear(directory)   # a run that was killed may have left its node's processes and mounts
    os.makedirs(os.path.join(directory, "certs"), exist_ok=True)
    # As root, the API server binds to the host end of the real node's link (tests/controlplane/node.py),
    # an address only this machine and that node reach; otherwise to loopback, and there is no real node.
    api_host = node.link_up() if node.possible() else "127.0.0.1"
    files = _pki(os.path.join(directory, "certs"), api_host)
    etcd_port, etcd_peer, api_port = _free_port(), _free_port(), _free_port()
    state = {"dir": directory, "pids": {}, "api_port": api_port, "etcd_port": etcd_port, "api_host": api_host,
             "certs": files}
    kubeconfig = _kubeconfig(os.path.join(directory, "kubeconfig"), api_host, api_port, files)
    state["kubeconfig"] = kubeconfig
    state["context"] = CONTEXT
    with open(os.path.join(directory, "state.json"), "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    try:
        spawn(state, "etcd", ["etcd", "--data-dir", os.path.join(directory, "etcd"), "--name", "arrkestra",
                              "--listen-client-urls", "http://127.0.0.1:%d" % etcd_port,
                              "--advertise-client-urls", "http://127.0.0.1:%d" % etcd_port,
                              "--listen-peer-urls", "http://127.0.0.1:%d" % etcd_peer,
                              "--initial-advertise-peer-urls", "http://127.0.0.1:%d" % etcd_peer,
                              "--initial-cluster", "arrkestra=http://127.0.0.1:%d" % etcd_peer,
                              "--unsafe-no-fsync"])
        save(state)
        egress_config = _egress(state)
        audit_policy = os.path.join(directory, "audit-policy.json")
        with open(audit_policy, "w", encoding="utf-8") as handle:
            json.dump(AUDIT_POLICY, handle)
        state["audit_log"] = os.path.join(directory, "audit.log")
        spawn(state, "kube-apiserver", [
            os.path.join(binaries, "kube-apiserver"), "--etcd-servers", "http://127.0.0.1:%d" % etcd_port,
            "--bind-address", api_host, "--advertise-address", api_host, "--secure-port", str(api_port),
            "--service-cluster-ip-range", SERVICE_CIDR, "--client-ca-file", files["ca_crt"],
            "--tls-cert-file", files["server_crt"], "--tls-private-key-file", files["server_key"],
            "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
            "--service-account-key-file", files["sa_pub"], "--service-account-signing-key-file", files["sa_key"],
            "--authorization-mode", "RBAC", "--allow-privileged", "--profiling=false",
            "--enable-priority-and-fairness=false", "--cert-dir", os.path.join(directory, "certs"),
            # The lease reconciler keeps the kubernetes Service's endpoint: pods of a real node call the API.
            "--audit-policy-file", audit_policy, "--audit-log-path", state["audit_log"], "--audit-log-format", "json",
            "--endpoint-reconciler-type", "lease", "--egress-selector-config-file", egress_config,
            # Logs and exec on a real node: kubelet's API with a client certificate it accepts.
            "--kubelet-preferred-address-types", "InternalIP,Hostname",
            "--kubelet-client-certificate", files["admin_crt"], "--kubelet-client-key", files["admin_key"],
            # Debian's etcd (3.4) has no watch progress requests, so a watch-list stream always ends in an
            # error; kwok's client-go (v0.33) then only re-lists every ~40 s, and each pod took that long to
            # become Ready. With the server's WatchList off, clients fall back to LIST + WATCH at once.
            "--feature-gates", "WatchList=false"])
        save(state)
        api, k8s = _client(kubeconfig)
        wait_until("kube-apiserver", lambda: k8s.VersionApi(api).get_code(), timeout, state, "kube-apiserver")
        spawn(state, "kube-controller-manager", [
            os.path.join(binaries, "kube-controller-manager"), "--kubeconfig", kubeconfig, "--leader-elect=false",
            "--bind-address", "127.0.0.1", "--secure-port", str(_free_port()), "--profiling=false",
            "--service-account-private-key-file", files["sa_key"], "--root-ca-file", files["ca_crt"],
            "--cluster-signing-cert-file", files["ca_crt"], "--cluster-signing-key-file", files["ca_key"],
            "--use-service-account-credentials=false", "--controllers", "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle",
            "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig])
        spawn(state, "kube-scheduler", [
            os.path.join(binaries, "kube-scheduler"), "--kubeconfig", kubeconfig, "--leader-elect=false",
            "--bind-address", "127.0.0.1", "--secure-port", str(_free_port()), "--profiling=false",
            "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig])
        spawn(state, "kwok", [
            os.path.join(binaries, "kwok"), "--kubeconfig", kubeconfig, "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake", "--cidr", "10.0.0.1/24",
            "--node-ip", "10.0.0.1", "--server-address", "127.0.0.1:%d" % _free_port()])
        save(state)
        core = k8s.CoreV1Api(api)
        _add_node(core, state, NODE, timeout)
        wait_until("the default ServiceAccount", lambda: core.read_namespaced_service_account("default", "default"),
                   timeout, state, "kube-controller-manager")
    except BaseException:
        stop()
        raise
    log("ready: KUBECONFIG=%s (context %s)" % (kubeconfig, CONTEXT))
    return state


def _socket_path(directory):
    path = os.path.join(directory, "egress.sock")
    if len(path) < 100:         # sun_path holds 108 bytes
        return path
    import hashlib
    return "/tmp/arrkestra-egress-%s.sock" % hashlib.sha1(directory.encode()).hexdigest()[:12]


def _egress(state):
    """Start the CONNECT proxy of the pod network; the path of kube-apiserver's egress selector configuration."""
    directory = state["dir"]
    state["egress_socket"] = _socket_path(directory)
    state["routes"] = os.path.join(directory, "routes.json")
    with open(state["routes"], "w", encoding="utf-8") as handle:
        json.dump({}, handle)
    spawn(state, "egress", [sys.executable, os.path.join(HERE, "egress.py"), state["egress_socket"], state["routes"]])
    save(state)
    wait_until("the egress proxy", lambda: os.path.exists(state["egress_socket"]), 30, state, "egress")
    config = {"apiVersion": "apiserver.k8s.io/v1beta1", "kind": "EgressSelectorConfiguration",
              "egressSelections": [{"name": "cluster", "connection": {
                  "proxyProtocol": "HTTPConnect", "transport": {"uds": {"udsName": state["egress_socket"]}}}}]}
    path = os.path.join(directory, "egress-selector.yaml")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2)   # JSON is YAML
    return path


@contextlib.contextmanager
def _routes(state):
    with open(state["routes"] + ".lock", "a", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(state["routes"], encoding="utf-8") as handle:
            routes = json.load(handle)
        yield routes
        tmp = state["routes"] + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(routes, handle, indent=1, sort_keys=True)
        os.replace(tmp, state["routes"])


def route(state, destination, target):
    """Connect ``destination`` ("<podIP>:<port>", what the API server dials) to ``target`` ("127.0.0.1:<port>")."""
    host = target.rpartition(":")[0]
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("route %s -> %s: targets are loopback only" % (destination, target))
    with _routes(state) as routes:
        routes[destination] = target


def direct(state, networks):
    """Let the API server reach ``networks`` (a real node's pods and kubelet) as they are."""
    with _routes(state) as routes:
        routes["direct"] = sorted(set(routes.get("direct") or ()) | set(networks))


def unroute(state, destinations):
    """Take ``destinations`` out of the pod network again (unroutable: 503, as without the proxy)."""
    with _routes(state) as routes:
        for destination in destinations:
            routes.pop(destination, None)


def ensure_node(state, name):
    """One more kwok node called ``name`` (the nodes of an inventory); True when it was made."""
    api, k8s = _client(state["kubeconfig"])
    core = k8s.CoreV1Api(api)
    try:
        core.read_node(name)
        return False
    except k8s.ApiException as exc:
        if exc.status != 404:
            raise
    _add_node(core, state, name, 60)
    return True


def _add_node(core, state, name, timeout):
    """A kwok node called ``name``, waited for until Ready, its not-ready taint lifted."""
    core.create_node(_node(name))

    def ready():
        node = core.read_node(name)
        return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or ())

    wait_until("the kwok node %s" % name, ready, timeout, state, "kwok")
    # The not-ready taint the API server puts on a new node is lifted by the node lifecycle
    # controller, which is off here (kwok's node has no kubelet lease to watch): lift it once.
    core.patch_node(name, {"spec": {"taints": None}})


def _node(name):
    metadata = {"name": name, "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                           "type": "kwok"}}
    return {"apiVersion": "v1", "kind": "Node", "metadata": metadata,
            "status": {"allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                       "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"}}}


def save(state):
    with open(os.path.join(state["dir"], "state.json"), "w", encoding="utf-8") as handle:
        json.dump(state, handle)


def status():
    """The state of a running control plane, or None."""
    path = os.path.join(run_dir(), "state.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        state = json.load(handle)
    if not all(alive(state["pids"].get(n, 0) or 0) for n in PROCESSES):
        return None
    return state


def stop():
    path = os.path.join(run_dir(), "state.json")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as handle:
        state = json.load(handle)
    from tests.controlplane import node
    node.stop(state)
    for pid in reversed(list(state["pids"].values())):
        terminate(pid)
    os.remove(path)
    if state.get("api_host") == node.HOST_IP:
        node.link_down()


def main(argv):
    command = argv[1] if len(argv) > 1 else "status"
    if command == "build":      # everything, the real node's part too (tests/controlplane/node.py)
        print(build(node=True))
    elif command == "start":
        state = start()
        if "--node" in argv[2:]:      # and a real node (tests/controlplane/node.py; as root)
            from tests.controlplane import node
            node.start(state)
            node.take_over(node.core_api(state))       # by hand: every new pod goes there
        print(state["kubeconfig"])
    elif command == "stop":
        stop()
    elif command == "status":
        state = status()
        print("running: KUBECONFIG=%s" % state["kubeconfig"] if state else "stopped")
        return 0 if state else 1
    elif command == "env":
        state = status()
        if not state:
            return 1
        print("export KUBECONFIG=%s" % state["kubeconfig"])
    else:
        print("usage: %s build | start [--node] | stop | status | env" % argv[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    sys.exit(main(sys.argv))
