"""The pod network of the test control plane: an HTTP CONNECT proxy for kube-apiserver's ``cluster`` egress.

With kwok no pod runs: its pod IPs (10.0.0.0/24) lead nowhere, and the API
server's service proxy (``/api/v1/namespaces/<ns>/services/<svc>:<port>/proxy``)
answers 503. cluster.py starts kube-apiserver with ``--egress-selector-config-file``
sending its ``cluster`` traffic (service and pod proxy, kubelet) through this
proxy over a Unix socket: kube-apiserver writes ``CONNECT <podIP>:<port>`` (see
k8s.io/apiserver/pkg/server/egressselector/egress_selector.go, tunnelHTTPConnect),
and this proxy connects it to what a test put in its place - a test double or a
real client on 127.0.0.1 - through the routes file::

    {"10.0.0.7:7878": "127.0.0.1:40123", ...}

(read again on every CONNECT; cluster.route() / cluster.unroute() edit it). A
destination that is not routed is refused (503), so everything else behaves as
without the proxy. Targets are loopback only: nothing leaves the machine. The
networks of a real node (tests/controlplane/node.py: its pods, its kubelet) are
reached as they are, when listed under ``"direct"``: ``{"direct": ["10.244.0.0/24"]}``.

    python tests/controlplane/egress.py <socket> <routes.json>
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import sys
import threading
import time


#: Open tunnels: id -> (destination, target, the API server's side, the stand-in's side).
TUNNELS = {}
TUNNELS_LOCK = threading.Lock()


def _read_routes(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _target(routes, destination):
    """Where ``destination`` ("<ip>:<port>") leads: a routed loopback stand-in, itself on a direct network, or None."""
    target = routes.get(destination)
    if isinstance(target, str):
        host = target.rpartition(":")[0]
        return target if host in ("127.0.0.1", "localhost", "::1") else None
    try:
        address = ipaddress.ip_address(destination.rpartition(":")[0].strip("[]"))
        if any(address in ipaddress.ip_network(net) for net in routes.get("direct") or ()):
            return destination
    except ValueError:
        pass
    return None


def _pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                sock.shutdown(how)
            except OSError:
                pass


def _answer(conn, status, reason):
    length = "" if status == 200 else "Content-Length: 0\r\n"    # a tunnel's 200 has no body length
    conn.sendall(("HTTP/1.1 %d %s\r\n%s\r\n" % (status, reason, length)).encode("ascii"))


def _serve(conn, routes_path, log):
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(4096)
            if not data:
                return
            head += data
            if len(head) > 65536:
                return
        # kube-apiserver sends the CONNECT head alone and waits for the answer: nothing follows it yet.
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            _answer(conn, 405, "Only CONNECT")
            return
        destination = parts[1]
        target = _target(_read_routes(routes_path), destination)
        host, dummy, port = (target or "").rpartition(":")
        if not target:
            log("refused %s (not routed)" % destination)
            _answer(conn, 503, "No route to %s in the test pod network" % destination)
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
        except OSError as exc:
            log("%s -> %s: %s" % (destination, target, exc))
            _answer(conn, 502, "Bad Gateway")
            return
        upstream.settimeout(None)
        _answer(conn, 200, "Connection established")
        log("%s -> %s" % (destination, target))
        with TUNNELS_LOCK:
            TUNNELS[id(conn)] = (destination, target, conn, upstream)
        back = threading.Thread(target=_pipe, args=(upstream, conn), daemon=True)
        back.start()
        _pipe(conn, upstream)
        back.join()
        with TUNNELS_LOCK:
            TUNNELS.pop(id(conn), None)
        upstream.close()
    except OSError:
        pass
    finally:
        conn.close()


def _cut_stale_tunnels(routes_path, log):
    """A pod that is gone takes its connections with it: the API server keeps proxy connections alive and kwok gives
    a later pod the same IP, so a tunnel whose route changed or went away is closed, never reused."""
    while True:
        time.sleep(0.5)
        routes = _read_routes(routes_path)
        with TUNNELS_LOCK:
            stale = [t for t in TUNNELS.values() if _target(routes, t[0]) != t[1]]
        for destination, target, conn, upstream in stale:
            log("closed %s -> %s (route gone)" % (destination, target))
            for sock in (conn, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def serve(socket_path, routes_path):
    if os.path.exists(socket_path):
        os.remove(socket_path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(socket_path)
    os.chmod(socket_path, 0o600)
    server.listen(128)
    lock = threading.Lock()

    def log(message):
        with lock:
            sys.stdout.write(message + "\n")
            sys.stdout.flush()

    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    log("listening on %s (routes: %s)" % (socket_path, routes_path))
    threading.Thread(target=_cut_stale_tunnels, args=(routes_path, log), daemon=True).start()
    while True:
        conn, dummy = server.accept()
        threading.Thread(target=_serve, args=(conn, routes_path, log), daemon=True).start()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
