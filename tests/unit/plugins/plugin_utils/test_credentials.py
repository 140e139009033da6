# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apps' credentials: made once, kept, and the restart when what an app reads at start rotates."""

from __future__ import annotations

import itertools

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import (
    credentials as app_credentials, model as stack_model, workloads)


def counter():
    numbers = itertools.count(1)
    return lambda n: bytes([next(numbers) % 256]) * n


def test_credentials_are_kept_and_only_missing_ones_made():
    stack = stack_model.build({"apps": {"radarr": {}, "qbittorrent": {}, "jellyfin": {}}})
    counter = itertools.count(1)

    def random_bytes(n):
        return bytes([next(counter) % 256]) * n

    first = app_credentials.complete_credentials(stack, {}, random_bytes)
    assert len(first["radarr"]["api_key"]) == 32 and first["jellyfin"]["username"] == "admin"
    assert first["qbittorrent"]["password_pbkdf2"].startswith("@ByteArray(")
    again = app_credentials.complete_credentials(stack, first, random_bytes)
    assert again == first
    partial = app_credentials.complete_credentials(stack, {"radarr": {"api_key": "k" * 32}}, random_bytes)
    assert partial["radarr"]["api_key"] == "k" * 32 and partial["radarr"]["password"]   # a Secret of an older run
    assert app_credentials.missing_credentials(stack, first) == {}
    assert app_credentials.missing_credentials(stack, {}) == {
        "radarr": ["api_key", "username", "password"], "qbittorrent": ["username", "password", "password_pbkdf2"],
        "jellyfin": ["username", "password"]}


def test_qbittorrent_hash_matches_what_qbittorrent_checks():
    import base64
    import hashlib
    value = app_credentials.qbittorrent_pbkdf2("secret", b"0123456789abcdef")
    salt, key = value[len("@ByteArray("):-1].split(":")
    assert base64.b64decode(salt) == b"0123456789abcdef"
    assert base64.b64decode(key) == hashlib.pbkdf2_hmac("sha512", b"secret", b"0123456789abcdef", 100000, 64)


def test_an_app_restarts_only_when_what_it_reads_at_start_was_rotated():
    from ansible_collections.arrkestra.homelab.plugins.filter.stack import stack_restart_on_credentials
    stack = stack_model.build({})
    objects = [o for o in workloads.objects(stack) if o["kind"] == "Deployment"]
    credentials = app_credentials.complete_credentials(stack, {}, lambda n: bytes(range(n)))

    def digests(creds):
        return dict((o["metadata"]["name"], (o["spec"]["template"]["metadata"].get("annotations") or {}).get(
            app_credentials.CREDENTIALS_ANNOTATION)) for o in stack_restart_on_credentials(objects, stack, creds))

    before = digests(credentials)
    assert before["jellyfin"] is None and before["radarr"] and before["qbittorrent"]   # Jellyfin reads none
    with_key = dict(credentials, jellyfin=dict(credentials["jellyfin"], api_key="made-by-the-wiring"))
    assert digests(with_key) == before
    rotated = dict(credentials, radarr=dict(credentials["radarr"], api_key="f" * 32))
    assert [n for n, d in digests(rotated).items() if d != before[n]] == ["radarr"]
    login = dict(credentials, radarr=dict(credentials["radarr"], password="new"))    # set through the API
    assert digests(login) == before
    assert credentials["radarr"]["api_key"] not in repr(digests(credentials))
