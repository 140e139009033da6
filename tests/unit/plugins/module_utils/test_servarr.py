"""Unit tests of the Servarr reconcilers, against an in-memory httpx transport."""

import json

import httpx
import pytest

from ansible_collections.arrkestra.homelab.plugins.module_utils import servarr
from ansible_collections.arrkestra.homelab.plugins.module_utils._http import ApiError, HttpClient
from ansible_collections.arrkestra.homelab.plugins.module_utils._reconcile import HIDDEN, MASK

SCHEMA = [{
    "implementation": "QBittorrent", "implementationName": "qBittorrent", "configContract": "QBittorrentSettings",
    "protocol": "torrent", "enable": False, "priority": 1, "tags": [], "presets": [],
    "fields": [
        {"name": "host", "value": "localhost", "privacy": "normal"},
        {"name": "port", "value": 8080, "privacy": "normal"},
        {"name": "username", "privacy": "userName"},
        {"name": "password", "privacy": "password"},
        {"name": "movieCategory", "value": "radarr", "privacy": "normal"},
    ],
}]


class FakeModule:
    def __init__(self, **params):
        self.params = dict(name="qBittorrent", state="present", implementation=None, tags=None, fields=None,
                           update_secrets=False, verify=False, force_save=False, api_key="k")
        self.params.update(params)
        self.check_mode = False
        self._diff = True
        self.no_log_values = set()
        self.result = None

    def exit_json(self, **result):
        self.result = result


class FakeApp:
    """Just enough of a Radarr: downloadclient, schema, tag, test."""

    def __init__(self, clients=(), tags=(), test_failures=None):
        self.clients = [json.loads(json.dumps(c)) for c in clients]
        self.tags = list(tags)
        self.test_failures = test_failures
        self.seen = []

    def __call__(self, request):
        path = request.url.path
        self.seen.append((request.method, path))
        body = json.loads(request.content) if request.content else None
        if path == "/api/v3/downloadclient/schema":
            return httpx.Response(200, json=SCHEMA)
        if path == "/api/v3/downloadclient" and request.method == "GET":
            return httpx.Response(200, json=self.clients)
        if path == "/api/v3/downloadclient" and request.method == "POST":
            body["id"] = 7
            return httpx.Response(201, json=body)
        if path.startswith("/api/v3/downloadclient/") and request.method == "PUT":
            return httpx.Response(202, json=body)
        if path == "/api/v3/downloadclient/test":
            if self.test_failures:
                return httpx.Response(400, json=self.test_failures)
            return httpx.Response(200)
        if path == "/api/v3/tag" and request.method == "GET":
            return httpx.Response(200, json=self.tags)
        if path == "/api/v3/tag" and request.method == "POST":
            tag = {"id": 10 + len(self.tags), "label": body["label"]}
            self.tags.append(tag)
            return httpx.Response(201, json=tag)
        if path == "/api":
            return httpx.Response(200, json={"current": "v1", "deprecated": []})
        return httpx.Response(404)


def session_for(module, fake, app="radarr"):
    info = servarr.APPS[app]
    client = HttpClient("http://radarr.test", info.title, api_root=info.api_root, retries=0,
                        error_parser=servarr.servarr_error_parser, transport=httpx.MockTransport(fake))
    return servarr.ServarrSession(module, app, client=client)


def reconciler(module, fake):
    return servarr.ProviderReconciler(module, session_for(module, fake), "downloadclient", "download client",
                                      "download_client", option_fields=servarr.CLIENT_OPTION_FIELDS,
                                      top_level=servarr.CLIENT_TOP_LEVEL, defaults={"enable": True, "priority": 1})


def stored(password=MASK, **values):
    fields = [dict(f) for f in SCHEMA[0]["fields"]]
    for f in fields:
        if f["name"] == "password":
            f["value"] = password
        if f["name"] in values:
            f["value"] = values[f["name"]]
    item = dict(SCHEMA[0], id=3, name="qBittorrent", enable=True, fields=fields)
    item.pop("presets")
    return item


def field(resource, name):
    return dict((f["name"], f.get("value")) for f in resource["fields"])[name]


def test_create_builds_from_schema_writes_secret_and_creates_tags():
    module = FakeModule(implementation="qbittorrent", host="qbt", password="s3cret", category="movies",
                        tags=["Torrents"])
    fake = FakeApp()
    module.result = reconciler(module, fake).reconcile()
    result = module.result
    assert result["changed"]
    post = [s for s in fake.seen if s[0] == "POST"]
    assert post == [("POST", "/api/v3/tag"), ("POST", "/api/v3/downloadclient")]
    assert result["download_client"]["fields"]["password"] == HIDDEN
    assert result["download_client"]["fields"]["movieCategory"] == "movies"
    assert result["download_client"]["fields"]["port"] == 8080  # schema default kept
    assert result["download_client"]["tags"] == ["torrents"]
    assert "s3cret" in module.no_log_values
    assert "s3cret" not in json.dumps(result)


