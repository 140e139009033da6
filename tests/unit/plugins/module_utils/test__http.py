"""Unit tests of the shared HTTP client."""

import httpx
import pytest

from ansible_collections.arrkestra.homelab.plugins.module_utils._http import ApiError, HttpClient


def make_client(handler, **kwargs):
    kwargs.setdefault("sleep", lambda seconds: None)
    return HttpClient("http://app.test:7878/", "Radarr", api_root="api/v3",
                      headers={"X-Api-Key": "k"}, transport=httpx.MockTransport(handler), **kwargs)


def test_get_parses_json_sends_headers_and_reads_version():
    seen = {}

    def handler(request):
        seen["url"] = str(request.url)
        seen["key"] = request.headers.get("X-Api-Key")
        return httpx.Response(200, json=[{"id": 1}], headers={"X-Application-Version": "6.0.3.10276"})

    client = make_client(handler)
    assert client.get("/downloadclient") == [{"id": 1}]
    assert seen == {"url": "http://app.test:7878/api/v3/downloadclient", "key": "k"}
    assert client.app_version == "6.0.3.10276"
    assert client.requests == [("GET", "/api/v3/downloadclient")]
    assert client.write_count == 0


def test_raw_path_skips_api_root():
    client = make_client(lambda request: httpx.Response(200, json={"status": "OK"}))
    assert client.get("/ping", raw_path=True) == {"status": "OK"}
    assert client.requests == [("GET", "/ping")]


def test_retries_get_on_503_then_succeeds_with_backoff():
    answers = iter([httpx.Response(503), httpx.Response(502), httpx.Response(200, json={})])
    waits = []
    client = make_client(lambda request: next(answers), sleep=waits.append)
    assert client.get("/x") == {}
    assert waits == [0.5, 1.0]


def test_post_is_not_retried_on_5xx():
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(503, text="busy")

    client = make_client(handler)
    with pytest.raises(ApiError) as err:
        client.post("/downloadclient", {"name": "x"})
    assert len(calls) == 1
    assert err.value.status == 503
    assert "Radarr at http://app.test:7878 is unavailable: POST /api/v3/downloadclient answered 503: busy" \
        in str(err.value)
    assert "the app is down, starting or restarting" in str(err.value)


def test_connection_error_is_retried_then_explained():
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ConnectError("Connection refused")

    client = make_client(handler, retries=2)
    with pytest.raises(ApiError) as err:
        client.post("/downloadclient", {})
    assert len(calls) == 3
    message = str(err.value)
    assert "Cannot connect to Radarr at http://app.test:7878" in message
    assert "Connection refused" in message
    assert "reachable from the host that runs this module" in message
    assert err.value.status is None


def test_timeout_message_names_the_app_and_limit():
    def handler(request):
        raise httpx.ReadTimeout("timed out")

    client = make_client(handler, retries=0, timeout=5)
    with pytest.raises(ApiError, match=r"Radarr at http://app.test:7878 did not answer GET /api/v3/x within 5 seconds"):
        client.get("/x")


def test_401_says_to_check_the_key():
    client = make_client(lambda request: httpx.Response(401, text="<html><body>Unauthorized</body></html>"))
    with pytest.raises(ApiError) as err:
        client.get("/system/status")
    assert err.value.status == 401
    assert "unauthorized (401)." in str(err.value)
    assert "Check the API key" in str(err.value)
    assert "<html" not in str(err.value)


def test_404_points_at_url_base():
    client = make_client(lambda request: httpx.Response(404))
    with pytest.raises(ApiError, match="Check that `url` points at Radarr"):
        client.get("/nothing")


def test_error_parser_hook_gives_app_words():
    def parser(response):
        body = response.json()
        return "; ".join(e["errorMessage"] for e in body), body

    body = [{"propertyName": "Name", "errorMessage": "Should be unique"}]
    client = make_client(lambda request: httpx.Response(400, json=body), error_parser=parser)
    with pytest.raises(ApiError) as err:
        client.post("/downloadclient", {})
    assert str(err.value) == "Radarr rejected POST /api/v3/downloadclient (400): Should be unique"
    assert err.value.details == body
    assert err.value.to_result()["request"] == "POST http://app.test:7878/api/v3/downloadclient"


def test_default_parser_reads_json_message_and_plain_text():
    client = make_client(lambda request: httpx.Response(400, json={"message": "Bad thing"}))
    with pytest.raises(ApiError, match="Bad thing"):
        client.get("/a")
    client = make_client(lambda request: httpx.Response(400, text="Path does not exist"))
    with pytest.raises(ApiError, match="Path does not exist"):
        client.get("/a")


def test_expected_non_2xx_status_is_returned():
    client = make_client(lambda request: httpx.Response(409, headers={"X-Transmission-Session-Id": "abc"}))
    response = client.request("POST", "/transmission/rpc", raw_path=True, expect=(409,))
    assert response.status == 409
    assert response.headers["X-Transmission-Session-Id"] == "abc"


def test_text_body_and_empty_body():
    client = make_client(lambda request: httpx.Response(200, text="Ok.", headers={"content-type": "text/plain"}))
    assert client.post("/auth/login") == "Ok."
    client = make_client(lambda request: httpx.Response(200, text=""))
    assert client.delete("/tag/1") is None
    assert client.write_count == 1
