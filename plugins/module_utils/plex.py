# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plex Media Server and plex.tv: the PIN sign-in, the claim, preferences and libraries.

Plex Media Server is closed source: what these modules rely on was read in its clients, python-plexapi 4.16.1
(``pkkid/python-plexapi@4.16.1``), andrey-yantsen/plex-api.rs (``37f2a7f``) and Seerr v3.1.0, and in the home-operations
image (``home-operations/containers@a9b84a4``); each fact is cited where it is used, and listed in
docs/upstream-facts.md ("Plex Media Server 1.43 and plex.tv").

- The token goes in the ``X-Plex-Token`` header (python-plexapi ``plexapi/server.py:164-170``, ``plexapi/myplex.py:859-869``):
  the Kubernetes API server's service proxy removes only ``Authorization``, so it reaches Plex through the proxy.
- ``Accept: application/json`` makes Plex answer ``{"MediaContainer": {...}}`` and plex.tv's ``/api/v2`` answer
  plain JSON instead of XML (LukeHagar/plex-api-spec@ae9507e ``plex-api-spec.yaml:13508-13517``; Seerr
  ``server/api/plexapi.ts:94-128``); :func:`container` also reads the XML form, for answers that stay XML.
- The ``X-Plex-*`` headers name the client; plex.tv ties a PIN to ``X-Plex-Client-Identifier``
  (python-plexapi ``plexapi/config.py:54-69``, ``plexapi/myplex.py:1865-1871``).
"""

from __future__ import annotations

import base64
import difflib
import re
import time
from xml.etree import ElementTree

from ._http import ApiError, HttpClient, default_error_parser
from ._module import client_from_module, link_groups, new_module, run_in_session, run_links_module, run_reconciler
from ._reconcile import Reconciler, reconcile_items

PLEX_TV_URL = "https://plex.tv"
#: Where a person types the 4-character code of a PIN (python-plexapi plexapi/myplex.py:1656-1658, 1711-1718).
LINK_URL = "https://plex.tv/link"
#: The client identifier the server modules send; plex_pin takes its own (a PIN is tied to it).
CLIENT_IDENTIFIER = "arrkestra-homelab"
PRODUCT = "Arrkestra"
SIGN_IN = "ansible-playbook arrkestra.homelab.plex_signin"
SECTION_TYPES = ("movie", "show", "artist", "photo")
#: Section type -> (agent, scanner, language) when the task leaves them out: the modern pairs python-plexapi's CI
#: makes its libraries with (tools/plex-bootstraptest.py:554-619 at 4.16.1).
SECTION_DEFAULTS = {
    "movie": ("tv.plex.agents.movie", "Plex Movie", "en-US"),
    "show": ("tv.plex.agents.series", "Plex TV Series", "en-US"),
    "artist": ("tv.plex.agents.music", "Plex Music", "en-US"),
    "photo": ("com.plexapp.agents.none", "Plex Photo Scanner", "en"),
}
#: How long a section POST is tried again while Plex says it is still starting up (seconds): python-plexapi's CI
#: retries for a minute on that answer (tools/plex-bootstraptest.py:264-280).
STARTING_UP_WAIT = 60
#: How long a plex.tv PIN lives (seconds): ``expiresIn`` of a new PIN (plex-api.rs tests/mocks/myplex/api/v2/pins_new.json).
PIN_LIFETIME = 900


def plex_headers(client_identifier):
    """What every request to Plex or plex.tv carries: JSON answers, and who the client is."""
    return {"Accept": "application/json", "X-Plex-Product": PRODUCT, "X-Plex-Version": "1",
            "X-Plex-Client-Identifier": client_identifier, "X-Plex-Platform": "Ansible", "X-Plex-Device": "Ansible",
            "X-Plex-Device-Name": PRODUCT, "X-Plex-Provides": "controller"}


def _flag(value):
    """A Plex flag as a bool: JSON gives true/false, XML "1"/"0" (python-plexapi plexapi/server.py:1303-1307)."""
    return value in (True, 1, "1", "true", "True")


def _xml_dict(element):
    """An XML element as Plex's JSON form: attributes as fields, children as lists named by their tag."""
    out = dict(element.attrib)
    for child in element:
        out.setdefault(child.tag, []).append(_xml_dict(child))
    return out


