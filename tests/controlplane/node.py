"""A real node for the test control plane: kubelet, kube-proxy and containerd, in a network namespace.

kwok's node (cluster.py) makes pods Ready without running them; this one runs them.
kubelet and kube-proxy are built from the control plane's own pinned Kubernetes module
(``cluster.build(node=True)``), containerd, runc and the CNI plugins are Debian's, and the
images come from tests/controlplane/images.py, imported into containerd: no registry.

The cluster's DNS is CoreDNS (built from its Go module with only the plugins it needs,
tests/controlplane/coredns) on the node's address, behind the Service ``kube-system/kube-dns``
at 10.96.0.10, the clusterDNS kubelet gives pods; it knows the cluster's names only.
NetworkPolicies are enforced as k3s enforces them: by kube-router's policy controller (the
part k3s embeds, built from its Go module in tests/controlplane/kube-router), with iptables
rules and Debian's ipset in the node's namespace. Like on k3s, a connection from the node's
own addresses (kubelet's probes) is always let in; one from the API server, which is on the
other end of the link here - as a k3s server is for the pods of an agent - is a caller like
any other. Volumes come as k3s makes them: local-path-provisioner (built from its Go module,
running beside the control plane) answers the claims of the class :data:`STORAGE_CLASS` once
their pod is scheduled, with a helper pod that makes a 0777 folder under the node's directory.

Everything node-side lives in the network namespace ``arrkestra-node``, linked to the
machine by one veth pair (``arrk-host`` 172.31.213.1/30 - the API server binds there,
see cluster.start - and ``arrk-node`` 172.31.213.2/30, the node's InternalIP). Pods get
10.244.0.0/24 on a bridge in that namespace. The namespace has no default route, so a pod
reaches the node, the API server and other pods, and nothing beyond the machine.

What the node changes outside its own directory, and undoes on :func:`stop`:
the namespace and its links (iptables rules, the bridge and the pods' veths go with it),
a route to the pod range through the link, the cgroup ``/arrkestra-node`` in each
controller, three kernel settings kubelet sets (recorded before, restored after), the
pods' network namespaces under /run/netns and their log links under /var/log/containers
(only the ones that were not there before).

    state = cluster.start(); node.start(state)     # node.NAME Ready, its images loaded
    ...                                             # pods that tolerate node.TAINT and select node.LABEL
    node.stop(state)                                # (cluster.stop() does it too)

    python -m tests.controlplane.node start | stop | status     (the control plane too, when not running)

The node is tainted ``arrkestra.test/real-node=true:NoSchedule`` and labelled
``arrkestra.test/real-node=true``: only pods that ask for it run there, so the kwok tests
are unchanged.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from tests.controlplane import cluster

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "real-node-0"
NETNS = "arrkestra-node"
HOST_IF, NODE_IF = "arrk-host", "arrk-node"
HOST_IP, NODE_IP, PREFIX = "172.31.213.1", "172.31.213.2", 30
POD_CIDR, BRIDGE = "10.244.0.0/24", "arrk-cni0"
CLUSTER_DNS, CLUSTER_DOMAIN = "10.96.0.10", "cluster.local"
LABEL = {"arrkestra.test/real-node": "true"}
TAINT = {"key": "arrkestra.test/real-node", "value": "true", "effect": "NoSchedule"}
CGROUP = "arrkestra-node"
#: kubelet sets these at start (pkg/kubelet/cm/container_manager_linux.go, setupKernelTunables); put back on stop.
SYSCTLS = ("vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops")
#: what the node runs, in the order start() starts them
PROCESSES = ("containerd", "kubelet", "kube-proxy", "coredns", "kube-router", "local-path-provisioner")
#: the class of the real node's volumes, and where its provisioner keeps its configuration
STORAGE_CLASS = "real-node-local-path"
LOCAL_PATH = {"namespace": "local-path-storage", "provisioner": "rancher.io/local-path",
              "configmap": "local-path-config", "service_account": "local-path-provisioner"}


def placement():
    """What a pod spec adds to run on the real node (and only there)."""
    return {"nodeSelector": dict(LABEL), "tolerations": [{"key": TAINT["key"], "operator": "Equal",
                                                          "value": TAINT["value"], "effect": TAINT["effect"]}]}


@contextlib.contextmanager
def only(state):
    """While inside, new pods go to the real node only - as on a cluster of real nodes: kwok's nodes are
    cordoned and the real node's taint is lifted; both are put back on the way out."""
    core = core_api(state)
    cordoned = take_over(core)
    try:
        yield
    finally:
        core.patch_node(NAME, {"spec": {"taints": [TAINT]}})
        for name in cordoned:
            core.patch_node(name, {"spec": {"unschedulable": None}})


