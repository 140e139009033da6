"""The cluster's names for the doubles: where a double's call to another app lands.

On a cluster the apps call each other by their in-cluster URLs
(``http://radarr.media.svc.cluster.local:7878``). A test that stands doubles in
for pods (tests/lab/cluster_stack.py) maps those ``host:port`` to the double's
address on loopback, process-wide; the doubles that call out (servarr ``_http``,
seerr ``_call``) pass their URLs through :func:`resolve`. Targets are loopback
only, so nothing leaves the machine; a name that is not mapped stays as it is
(and is refused by the doubles unless it is loopback).
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit, urlunsplit

_LOCK = threading.Lock()
_ROUTES = {}   # "host:port" (lower-case) -> port on 127.0.0.1


def add(host, port, target_port):
    """Send calls to ``host:port`` to ``127.0.0.1:target_port``."""
    with _LOCK:
        _ROUTES["%s:%d" % (host.lower(), int(port))] = int(target_port)


def remove(host, port):
    with _LOCK:
        _ROUTES.pop("%s:%d" % (host.lower(), int(port)), None)


def resolve(url, kwargs=None):
    """``(url, kwargs)`` with the URL's host:port mapped to loopback; ``Host`` stays the cluster name."""
    kwargs = dict(kwargs or {})
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with _LOCK:
        target = _ROUTES.get("%s:%d" % ((parts.hostname or "").lower(), port))
    if target is None:
        return url, kwargs
    headers = dict(kwargs.get("headers") or {})
    if not any(k.lower() == "host" for k in headers):
        headers["Host"] = parts.netloc.rpartition("@")[2]
    kwargs["headers"] = headers
    return urlunsplit(parts._replace(netloc="127.0.0.1:%d" % target)), kwargs