def container(body):
    """The ``MediaContainer`` of an answer, from JSON or from XML (Plex's default); {} for an empty answer."""
    if isinstance(body, dict):
        inner = body.get("MediaContainer", body)
        return inner if isinstance(inner, dict) else {}
    if isinstance(body, str) and body.lstrip().startswith("<"):
        try:
            return _xml_dict(ElementTree.fromstring(body.strip()))
        except ElementTree.ParseError:
            return {}
    return {}


def pms_error_parser(response):
    """Plex answers errors with a small HTML page (python-plexapi keeps its text, plexapi/server.py:761-770): its text,
    unless it only repeats the status."""
    text = response.text or ""
    if "<html" not in text[:200].lower():
        return default_error_parser(response)
    body = re.search(r"<body[^>]*>(.*)</body>", text, re.S | re.I)
    words = " ".join(re.sub(r"<[^>]+>", " ", body.group(1) if body else "").split())
    if not words or re.match(r"^\d{3} [A-Za-z ]+$", words):
        return "", None
    return words[:300], None


def plex_tv_error_parser(response):
    """plex.tv's v2 errors: ``{"errors": [{"code", "message", "status"}]}``; anything else as usual."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"]:
        first = body["errors"][0]
        if isinstance(first, dict) and first.get("message"):
            return str(first["message"]), body
    return default_error_parser(response)


# -- plex.tv ---------------------------------------------------------------------------------------------------------
class PlexTv:
    """plex.tv for one run: the account of a token, claim tokens, PINs."""

    def __init__(self, url, client_identifier, timeout=30.0, retries=3, validate_certs=True, ca_path=None):
        self.client = HttpClient(url or PLEX_TV_URL, "plex.tv", headers=plex_headers(client_identifier), timeout=timeout,
                                 retries=retries, validate_certs=validate_certs, ca_path=ca_path,
                                 error_parser=plex_tv_error_parser)

    def account(self, token):
        """The account of ``token`` (``GET /api/v2/user``, python-plexapi plexapi/myplex.py:117, 128-130), or None when
        plex.tv refuses the token."""
        resp = self.client.request("GET", "/api/v2/user", headers={"X-Plex-Token": token}, expect=(401, 403))
        if resp.status != 200 or not isinstance(resp.body, dict):
            return None
        return resp.body

    def claim_token(self, token):
        """A new claim token of the account (``GET /api/claim/token.json``, python-plexapi plexapi/myplex.py:859-869),
        minted right before it is used: it lives about 4 minutes (plex-api.rs crates/plex-api/src/myplex/claim_token.rs:10)."""
        resp = self.client.request("GET", "/api/claim/token.json", headers={"X-Plex-Token": token}, expect=(401, 403))
        if resp.status != 200:
            raise ApiError("plex.tv refused the account token when asked for a claim token (%d)." % resp.status,
                           hint="The token was revoked (a password change on plex.tv signs every device out) or is not "
                                "a plex.tv account token. Sign in again: `%s`." % SIGN_IN, status=resp.status)
        claim = (resp.body or {}).get("token") if isinstance(resp.body, dict) else None
        if not claim:
            raise ApiError("plex.tv gave no claim token (GET /api/claim/token.json answered %r)." % str(resp.body)[:80])
        return claim

    def create_pin(self):
        """A new PIN in plain mode, whose 4-character code a person types at plex.tv/link (``POST /api/v2/pins``
        without ``strong``: python-plexapi plexapi/myplex.py:1808-1823; 201, plex-api.rs crates/plex-api/src/myplex/pin.rs:41-62)."""
        pin = self.client.post("/api/v2/pins")
        if not isinstance(pin, dict) or not pin.get("id") or not pin.get("code"):
            raise ApiError("plex.tv answered POST /api/v2/pins without a PIN: %r." % str(pin)[:120])
        return pin

    def pin(self, pin_id):
        """The PIN as plex.tv has it now (``GET /api/v2/pins/{id}``, python-plexapi plexapi/myplex.py:1825-1843); None
        when plex.tv no longer has it for this client (expired: python-plexapi counts any error as expiry, :1845-1853)."""
        resp = self.client.request("GET", "/api/v2/pins/%s" % pin_id, expect=(404, 410))
        if resp.status != 200 or not isinstance(resp.body, dict):
            return None
        return resp.body

    def close(self):
        self.client.close()


# -- a Plex Media Server ---------------------------------------------------------------------------------------------
class PlexSession:
    """One Plex server for one run: its identity read once, the token sent once the server is claimed, preferences
    and libraries read once (again after a write), plex.tv opened when the claim needs it."""

    def __init__(self, module):
        self.module = module
        p = module.params
        self.token = p.get("token") or None
        self.client = client_from_module(module, "Plex", headers=plex_headers(CLIENT_IDENTIFIER),
                                         error_parser=pms_error_parser)
        self.claimed = None
        self._identity = None
        self._settings = None
        self._sections = None
        self._plex_tv = None

    # -- plex.tv ---------------------------------------------------------------------------------------------------------
    def plex_tv(self):
        """plex.tv, at ``plex_tv_url``; its certificate is checked against the system's CAs (the TLS options are
        for ``url``, which may be the Kubernetes API server)."""
        if self._plex_tv is None:
            p = self.module.params
            self._plex_tv = PlexTv(p.get("plex_tv_url"), CLIENT_IDENTIFIER, timeout=p["timeout"], retries=p["retries"])
        return self._plex_tv

    # -- requests --------------------------------------------------------------------------------------------------------
    def request(self, method, path, **kwargs):
        try:
            return self.client.request(method, path, **kwargs)
        except ApiError as exc:
            if exc.status == 401:
                raise self._refused(exc, method, path)
            raise

    def get(self, path, **kwargs):
        return container(self.request("GET", path, **kwargs).body)

    def _refused(self, exc, method, path):
        where = "Plex at %s" % self.client.base_url
        if self.claimed and self.token:
            return ApiError("%s refuses the account token (401 on %s %s): the server is claimed by another plex.tv "
                            "account, or plex.tv no longer accepts the token." % (where, method, path),
                            hint="Sign in again as the account that owns the server (`%s`); a server claimed by "
                                 "another account must first be released by its owner (DELETE /myplex/account with "
                                 "the owner's token)." % SIGN_IN, status=401, method=exc.method, url=exc.url)
        if self.claimed:
            return ApiError("%s is claimed by a plex.tv account and refuses requests without its token (401 on %s %s)."
                            % (where, method, path),
                            hint="Give `token`: the account token the Plex sign-in keeps (`%s`)." % SIGN_IN,
                            status=401, method=exc.method, url=exc.url)
        return ApiError("%s is not claimed and refuses this client (401 on %s %s): an unclaimed Plex serves only clients "
                        "it sees as local, and only those in allowedNetworks when that is set." % (where, method, path),
                        hint="Run the module from a network Plex sees as local, or claim the server (plex_claim, in the "
                             "browser from the LAN, or PLEX_CLAIM_TOKEN in the image's environment) and give `token`.",
                        status=401, method=exc.method, url=exc.url)

    # -- identity --------------------------------------------------------------------------------------------------------
    def identity(self, fresh=False):
        """``GET /identity``, which answers without a token, claimed or not (plex-api-spec.yaml:1214-1243;
        python-plexapi plexapi/server.py:192-195, 1291-1307). Once the server is claimed, the token is sent with every
        request; an unclaimed server gets none, as python-plexapi's CI talks to one (tests/conftest.py:168-175)."""
        if self._identity is None or fresh:
            found = self.get("/identity")
            if not found.get("machineIdentifier"):
                raise ApiError("%s does not look like Plex Media Server (GET /identity has no machineIdentifier)."
                               % self.client.base_url,
                               hint="Check that `url` points at Plex (port 32400, or its ingress).")
            self._identity = {"claimed": _flag(found.get("claimed")), "machine_identifier": found["machineIdentifier"],
                              "version": found.get("version")}
            self.claimed = self._identity["claimed"]
            if self.claimed and self.token:
                self.client.headers["X-Plex-Token"] = self.token
        return self._identity

    @property
    def locked(self):
        """Whether the server is claimed and the task has no token to show it: nothing but /identity can be read."""
        return bool(self.identity()["claimed"] and not self.token)

    def server(self):
        """``GET /``: the server's name and sign-in state (python-plexapi plexapi/server.py:119-162)."""
        root = self.get("/")
        return {"friendly_name": root.get("friendlyName"), "machine_identifier": root.get("machineIdentifier"),
                "version": root.get("version"), "platform": root.get("platform"),
                "signin_state": root.get("myPlexSigninState"), "username": root.get("myPlexUsername") or None,
                "mapping_state": root.get("myPlexMappingState")}

    # -- preferences and libraries ---------------------------------------------------------------------------------------
    def settings(self):
        """The ``Setting`` elements of ``GET /:/prefs`` (python-plexapi plexapi/settings.py:35-43, 114-128), read once."""
        if self._settings is None:
            self._settings = [s for s in self.get("/:/prefs").get("Setting") or [] if isinstance(s, dict) and s.get("id")]
        return self._settings

    def forget_settings(self):
        self._settings = None

    def sections(self):
        """The ``Directory`` elements of ``GET /library/sections`` with their ``Location`` children (python-plexapi
        plexapi/library.py:50-68, 434-451), read once."""
        if self._sections is None:
            self._sections = [d for d in self.get("/library/sections").get("Directory") or [] if isinstance(d, dict)]
        return self._sections

    def forget_sections(self):
        self._sections = None

    def sees_folder(self, path):
        """Whether Plex sees ``path``: its parent, browsed with ``GET /services/browse/<base64 parent>?includeFiles=0``,
        lists it - python-plexapi's check before it adds a library path (plexapi/server.py:342-359, 388-397;
        plexapi/library.py:375-381; plexapi/utils.py:624-625)."""
        parent = path.rsplit("/", 1)[0] or "/"
        encoded = base64.b64encode(parent.encode("utf-8")).decode("ascii")
        resp = self.client.request("GET", "/services/browse/" + encoded, params={"includeFiles": "0"}, expect=(400, 404))
        if resp.status != 200:
            return False
        listed = [_norm(p.get("path")) for p in container(resp.body).get("Path") or [] if isinstance(p, dict)]
        return _norm(path) in listed

    def close(self):
        self.client.close()
        if self._plex_tv is not None:
            self._plex_tv.close()


