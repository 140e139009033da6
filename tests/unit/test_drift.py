"""plugins/plugin_utils/drift.py: rows from the results of a check-mode run, the table, the summary, the exit code
and the JSON report. The results are shaped as kubernetes.core.k8s 6.2.0 (runner.py, service.py) and the
collection's links modules (_reconcile.py) give them; the links module's result below is what
``reconcile_groups`` returns for real reconcilers (built here with the module's own code)."""

from __future__ import annotations

import json

from ansible_collections.arrkestra.homelab.plugins.module_utils import _reconcile
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import drift, stackmap

DEPLOYMENT = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "radarr", "namespace": "media", "resourceVersion": "812", "generation": 3,
                           "labels": {"app.kubernetes.io/instance": "radarr", "app.kubernetes.io/name": "radarr"}},
              "spec": {"replicas": 1, "template": {"spec": {"containers": [
                  {"name": "radarr", "image": "lscr.io/linuxserver/radarr:5.26"}]}}},
              "status": {"replicas": 0}}


def k8s_update():
    """kubernetes.core.k8s, apply, check+diff mode, on a Deployment scaled to 0 by hand (runner.py:213-226)."""
    return {"changed": True, "method": "apply", "result": DEPLOYMENT,
            "diff": {"before": {"metadata": {"generation": 2, "resourceVersion": "811",
                                             "managedFields": [{"manager": "kubectl"}]}, "spec": {"replicas": 0}},
                     "after": {"metadata": {"generation": 3, "resourceVersion": "812",
                                            "managedFields": [{"manager": "arrkestra"}]}, "spec": {"replicas": 1}}},
            "invocation": {"module_args": {"apply": True}}}


def k8s_create(kind="ConfigMap", name="radarr-config", data=None):
    """apply on an object that does not exist: existing is {} (runner.py:213-217): the diff's after is all of it."""
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "media",
                                                          "labels": {"app.kubernetes.io/instance": "radarr"}},
           "data": data or {"a": "b"}}
    return {"changed": True, "method": "apply", "result": obj, "diff": {"before": {}, "after": obj}}


def k8s_secret_update():
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "radarr-credentials", "namespace": "media",
                                                              "labels": {"app.kubernetes.io/instance": "radarr"}},
           "data": {"api_key": "bmV3LWtleS12YWx1ZQ=="}, "type": "Opaque"}
    return {"changed": True, "method": "apply", "result": obj,
            "diff": {"before": {"data": {"api_key": "b2xkLWtleS12YWx1ZQ=="}},
                     "after": {"data": {"api_key": "bmV3LWtleS12YWx1ZQ=="}}}}


def unchanged():
    return {"changed": False, "method": "apply", "result": DEPLOYMENT, "diff": {}}


class FakeModule:
    check_mode = True
    _diff = True

    def __init__(self, params):
        self.params = params


class Store(_reconcile.Reconciler):
    """A reconciler over a dict of resources by name, as the links modules' are over an app's collection."""

    result_key = "resource"
    secret_keys = ("password",)

    def __init__(self, module, store, params):
        super().__init__(module, params)
        self.store = store

    def fetch(self):
        return _reconcile.find_by_name(self.store, self.params["name"])

    def build(self, current):
        wanted = dict((k, v) for k, v in self.params.items() if k != "state")
        return _reconcile.deep_merge(current or {}, wanted)


def links_result(module_args, store):
    module = FakeModule(module_args)
    groups = [(name, lambda params, name=name: Store(module, store[name], params),
               lambda p, name=name: "%s %s" % (name[:-1], p["name"]))
              for name in ("download_clients", "applications")]
    result = _reconcile.reconcile_groups(module, groups)
    result["invocation"] = {"module_args": module_args}
    result["wiring_app"] = {"name": "radarr", "kind": "radarr"}
    result["ansible_loop_var"] = "wiring_app"
    return result


def test_a_scaled_down_deployment_is_one_row_of_spec_replicas():
    assert drift.rows_of("apps", "Deployments of the apps", k8s_update()) == [{
        "phase": "apps", "app": "radarr", "object": "Deployment/radarr", "field": "spec.replicas", "declared": "1",
        "actual": "0", "action": "update", "link": None}]