def test_noop_reads_each_collection_once_and_never_compares_secrets():
    module = FakeModule(host="localhost", password="anything", category="radarr")
    fake = FakeApp(clients=[stored()])
    module.result = reconciler(module, fake).reconcile()
    assert module.result["changed"] is False
    assert fake.seen == [("GET", "/api/v3/downloadclient")]


def test_update_keeps_mask_and_sends_complete_fields():
    module = FakeModule(port=9090, password="new")
    fake = FakeApp(clients=[stored()])
    rec = reconciler(module, fake)
    plan = rec.plan()
    assert plan.action == "update" and plan.changes == ["fields.port"]
    assert field(plan.after, "password") == MASK  # a PUT with the mask keeps the stored secret
    assert len(plan.after["fields"]) == len(SCHEMA[0]["fields"])


def test_update_secrets_rewrites_and_reports_it():
    module = FakeModule(password="new", update_secrets=True)
    rec = reconciler(module, FakeApp(clients=[stored()]))
    plan = rec.plan()
    assert plan.changes == ["fields.password (secret, rewritten)"]
    assert field(plan.after, "password") == "new"


def test_verify_rewrites_secret_on_authentication_failure():
    failures = [{"propertyName": "Username", "errorMessage": "Authentication failure", "severity": "error",
                 "isWarning": False}]
    module = FakeModule(password="right", verify=True)
    plan = reconciler(module, FakeApp(clients=[stored()], test_failures=failures)).plan()
    assert plan.action == "update" and field(plan.after, "password") == "right"


def test_verify_other_failure_is_reported_with_a_hint():
    failures = [{"propertyName": "Host", "errorMessage": "Unable to connect to qBittorrent", "severity": "error",
                 "isWarning": False}]
    module = FakeModule(password="right", verify=True)
    with pytest.raises(ApiError) as err:
        reconciler(module, FakeApp(clients=[stored(host="qbt")], test_failures=failures)).plan()
    assert "Host: Unable to connect to qBittorrent" in str(err.value)
    assert "Radarr cannot reach qBittorrent at http://qbt:8080" in str(err.value)
    assert "reachable from Radarr, not from the controller" in str(err.value)


def test_mask_given_as_secret_and_unknown_field_are_refused():
    with pytest.raises(ApiError, match="is the mask"):
        reconciler(FakeModule(implementation="QBittorrent", password=MASK), FakeApp()).plan()
    with pytest.raises(ApiError, match="has no field hots") as err:
        reconciler(FakeModule(implementation="QBittorrent", fields={"hots": 1}), FakeApp()).plan()
    assert "host, movieCategory" in err.value.hint


def test_unknown_implementation_lists_valid_ones():
    with pytest.raises(ApiError) as err:
        reconciler(FakeModule(implementation="utorrent"), FakeApp()).plan()
    assert "no download client implementation 'utorrent'" in err.value.message
    assert err.value.hint == "Use one of: QBittorrent."


def test_404_names_the_api_the_app_has():
    module = FakeModule()
    session = session_for(module, lambda request: (httpx.Response(200, json={"current": "v1"})
                                                   if request.url.path == "/api" else httpx.Response(404)))
    with pytest.raises(ApiError) as err:
        session.get("/downloadclient")
    assert "has API v1, not v3: it is not Radarr" in err.value.message


def test_error_parser_and_auth_detection():
    resp = httpx.Response(400, json=[{"propertyName": "MovieCategory", "errorMessage": "Category is recommended",
                                      "isWarning": True, "severity": "warning"}])
    message, details = servarr.servarr_error_parser(resp)
    assert message == "MovieCategory: Category is recommended (warning)"
    assert details[0]["isWarning"]
    assert servarr.is_auth_failure([{"propertyName": "ApiKey", "errorMessage": "API Key is invalid"}])
    assert not servarr.is_auth_failure([{"propertyName": "Host", "errorMessage": "Unable to connect"}])


def test_check_mode_writes_nothing_even_for_new_tags():
    module = FakeModule(implementation="QBittorrent", tags=["new"])
    module.check_mode = True
    fake = FakeApp()
    module.result = reconciler(module, fake).reconcile()
    assert module.result["changed"]
    assert module.result["download_client"]["tags"] == ["new"]
    assert [s for s in fake.seen if s[0] != "GET"] == []