def _norm(path):
    return path.rstrip("/") if path and path != "/" else path


# -- the claim -------------------------------------------------------------------------------------------------------
class ClaimReconciler(Reconciler):
    """The server claimed by the account of ``token``. A claimed server is only checked: the token must open it. An
    unclaimed one gets a claim token minted on the spot and asks Plex to claim itself with it."""

    result_key = "server"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session

    def fetch(self):
        identity = self.session.identity()
        current = dict(identity, username=None)
        if identity["claimed"]:
            try:
                current["username"] = self.session.server()["username"]
            except ApiError as exc:
                if exc.status != 401:
                    raise
                raise self._other_account()
        return current

    def _other_account(self):
        """Why a claimed server refuses the token: another account owns it, or plex.tv no longer takes the token."""
        account = self.session.plex_tv().account(self.session.token)
        url = self.session.client.base_url
        if account is None:
            return ApiError("plex.tv no longer accepts the account token, and Plex at %s, claimed, refuses it." % url,
                            hint="Sign in again (`%s`): a password change on plex.tv signs every device out." % SIGN_IN,
                            status=401)
        return ApiError("Plex at %s is claimed by another plex.tv account: it refuses the token of %s." %
                        (url, account.get("username") or account.get("email") or "the account given"),
                        hint="Sign in as the account that owns the server (`%s`), or have its owner release it first "
                             "(in Plex Web, or DELETE /myplex/account with the owner's token); a server set up by "
                             "mistake can also start over with an empty config volume." % SIGN_IN, status=401)

    def build(self, current):
        return dict(current, claimed=True)

    def compare(self, current, wanted):
        return [] if current["claimed"] else ["claimed"]

    def update(self, current, wanted):
        session = self.session
        claim = session.plex_tv().claim_token(session.token)
        # python-plexapi sends the claim token as a query parameter, and no token to the unclaimed server
        # (plexapi/server.py:202-213); Plex answers with its MyPlex account, which is not needed here (re-read below).
        try:
            session.client.request("POST", "/myplex/claim", params={"token": claim})
        except ApiError as exc:
            raise self._refused(exc)
        identity = session.identity(fresh=True)
        if not identity["claimed"]:
            raise self._refused(None)
        return dict(identity, username=session.server()["username"])

    def _refused(self, exc):
        said = ""
        if exc is not None:
            if exc.status is None:      # no answer: not a refusal
                return exc
            detail = exc.message.split(": ", 1)[1] if ": " in exc.message else ""
            said = " (POST /myplex/claim answered %d%s)" % (exc.status, ": " + detail if detail else "")
        return ApiError(
            "Plex at %s refused to be claimed%s. Plex takes a claim only from a client on a network it sees as local "
            "(python-plexapi: 'only with an unclaimed server on localhost or the same subnet'), and it must reach "
            "plex.tv to exchange the claim token." % (self.session.client.base_url, said),
            hint="Claim it from the LAN in a browser (open Plex's web address and follow its prompt; the next run finds "
                 "it claimed by the account of `token` and goes on), or let the image claim it at start: mint a claim "
                 "token at https://plex.tv/claim, put it in the pod's PLEX_CLAIM_TOKEN and restart Plex within 4 "
                 "minutes.", status=exc.status if exc is not None else None)

    def create(self, wanted):  # pragma: no cover - a server always exists
        return self.update(None, wanted)

    def remove(self, current):  # pragma: no cover - no state: absent
        return None