def core_api(state):
    api, k8s = cluster.client(state)
    return k8s.CoreV1Api(api)


def take_over(core):
    """Cordon every other node and lift the real node's taint; the names of the nodes cordoned."""
    cordoned = [n.metadata.name for n in core.list_node().items
                if n.metadata.name != NAME and not n.spec.unschedulable]
    for name in cordoned:
        core.patch_node(name, {"spec": {"unschedulable": True}})
    core.patch_node(NAME, {"spec": {"taints": None}})
    return cordoned


def log(message):
    sys.stderr.write("[node] %s\n" % message)
    sys.stderr.flush()


def possible():
    """A real node needs root (namespaces, cgroups, iptables) and Debian's containerd and ipset."""
    return os.geteuid() == 0 and all(shutil.which(c) for c in ("containerd", "nsenter", "ipset"))


def _run(*argv, check=True):
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def _in_netns(argv):
    # nsenter changes the network namespace only; `ip netns exec` would also remount /sys
    # and hide the cgroup hierarchies kubelet and runc need.
    return ["nsenter", "--net=/run/netns/" + NETNS, "--"] + list(argv)


# -- the link ---------------------------------------------------------------------------------------
def link_up():
    """The namespace and its veth pair (anew); the address the API server binds to."""
    link_down()
    _run("ip", "netns", "add", NETNS)
    _run("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NODE_IF)
    _run("ip", "link", "set", NODE_IF, "netns", NETNS)
    _run("ip", "addr", "add", "%s/%d" % (HOST_IP, PREFIX), "dev", HOST_IF)
    _run("ip", "link", "set", HOST_IF, "up")
    _run("ip", "-n", NETNS, "addr", "add", "%s/%d" % (NODE_IP, PREFIX), "dev", NODE_IF)
    _run("ip", "-n", NETNS, "link", "set", NODE_IF, "up")
    _run("ip", "-n", NETNS, "link", "set", "lo", "up")
    # The API server's service and pod proxy (egress.py, on this side) dials pods directly.
    _run("ip", "route", "add", POD_CIDR, "via", NODE_IP, "dev", HOST_IF)
    for key, value in (("net.ipv4.ip_forward", "1"), ("net.bridge.bridge-nf-call-iptables", "1")):
        _run(*_in_netns(["sysctl", "-qw", "%s=%s" % (key, value)]), check=False)
    return HOST_IP


def link_down():
    """Remove the namespace (with everything in it) and the host end of the link, if there."""
    _run("ip", "link", "del", HOST_IF, check=False)   # the route through it goes with it
    if os.path.exists("/run/netns/" + NETNS):
        _run("ip", "netns", "del", NETNS, check=False)


# -- configuration ----------------------------------------------------------------------------------
def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(data if isinstance(data, str) else json.dumps(data, indent=2))
    os.chmod(path, mode)
    return path


def _containerd_config(directory, images):
    socket_path = os.path.join(directory, "containerd.sock")
    return socket_path, """version = 2
root = "%(dir)s/containerd/root"
state = "%(dir)s/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "%(sock)s"
[debug]
  level = "warn"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "%(pause)s"
  # Without it every sandbox fails here: no CAP_SYS_RESOURCE for a negative oom_score_adj
  # (../shared/reference/lab-recipes.md, "A real node").
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "%(dir)s/cni/net.d"
""" % {"dir": directory, "sock": socket_path, "pause": images["pause"]}


def _cni_config(directory):
    return {"cniVersion": "0.4.0", "name": "arrkestra", "plugins": [
        {"type": "bridge", "bridge": BRIDGE, "isGateway": True, "ipMasq": True, "hairpinMode": True,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": POD_CIDR}]], "routes": [{"dst": "0.0.0.0/0"}],
                  "dataDir": os.path.join(directory, "cni", "ipam")}},
        {"type": "portmap", "capabilities": {"portMappings": True}}]}


