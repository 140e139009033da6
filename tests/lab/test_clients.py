"""The real download clients start on loopback with the credentials they announce."""

import subprocess

import pytest

from tests.lab.clients import NZBGet, QBittorrent, Transmission

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("cls", [QBittorrent, Transmission, NZBGet], ids=lambda c: c.name)
def test_client_logs_in_and_listens_on_loopback_only(cls, tmp_path):
    with cls(str(tmp_path)) as client:
        assert client.check_login(client.username, client.password)
        assert not client.check_login(client.username, "wrong-password")
        sockets = subprocess.run(["ss", "-tulnpH"], capture_output=True, text=True, check=True).stdout
        mine = [line.split()[4] for line in sockets.splitlines() if "pid=%d," % client.proc.pid in line]
        assert mine
        for local in mine:
            assert local.startswith(("127.0.0.1", "[::1]")), local