def run_claim(module):
    run_reconciler(module, PlexSession, lambda session: ClaimReconciler(module, session))


# -- preferences -----------------------------------------------------------------------------------------------------
def typed(kind, value):
    """``value`` as a value of a setting of type ``kind`` (bool, int, double, text: python-plexapi
    plexapi/settings.py:105-112); ValueError when it is none."""
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(value)
    if kind == "int":
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return int(str(value).strip())
    if kind == "double":
        if isinstance(value, bool):
            raise ValueError(value)
        return float(str(value).strip())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def wire(kind, value):
    """A typed value as the query of ``PUT /:/prefs`` takes it: bools as true/false, the rest as text
    (python-plexapi plexapi/settings.py:105-112, 152-164)."""
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


class PreferencesReconciler(Reconciler):
    """The preferences the task names, and only those: read from ``GET /:/prefs``, compared as values of their
    setting's type, and written in one ``PUT /:/prefs?<id>=<value>&...`` with every change (python-plexapi
    plexapi/settings.py:73-87; plex-api.rs crates/plex-api/src/server/prefs.rs:55-78)."""

    result_key = "preferences"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.wanted = dict(self.params.get("preferences") or {})
        self._types = {}

    def fetch(self):
        if not self.wanted:
            return {}
        settings = dict((s["id"], s) for s in self.session.settings())
        unknown = [k for k in self.wanted if k not in settings]
        if unknown:
            raise ApiError("Plex %s has no preference %s." % (self.session.identity().get("version") or "",
                                                              "; ".join(_unknown(k, settings) for k in sorted(unknown))),
                           hint="Ids are those of GET /:/prefs (the attributes of Preferences.xml), with their case "
                                "(for example FriendlyName, AcceptedEULA, allowedNetworks); Plex refuses a name it "
                                "does not know.")
        current = {}
        for key in self.wanted:
            kind = settings[key].get("type") or "text"
            self._types[key] = kind
            try:
                current[key] = typed(kind, settings[key].get("value"))
            except ValueError:
                current[key] = settings[key].get("value")
        return current

    def build(self, current):
        wanted = {}
        for key, value in self.wanted.items():
            kind = self._types.get(key, "text")
            try:
                wanted[key] = typed(kind, value)
            except ValueError:
                raise ApiError("Plex's preference %s is a %s, and %r is not one." % (key, _KIND_WORDS.get(kind, kind), value),
                               hint="Give %s." % _KIND_HINTS.get(kind, "a value of that type"))
        return wanted

    def compare(self, current, wanted):
        return sorted(k for k in wanted if current.get(k) != wanted[k])

    def update(self, current, wanted):
        changes = self.compare(current, wanted)
        self.session.request("PUT", "/:/prefs", params=[(k, wire(self._types[k], wanted[k])) for k in changes])
        self.session.forget_settings()
        return wanted

    def create(self, wanted):  # pragma: no cover - preferences always exist
        return self.update({}, wanted)

    def remove(self, current):  # pragma: no cover - no state: absent
        return None


