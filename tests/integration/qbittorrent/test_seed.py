"""The stack's seed script for qBittorrent, run for real, then the real qbittorrent-nox started from what it wrote.

The home-operations image (apps/qbittorrent at the 5.1.2 release of home-operations/containers) runs
``qbittorrent-nox`` with no ``--profile`` and ``HOME``/``XDG_CONFIG_HOME``/``XDG_DATA_HOME`` set to ``/config``
(Dockerfile), so the file read is ``/config/qBittorrent/qBittorrent.conf`` (entrypoint.sh); this test starts
Debian's qbittorrent-nox the same way, with a temporary directory standing for ``/config``. Only loopback
settings are added (no DHT/LSD/PeX/UPnP, interface lo, WebUI on 127.0.0.1 and a free port): what the seed says
about paths, torrent management and the WebUI login is used as written.

The keys (section [BitTorrent], ``Session\\DefaultSavePath``, ``Session\\DisableAutoTMMByDefault``) are the same in
qBittorrent 4.5.2 (Debian) and 5.1.2 (the image): src/base/bittorrent/sessionimpl.cpp 486-491 / 511-516.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess

import httpx
import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import credentials as app_credentials, model as stack_model, workloads
from tests.lab.clients import LOOPBACK, free_port, stop_process, wait_for

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not shutil.which("qbittorrent-nox"), reason="qbittorrent-nox is not installed")]

#: Loopback only: nothing may leave the machine (../shared/reference/lab-recipes.md).
LOOPBACK_ONLY = {
    "BitTorrent": ["Session\\DHTEnabled=false", "Session\\LSDEnabled=false", "Session\\PeXEnabled=false",
                   "Session\\Interface=lo", "Session\\InterfaceName=lo", "Session\\InterfaceAddress=" + LOOPBACK,
                   "Session\\AnonymousModeEnabled=true", "Session\\AddTrackersEnabled=false"],
    "Preferences": ["Connection\\UPnP=false", "Connection\\ResolvePeerCountries=false", "Advanced\\trackerEnabled=false",
                    "WebUI\\Address=" + LOOPBACK, "WebUI\\UseUPnP=false", "WebUI\\MaxAuthenticationFailCount=1000"],
    "Application": ["FileLogger\\Enabled=false"],
}


def run_seed(stack, app, root, credentials):
    """Run the app's seed container command with its env, ``/config`` being ``root``."""
    container = workloads.seed_container(stack, app)
    assert container["command"][:2] == ["sh", "-c"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for item in container["env"]:
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        env[item["name"]] = credentials[ref["key"]] if ref else item["value"]
    script = container["command"][2].replace("/config", str(root))
    subprocess.run(["sh", "-c", script], env=env, check=True, timeout=30)


def with_loopback_settings(path, port):
    """Add the loopback settings to the seeded file; keys the seed set are left as they are."""
    sections, order, current = {}, [], None
    with open(path, encoding="utf-8") as handle:
        for line in handle.read().splitlines():
            match = re.match(r"^\[(.+)\]$", line.strip())
            if match:
                current = match.group(1)
                if current not in sections:
                    sections[current] = []
                    order.append(current)
            elif line.strip() and current is not None:
                sections[current].append(line)
    extra = dict(LOOPBACK_ONLY)
    extra["BitTorrent"] = extra["BitTorrent"] + ["Session\\Port=%d" % free_port()]
    extra["Preferences"] = extra["Preferences"] + ["WebUI\\Port=%d" % port]
    for section, lines in extra.items():
        if section not in sections:
            sections[section] = []
            order.append(section)
        have = set(l.split("=", 1)[0] for l in sections[section])
        sections[section] += [l for l in lines if l.split("=", 1)[0] not in have or l.startswith("WebUI\\Port")]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n\n".join("[%s]\n%s" % (s, "\n".join(sections[s])) for s in order) + "\n")


@contextlib.contextmanager
def qbittorrent_started(config, conf, tmp_path):
    """qbittorrent-nox started from ``conf`` (``/config`` being ``config``) with the loopback settings; its URL."""
    port = free_port()
    with_loopback_settings(conf, port)
    env = dict(os.environ, HOME=str(config), XDG_CONFIG_HOME=str(config), XDG_DATA_HOME=str(config),
               QBT_CONFIRM_LEGAL_NOTICE="1")
    log = tmp_path / "qbittorrent.out"
    with open(log, "ab") as out:
        proc = subprocess.Popen(["qbittorrent-nox"], stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(config),
                                start_new_session=True)
    url = "http://%s:%d" % (LOOPBACK, port)
    try:
        wait_for(lambda: httpx.get(url + "/api/v2/app/webapiVersion", timeout=2).status_code in (200, 403),
                 what="qbittorrent-nox", proc=proc, log=str(log))
        yield url
    finally:
        stop_process(proc)


@pytest.fixture
def seeded(tmp_path):
    stack = stack_model.build({"apps": {"qbittorrent": {}}})
    [app] = [a for a in stack["apps"] if a["kind"] == "qbittorrent"]
    credentials = app_credentials.complete_credentials(stack, {}, os.urandom)[app["name"]]
    config = tmp_path / "config"
    config.mkdir()
    run_seed(stack, app, config, credentials)
    conf = config / "qBittorrent" / "qBittorrent.conf"
    assert conf.is_file(), "the seed wrote no /config/qBittorrent/qBittorrent.conf"
    seeded_text = conf.read_text(encoding="utf-8")
    with qbittorrent_started(config, conf, tmp_path) as url:
        yield {"stack": stack, "url": url, "credentials": credentials, "seeded": seeded_text, "config": config}


def preferences(seeded):
    url, credentials = seeded["url"], seeded["credentials"]
    with httpx.Client(base_url=url, headers={"Referer": url}, timeout=10) as client:
        login = client.post("/api/v2/auth/login",
                            data={"username": credentials["username"], "password": credentials["password"]})
        assert login.text == "Ok.", "the seeded WebUI login does not work: %r" % login.text
        resp = client.get("/api/v2/app/preferences")
        resp.raise_for_status()
        return resp.json()


def test_seeded_login_works(seeded):
    assert preferences(seeded)["web_ui_username"] == seeded["credentials"]["username"]


def test_downloads_go_under_the_torrents_root_with_automatic_management(seeded):
    prefs = preferences(seeded)
    torrents_root = seeded["stack"]["data"]["torrents_root"]
    save_path = prefs["save_path"].rstrip("/")
    assert save_path == torrents_root or save_path.startswith(torrents_root + "/"), (
        "qBittorrent saves to %r, not under %s (the seed must write [BitTorrent] Session\\DefaultSavePath); seeded:\n%s"
        % (prefs["save_path"], torrents_root, seeded["seeded"]))
    assert prefs["auto_tmm_enabled"] is True, (
        "automatic torrent management is off (the seed must write [BitTorrent] Session\\DisableAutoTMMByDefault=false)")
    if prefs.get("temp_path_enabled"):
        assert prefs["temp_path"].startswith(torrents_root + "/")


def test_a_password_rotated_in_the_secret_is_the_login_after_a_restart(tmp_path):
    """The seed runs before every start: it writes the Secret's login over the one a previous start kept, and the
    apps phase makes the stored form again when the password changed (complete_credentials)."""
    stack = stack_model.build({"apps": {"qbittorrent": {}}})
    [app] = [a for a in stack["apps"] if a["kind"] == "qbittorrent"]
    first = app_credentials.complete_credentials(stack, {}, os.urandom)[app["name"]]
    config = tmp_path / "config"
    config.mkdir()
    run_seed(stack, app, config, first)
    rotated = app_credentials.complete_credentials(stack, {app["name"]: dict(first, password="rotated-in-the-secret")},
                                                   os.urandom)[app["name"]]
    assert rotated["password_pbkdf2"] != first["password_pbkdf2"]
    assert app_credentials.complete_credentials(stack, {app["name"]: rotated}, os.urandom)[app["name"]] == rotated   # kept
    run_seed(stack, app, config, rotated)
    conf = config / "qBittorrent" / "qBittorrent.conf"
    text = conf.read_text(encoding="utf-8")
    assert 'WebUI\\Password_PBKDF2="%s"' % rotated["password_pbkdf2"] in text and first["password_pbkdf2"] not in text
    with qbittorrent_started(config, conf, tmp_path) as url:
        with httpx.Client(base_url=url, headers={"Referer": url}, timeout=10) as client:
            assert client.post("/api/v2/auth/login", data={"username": rotated["username"],
                                                           "password": "rotated-in-the-secret"}).text == "Ok."
