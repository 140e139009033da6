"""The stack's seed script for SABnzbd, run for real; the SABnzbd double started from the sabnzbd.ini it wrote.

The home-operations image (apps/sabnzbd at the 4.5.1 release) copies its default ini only when
``/config/sabnzbd.ini`` is missing and starts ``SABnzbd.py --config-file /config/sabnzbd.ini`` (entrypoint.sh),
so relative folders are under /config (SABnzbd.py:960-986 at 4.5.1). Fails until the seed writes what the stack
needs: a Host check every caller passes and the download folders under the usenet root.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import credentials as app_credentials, model as stack_model
from tests.doubles.sabnzbd import SabnzbdDouble
from tests.integration.qbittorrent.test_seed import run_seed

pytestmark = pytest.mark.integration


@pytest.fixture
def seeded(tmp_path):
    stack = stack_model.build({"apps": {"sabnzbd": {}}})
    app = next(a for a in stack["apps"] if a["kind"] == "sabnzbd")
    credentials = app_credentials.complete_credentials(stack, {}, os.urandom)[app["name"]]
    run_seed(stack, app, tmp_path, credentials)
    return stack, app, credentials, SabnzbdDouble.from_ini(str(tmp_path / "sabnzbd.ini"))


def test_seeded_key_and_hosts(seeded):
    stack, app, credentials, double = seeded
    assert double.api_key == credentials["api_key"]
    for url in (app["url"], app["web_url"]):       # the apps in the cluster, a person through the ingress
        host = urlsplit(url).netloc
        assert double.host_allowed(host), "SABnzbd would answer 403 to Host %s (whitelist: %s)" % (
            host, double.host_whitelist)


def test_seeded_folders_under_the_usenet_root(seeded):
    stack, dummy, dummy, double = seeded
    usenet = stack["data"]["usenet_root"]
    assert double.misc.get("download_dir") == usenet + "/incomplete", double.misc
    assert double.misc.get("complete_dir") == usenet + "/complete", double.misc