_KIND_WORDS = {"bool": "boolean", "int": "whole number", "double": "number", "text": "text"}
_KIND_HINTS = {"bool": "true or false", "int": "a whole number", "double": "a number"}


def _unknown(key, settings):
    """An unknown id, with the ids it is close to."""
    same_case = [k for k in settings if k.lower() == key.lower()]
    close = same_case or difflib.get_close_matches(key, list(settings), n=3, cutoff=0.75)
    return "%s (did you mean %s?)" % (key, " or ".join(close)) if close else key


def run_preferences(module):
    run_reconciler(module, PlexSession, lambda session: PreferencesReconciler(module, session))


# -- libraries -------------------------------------------------------------------------------------------------------
def _title(value):
    """A section title as python-plexapi matches it: lower case, stripped (plexapi/library.py:66, 89)."""
    return (value or "").strip().lower()


def section_view(section):
    """A ``Directory`` of ``GET /library/sections`` as the modules show it; ``key`` is a string in JSON (Seerr
    server/api/plexapi.ts:37-42)."""
    return {"key": str(section.get("key")), "name": section.get("title"), "type": section.get("type"),
            "agent": section.get("agent"), "scanner": section.get("scanner"), "language": section.get("language"),
            "paths": [_norm(loc.get("path")) for loc in section.get("Location") or [] if isinstance(loc, dict)]}


