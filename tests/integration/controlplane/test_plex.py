"""A stack with Plex instead of Jellyfin, for real on the test control plane: the phases, the Plex sign-in (its
one human step, played by the test at the plex.tv stand-in), the phases again.

As in test_site.py: the inventory (tests/fixtures/inventories/plex) is copied as it is with the control plane's
overrides, plus where plex.tv answers (``wiring_plex_tv_url``: the plex.tv double on loopback). Plex stands in as
PlexDouble (a fresh, unclaimed server that exchanges claim tokens with the plex.tv double), Seerr as SeerrDouble
(which asks the same plex.tv double about the account).

1. The phases before the sign-in: the server is named and has its libraries; what needs the account waits (the
   claim, the arr apps' Plex notifications, Seerr) and the run says to sign in - nothing fails.
2. ``playbooks/plex_signin.yml``: a code is printed; the "person" (a thread here) links it at plex.tv; the account
   token lands in Plex's Secret; the wiring then claims the server and links Radarr, Sonarr and Seerr to it.
3. The phases again, and the sign-in again: 0 changed, 0 write requests to any app, no new code asked for.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading

import pytest

from tests.controlplane import cluster
from tests.controlplane.fixture import controlplane  # noqa: F401 pylint: disable=unused-import
from tests.doubles.plex import PlexTvDouble
from tests.integration.controlplane.test_controlplane import _cluster_storage, _forget
from tests.integration.controlplane.test_platform import GROUPS, _what_k3s_and_the_charts_bring
from tests.integration.controlplane.test_site import _cluster_hosts, _copy_inventory, _report, _site
from tests.lab.cluster_stack import ClusterStack
from tests.lab.playbook import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.controlplane]

INVENTORY = os.path.join(ROOT, "tests", "fixtures", "inventories", "plex")


class Person:
    """Whoever signs in at plex.tv/link: links the first code plex.tv hands out, as soon as there is one."""

    def __init__(self, plex_tv):
        self.plex_tv, self.codes = plex_tv, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)

    def _watch(self):
        while not self._stop.is_set():
            waiting = [p for p in list(self.plex_tv.pins.values()) if not p["authToken"]]
            for pin in waiting:
                self.plex_tv.link_pin(pin["code"])
                self.codes.append(pin["code"])
            self._stop.wait(0.5)


def _by_name(double, resource):
    return dict((item["name"], item) for item in double.store.get(resource, {}).values())


def test_a_plex_stack_signs_in_once_then_converges(tmp_path, controlplane):
    ns = "plex-%s" % os.urandom(3).hex()
    data = tmp_path / "data"
    data.mkdir()
    plex_tv = PlexTvDouble()
    plex_tv_server = plex_tv.serve()
    overrides = {
        "arrkestra_kubeconfig": controlplane["kubeconfig"], "arrkestra_kube_context": controlplane["context"],
        "arrkestra_namespace": ns, "arrkestra_data_mount": str(data),
        "arrkestra_data": {"type": "hostpath", "path": str(data)},
        "platform_wait_timeout": 120, "apps_wait_timeout": 180, "wiring_wait_timeout": 120,
        "wiring_record_file": str(tmp_path / "state" / "wiring.json"),
        "wiring_plex_tv_url": plex_tv_server.url, "wiring_plex_signin_timeout": 60,
        # the fixture names no Python for localhost: the modules need the venv's kubernetes and httpx
        "ansible_python_interpreter": sys.executable,
    }
    inventory = _copy_inventory(INVENTORY, str(tmp_path / "inventory"), overrides)
    made_nodes = [n for n in _cluster_hosts(INVENTORY) if cluster.ensure_node(controlplane, n)]
    api, client = _cluster_storage(controlplane, tmp_path, 8, ns)
    _what_k3s_and_the_charts_bring(api, client, list(GROUPS))
    core = client.CoreV1Api(api)
    stack = ClusterStack(controlplane, ns, tmp_path, plex_tv=plex_tv, plex_tv_url=plex_tv_server.url).start()
    timings = []
    try:
        # 1. Before the sign-in: as far as an unclaimed server goes, and no failure.
        first = _site(inventory, timings)
        assert first.rc == 0, "first run:\n" + _report(first, stack)
        plex, radarr, seerr = stack.apps["plex"]["app"], stack.apps["radarr"]["app"], stack.apps["seerr"]["app"]
        assert dict((s["title"], [loc["path"] for loc in s["Location"]]) for s in plex.sections) == {
            "Movies": [str(data / "media" / "movies")], "Shows": [str(data / "media" / "tv")]}
        assert plex.pref("FriendlyName") == "Arrkestra" and not plex.claimed
        assert "plex" not in _by_name(radarr, "notification")
        assert not seerr.initialized
        assert "plex_signin" in first.stdout
        sys.stderr.write("[plex] first run %.0f s\n" % timings[-1])

        # 2. The sign-in: one code, linked by the person; the token kept; the server claimed and linked.
        with Person(plex_tv) as person:
            signin = _site(inventory, timings, phases=("plex_signin.yml",))
        assert signin.rc == 0, "sign-in:\n" + _report(signin, stack)
        assert len(person.codes) == 1 and len(plex_tv.pins) == 1
        secret = core.read_namespaced_secret("plex-credentials", ns)
        assert base64.b64decode(secret.data["account_token"]).decode() == plex_tv.account_token
        assert plex_tv.account_token not in signin.stdout + signin.stderr     # never printed
        assert plex.claimed and plex.owner_token == plex_tv.account_token
        for arr in ("radarr", "sonarr"):
            double = stack.apps[arr]["app"]
            notification = _by_name(double, "notification")["plex"]
            assert notification["implementation"] == "PlexServer"
            assert double.secret("notification", "plex", "authToken") == plex_tv.account_token
        assert seerr.initialized
        sys.stderr.write("[plex] sign-in and wiring %.0f s; %s\n" % (timings[-1], stack.events))

        # 3. Nothing left to do: the phases and the sign-in again write nothing.
        stack.reset()
        again = _site(inventory, timings)
        assert again.rc == 0, "second run:\n" + _report(again, stack)
        problems = []
        if again.changed:
            problems.append("second run changed %d:\n%s" % (again.changed, _report(again, stack)))
        if stack.writes():
            problems.append("second run wrote to the apps: %s" % json.dumps(stack.writes()))
        assert not problems, "\n".join(problems)
        stack.reset()
        pins = len(plex_tv.pins)
        signin_again = _site(inventory, timings, phases=("plex_signin.yml",))
        assert signin_again.rc == 0, "sign-in again:\n" + _report(signin_again, stack)
        assert signin_again.changed == 0, _report(signin_again, stack)
        assert len(plex_tv.pins) == pins and not stack.writes(), stack.writes()
        assert not stack.violations(), stack.violations()
        sys.stderr.write("[plex] runs: %s s\n" % ", ".join("%.0f" % t for t in timings))
    finally:
        stack.close()
        plex_tv_server.stop()
        _forget(api, client, [ns], 8, made_nodes)
