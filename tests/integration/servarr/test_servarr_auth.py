"""servarr_auth through ansible-playbook, against the Servarr doubles' host config and UI login."""

import pytest

from tests.doubles.servarr import ServarrDouble
from tests.integration.servarr.conftest import API_KEY, conn

pytestmark = pytest.mark.integration


def auth_task(app, name="auth", **extra):
    args = dict(conn(app), app=app.kind, username="Admin", password="first-secret")
    args.update(extra)
    return {"name": name, "arrkestra.homelab.servarr_auth": args}


def state(app):
    return (dict(app.config_xml), app.user_writes, dict(app.user) if app.user else None)


def test_login_is_set_once_then_left_alone(playbook, radarr):
    assert radarr.ui_auth() == {"method": "none", "required": "enabled", "username": None}  # upstream default

    # check mode: would change, writes nothing
    result = playbook.run([auth_task(radarr)], check=True, diff=True)
    assert result["auth"]["changed"]
    assert result["auth"]["changes"] == ["method", "username", "password"]
    assert result["auth"]["diff"]["after"]["password"] == "<hidden>"
    assert "first-secret" not in str(result)
    assert radarr.writes() == [] and radarr.user is None

    # first run: one GET, one PUT; the UI now asks for a login
    radarr.reset_log()
    result = playbook.run([auth_task(radarr)])
    assert result["auth"]["changed"], result
    assert result["auth"]["auth"] == {"method": "forms", "required": "enabled", "username": "admin",
                                      "password": "<hidden>"}
    assert radarr.log == [("GET", "/api/v3/config/host"), ("PUT", "/api/v3/config/host/1")]
    assert radarr.ui_auth() == {"method": "forms", "required": "enabled", "username": "admin"}
    assert radarr.password_is("first-secret")

    # second run, same inputs: one GET, zero writes
    radarr.reset_log()
    before = state(radarr)
    result = playbook.run([auth_task(radarr)])
    assert not result["auth"]["changed"] and result["auth"]["changes"] == []
    assert radarr.log == [("GET", "/api/v3/config/host")]
    assert radarr.writes() == [] and state(radarr) == before

    # a new password is not noticed with on_create (the app reads back a salted hash only)...
    result = playbook.run([auth_task(radarr, password="second-secret")])
    assert not result["auth"]["changed"] and radarr.password_is("first-secret")


def test_password_rotation_verify_and_always(playbook, sonarr):
    sonarr.set_user("admin", "old-secret")
    sonarr.config_xml["AuthenticationMethod"] = "Forms"

    # verify: the sign-in fails with the new password, so it is written; the method stays
    result = playbook.run([auth_task(sonarr, password="new-secret", update_password="verify")])
    assert result["auth"]["changed"] and result["auth"]["changes"] == ["password"], result
    assert sonarr.password_is("new-secret")
    assert [m for m, p in sonarr.writes()] == ["POST", "PUT"]

    # verify again: the sign-in succeeds, nothing is stored (the sign-in is the only POST)
    sonarr.reset_log()
    before = state(sonarr)
    result = playbook.run([auth_task(sonarr, password="new-secret", update_password="verify")])
    assert not result["auth"]["changed"], result
    assert sonarr.writes() == [("POST", "/login")] and state(sonarr) == before

    # always: rewritten (a new salt), reported as a change
    result = playbook.run([auth_task(sonarr, password="new-secret", update_password="always")])
    assert result["auth"]["changed"] and result["auth"]["changes"] == ["password"]
    assert sonarr.password_is("new-secret") and sonarr.user["password"] != before[2]["password"]


def test_method_change_keeps_the_password(playbook, lidarr):
    lidarr.set_user("admin", "kept-secret")
    result = playbook.run([auth_task(lidarr, password="other", required="disabled_for_local_addresses")])
    assert result["auth"]["changes"] == ["method", "required"], result
    # the stored hash went back as the password: the app kept it
    assert lidarr.password_is("kept-secret")
    assert lidarr.ui_auth()["required"] == "disabledForLocalAddresses"


def test_environment_override_is_named(playbook, tmp_path):
    app = ServarrDouble("prowlarr", api_key=API_KEY, auth_method_env="External")
    server = app.serve()
    app.url = server.url
    try:
        result = playbook.run([dict(auth_task(app), ignore_errors=True)])
        assert result["auth"]["failed"]
        assert "PROWLARR__AUTH__METHOD" in result["auth"]["msg"], result["auth"]["msg"]
        # forms without a user is refused by the module before any request
        result = playbook.run([{"name": "auth", "ignore_errors": True, "arrkestra.homelab.servarr_auth": dict(
            conn(app), app="prowlarr", method="forms")}])
        assert result["auth"]["failed"] and "username" in result["auth"]["msg"]
    finally:
        server.stop()
    app.assert_contract()