class LibraryReconciler(Reconciler):
    """A library section, found by its title first (Plex would make a second one), with its type, agent, scanner,
    language and folders. Plex edits a section with ``PUT /library/sections/{key}``, ``agent`` always sent and
    ``location`` replacing the whole list (python-plexapi plexapi/library.py:548-620)."""

    result_key = "library"
    fields = ("name", "agent", "scanner", "language")

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.name = self.params["name"]

    def fetch(self):
        named = [s for s in self.session.sections() if _title(s.get("title")) == _title(self.name)]
        if len(named) > 1:
            raise ApiError("Plex has %d libraries named %r: %s." % (len(named), self.name, "; ".join(
                "key %s (%s, %s)" % (s.get("key"), s.get("type"), ", ".join(section_view(s)["paths"]) or "no folder")
                for s in named)),
                hint="The module does not guess which one is meant: delete or rename all but one in Plex "
                     "(Settings > Manage > Libraries), then run again.")
        return section_view(named[0]) if named else None

    def build(self, current):
        p = self.params
        kind = p.get("type")
        paths = p.get("paths")
        if paths is not None:
            paths = list(dict.fromkeys(_norm(x) for x in paths if x))
            if not paths:
                raise ApiError("A Plex library needs at least one folder; `paths` is empty for %r." % self.name,
                               hint="Give its folders, or delete the library (state: absent).")
        if current is None:
            if not kind:
                raise ApiError("Plex has no library %r, and `type` is needed to make one." % self.name,
                               hint="Give type: movie, show, artist or photo.")
            if not paths:
                raise ApiError("Plex has no library %r, and a library needs its folders: give `paths`." % self.name)
            agent, scanner, language = SECTION_DEFAULTS[kind]
            return {"key": None, "name": self.name, "type": kind, "agent": p.get("agent") or agent,
                    "scanner": p.get("scanner") or scanner, "language": p.get("language") or language, "paths": paths}
        if kind and kind != current["type"]:
            # Plex's section edit has no type (plex-api-spec.yaml:7720-7800; python-plexapi plexapi/library.py:548-571).
            raise ApiError("Library %r exists in Plex as %s, not %s, and Plex cannot change the type of a library."
                           % (current["name"], current["type"], kind),
                           hint="Give another name, or delete the library (state: absent) and run again; its media "
                                "files stay, Plex scans them anew.")
        wanted = dict(current, name=self.name)
        for field in ("agent", "scanner", "language"):
            if p.get(field):
                wanted[field] = p[field]
        if paths is not None:
            wanted["paths"] = paths
        return wanted

    def compare(self, current, wanted):
        found = [f for f in self.fields if current[f] != wanted[f]]
        if sorted(set(current["paths"])) != sorted(wanted["paths"]) or len(current["paths"]) != len(set(current["paths"])):
            found.append("paths")
        return found

    def _check_folders(self, paths, known=()):
        for path in paths:
            if path not in known and not self.session.sees_folder(path):
                raise ApiError("Plex does not see the folder %r of library %r (GET /services/browse of its parent does "
                               "not list it)." % (path, self.name),
                               hint="The folder must exist inside the Plex container: mount the shared data volume at "
                                    "the same path in Plex as in the arr apps (for example /data/media/movies).")

    def create(self, wanted):
        self._check_folders(wanted["paths"])
        # The query python-plexapi builds (plexapi/library.py:383-388): name, type, agent, scanner, language, and one
        # location per folder.
        params = [("name", wanted["name"]), ("type", wanted["type"]), ("agent", wanted["agent"]),
                  ("scanner", wanted["scanner"]), ("language", wanted["language"])]
        params += [("location", path) for path in wanted["paths"]]
        deadline = time.monotonic() + STARTING_UP_WAIT
        while True:
            try:
                self.session.request("POST", "/library/sections", params=params)
                break
            except ApiError as exc:
                if "starting up" not in exc.message.lower() or time.monotonic() > deadline:
                    raise
                time.sleep(1)
        self.session.forget_sections()
        made = self.fetch()
        return made or wanted

    def update(self, current, wanted):
        self._check_folders(wanted["paths"], known=current["paths"])
        params = [("agent", wanted["agent"])]
        params += [(f, wanted[f]) for f in ("name", "scanner", "language") if wanted[f] != current[f]]
        if "paths" in self.compare(current, wanted):
            params += [("location", path) for path in wanted["paths"]]
        self.session.request("PUT", "/library/sections/%s" % current["key"], params=params)
        self.session.forget_sections()
        return dict(wanted, key=current["key"])

    def remove(self, current):
        # DELETE /library/sections/{key} (python-plexapi plexapi/library.py:531-539); the media files stay.
        self.session.request("DELETE", "/library/sections/%s" % current["key"])
        self.session.forget_sections()