def _kubelet_config(directory, files, socket_path):
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
        "address": NODE_IP, "port": 10250, "readOnlyPort": 0, "healthzPort": 0,
        "authentication": {"anonymous": {"enabled": False}, "webhook": {"enabled": True},
                           "x509": {"clientCAFile": files["ca_crt"]}},
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": "unix://" + socket_path,
        "cgroupDriver": "cgroupfs", "cgroupRoot": "/" + CGROUP, "failCgroupV1": False, "failSwapOn": False,
        # kubelet's own -999 needs CAP_SYS_RESOURCE, which this machine does not give.
        "oomScoreAdj": 0,
        "clusterDNS": [CLUSTER_DNS], "clusterDomain": CLUSTER_DOMAIN,
        "hairpinMode": "hairpin-veth", "resolvConf": _write(os.path.join(directory, "resolv.conf"), ""),
        "podLogsDir": os.path.join(directory, "pod-logs"),
        "evictionHard": {"memory.available": "1Mi", "nodefs.available": "1%", "imagefs.available": "1%",
                         "nodefs.inodesFree": "1%"},
        "imageGCHighThresholdPercent": 100, "imageGCLowThresholdPercent": 99,
        "registerWithTaints": [TAINT], "maxPods": 60,
        "serializeImagePulls": False, "syncFrequency": "5s", "fileCheckFrequency": "5s",
        "nodeStatusUpdateFrequency": "5s", "nodeStatusReportFrequency": "30s",
    }


def _kube_proxy_config(directory, kubeconfig):
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
        "mode": "iptables", "clusterCIDR": POD_CIDR, "hostnameOverride": NAME, "bindAddress": NODE_IP,
        "clientConnection": {"kubeconfig": kubeconfig},
        # (in the node's own network namespace: these ports are free there)
        "healthzBindAddress": "127.0.0.1:10256", "metricsBindAddress": "127.0.0.1:10249",
        "oomScoreAdj": 0,
        # conntrack sysctls are the machine's, not the namespace's: leave them alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "iptables": {"syncPeriod": "5s", "minSyncPeriod": "0s"},
    }


def _corefile(kubeconfig):
    """CoreDNS on the node's address: the cluster's names only (no upstream resolver exists here)."""
    return """cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind %(ip)s
    errors
    health 127.0.0.1:18080
    ready 127.0.0.1:18181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %(kubeconfig)s arrkestra
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    cache 30
    loadbalance
}
""" % {"ip": NODE_IP, "kubeconfig": kubeconfig}


def _local_path(core, k8s, folder, helper_image):
    """What local-path-provisioner reads (its namespace, the helper pods' ServiceAccount, its ConfigMap) and the
    class of the real node's volumes. Its helper pod runs ``/script/setup`` with the claim's folder in VOL_DIR
    (local-path-provisioner v0.0.30 provisioner.go:45-47, 387-391, 603-671); the scripts do what the project's
    deploy/local-path-storage.yaml and k3s's do: a folder anyone may write, removed with its volume."""
    storage = k8s.StorageV1Api(core.api_client)
    namespace = LOCAL_PATH["namespace"]
    config = {"nodePathMap": [{"node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": [folder]}]}
    helper_pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "helper-pod"}, "spec": {
        "containers": [{"name": "helper-pod", "image": helper_image, "imagePullPolicy": "IfNotPresent"}]}}
    data = {"config.json": json.dumps(config), "helperPod.yaml": json.dumps(helper_pod),
            "setup": '#!/bin/sh\nset -eu\nmkdir -m 0777 -p "$VOL_DIR"\n',
            "teardown": '#!/bin/sh\nset -eu\nrm -rf "$VOL_DIR"\n'}
    cluster.create(core.create_namespace, {"metadata": {"name": namespace}})
    cluster.create(core.create_namespaced_service_account, namespace,
                   {"metadata": {"name": LOCAL_PATH["service_account"]}})
    cluster.create(storage.create_storage_class, {
        "metadata": {"name": STORAGE_CLASS}, "provisioner": LOCAL_PATH["provisioner"],
        "volumeBindingMode": "WaitForFirstConsumer", "reclaimPolicy": "Delete"})
    body = {"metadata": {"name": LOCAL_PATH["configmap"]}, "data": data}
    if not cluster.create(core.create_namespaced_config_map, namespace, body):
        core.replace_namespaced_config_map(LOCAL_PATH["configmap"], namespace, body)   # this node's folder