def test_an_object_to_create_is_one_row():
    assert drift.rows_of("apps", "Objects", k8s_create()) == [{
        "phase": "apps", "app": "radarr", "object": "ConfigMap/radarr-config", "field": "(object)", "declared": "present",
        "actual": "absent", "action": "create", "link": None}]


def test_an_existing_object_gaining_a_whole_key_is_an_update_not_a_create():
    result = {"changed": True, "method": "apply", "result": dict(DEPLOYMENT, kind="ConfigMap"),
              "diff": {"before": {}, "after": {"data": {"x": "1"}}}}
    assert [(r["field"], r["declared"], r["actual"], r["action"]) for r in drift.rows_of("apps", "t", result)] == [
        ("data.x", "1", "(none)", "update")]


def test_a_list_definition_gives_a_row_per_changed_object():
    """A list of definitions: result.results[] (runner.py:125-128)."""
    result = {"changed": True, "result": {"results": [unchanged(), k8s_update(), k8s_create()]}}
    rows = drift.rows_of("apps", "Objects of the apps", result)
    assert [(r["object"], r["field"], r["action"]) for r in rows] == [
        ("Deployment/radarr", "spec.replicas", "update"), ("ConfigMap/radarr-config", "(object)", "create")]


def test_a_secret_never_shows_its_value():
    rows = drift.rows_of("apps", "Secrets", k8s_secret_update())
    assert rows == [{"phase": "apps", "app": "radarr", "object": "Secret/radarr-credentials", "field": "data.api_key",
                     "declared": "(secret)", "actual": "(secret)", "action": "update", "link": None}]
    assert "bmV3" not in json.dumps(rows) and "b2xk" not in json.dumps(rows)


def test_a_no_log_task_is_one_row_all_secret():
    censored = {"changed": True, "censored": "the output has been hidden due to the fact that 'no_log: true' was "
                                             "specified for this result", "_ansible_no_log": True}
    assert drift.rows_of("apps", "Secrets of the apps", censored, censored=True) == [{
        "phase": "apps", "app": None, "object": "Secrets of the apps", "field": "(secret)", "declared": "(secret)",
        "actual": "(secret)", "action": "update", "link": None}]


def test_a_deleted_object_of_a_removed_app():
    result = {"changed": True, "method": "delete", "result": {}, "apps_gone": {"kind": "Deployment", "name": "lidarr"},
              "ansible_loop_var": "apps_gone", "invocation": {"module_args": {"kind": "Deployment", "name": "lidarr"}}}
    assert drift.rows_of("apps", "Delete", result) == [{
        "phase": "apps", "app": None, "object": "Deployment/lidarr", "field": "(object)", "declared": "absent",
        "actual": "present", "action": "delete", "link": None}]


def test_server_managed_fields_and_unchanged_results_give_no_row():
    result = {"changed": True, "method": "apply", "result": DEPLOYMENT,
              "diff": {"before": {"metadata": {"managedFields": [1], "generation": 1}, "status": {"replicas": 0}},
                       "after": {"metadata": {"managedFields": [2], "generation": 2}, "status": {"replicas": 1}}}}
    assert drift.rows_of("apps", "t", result) == []
    assert drift.rows_of("apps", "t", unchanged()) == []


def test_containers_are_compared_by_name():
    before = {"spec": {"template": {"spec": {"containers": [{"name": "radarr", "image": "a:1"}, {"name": "x", "image": "b"}]}}}}
    after = {"spec": {"template": {"spec": {"containers": [{"name": "radarr", "image": "a:2"}, {"name": "x", "image": "b"}]}}}}
    result = {"changed": True, "method": "apply", "result": DEPLOYMENT, "diff": {"before": before, "after": after}}
    assert [(r["field"], r["declared"], r["actual"]) for r in drift.rows_of("apps", "t", result)] == [
        ("spec.template.spec.containers[radarr].image", "a:2", "a:1")]


