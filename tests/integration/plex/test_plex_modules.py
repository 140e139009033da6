"""plex_pin, plex_claim, plex_preferences, plex_library, plex_info and plex_links against the Plex and plex.tv doubles.

Each test runs its tasks in as few ansible-playbook runs as it can (a run costs about two seconds): the doubles' logs
say what each run sent."""

from __future__ import annotations

import httpx
import pytest

from tests.doubles.plex import PlexDouble, PlexTvDouble
from tests.lab.playbook import Playbook

pytestmark = pytest.mark.integration
ACCOUNT = "plex-account-token-5b1e0c7f"       # long and odd: Ansible hides a no_log value wherever it appears
FOLDERS = {"/data/media/movies", "/data/media/movies-4k", "/data/media/tv", "/data/media/music"}


@pytest.fixture
def plex_tv():
    app = PlexTvDouble(account_token=ACCOUNT)
    server = app.serve()
    app.url = server.url
    yield app
    server.stop()


def serve(app):
    server = app.serve()
    app.url = server.url
    return server


@pytest.fixture
def plex(plex_tv):
    app = PlexDouble(plex_tv=plex_tv, paths_exist=FOLDERS)
    server = serve(app)
    yield app
    server.stop()


def on(app, plex_tv=None, **options):
    args = {"url": app.url}
    if plex_tv is not None:
        args["plex_tv_url"] = plex_tv.url
    args.update(options)
    return args


def by_id(plex_tv, pin_id):
    return plex_tv.pins[int(pin_id)]


# -- plex_pin ----------------------------------------------------------------------------------------------------------
def test_pin_sign_in_in_two_calls_then_the_token_is_kept(tmp_path, plex_tv):
    """A code, the person signs in at plex.tv/link, the wait gets the token; a kept token asks for no code again; an
    expired code and a code nobody enters fail saying to run again."""
    playbook = Playbook(tmp_path)

    def pin(name, **options):
        args = dict({"client_identifier": "arrkestra-test", "plex_tv_url": plex_tv.url}, **options)
        return {"name": name, "arrkestra.homelab.plex_pin": args}
    made = playbook.run([dict(pin("check"), check_mode=True), pin("code"), pin("stale"), pin("slow"),
                         pin("revoked", token="no-longer-valid-token")])
    assert made["check"]["changed"] and made["check"]["code"] is None
    revoked = made["revoked"]               # a kept token plex.tv no longer takes: said so, and no PIN made
    assert not revoked["changed"] and revoked["token_valid"] is False and "pin_id" not in revoked
    assert any("no longer accepts the token" in w for w in revoked["warnings"])
    code = made["code"]
    assert code["changed"] and len(code["code"]) == 4 and code["url"] == "https://plex.tv/link"
    assert code["expires_in"] == 900 and "token" not in code
    assert len(plex_tv.pins) == 3                                       # none in check mode
    assert by_id(plex_tv, code["pin_id"])["clientIdentifier"] == "arrkestra-test"

    plex_tv.link_pin(code["code"], "pin-token-9d0c2b")                  # the person, at plex.tv/link
    by_id(plex_tv, made["stale"]["pin_id"])["_expires"] = 0
    waited = playbook.run([
        dict(pin("wait", pin_id=code["pin_id"], poll_interval=0.2), register="linked", no_log=False),
        pin("kept", token="{{ linked.token }}"),
        dict(pin("stale", pin_id=made["stale"]["pin_id"]), ignore_errors=True),
        dict(pin("slow", token="no-longer-valid-token", pin_id=made["slow"]["pin_id"], timeout=0.3, poll_interval=0.2),
             ignore_errors=True),
    ])
    wait = waited["wait"]
    assert wait["changed"] and wait["token"] == "pin-token-9d0c2b" and wait["username"] == "arrkestra"
    kept = waited["kept"]
    assert not kept["changed"] and kept["token_valid"] and kept["username"] == "arrkestra" and "pin_id" not in kept
    assert "code expired" in waited["stale"]["msg"] and "Run again for a new code" in waited["stale"]["msg"]
    slow = waited["slow"]                   # a token plex.tv no longer takes: warned, then the wait as without it
    assert "Nobody entered the plex.tv code" in slow["msg"] and "the code expired" in slow["msg"]
    assert any("no longer accepts the token" in w for w in slow["warnings"])
    assert len(plex_tv.pins) == 3                                       # no PIN made by the waits or the kept token
    assert plex_tv.writes() == [("POST", "/api/v2/pins")] * 3