def _dns_service(core, k8s):
    """kube-system/kube-dns at the clusterDNS address kubelet gives pods, leading to CoreDNS on the node."""
    ports = [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]
    labels = {"k8s-app": "kube-dns", "arrkestra.test/real-node": "true"}
    # One left by an earlier start of the node on this control plane is kept: a second create is refused with 422
    # (its cluster IP is allocated, checked before the name), not the 409 cluster.create tolerates.
    if not any(s.metadata.name == "kube-dns" for s in core.list_namespaced_service("kube-system").items):
        cluster.create(core.create_namespaced_service, "kube-system", {
            "metadata": {"name": "kube-dns", "labels": labels},
            "spec": {"clusterIP": CLUSTER_DNS, "ports": [dict(p, targetPort=53) for p in ports]}})
    cluster.create(k8s.DiscoveryV1Api(core.api_client).create_namespaced_endpoint_slice, "kube-system", {
        "metadata": {"name": "kube-dns-node", "labels": dict(labels, **{
            "kubernetes.io/service-name": "kube-dns", "endpointslice.kubernetes.io/managed-by": "arrkestra.test"})},
        "addressType": "IPv4", "ports": ports,
        "endpoints": [{"addresses": [NODE_IP], "conditions": {"ready": True}, "nodeName": NAME}]})


def resolve(name, server=NODE_IP, timeout=2.0):
    """The IPv4 addresses of ``name`` in the cluster's DNS (a plain UDP query; [] when there are none)."""
    import random
    import socket
    import struct

    ident = random.randrange(65536)
    query = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    query += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(query, (server, 53))
        data = sock.recv(4096)
    answers = struct.unpack(">H", data[6:8])[0]
    offset = len(query)
    found = []
    for dummy in range(answers):
        while data[offset] and data[offset] < 0xC0:     # a name: labels, or a pointer
            offset += data[offset] + 1
        offset += 2 if data[offset] >= 0xC0 else 1
        kind, dummy2, dummy3, length = struct.unpack(">HHIH", data[offset:offset + 10])
        offset += 10
        if kind == 1 and length == 4:
            found.append(socket.inet_ntoa(data[offset:offset + 4]))
        offset += length
    return found


def _node_kubeconfig(state, directory):
    """The admin credentials (system:masters) on the address the node can reach."""
    with open(state["kubeconfig"], encoding="utf-8") as handle:
        config = json.load(handle)
    config["clusters"][0]["cluster"]["server"] = "https://%s:%d" % (HOST_IP, state["api_port"])
    return _write(os.path.join(directory, "kubeconfig"), config, 0o600)


# -- cgroups, sysctls, leftovers --------------------------------------------------------------------
def _cgroup_dirs():
    roots = [p for p in glob.glob("/sys/fs/cgroup/*") if os.path.isdir(p) and os.path.ismount(p)]
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):   # unified (v2) only
        roots = ["/sys/fs/cgroup"]
    return [os.path.join(root, CGROUP) for root in roots if not root.endswith("/unified")]


def _cgroups_make():
    for path in _cgroup_dirs():
        os.makedirs(path, exist_ok=True)
        if path.startswith("/sys/fs/cgroup/cpuset/"):   # v1 cpuset: a child starts with no cpus/mems
            for name in ("cpuset.cpus", "cpuset.mems"):
                with open(os.path.join(os.path.dirname(path), name), encoding="ascii") as src:
                    value = src.read().strip()
                with open(os.path.join(path, name), "w", encoding="ascii") as dst:
                    dst.write(value)


def _cgroups_remove():
    for root in _cgroup_dirs():
        if not os.path.isdir(root):
            continue
        for path in sorted((d for d, dummy, dummy2 in os.walk(root)), key=len, reverse=True):
            for dummy in range(20):
                try:
                    os.rmdir(path)
                    break
                except OSError:
                    _kill_in_cgroup(path)
                    time.sleep(0.2)


def _kill_in_cgroup(path):
    try:
        with open(os.path.join(path, "cgroup.procs"), encoding="ascii") as handle:
            pids = [int(p) for p in handle.read().split()]
    except OSError:
        return
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _sysctls_read():
    values = {}
    for key in SYSCTLS:
        with open("/proc/sys/" + key, encoding="ascii") as handle:
            values[key] = handle.read().strip()
    return values


def _sysctls_restore(values):
    for key, value in (values or {}).items():
        try:
            with open("/proc/sys/" + key, "w", encoding="ascii") as handle:
                handle.write(value)
        except OSError as exc:
            log("could not restore %s=%s: %s" % (key, value, exc))