def test_links_module_rows_carry_the_link_id():
    """A category changed by hand, a deleted application (to create again), one removed (to delete), secrets hidden."""
    store = {"download_clients": [{"name": "qbittorrent", "fields": {"movieCategory": "movies"}, "password": "s3cr3t-old"}],
             "applications": [{"name": "sonarr", "baseUrl": "http://sonarr"}]}
    args = {"download_clients": [{"name": "qbittorrent", "fields": {"movieCategory": "radarr"}, "password": "s3cr3t-new"}],
            "applications": [{"name": "radarr", "baseUrl": "http://radarr"}, {"name": "sonarr", "state": "absent"}]}
    result = links_result(args, store)
    rows = drift.rows_of("wiring", "Login and links of each arr app and of Prowlarr", result)
    assert rows == [
        {"phase": "wiring", "app": "radarr", "object": "download_client qbittorrent", "field": "fields.movieCategory",
         "declared": "radarr", "actual": "movies", "action": "update", "link": "radarr/download_clients/qbittorrent"},
        {"phase": "wiring", "app": "radarr", "object": "download_client qbittorrent", "field": "password",
         "declared": "(secret)", "actual": "(secret)", "action": "update", "link": "radarr/download_clients/qbittorrent"},
        {"phase": "wiring", "app": "radarr", "object": "application radarr", "field": "(object)", "declared": "present",
         "actual": "absent", "action": "create", "link": "radarr/applications/radarr"},
        {"phase": "wiring", "app": "radarr", "object": "application sonarr", "field": "(object)", "declared": "absent",
         "actual": "present", "action": "delete", "link": "radarr/applications/sonarr"}]
    assert "s3cr3t" not in json.dumps(rows)


def test_a_loop_of_links_modules_reads_each_item():
    store = {"download_clients": [], "applications": []}
    one = links_result({"download_clients": [{"name": "sabnzbd"}], "applications": []}, store)
    same = links_result({"download_clients": [], "applications": []}, store)
    loop = {"changed": True, "results": [one, same], "msg": "All items completed"}
    rows = drift.rows_of("wiring", "Links", loop)
    assert [(r["link"], r["action"]) for r in rows] == [("radarr/download_clients/sabnzbd", "create")]


def test_any_other_changed_task_is_one_row_with_its_name():
    assert drift.rows_of("platform", "Write a file", {"changed": True, "dest": "/x"}) == [{
        "phase": "platform", "app": None, "object": "Write a file", "field": "(task)", "declared": "changed",
        "actual": "unchanged", "action": "update", "link": None}]
    assert drift.rows_of("platform", "Skipped", {"changed": False, "skipped": True}) == []


def test_an_app_that_does_not_answer_is_a_named_error():
    result = {"failed": True, "msg": "radarr (radarr) did not answer at https://127.0.0.1:6443/api/v1/namespaces/media/"
                                     "services/http:radarr:7878/proxy within 10 s (Status code was 503). Nothing of "
                                     "radarr was wired."}
    error = drift.error_of("wiring", "Say which app is not answering: radarr", result)
    assert error["app"] == "radarr" and error["phase"] == "wiring"
    assert error["message"].startswith("radarr (radarr) did not answer at")
    looped = drift.error_of("apps", "Read", {"results": [{"failed": True, "msg": "no", "apps_app": {"name": "sonarr"},
                                                          "ansible_loop_var": "apps_app"}]})
    assert looped == {"phase": "apps", "app": "sonarr", "message": "Read: no"}
    # the report goes on past it (wiring_keep_going: the failure is ignored) and still counts it; no other failure
    assert drift.not_answering(result) and not drift.not_answering(looped) and not drift.not_answering(None)


def test_phase_from_the_play_name_or_the_role():
    assert drift.phase_of("Wiring phase: link the apps to each other through their APIs") == "wiring"
    assert drift.phase_of("Apps phase: run the media stack on the cluster") == "apps"
    assert drift.phase_of("Platform phase: load balancer, ingress") == "platform"
    assert drift.phase_of("Nodes phase: prepare the OS") == "nodes"
    assert drift.phase_of("something", "arrkestra.homelab.k3s") == "nodes"
    assert drift.phase_of("Drift report: refuse") is None


def test_exit_codes_like_terraform_detailed_exitcode():
    row = drift.rows_of("apps", "t", k8s_update())[0]
    error = {"phase": "wiring", "app": "radarr", "message": "x"}
    assert drift.exit_code([], []) == 0
    assert drift.exit_code([row], []) == 2
    assert drift.exit_code([row], [error]) == 1
    assert drift.exit_code([], [error]) == 1


