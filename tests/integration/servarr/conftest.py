"""Playbook-level tests of the Servarr modules against the doubles and real download clients."""

import pytest

from tests.doubles.servarr import ServarrDouble
from tests.lab.playbook import API_KEY, Playbook  # noqa: F401 pylint: disable=unused-import
from tests.lab.clients import nzbget, qbittorrent, transmission  # noqa: F401 pylint: disable=unused-import


@pytest.fixture
def playbook(tmp_path):
    return Playbook(tmp_path)


def _double(kind):
    app = ServarrDouble(kind, api_key=API_KEY)
    server = app.serve()
    app.url = server.url
    yield app
    server.stop()
    app.assert_contract()


@pytest.fixture
def radarr():
    yield from _double("radarr")


@pytest.fixture
def sonarr():
    yield from _double("sonarr")


@pytest.fixture
def lidarr():
    yield from _double("lidarr")


@pytest.fixture
def prowlarr():
    yield from _double("prowlarr")


def conn(app):
    return {"url": app.url, "api_key": API_KEY}
