"""The double framework itself: routing, auth, request log, contract checks."""

import os

import httpx
import pytest

from tests.doubles._base import DoubleApp, Reply, api_key_auth

SPEC = os.path.join(os.path.dirname(__file__), "specs", "radarr-v3.openapi.json")


class Tagger(DoubleApp):
    name = "Tagger"
    version = "9.9"
    spec = SPEC

    def __init__(self):
        super().__init__(auth=api_key_auth("k"), credentials={"header": {"X-Api-Key": "k"}})
        self.add_route("GET", "/ping", lambda r: Reply(200, {"status": "OK"}), public=True)
        self.add_route("GET", "/api/v3/tag/{id}", lambda r: Reply(200, {"id": int(r.params["id"]), "label": "a"}))
        self.add_route("POST", "/api/v3/tag", lambda r: Reply(201, dict(r.json, id=1)))


@pytest.fixture
def tagger():
    with Tagger().serve() as server:
        yield server


def test_auth_styles_version_header_and_log(tagger):
    assert httpx.get(tagger.url + "/ping").json() == {"status": "OK"}
    assert httpx.get(tagger.url + "/api/v3/tag/3").status_code == 401
    for kwargs in ({"headers": {"X-Api-Key": "k"}}, {"headers": {"Authorization": "Bearer k"}},
                   {"params": {"apikey": "k"}}):
        resp = httpx.get(tagger.url + "/api/v3/tag/3", **kwargs)
        assert resp.json() == {"id": 3, "label": "a"}
        assert resp.headers["X-Application-Version"] == "9.9"
    assert httpx.get(tagger.url + "/nowhere").status_code == 404
    assert len(tagger.app.log) == 6 and tagger.app.writes() == []
    tagger.app.assert_contract()


def test_2xx_answers_are_checked_against_the_documented_answer(tagger):
    resp = httpx.post(tagger.url + "/api/v3/tag", json={"label": "x"}, headers={"X-Api-Key": "k"})
    assert resp.status_code == 201 and resp.json() == {"label": "x", "id": 1}
    assert tagger.app.writes() == [("POST", "/api/v3/tag")]
    tagger.app.assert_contract()


def test_contract_violations_answer_500_and_are_recorded(tagger):
    resp = httpx.post(tagger.url + "/api/v3/tag", json={"label": "x", "bogus": 1}, headers={"X-Api-Key": "k"})
    assert resp.status_code == 500 and "OpenAPI contract violation" in resp.text
    assert "bogus" in tagger.app.violations[0]
    with pytest.raises(AssertionError):
        tagger.app.assert_contract()