def _listing(pattern):
    return sorted(glob.glob(pattern))


def clear(directory):
    """Remove ``directory`` with what a node (maybe of a run that was killed) left there: its processes
    and mounts. Return whether it is gone; if not, log what stays, and why."""
    for pid in _pids_naming(directory):
        cluster.terminate(pid)
    unmount_under(directory)
    left = []
    shutil.rmtree(directory, onerror=lambda _function, path, info: left.append("%s: %s" % (path, info[1])))
    if os.path.lexists(directory):
        log("could not remove %s (%d left, first: %s)" % (directory, len(left), "; ".join(left[:3]) or "?"))
        return False
    return True


def unmount_under(directory):
    """Unmount (lazily) everything mounted below ``directory``, deepest first."""
    with open("/proc/mounts", encoding="utf-8") as handle:
        mounts = [line.split()[1].replace("\\040", " ") for line in handle]
    for mount in sorted((m for m in mounts if m.startswith(directory.rstrip("/") + "/")), key=len, reverse=True):
        _run("umount", "-l", mount, check=False)


def _iptables_rules(table="filter"):
    """The rules of ``table`` in the node's namespace (``iptables -S``)."""
    return _run(*_in_netns(["iptables", "-t", table, "-S"]), check=False).stdout


def policy_rules():
    """What kube-router made of the NetworkPolicies in the node: its iptables rules and ipsets, as text."""
    return _iptables_rules() + _run(*_in_netns(["ipset", "save"]), check=False).stdout


# -- processes --------------------------------------------------------------------------------------
def _spawn(node, name, argv):
    return cluster.spawn(node, name, _in_netns(argv))


# -- start / stop -----------------------------------------------------------------------------------
def start(state, timeout=180):
    """Start the node on the running control plane ``state`` (once); return ``state["node"]``."""
    from tests.controlplane import images

    if state.get("node") and all(cluster.alive(state["node"]["pids"].get(n, 0)) for n in PROCESSES):
        return state["node"]
    if not possible():
        raise RuntimeError("a real node needs root, nsenter and Debian's containerd and ipset (tests/apt-packages.txt)")
    if state.get("api_host") != HOST_IP:
        raise RuntimeError("the control plane was started without the node's link (not as root?)")
    binaries = cluster.build(node=True)
    directory = os.path.join(state["dir"], "node")
    if not clear(directory):    # what an earlier node left and cannot go: start beside it
        directory = tempfile.mkdtemp(prefix="node-", dir=state["dir"])
    os.makedirs(directory, exist_ok=True)
    refs = {name: images.reference(name) for name in images.IMAGES}
    node = state["node"] = {
        "dir": directory, "pids": {}, "sysctls": _sysctls_read(),
        "netns_before": _listing("/run/netns/cni-*"), "logs_before": _listing("/var/log/containers/*"),
    }
    cluster.save(state)
    try:
        _cgroups_make()
        socket_path, config = _containerd_config(directory, refs)
        node["containerd"] = socket_path
        _write(os.path.join(directory, "cni", "net.d", "10-arrkestra.conflist"), _cni_config(directory))
        containerd_toml = _write(os.path.join(directory, "containerd.toml"), config)
        _spawn(node, "containerd", ["containerd", "--config", containerd_toml])
        cluster.save(state)
        cluster.wait_until("containerd", lambda: _run("ctr", "--address", socket_path, "version").returncode == 0,
                           60, node, "containerd")
        images.load(socket_path)
        kubeconfig = _node_kubeconfig(state, directory)
        files = state["certs"]
        _spawn(node, "kubelet", [
            os.path.join(binaries, "kubelet"), "--kubeconfig", kubeconfig, "--hostname-override", NAME,
            "--node-ip", NODE_IP, "--root-dir", os.path.join(directory, "kubelet"),
            "--cert-dir", os.path.join(directory, "kubelet-pki"), "--node-labels",
            ",".join("%s=%s" % item for item in LABEL.items()),
            "--config", _write(os.path.join(directory, "kubelet.json"),
                               _kubelet_config(directory, files, socket_path))])
        _spawn(node, "kube-proxy", [
            os.path.join(binaries, "kube-proxy"), "--config",
            _write(os.path.join(directory, "kube-proxy.json"), _kube_proxy_config(directory, kubeconfig))])
        cluster.save(state)
        api, k8s = cluster.client(state)
        core = k8s.CoreV1Api(api)

        def ready():
            conditions = core.read_node(NAME).status.conditions or ()
            return any(c.type == "Ready" and c.status == "True" for c in conditions)

        cluster.direct(state, [POD_CIDR, "%s/32" % NODE_IP])
        cluster.wait_until("the node %s" % NAME, ready, timeout, node, "kubelet")

        def rules():
            return "KUBE-SERVICES" in _iptables_rules("nat")

        cluster.wait_until("kube-proxy's rules", rules, timeout, node, "kube-proxy")
        _dns_service(core, k8s)
        _spawn(node, "coredns", [os.path.join(binaries, "coredns"), "-conf",
                                 _write(os.path.join(directory, "Corefile"), _corefile(kubeconfig))])
        cluster.save(state)
        cluster.wait_until("CoreDNS", lambda: resolve("kubernetes.default.svc." + CLUSTER_DOMAIN) == ["10.96.0.1"],
                           timeout, node, "coredns")
        _spawn(node, "kube-router", [os.path.join(binaries, "kube-router"), "--kubeconfig", kubeconfig,
                                     "--hostname-override", NAME, "--service-cluster-ip-range", cluster.SERVICE_CIDR])
        cluster.save(state)
        cluster.wait_until("kube-router's policy chains", lambda: "-A KUBE-ROUTER-FORWARD" in _iptables_rules(),
                           timeout, node, "kube-router")
        _local_path(core, k8s, os.path.join(directory, "local-path"), refs["busybox"])
        cluster.spawn(node, "local-path-provisioner", [
            os.path.join(binaries, "local-path-provisioner"), "start", "--kubeconfig", state["kubeconfig"],
            "--namespace", LOCAL_PATH["namespace"], "--provisioner-name", LOCAL_PATH["provisioner"],
            "--configmap-name", LOCAL_PATH["configmap"], "--service-account-name", LOCAL_PATH["service_account"],
            "--helper-image", refs["busybox"]])
        cluster.save(state)
        # The node-lifecycle controller is off (kwok's nodes have no lease): lift the taint it would lift.
        taints = [t for t in core.read_node(NAME).spec.taints or () if t.key == TAINT["key"]]
        core.patch_node(NAME, {"spec": {"taints": [{"key": t.key, "value": t.value, "effect": t.effect}
                                                   for t in taints]}})
    except BaseException:
        stop(state)
        raise
    log("ready: %s (%s), pods %s" % (NAME, NODE_IP, POD_CIDR))
    return node


