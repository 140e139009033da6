"""Unit tests of the shared reconciler."""

import pytest

from ansible_collections.arrkestra.homelab.plugins.module_utils import _reconcile as r


def test_find_by_name_ignores_case():
    items = [{"id": 1, "name": "qBittorrent"}, {"id": 2, "name": "SABnzbd"}]
    assert r.find_by_name(items, "QBITTORRENT")["id"] == 1
    assert r.find_by_name(items, "nzbget") is None
    assert r.find_by_name(None, "x") is None
    assert r.find_by_name([{"label": "Movies"}], "movies", key="label") == {"label": "Movies"}


def test_deep_merge_keeps_omitted_keys_and_replaces_lists():
    current = {"a": 1, "b": {"c": 2, "d": 3}, "tags": [1, 2]}
    merged = r.deep_merge(current, {"b": {"c": 5}, "tags": [3]})
    assert merged == {"a": 1, "b": {"c": 5, "d": 3}, "tags": [3]}
    assert current == {"a": 1, "b": {"c": 2, "d": 3}, "tags": [1, 2]}


def test_differences_only_looks_at_desired_keys():
    current = {"a": 1, "b": {"c": 2, "d": 3}}
    assert r.differences(current, {"a": 1}) == []
    assert r.differences(current, {"a": 2, "b": {"c": 2, "e": 1}}) == ["a", "b.e"]
    assert r.differences(1, 2) == ["."]


def test_redact_hides_set_secrets_only():
    value = {"password": "s3cret", "apiKey": "", "nested": [{"password": None, "user": "u"}]}
    assert r.redact(value, ("password", "apiKey")) == {
        "password": r.HIDDEN, "apiKey": "", "nested": [{"password": None, "user": "u"}]}


class FakeModule:
    def __init__(self, params, check_mode=False, diff=True):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff
        self.exited = None

    def exit_json(self, **kwargs):
        self.exited = kwargs


class Things(r.Reconciler):
    """A reconciler over an in-memory store, to drive the engine."""

    result_key = "thing"
    secret_keys = ("password",)

    def __init__(self, module, store, params=None):
        super().__init__(module, params)
        self.store = store
        self.writes = []

    def fetch(self):
        return r.find_by_name(self.store, self.params["name"])

    def build(self, current):
        wanted = {"name": self.params["name"], "size": self.params["size"], "password": self.params["password"]}
        return r.deep_merge(current or {}, wanted)

    def compare(self, current, wanted):
        return r.differences(current, dict((k, v) for k, v in wanted.items() if k != "password"))

    def create(self, wanted):
        self.writes.append("create")
        self.store.append(wanted)
        return wanted

    def update(self, current, wanted):
        self.writes.append("update")
        current.update(wanted)
        return current

    def remove(self, current):
        self.writes.append("delete")
        self.store.remove(current)


def run(store, check_mode=False, diff=True, **params):
    params.setdefault("state", "present")
    params.setdefault("password", "pw")
    module = FakeModule(params, check_mode=check_mode, diff=diff)
    things = Things(module, store)
    return things.reconcile(), things.writes


@pytest.mark.parametrize("check_mode", [True, False])
def test_create_then_noop_then_update_then_delete(check_mode):
    store = []
    result, writes = run(store, check_mode=check_mode, name="One", size=1)
    assert result["changed"] is True
    assert result["diff"] == {"before": {}, "after": {"name": "One", "size": 1, "password": r.HIDDEN}}
    assert result["thing"]["password"] == r.HIDDEN
    if check_mode:
        assert writes == [] and store == []
        return
    assert writes == ["create"]

    result, writes = run(store, name="One", size=1)
    assert (result["changed"], writes, result["changes"]) == (False, [], [])

    # found whatever the case, and the new spelling is a change like any other
    result, writes = run(store, name="one", size=2)
    assert result["changed"] is True and writes == ["update"]
    assert result["changes"] == ["name", "size"]
    assert len(store) == 1
    assert result["diff"]["before"]["size"] == 1 and result["diff"]["after"]["size"] == 2

    result, writes = run(store, name="one", size=2, state="absent")
    assert result["changed"] is True and writes == ["delete"] and store == []
    assert result["diff"] == {"before": {"name": "one", "size": 2, "password": r.HIDDEN}, "after": {}}

    result, writes = run(store, name="one", size=2, state="absent")
    assert result["changed"] is False and writes == []


def test_no_diff_key_without_diff_mode():
    result, dummy = run([], diff=False, name="a", size=1)
    assert "diff" not in result


class FakeAnsibleModule(FakeModule):
    def __init__(self, check_mode=False, diff=True):
        super().__init__({}, check_mode=check_mode, diff=diff)
        self.no_log_values = set()
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)


@pytest.mark.parametrize("check_mode", [True, False])
def test_reconcile_items_runs_each_item_and_combines(check_mode):
    store = [{"name": "kept", "size": 1, "password": "x"}]
    module = FakeAnsibleModule(check_mode=check_mode)
    items = [{"name": "kept", "size": 1, "password": "x", "state": "present"},
             {"name": "new", "size": 2, "password": "y", "state": "present"}]
    made = []

    def make(params):
        made.append(Things(module, store, params))
        return made[-1]

    result = r.reconcile_items(items, make, lambda p: "thing %s" % p["name"], diff_mode=True)
    assert result["changed"] is True
    assert [x["changed"] for x in result["results"]] == [False, True]
    assert result["results"][1]["thing"]["password"] == r.HIDDEN
    assert result["diff"] == [{"before": {}, "after": {"name": "new", "size": 2, "password": r.HIDDEN},
                               "before_header": "thing new", "after_header": "thing new"}]
    assert [t.writes for t in made] == [[], [] if check_mode else ["create"]]
    assert module.exited is None  # the items never end the module's run


def test_reconcile_items_without_diff_mode_or_items():
    module = FakeAnsibleModule(diff=False)
    assert r.reconcile_items([], None, str) == {"changed": False, "results": []}
    assert module.exited is None