# -- plex_claim --------------------------------------------------------------------------------------------------------
def test_claim_once_with_a_fresh_claim_token(tmp_path, plex_tv, plex):
    """Check mode writes nothing; the claim mints its claim token right before the POST; a re-run only reads; a server
    of another account and a server that refuses the claim fail, saying what to do."""
    other = PlexDouble(claimed=True, owner_token="other-account-token-77")
    remote = PlexDouble(plex_tv=plex_tv, client_is_local=False)
    servers = [serve(other), serve(remote)]
    try:
        result = Playbook(tmp_path).run([
            {"name": "check", "check_mode": True, "arrkestra.homelab.plex_claim": on(plex, plex_tv, token=ACCOUNT)},
            {"name": "claim", "arrkestra.homelab.plex_claim": on(plex, plex_tv, token=ACCOUNT)},
            {"name": "again", "arrkestra.homelab.plex_claim": on(plex, plex_tv, token=ACCOUNT)},
            {"name": "other", "ignore_errors": True, "arrkestra.homelab.plex_claim": on(other, plex_tv, token=ACCOUNT)},
            {"name": "remote", "ignore_errors": True, "arrkestra.homelab.plex_claim": on(remote, plex_tv, token=ACCOUNT)},
        ], diff=True)
    finally:
        for server in servers:
            server.stop()
    check, claim, again = result["check"], result["claim"], result["again"]
    assert check["changed"] and check["changes"] == ["claimed"] and check["diff"]["after"]["claimed"] is True
    assert claim["changed"] and claim["server"]["claimed"] and claim["server"]["username"] == "arrkestra"
    assert not again["changed"] and again["server"]["username"] == "arrkestra"
    assert plex.claimed and plex.owner_token == ACCOUNT
    assert plex.writes() == [("POST", "/myplex/claim")]                 # check mode and the re-run wrote nothing
    assert plex.log.count(("GET", "/identity")) == 4                    # every run starts there, and the claim re-reads it
    assert "claimed by another plex.tv account" in result["other"]["msg"]
    assert "refuses the token of arrkestra" in result["other"]["msg"] and other.writes() == []
    assert "refused to be claimed" in result["remote"]["msg"] and "PLEX_CLAIM_TOKEN" in result["remote"]["msg"]
    assert "network it sees as local" in result["remote"]["msg"] and not remote.claimed
    assert ACCOUNT not in str(result)


# -- plex_preferences --------------------------------------------------------------------------------------------------
def test_preferences_only_those_named_in_one_put(tmp_path, plex):
    plex.settings["ButlerStartHour"]["value"] = 4                       # set by hand: not named, kept
    wanted = {"FriendlyName": "Home", "AcceptedEULA": "true", "ManualPortMappingPort": 443,
              "ManualPortMappingMode": True, "secureConnections": 1}

    def prefs(name, preferences, **extra):
        return dict({"name": name, "arrkestra.homelab.plex_preferences": on(plex, preferences=preferences)}, **extra)
    result = Playbook(tmp_path).run([
        dict(prefs("check", wanted), check_mode=True), prefs("set", wanted), prefs("again", wanted),
        dict(prefs("unknown", {"acceptedEULA": True, "NoSuchPref": 1}), ignore_errors=True),
        dict(prefs("mistyped", {"ManualPortMappingPort": "many"}), ignore_errors=True),
    ], diff=True)
    check, done, again = result["check"], result["set"], result["again"]
    assert check["changed"] and check["changes"] == ["AcceptedEULA", "FriendlyName", "ManualPortMappingMode",
                                                     "ManualPortMappingPort"]
    assert check["diff"]["before"] == {"FriendlyName": "", "AcceptedEULA": False, "ManualPortMappingPort": 32400,
                                       "ManualPortMappingMode": False, "secureConnections": 1}
    assert done["changed"] and done["preferences"]["ManualPortMappingPort"] == 443 and done["preferences"]["AcceptedEULA"]
    assert not again["changed"] and again["changes"] == []
    assert plex.pref_writes == [{"AcceptedEULA": True, "FriendlyName": "Home", "ManualPortMappingMode": True,
                                 "ManualPortMappingPort": 443}]         # one PUT, with the changes only
    assert plex.writes() == [("PUT", "/:/prefs")] and plex.pref("ButlerStartHour") == 4
    assert "has no preference NoSuchPref; acceptedEULA (did you mean AcceptedEULA?)" in result["unknown"]["msg"]
    assert "ManualPortMappingPort is a whole number, and 'many' is not one" in result["mistyped"]["msg"]