def stop(state):
    """Stop the node and undo what it changed on the machine (idempotent)."""
    node = state.get("node")
    if not node:
        return
    for name in reversed(PROCESSES[1:]):       # the last started first; containerd after its containers
        cluster.terminate(node["pids"].get(name))
    socket_path = node.get("containerd")
    if socket_path and cluster.alive(node["pids"].get("containerd", 0)):
        listing = _run("ctr", "--address", socket_path, "-n", "k8s.io", "tasks", "ls", "-q", check=False).stdout
        for task in listing.split():
            _run("ctr", "--address", socket_path, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", task, check=False)
    cluster.terminate(node["pids"].get("containerd"))
    # The shims outlive containerd: they name its socket, in the node's directory, which goes with its mounts.
    clear(node["dir"])
    _cgroups_remove()
    for path in set(_listing("/run/netns/cni-*")) - set(node.get("netns_before", ())):
        _run("umount", path, check=False)
        try:
            os.remove(path)
        except OSError:
            pass
    for path in set(_listing("/var/log/containers/*")) - set(node.get("logs_before", ())):
        if os.path.islink(path):
            os.remove(path)
    _sysctls_restore(node.get("sysctls"))
    state.pop("node", None)
    cluster.save(state)


def _pids_naming(text):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                if text.encode() in handle.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def main(argv):
    command = argv[1] if len(argv) > 1 else "status"
    state = cluster.status()
    if command == "start":
        state = state or cluster.start()
        start(state)
        print(state["kubeconfig"])
    elif command == "stop":
        if state:
            stop(state)
    elif command == "status":
        running = bool(state and state.get("node") and all(cluster.alive(state["node"]["pids"].get(n, 0)) for n in PROCESSES))
        print("running: %s" % NAME if running else "stopped")
        return 0 if running else 1
    else:
        print("usage: %s start|stop|status" % argv[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    sys.exit(main(sys.argv))