def test_summary_counts_objects_apps_and_phases():
    rows = (drift.rows_of("apps", "t", k8s_update())
            + drift.rows_of("wiring", "t", links_result({"download_clients": [{"name": "q", "fields": {"c": "radarr"}}],
                                                         "applications": [{"name": "radarr"}]},
                                                        {"download_clients": [{"name": "q", "fields": {"c": "x"}}],
                                                         "applications": []})))
    assert drift.summary(rows, []) == "Drift: 3 objects differ in 1 app (apps 1, wiring 2); 0 errors"
    assert drift.summary([], []) == "In sync: nothing differs; 0 errors"
    assert drift.summary([], [{"phase": "wiring", "app": "radarr", "message": "x"}]) == \
        "In sync: nothing differs; 1 error (radarr)"
    assert drift.summary(rows[:1], []) == "Drift: 1 object differs in 1 app (apps 1); 0 errors"


def test_table_is_aligned_one_line_per_row():
    rows = drift.rows_of("apps", "t", k8s_update()) + drift.rows_of("apps", "t", k8s_create())
    rows.append(drift.row("wiring", "prowlarr", "application radarr", "(object)", "present", "absent", "create",
                          "prowlarr/applications/radarr"))
    text = drift.table(rows)
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0].split() == ["PHASE", "APP", "OBJECT", "OR", "LINK", "FIELD", "DECLARED", "ACTUAL", "ACTION"]
    starts = [lines[0].index(title) for title in ("APP", "OBJECT OR LINK", "FIELD", "DECLARED", "ACTUAL", "ACTION")]
    for line in lines[1:]:
        for start in starts:
            assert line[start - 2:start] == "  " and line[start] != " ", (line, start)
    assert "prowlarr/applications/radarr" in lines[3]      # a link shows its id
    long = drift.row("apps", "x", "o", "f", "y" * 200, "z", "update")
    assert max(len(line) for line in drift.table([long]).splitlines()) < 120


def test_report_is_json_with_apps_and_links_and_no_credential():
    model = {"namespace": "media", "apps": [
        {"name": "radarr", "kind": "radarr", "url": "http://radarr.media.svc.cluster.local:7878",
         "web_url": "https://radarr.media.home.arpa", "secret": "radarr-credentials", "env": {"API_KEY": "k"}},
        {"name": "qbittorrent", "kind": "qbittorrent", "url": "http://qbittorrent.media.svc.cluster.local:8080",
         "web_url": None}]}
    links = [{"id": "radarr/download_clients/qbittorrent", "app": "radarr", "group": "download_clients",
              "to": "qbittorrent", "item": {"name": "qbittorrent"}, "secrets": {"password": ["qbittorrent", "password"]}}]
    rows = drift.rows_of("apps", "t", k8s_update())
    document = drift.report("media", rows, [], model, links, 12.34)
    assert json.loads(json.dumps(document)) == document
    assert document["stack"] == "media" and document["exit_code"] == 2 and document["in_sync"] is False
    assert document["duration"] == 12.3 and document["rows"] == rows and document["errors"] == []
    assert document["apps"][0] == {"name": "radarr", "kind": "radarr", "url": "http://radarr.media.svc.cluster.local:7878",
                                   "web_url": "https://radarr.media.home.arpa", "node": None, "external": False,
                                   "cronjob": False}
    assert document["links"] == [{"id": "radarr/download_clients/qbittorrent", "app": "radarr",
                                  "group": "download_clients", "to": "qbittorrent",
                                  "url": "http://qbittorrent.media.svc.cluster.local:8080", "detail": []}]
    assert document["nodes"] == []
    with_nodes = drift.report("media", [], [], dict(model, nodes={"pi-1": "192.168.1.11"}), links)
    assert with_nodes["nodes"] == [{"name": "pi-1", "address": "192.168.1.11"}]
    assert "pi-1" in stackmap.svg_from_report(with_nodes)
    # the map is drawn from the document alone (scripts/drift.sh --map)
    picture = stackmap.svg_from_report(document)
    assert 'data-link="radarr/download_clients/qbittorrent"' in picture
    assert "API_KEY" not in json.dumps(document) and "secrets" not in json.dumps(document)
    assert drift.report("media", [], [], None, None)["in_sync"] is True
