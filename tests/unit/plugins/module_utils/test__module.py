"""Unit tests of the shared module plumbing."""

import pytest

from ansible_collections.arrkestra.homelab.plugins.module_utils import _module


class Failed(Exception):
    pass


class FakeModule:
    def __init__(self, params):
        self.params = params

    def fail_json(self, **kwargs):
        raise Failed(kwargs["msg"])


def test_connection_spec_is_a_copy_with_secret_key_hidden():
    spec = _module.connection_spec()
    assert spec["api_key"]["no_log"] is True
    assert "required" not in spec["api_key"]
    spec["url"]["required"] = False
    assert _module.CONNECTION_SPEC["url"]["required"] is True


def test_require_api_key_says_where_to_find_it():
    _module.require_api_key(FakeModule({"api_key": "k"}), "Settings > General")
    with pytest.raises(Failed, match=r"`api_key` is required: the API key of the app \(Settings > General\)"):
        _module.require_api_key(FakeModule({"api_key": None}), "Settings > General")