# -- plex_library ------------------------------------------------------------------------------------------------------
def test_library_found_by_name_paths_replaced_then_deleted(tmp_path, plex):
    for dummy in range(2):          # two libraries of one name, made by hand
        assert httpx.post(plex.url + "/library/sections", params={"name": "Music", "type": "artist",
                                                                  "location": "/data/media/music"}).status_code == 200
    plex.reset_log()

    def lib(task, **options):
        return {"name": task, "arrkestra.homelab.plex_library": on(plex, **options)}
    movies = dict(name="Movies", type="movie", paths=["/data/media/movies"])
    result = Playbook(tmp_path).run([
        dict(lib("check", **movies), check_mode=True), lib("create", **movies),
        lib("more", name="movies", paths=["/data/media/movies-4k", "/data/media/movies/"]),
        lib("again", name="movies", type="movie", paths=["/data/media/movies", "/data/media/movies-4k"]),
        dict(lib("retype", name="Movies", type="show"), ignore_errors=True),
        dict(lib("missing", name="Shows", type="show", paths=["/data/media/shows"]), ignore_errors=True),
        dict(lib("twice", name="music", type="artist", paths=["/data/media/music"]), ignore_errors=True),
        lib("gone", name="Movies", state="absent"),
    ], diff=True)
    assert result["check"]["changed"] and result["check"]["library"]["key"] is None
    made = result["create"]["library"]
    assert result["create"]["changed"] and made["key"] == "3"
    assert (made["agent"], made["scanner"], made["language"]) == ("tv.plex.agents.movie", "Plex Movie", "en-US")
    more = result["more"]
    assert more["changed"] and more["changes"] == ["name", "paths"]     # renamed to the case given, folders replaced
    assert more["library"]["paths"] == ["/data/media/movies-4k", "/data/media/movies"]
    assert not result["again"]["changed"]                               # a re-run, the folders in another order
    assert "exists in Plex as movie, not show" in result["retype"]["msg"]
    assert "delete the library (state: absent)" in result["retype"]["msg"]
    assert "Plex does not see the folder '/data/media/shows'" in result["missing"]["msg"]
    assert "must exist inside the Plex container" in result["missing"]["msg"]
    assert "Plex has 2 libraries named 'music': key 1 (artist" in result["twice"]["msg"]
    assert result["gone"]["changed"] and result["gone"]["library"] == {}
    assert plex.writes() == [("POST", "/library/sections"), ("PUT", "/library/sections/3"),
                             ("DELETE", "/library/sections/3")]
    assert [s["title"] for s in plex.sections] == ["Music", "Music"]


# -- plex_links and plex_info --------------------------------------------------------------------------------------------
def links(plex, plex_tv, name="links", **options):
    args = on(plex, plex_tv, claim=True, preferences={"FriendlyName": "Arrkestra"},
              libraries=[{"name": "Movies", "type": "movie", "paths": ["/data/media/movies"]},
                         {"name": "Shows", "type": "show", "paths": ["/data/media/tv"], "state": "present"}])
    args.update(options)
    return {"name": name, "no_log": False, "arrkestra.homelab.plex_links": args}


def test_links_before_and_after_the_sign_in_then_read_only(tmp_path, plex_tv, plex):
    """Before the sign-in: what an unclaimed server lets a local client do, and a message saying to sign in; with the
    token: the claim; a re-run sends reads only (the double's log), and a claimed server without a token is left
    alone."""
    playbook = Playbook(tmp_path)
    first = playbook.run([dict(links(plex, plex_tv, "check"), check_mode=True), links(plex, plex_tv, "before"),
                          links(plex, plex_tv, "signed in", token=ACCOUNT)])
    before = first["before"]
    assert before["changed"] and before["needs_sign_in"] is True and before["claim"] is None
    assert "plex_signin" in before["msg"] and "not claimed yet" in before["msg"] and before["claimed"] is False
    assert [r["changed"] for r in before["libraries"]] == [True, True] and before["preferences"]["changed"]
    signed = first["signed in"]
    assert signed["changed"] and signed["claim"]["changed"] and signed["needs_sign_in"] is False
    assert not signed["preferences"]["changed"] and not any(r["changed"] for r in signed["libraries"])
    assert signed["claimed"] and "claimed by arrkestra" in signed["msg"]
    assert [s["title"] for s in plex.sections] == ["Movies", "Shows"] and plex.friendly_name() == "Arrkestra"
    assert plex.writes() == [("PUT", "/:/prefs"), ("POST", "/library/sections"), ("POST", "/library/sections"),
                             ("POST", "/myplex/claim")]                 # nothing from check mode

    plex.reset_log()
    again = playbook.run([
        links(plex, plex_tv, "again", token=ACCOUNT),
        {"name": "info", "arrkestra.homelab.plex_info": on(plex, token=ACCOUNT)},
        links(plex, plex_tv, "no token"),
    ])
    assert not again["again"]["changed"] and again["again"]["writes"] == 0
    assert plex.writes() == [] and {method for method, dummy in plex.log} == {"GET"}
    reads = [path for dummy, path in plex.log]
    assert reads.count("/library/sections") == 2 and reads.count("/:/prefs") == 2    # once by links, once by info
    assert reads.count("/identity") == 3                # all "no token" reads of the claimed server
    info = again["info"]
    assert info["identity"]["claimed"] and info["server"]["friendly_name"] == "Arrkestra"
    assert info["server"]["username"] == "arrkestra" and info["preferences"]["FriendlyName"] == "Arrkestra"
    assert [lib["name"] for lib in info["libraries"]] == ["Movies", "Shows"]
    locked = again["no token"]
    assert not locked["changed"] and locked["needs_sign_in"] and locked["libraries"] == []
    assert locked["preferences"] is None and "is claimed by a plex.tv account" in locked["msg"]