def run_library(module):
    run_reconciler(module, PlexSession, lambda session: LibraryReconciler(module, session))


# -- plex_info -------------------------------------------------------------------------------------------------------
def run_info(module):
    def work(session):
        identity = session.identity()
        result = {"changed": False, "identity": identity, "server": None, "libraries": None, "preferences": None}
        if session.locked:
            module.warn("Plex at %s is claimed by a plex.tv account: without `token` only its identity can be read "
                        "(the Plex sign-in keeps the token: `%s`)." % (session.client.base_url, SIGN_IN))
            return result
        result["server"] = session.server()
        result["libraries"] = [section_view(s) for s in session.sections()]
        prefs = {}
        for setting in session.settings():
            try:
                prefs[setting["id"]] = typed(setting.get("type") or "text", setting.get("value"))
            except ValueError:
                prefs[setting["id"]] = setting.get("value")
        result["preferences"] = prefs
        return result
    run_in_session(module, PlexSession, work)


# -- plex_pin --------------------------------------------------------------------------------------------------------
def run_pin(module):
    """The plex.tv PIN sign-in, in two calls: one makes the PIN and returns its code, the next waits for the token."""
    p = module.params

    def open_session(module):
        return PlexTv(p["plex_tv_url"], p["client_identifier"], validate_certs=p["validate_certs"], ca_path=p["ca_path"])

    def work(tv):
        result = {"changed": False, "url": LINK_URL, "client_identifier": p["client_identifier"]}
        if p.get("token"):
            account = tv.account(p["token"])
            if account is not None:
                # Ansible hides every value of a no_log option in results: the token given cannot be returned.
                result.update(token_valid=True, username=account.get("username"),
                              msg="plex.tv still accepts the token given (account %s): no sign-in needed."
                                  % account.get("username"))
                return result
            result["token_valid"] = False
            module.warn("plex.tv no longer accepts the token given (revoked, or a password change signed every "
                        "device out): a new sign-in is needed.")
            if p.get("pin_id") is None:
                # The check of a kept token makes no PIN: its result is usually hidden (no_log), and the next task asks.
                result["msg"] = "plex.tv no longer accepts the token given: sign in again (run without `token` for a code)."
                return result
        if p.get("pin_id") is None:
            return dict(result, **_new_pin(module, tv))
        return dict(result, **_wait_for_pin(module, tv))
    run_in_session(module, open_session, work)


def _new_pin(module, tv):
    if module.check_mode:
        return {"changed": True, "pin_id": None, "code": None, "expires_in": PIN_LIFETIME,
                "msg": "A plex.tv code would be asked for (none in check mode)."}
    pin = tv.create_pin()
    return {"changed": True, "pin_id": pin["id"], "code": pin["code"], "expires_in": pin.get("expiresIn", PIN_LIFETIME),
            "msg": "Open %s, sign in to plex.tv and enter the code %s." % (LINK_URL, pin["code"])}


