"""The ``controlplane`` fixture: a real API server for the tests marked ``controlplane``.

Starts the control plane of tests/controlplane/cluster.py once per test session
(building it the first time) and stops it at the end, unless it was already
running (``scripts/controlplane.sh start``), which it then leaves alone.
"""

from __future__ import annotations

import pytest

from tests.controlplane import cluster


@pytest.fixture(scope="session")
def controlplane():
    running = cluster.status()
    state = running or cluster.start()
    yield state
    if not running:
        cluster.stop()


@pytest.fixture(scope="session")
def real_node(controlplane):
    """A real kubelet node on the control plane (tests/controlplane/node.py): pods that ask for it run."""
    from tests.controlplane import node

    if not node.possible():
        pytest.skip("a real node needs root, nsenter and Debian's containerd")
    started = not controlplane.get("node")
    yield node.start(controlplane)
    if started:
        node.stop(controlplane)
