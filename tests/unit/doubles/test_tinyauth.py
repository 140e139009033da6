"""tests/doubles/tinyauth.py: the sign-in, the session cookie and the forward-auth answers of tinyauth v5.0.7
(docs/research/sso.md section 1)."""

from __future__ import annotations

import base64
import uuid
from urllib.parse import parse_qs, urlsplit

import bcrypt
import httpx
import pytest

from tests.doubles import serve
from tests.doubles.tinyauth import TinyauthDouble, TinyauthStartError, cookie_domain, session_cookie_name

APP_URL = "http://sso.media.example.com"
PASSWORD = "correct horse"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
TARGET = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "radarr.media.example.com", "X-Forwarded-Uri": "/movies?x=1"}


@pytest.fixture
def tinyauth():
    app = TinyauthDouble(APP_URL, users={"admin": HASH})
    with app.serve() as server:
        yield server


def login(server, username="admin", password=PASSWORD):
    return httpx.post(server.url + "/api/user/login", json={"username": username, "password": password})


def test_cookie_domain_and_name_as_tinyauth_computes_them():
    assert cookie_domain("https://sso.media.example.com") == "media.example.com"
    assert cookie_domain("https://example.com:8443") == "example.com"
    for bad in ("http://localhost", "http://10.0.0.1"):
        with pytest.raises(TinyauthStartError):
            cookie_domain(bad)
    expected = "tinyauth-session-" + str(uuid.uuid5(uuid.NAMESPACE_URL, "sso.media.example.com"))[:8]
    assert session_cookie_name(APP_URL) == expected


def test_start_needs_an_app_url_and_users():
    with pytest.raises(TinyauthStartError, match="app URL cannot be empty"):
        TinyauthDouble("", users={"admin": HASH})
    with pytest.raises(TinyauthStartError, match="no authentication providers"):
        TinyauthDouble(APP_URL)
    with pytest.raises(TinyauthStartError, match="invalid user format"):
        TinyauthDouble(APP_URL, users_file="admin\n")
    app = TinyauthDouble(APP_URL, users="a:$$2b$$04$$x", users_file="\n b:%s \n" % HASH)    # $$ read as $
    assert sorted(app.users) == ["a", "b"] and app.users["a"][0] == "$2b$04$x"


def test_health_needs_no_sign_in(tinyauth):
    answer = httpx.get(tinyauth.url + "/api/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": 200, "message": "Healthy"})
    assert httpx.head(tinyauth.url + "/api/healthz").status_code == 200


def test_login_sets_the_session_cookie_on_the_parent_domain(tinyauth):
    wrong = login(tinyauth, password="nope")
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Unauthorized")
    assert login(tinyauth, username="ghost").status_code == 401
    ok = login(tinyauth)
    assert (ok.status_code, ok.json()) == (200, {"status": 200, "message": "Login successful"})
    cookie = ok.headers["Set-Cookie"]
    assert cookie.startswith(session_cookie_name(APP_URL) + "=")
    assert "Domain=.media.example.com" in cookie and "Path=/" in cookie and "HttpOnly" in cookie
    assert "Secure" not in cookie and "Max-Age=86400" in cookie
    assert httpx.post(tinyauth.url + "/api/user/login", content=b"{").status_code == 400


def test_lockout_after_three_failures(tinyauth):
    for dummy in range(3):
        assert login(tinyauth, password="nope").status_code == 401
    locked = login(tinyauth)
    assert locked.status_code == 429 and locked.headers["x-tinyauth-lock-locked"] == "true"


def test_forward_auth_not_signed_in(tinyauth):
    browser = httpx.get(tinyauth.url + "/api/auth/traefik", headers=dict(TARGET, **{"User-Agent": BROWSER}))
    assert browser.status_code == 307
    location = urlsplit(browser.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "sso.media.example.com", "/login")
    assert parse_qs(location.query) == {"redirect_uri": ["http://radarr.media.example.com/movies?x=1"]}
    script = httpx.get(tinyauth.url + "/api/auth/traefik", headers=dict(TARGET, **{"User-Agent": "curl/8"}))
    assert script.status_code == 401 and "Location" not in script.headers
    assert script.headers["x-tinyauth-location"] == browser.headers["Location"]
    missing = httpx.get(tinyauth.url + "/api/auth/traefik", headers={"X-Forwarded-Host": "radarr.media.example.com"})
    assert missing.status_code == 400


def test_forward_auth_signed_in_by_cookie_or_basic(tinyauth):
    cookie = login(tinyauth).headers["Set-Cookie"].split(";")[0]
    ok = httpx.post(tinyauth.url + "/api/auth/traefik", headers=dict(TARGET, Cookie=cookie))      # any method
    assert ok.status_code == 200
    assert (ok.headers["Remote-User"], ok.headers["Remote-Name"], ok.headers["Remote-Email"]) == (
        "admin", "Admin", "admin@media.example.com")
    assert "Remote-Sub" not in ok.headers
    basic = "Basic " + base64.b64encode(b"admin:" + PASSWORD.encode()).decode()
    by_basic = httpx.get(tinyauth.url + "/api/auth/traefik", headers=dict(TARGET, Authorization=basic))
    assert by_basic.status_code == 200 and by_basic.headers["Authorization"] == basic
    context = httpx.get(tinyauth.url + "/api/context/user", headers={"Cookie": cookie}).json()
    assert context["isLoggedIn"] and context["username"] == "admin"


def test_logout_ends_the_session(tinyauth):
    cookie = login(tinyauth).headers["Set-Cookie"].split(";")[0]
    out = httpx.post(tinyauth.url + "/api/user/logout", headers={"Cookie": cookie})
    assert out.status_code == 200 and "Max-Age=-1" in out.headers["Set-Cookie"]
    after = httpx.get(tinyauth.url + "/api/auth/traefik", headers=dict(TARGET, Cookie=cookie))
    assert after.status_code == 401
    assert httpx.get(tinyauth.url + "/api/context/user").json()["isLoggedIn"] is False


def test_ui_paths(tinyauth):
    page = httpx.get(tinyauth.url + "/login?redirect_uri=x")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert httpx.get(tinyauth.url + "/api/nothing").status_code == 404


def test_serve_reads_the_image_environment(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "users").write_text("admin:%s\n" % HASH, encoding="utf-8")
    env = {"TINYAUTH_APPURL": "https://sso.home.example.org", "TINYAUTH_AUTH_USERSFILE": "/etc/users",
           "TINYAUTH_AUTH_SECURECOOKIE": "true", "TINYAUTH_DATABASE_PATH": "/config/tinyauth.db"}
    app, port, source = serve.make("tinyauth", env, str(tmp_path))
    assert (port, app.cookie_domain, app.secure_cookie, list(app.users)) == (3000, "home.example.org", True, ["admin"])
    assert "TINYAUTH_AUTH_USERSFILE" in source and (tmp_path / "config" / "tinyauth.db").exists()
    with app.serve() as server:
        assert "Secure" in login(server).headers["Set-Cookie"]
    assert serve.main(["tinyauth", "--check"], env={"TINYAUTH_APPURL": APP_URL}, root=str(tmp_path)) == 1
    env = {"TINYAUTH_APPURL": APP_URL, "TINYAUTH_AUTH_USERS": "admin:" + HASH}
    assert serve.main(["tinyauth", "--check"], env=env, root=str(tmp_path)) == 0