def _wait_for_pin(module, tv):
    """Ask plex.tv for the PIN every ``poll_interval`` seconds until it carries ``authToken`` (python-plexapi
    plexapi/myplex.py:1825-1863; Seerr src/utils/plex.ts:129-160)."""
    p = module.params
    deadline = time.monotonic() + p["timeout"]
    code = None
    while True:
        pin = tv.pin(p["pin_id"])
        if pin is None:
            raise ApiError("The plex.tv code%s expired before anyone signed in with it (plex.tv no longer has PIN %s "
                           "for client %s)." % (" " + code if code else "", p["pin_id"], p["client_identifier"]),
                           hint="Run again for a new code (a code lives 15 minutes), with the same `client_identifier` "
                                "for the code and the wait.")
        code = pin.get("code") or code
        if pin.get("authToken"):
            account = tv.account(pin["authToken"]) or {}
            return {"changed": True, "pin_id": p["pin_id"], "code": code, "token": pin["authToken"],
                    "username": account.get("username"), "msg": "Signed in to plex.tv as %s." % account.get("username")}
        if time.monotonic() + p["poll_interval"] > deadline:
            raise ApiError("Nobody entered the plex.tv code %s at %s within %d seconds: the code expired." %
                           (code or "", LINK_URL, p["timeout"]),
                           hint="Run again for a new code, and enter it at %s while the run waits." % LINK_URL)
        time.sleep(p["poll_interval"])


# -- the modules' options, and plex_links ----------------------------------------------------------------------------
def token_spec(required=False):
    return {"token": {"type": "str", "no_log": True, "required": required}}


def plex_tv_spec():
    return {"plex_tv_url": {"type": "str", "default": PLEX_TV_URL}}


def library_spec():
    return {
        "name": {"type": "str", "required": True},
        "type": {"type": "str", "choices": list(SECTION_TYPES)},
        "paths": {"type": "list", "elements": "str"},
        "agent": {"type": "str"},
        "scanner": {"type": "str"},
        "language": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


def plex_module(argument_spec, **kwargs):
    """A Plex server module: the connection options, ``token`` and what the module adds."""
    spec = token_spec()
    spec.update(argument_spec)
    return new_module(spec, **kwargs)


def _preferences(module, session, params):
    return PreferencesReconciler(module, session, {"preferences": params})


LINK_RECONCILERS = {
    "preferences": (_preferences, lambda p: "preferences"),
    "libraries": (LibraryReconciler, lambda p: "library %s" % p["name"]),
}


def run_links(module):
    """The claim, the preferences, then the libraries of one Plex, in one session: each collection read once.

    Without a token, what an unclaimed server lets a local client do is done, and the result says to sign in
    (``needs_sign_in``); a claimed server without a token is only looked at."""
    p = module.params
    state = {"claim": None}

    def groups(session):
        identity = session.identity()
        if p["claim"] and session.token:
            state["claim"] = reconcile_items([{}], lambda params: ClaimReconciler(module, session, params),
                                             lambda params: "claim", module._diff)
        state["identity"] = identity
        return link_groups(module, session, "plex_links", LINK_RECONCILERS)

    def skip(name, result):
        return bool(state["identity"]["claimed"] and not p.get("token"))

    def finish(result):
        done = state["claim"]
        identity = state["identity"]
        result["claim"] = done["results"][0] if done else None
        if done:
            result["changed"] = result["changed"] or done["changed"]
            if module._diff:
                result["diff"] = done["diff"] + result.get("diff", [])
        claimed = identity["claimed"] or bool(done and done["changed"])
        result["claimed"] = claimed
        result["machine_identifier"] = identity["machine_identifier"]
        result["version"] = identity["version"]
        result["needs_sign_in"] = not p.get("token")
        url = module.params["url"]
        if result["needs_sign_in"] and identity["claimed"]:
            result["msg"] = ("Plex at %s is claimed by a plex.tv account, and nothing was set without its token: sign "
                             "in once with `%s`." % (url, SIGN_IN))
        elif result["needs_sign_in"]:
            result["msg"] = ("Plex at %s is not claimed yet: its preferences and libraries are set; the claim waits for "
                             "the plex.tv sign-in: run `%s`." % (url, SIGN_IN))
        elif not claimed:
            result["msg"] = "Plex at %s is not claimed (claim: false)." % url
        else:
            username = ((result["claim"] or {}).get("server") or {}).get("username")
            result["msg"] = "Plex at %s is claimed%s." % (url, " by %s" % username if username else "")
    run_links_module(module, PlexSession, groups, skip, finish)


def links_argument_spec():
    spec = plex_tv_spec()
    spec.update({
        "claim": {"type": "bool", "default": False},
        "preferences": {"type": "dict", "default": {}},
        "libraries": {"type": "list", "elements": "dict", "default": [], "options": library_spec()},
    })
    return spec
