"""Test double of Plex Media Server 1.43 and of plex.tv: PIN sign-in, claim, preferences, libraries.

Built from ``docs/research/plex.md``. It reproduces this upstream behaviour,
described in our own words and cited as ``repo@tag path:line``:

Plex Media Server (:class:`PlexDouble`, version 1.43.3.10896 of the
home-operations image, ``home-operations/containers@a9b84a4 apps/plex/docker-bake.hcl:7-10``):

- XML by default, and ``{"MediaContainer": {...}}`` JSON when the client sends
  ``Accept: application/json``. In JSON, child elements become arrays named by
  their tag, ``key`` ids are strings and bools are real booleans (``LukeHagar/plex-api-spec@ae9507e
  plex-api-spec.yaml:13508-13517``; ``seerr@v3.1.0 server/api/plexapi.ts:37-42,126-134``).
- The token comes in the ``X-Plex-Token`` header or query parameter. ``/identity``
  is always public (spec ``:1214-1243``). An unclaimed server serves local
  clients without a token: python-plexapi's CI runs its whole suite that way
  (``pkkid/python-plexapi@4.16.1 .github/workflows/ci.yaml:71-79``, ``tests/conftest.py:168-175``).
  When ``allowedNetworks`` is set on a signed-out server, only localhost and the
  listed addresses get in (``docs/settingslist.rst:162-163``). A claimed server
  needs a token of the owner's account - the one it was claimed with, or any
  other the account's PlexTvDouble knows, such as a PIN sign-in's - except from
  addresses in ``allowedNetworks`` (support.plex.tv article 200890058). The double cannot see the client's
  address, so the constructor says where the client is: ``client_is_local``
  (default True) and optionally ``client_address``, which is matched against the
  networks. When ``client_address`` is None, a local client counts as inside
  any non-empty ``allowedNetworks``.
- ``GET /identity`` returns ``claimed``, ``machineIdentifier`` and ``version``.
  The machine identifier is the image's ProcessedMachineIdentifier, a sha1 of the
  generated UUID (``apps/plex/entrypoint.sh:35-45``).
- ``GET /`` returns ``friendlyName`` (the hostname while ``FriendlyName`` is
  empty, pms-docker README), ``myPlex``, ``myPlexSigninState`` ("ok"/"none"),
  ``myPlexUsername`` and ``myPlexMappingState`` (``python-plexapi@4.16.1 plexapi/server.py:119-162``).
- ``GET /:/prefs`` returns ``Setting`` elements (id, label, summary, type, default, value,
  hidden, advanced, group, enumValues), seeded with the real ids, types and
  defaults of the recorded ``andrey-yantsen/plex-api.rs@37f2a7f crates/plex-api/tests/mocks/server/prefs.json``.
- ``PUT /:/prefs?Id=value&...`` matches ids in their exact case. python-plexapi
  sends the original-case id (``plexapi/settings.py:73-87``). Bools take
  ``true``/``false``/``1``/``0`` (python-plexapi sends true/false, ``settings.py:105-112``;
  the spec uses 1). Ints and doubles must parse. An unknown id, or a value of
  the wrong type, is answered 400 and nothing is changed (spec ``:267-318`` says
  400 or 403). Success is 200 with an empty body.
- ``GET /library/sections`` returns ``Directory`` elements with key, title, type,
  agent, scanner, language, uuid and ``Location`` children (``plexapi/library.py:50-68,434-451``).
  ``POST /library/sections?name&type&agent&scanner&language&location...``
  takes a repeatable ``location`` (``library.py:383-388``). ``PUT
  /library/sections/{key}?agent=&location=...`` replaces the whole location list,
  and ``agent`` is required (``library.py:548-620``; spec ``:7720-7800``).
  ``DELETE /library/sections/{key}`` removes a section (``library.py:531-539``).
  ``GET /library/sections/{key|all}/refresh[?path=&force=1]`` is recorded in
  ``refreshes`` (``library.py:840-864, 203-219``).
- ``GET /services/browse[/<base64 path>]?includeFiles=0`` lists the folders
  the server sees. python-plexapi checks every library path with it before it
  adds the path (``library.py:375-381``; ``server.py:342-397``).
- ``POST /myplex/claim?token=claim-...`` exchanges the claim token with plex.tv,
  marks the server claimed by that account and answers the ``MyPlex`` account
  XML with ``signInState="ok"`` (``server.py:202-213``; ``tests/test_server.py:335-342``).
  ``GET /myplex/account`` returns that account XML (``server.py:1093-1109``),
  and ``DELETE /myplex/account`` unclaims the server (``server.py:215-220``).
- :meth:`PlexDouble.from_env` starts the server the way the image's entrypoint
  does (``apps/plex/entrypoint.sh:47-100``). It reads ``PLEX_CLAIM_TOKEN``,
  ``PLEX_ADVERTISE_URL``/``ADVERTISE_IP`` (customConnections),
  ``PLEX_NO_AUTH_NETWORKS``/``ALLOWED_NETWORKS`` (allowedNetworks) and
  ``PLEX_PREFERENCE_*="Key=Value"`` (keeping the entrypoint's split at the first
  and last ``=``), and sets ``TranscoderTempDirectory=/transcode`` when it is unset.

plex.tv (:class:`PlexTvDouble`; ``python-plexapi@4.16.1 plexapi/myplex.py``, ``seerr@v3.1.0 server/api/plextv.ts``):

- ``POST /api/v2/pins[?strong=true]`` needs ``X-Plex-Client-Identifier`` and
  answers 201 with ``id``, ``code`` (4 characters, or a long one for
  ``strong``), ``clientIdentifier``, ``expiresIn`` 900 and ``authToken`` null (``myplex.py:1808-1823``;
  the recorded ``pins_new.json``; ``plex-api.rs pin.rs:41-62``).
- ``GET /api/v2/pins/{id}`` must send the same client identifier. ``authToken``
  is filled in once the person has signed in at plex.tv/link, which a test
  does with :meth:`PlexTvDouble.link_pin` (``myplex.py:1825-1863``; ``seerr src/utils/plex.ts:129-160``).
  ``PUT /api/v2/pins/link`` (form ``code=``, with a token) does the same from a
  signed-in device (``myplex.py:1124-1135``).
- ``GET /users/account.json`` returns ``{"user": {...}}`` (``plextv.ts:212-226``).
  ``GET /api/v2/user`` returns the user (``myplex.py:117,128-130``) and ``GET
  /api/v2/ping`` returns ``pong`` (``plextv.ts:383-399``). All of them need the
  token.
- ``GET /api/claim/token.json`` returns ``{"token": "claim-..."}`` and
  ``/api/claim/token`` the XML form (``myplex.py:859-869``). A claim token is
  good for 4 minutes (``plex-api.rs claim_token.rs:10``) and can be used once.
  ``POST /api/claim/exchange?token=`` is where the image's entrypoint sends it
  (``entrypoint.sh:47-67``).
- ``GET /api/resources`` returns XML ``Device``/``Connection`` elements for the
  claimed servers (``plextv.ts:156-210``; recorded ``mocks/myplex/api/resources.xml``).
  ``GET /api/users`` returns XML with no users (``plextv.ts:228-267``).
- ``/api/v2/*`` answers JSON to ``Accept: application/json`` and XML otherwise.
  ``*.json`` paths always answer JSON, and resources/users always answer XML.

Choices the research could not confirm, taken from python-plexapi's documented
use and marked "unverified" where they are made: the status and body of PMS
errors (401/400/404 with Plex's small HTML page), a missing library path
refused with 400 (python-plexapi refuses it on the client side as
``BadRequest``), defaults for a missing agent/scanner/language, the reply to a
section POST, the plex.tv error bodies, and the XML form of ``/api/v2/ping``.

    python -m tests.doubles.plex --port 32400                      # Plex Media Server
    python -m tests.doubles.plex --port 8443 --app plex.tv         # plex.tv
    python -m tests.doubles.plex --port 32400 --plex-tv http://127.0.0.1:8443
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import re
import secrets
import string
import sys
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, HttpError, Reply, Route, run_cli  # noqa: E402 pylint: disable=wrong-import-position

PMS_VERSION = "1.43.3.10896-cb3ebc72d"
XML_TYPE = "text/xml;charset=utf-8"
CLAIM_LIFETIME = 4 * 60     # seconds (plex-api.rs claim_token.rs:10)
PIN_LIFETIME = 900          # seconds (pins_new.json expiresIn)

#: Section type -> (agent, scanner, language) used when the client leaves them out. These are the modern pairs
#: python-plexapi's bootstrap uses (tools/plex-bootstraptest.py:554-619). Whether PMS fills in defaults itself is
#: unverified, because python-plexapi always sends all of them.
SECTION_DEFAULTS = {
    "movie": ("tv.plex.agents.movie", "Plex Movie", "en-US"),
    "show": ("tv.plex.agents.series", "Plex TV Series", "en-US"),
    "artist": ("tv.plex.agents.music", "Plex Music", "en-US"),
    "photo": ("com.plexapp.agents.none", "Plex Photo Scanner", "en"),
}

_BEHAVIOUR = "never:never|scheduled:as a scheduled task|asap:as a scheduled task and when media is added"
_HOURS = "|".join("%d:%d\ua78900" % (h, h) for h in range(24))   # hour labels use a modifier colon (U+A789), as recorded
#: (id, type, default, label, group, hidden, advanced, enumValues): ids, types, defaults, labels, groups and flags
#: of a real PMS (plex-api.rs mocks/server/prefs.json), restricted to the ones the research names.
SETTINGS = (
    ("FriendlyName", "text", "", "Friendly name", "general", False, False, None),
    ("sendCrashReports", "bool", True, "Send crash reports to Plex", "general", False, False, None),
    ("logDebug", "bool", True, "Enable Plex Media Server debug logging", "general", False, True, None),
    ("LogVerbose", "bool", False, "Enable Plex Media Server verbose logging", "general", False, True, None),
    ("ButlerUpdateChannel", "text", "16", "Server update Channel", "general", False, False, "0:Public|8:Beta"),
    ("FSEventLibraryUpdatesEnabled", "bool", False, "Scan my library automatically", "library", False, False, None),
    ("FSEventLibraryPartialScanEnabled", "bool", False, "Run a partial scan when changes are detected", "library",
     False, True, None),
    ("ScheduledLibraryUpdatesEnabled", "bool", False, "Scan my library periodically", "library", False, False, None),
    ("autoEmptyTrash", "bool", True, "Empty trash automatically after every scan", "library", False, False, None),
    ("GenerateBIFBehavior", "text", "never", "Generate video preview thumbnails", "library", False, False, _BEHAVIOUR),
    ("GenerateChapterThumbBehavior", "text", "scheduled", "Generate chapter thumbnails", "library", False, False,
     _BEHAVIOUR),
    ("LoudnessAnalysisBehavior", "text", "scheduled", "Analyze audio tracks for loudness", "library", False, False,
     _BEHAVIOUR),
    ("ButlerStartHour", "int", 2, "Time at which tasks start to run", "butler", False, False, _HOURS),
    ("ButlerEndHour", "int", 5, "Time at which tasks stop running", "butler", False, False, _HOURS),
    ("ButlerTaskBackupDatabase", "bool", True, "Backup database every three days", "butler", False, False, None),
    ("ButlerTaskRefreshLibraries", "bool", False, "Update all libraries during maintenance", "butler", False, False,
     None),
    ("customConnections", "text", "", "Custom server access URLs", "network", False, True, None),
    ("allowedNetworks", "text", "", "List of IP addresses and networks that are allowed without auth", "network",
     False, True, None),
    ("LanNetworksBandwidth", "text", "", "LAN Networks", "network", False, True, None),
    ("TreatWanIpAsLocal", "bool", True, "Treat WAN IP As LAN Bandwidth", "network", False, True, None),
    ("secureConnections", "int", 1, "Secure connections", "network", False, True, "1:Preferred|0:Required"),
    ("RelayEnabled", "bool", True, "Enable Relay", "network", False, True, None),
    ("GdmEnabled", "bool", True, "Enable local network discovery (GDM)", "network", False, False, None),
    ("EnableIPv6", "bool", True, "Enable server support for IPv6", "network", False, True, None),
    ("DlnaEnabled", "bool", False, "Enable the DLNA server", "dlna", False, False, None),
    ("TranscoderTempDirectory", "text", "", "Transcoder temporary directory", "transcoder", False, True, None),
    ("HardwareAcceleratedCodecs", "bool", False, "Use hardware acceleration when available", "transcoder", False,
     False, None),
    ("AcceptedEULA", "bool", False, "Has the user accepted the EULA", "", True, False, None),
    ("MachineIdentifier", "text", "", "A unique identifier for the machine", "", True, False, None),
    ("PublishServerOnPlexOnlineKey", "bool", False, "Publish server on Plex Online", "", True, False, None),
    ("ManualPortMappingMode", "bool", False, "", "", True, False, None),
    ("ManualPortMappingPort", "int", 32400, "", "", True, False, None),
    # Hidden pref for the plex.tv base URL. Whether PMS really uses it is unverified (research section 4).
    ("PlexOnlineUrl", "text", "https://plex.tv", "", "", True, False, None),
)


# -- XML / JSON ----------------------------------------------------------------------------------------------------
# An element is (tag, attributes, children). One writer turns it into XML and one into Plex's JSON form.

def _xml_value(tag, name, value):
    if isinstance(value, bool):
        # Setting values of type bool read "true"/"false", which python-plexapi's _bool_cast expects
        # (settings.py:105). Every other Plex flag attribute reads "1"/"0".
        if tag == "Setting" and name in ("value", "default"):
            return "true" if value else "false"
        return "1" if value else "0"
    return str(value)


def to_xml(element):
    """The element as Plex's XML (an XML declaration, attributes, nested children)."""

    def write(node, out, depth):
        tag, attrs, children = node
        text = "".join(" %s=%s" % (k, quoteattr(_xml_value(tag, k, v))) for k, v in attrs.items() if v is not None)
        if not children:
            out.append("%s<%s%s/>" % ("  " * depth, tag, text))
            return
        out.append("%s<%s%s>" % ("  " * depth, tag, text))
        for child in children:
            write(child, out, depth + 1)
        out.append("%s</%s>" % ("  " * depth, tag))

    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    write(element, lines, 0)
    return "\n".join(lines) + "\n"


def to_json(element, wrap=True):
    """The element as Plex's JSON: attributes become fields, children arrays named by their tag."""
    tag, attrs, children = element
    body = dict(attrs)
    for child in children:
        body.setdefault(child[0], []).append(to_json(child, wrap=False))
    return {tag: body} if wrap else body


def wants_json(request):
    return "application/json" in (request.headers.get("Accept") or "")


def render(request, element, status=200):
    """A reply of ``element``: JSON when the client asks for it, XML otherwise (Plex's default)."""
    if wants_json(request):
        return Reply(status, to_json(element))
    return Reply(status, to_xml(element), content_type=XML_TYPE)


def status_page(status, text):
    """The small HTML page PMS answers errors with. The exact body is unverified: clients only read the status."""
    return Reply(status, "<html><head><title>%s</title></head><body><h1>%d %s</h1></body></html>" % (text, status, text),
                 content_type="text/html")


def refuse(status, text):
    """An HttpError answering Plex's error page."""
    error = HttpError(status)
    error.reply = status_page(status, text)
    return error


def _token(request):
    return request.headers.get("X-Plex-Token") or request.query.get("X-Plex-Token")


def _now_iso(moment):
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path_checker(paths_exist):
    """(exists(path), list_dirs(path)) from a callable, a collection of known folders, or None for the real disk."""
    if paths_exist is None:
        paths_exist = os.path.isdir
    if callable(paths_exist):
        def list_dirs(path):
            try:
                return sorted(e.path for e in os.scandir(path) if e.is_dir())
            except OSError:
                return []
        return paths_exist, list_dirs
    known = set()
    for path in paths_exist:  # a folder implies its parents
        path = os.path.normpath(path)
        while path not in known and path != os.path.dirname(path):
            known.add(path)
            path = os.path.dirname(path)
    known.add("/")
    return (lambda p: os.path.normpath(p) in known,
            lambda p: sorted(k for k in known if k != "/" and os.path.dirname(k) == os.path.normpath(p)))


# -- Plex Media Server ---------------------------------------------------------------------------------------------
class PlexDouble(DoubleApp):
    """Plex Media Server 1.43. Tests read ``prefs``, ``sections``, ``pref_writes``, ``refreshes``, ``log`` and ``writes()``."""

    name = "Plex"
    version = None      # PMS sends no X-Application-Version
    spec = None         # no OpenAPI document of PMS may be committed: no contract check

    def __init__(self, claimed=False, owner_token=None, plex_tv=None, client_is_local=True, client_address=None,
                 paths_exist=None, prefs=None, hostname="plex", machine_uuid=None):
        super().__init__(auth=self._allowed)
        self.plex_tv = plex_tv              # a PlexTvDouble, its URL, or None (the server cannot reach plex.tv)
        self.client_is_local = client_is_local
        self.client_address = client_address
        self.paths_exist, self.list_dirs = _path_checker(paths_exist)
        self.hostname = hostname
        self.machine_uuid = machine_uuid or str(uuid.uuid4())
        # ProcessedMachineIdentifier: sha1("<MachineIdentifier>- Plex Media Server") (entrypoint.sh:41-45).
        self.machine_identifier = hashlib.sha1(("%s- Plex Media Server" % self.machine_uuid).encode()).hexdigest()
        self.settings = {}
        for sid, kind, default, label, group, hidden, advanced, enum in SETTINGS:
            self.settings[sid] = {"id": sid, "label": label, "summary": "", "type": kind, "default": default,
                                  "value": default, "hidden": hidden, "advanced": advanced, "group": group,
                                  "enumValues": enum}
        self.settings["MachineIdentifier"]["value"] = self.machine_uuid
        self.extra_preferences = {}         # Preferences.xml attributes that are no /:/prefs setting
        for key, value in (prefs or {}).items():
            self._seed(key, value)
        self.claimed = bool(claimed)
        self.owner_token = owner_token
        self.owner_username = ""
        self.sections = []                  # section dicts; see _directory
        self.next_section_key = 1
        self.next_location_id = 1
        self.pref_writes = []               # {id: value} of every accepted PUT /:/prefs
        self.refreshes = []                 # (key, path or None, force) of every refresh request
        if self.claimed:
            if isinstance(self.plex_tv, PlexTvDouble):
                self.owner_token = self.owner_token or self.plex_tv.account_token
                self.owner_username = self.plex_tv.username
                self.plex_tv.register_server(self)
            if not self.owner_token:
                raise ValueError("a claimed PlexDouble needs owner_token (or a plex_tv to take it from)")
            self.owner_username = self.owner_username or "owner"

        add = self.add_route
        add("GET", "/identity", self.identity, public=True)
        add("GET", "/", self.root)
        add("GET", "/:/prefs", self.get_prefs)
        add("PUT", "/:/prefs", self.put_prefs)
        add("GET", "/library/sections", self.list_sections)
        add("POST", "/library/sections", self.add_section)
        add("PUT", "/library/sections/{key}", self.edit_section)
        add("DELETE", "/library/sections/{key}", self.delete_section)
        add("GET", "/library/sections/{key}/refresh", self.refresh_section)
        add("DELETE", "/library/sections/{key}/refresh", lambda req: Reply(200, None))
        add("GET", "/services/browse", self.browse)
        # Base64 paths hold "/": this route takes the rest of the path, not one segment.
        route = Route("GET", "/services/browse/{encoded}", self.browse)
        route.regex = re.compile(r"^/services/browse/(?P<encoded>.+)$")
        self.routes.append(route)
        add("POST", "/myplex/claim", self.claim)
        add("GET", "/myplex/account", self.account)
        add("DELETE", "/myplex/account", self.unclaim)

    @classmethod
    def from_env(cls, env, **kwargs):
        """The server as the home-operations image's entrypoint starts it with this environment (entrypoint.sh:47-100)."""
        prefs = dict(kwargs.pop("prefs", None) or {})
        advertise = env.get("PLEX_ADVERTISE_URL") or env.get("ADVERTISE_IP")
        if advertise:
            prefs["customConnections"] = advertise
        networks = env.get("PLEX_NO_AUTH_NETWORKS") or env.get("ALLOWED_NETWORKS")
        if networks:
            prefs["allowedNetworks"] = networks
        prefs.setdefault("TranscoderTempDirectory", "/transcode")
        for name in sorted(env):
            if name.startswith("PLEX_PREFERENCE_") and "=" in env[name]:
                # The entrypoint takes the key before the *last* "=" and the value after the *first* one.
                value = env[name]
                prefs[value.rsplit("=", 1)[0]] = value.split("=", 1)[1]
        double = cls(prefs=prefs, **kwargs)
        claim = env.get("PLEX_CLAIM_TOKEN")
        if claim and not double.claimed:
            account = double._exchange(claim)
            if account is not None:
                double._mark_claimed(account)
        return double

    def _seed(self, key, value):
        if key in self.settings:
            self.settings[key]["value"] = self._coerce(self.settings[key], value)
        else:
            self.extra_preferences[key] = value

    # -- auth --------------------------------------------------------------------------------------------------------
    def _networks(self):
        text = self.settings["allowedNetworks"]["value"] or ""
        return [part.strip() for part in text.split(",") if part.strip()]

    def _address_in(self, networks):
        """Whether the client is inside one of ``networks``. Without client_address: any listed network will do."""
        if self.client_address is None:
            return bool(networks)
        address = ipaddress.ip_address(self.client_address)
        for network in networks:
            try:
                if address in ipaddress.ip_network(network, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def _is_owner(self, token):
        """Whether ``token`` signs in as the account that owns the server: the token it was claimed with, or any other
        token of that account plex.tv knows (a PIN sign-in's, a device's). PMS checks a token with plex.tv and takes the
        owner's or a shared user's (support.plex.tv article 200890058); python-plexapi hands the account's token straight
        to the server (``python-plexapi@4.16.1 tests/conftest.py:171-175``)."""
        if not token or not self.claimed:
            return False
        if token == self.owner_token:
            return True
        account = self.plex_tv if isinstance(self.plex_tv, PlexTvDouble) else None
        return account is not None and self.owner_token in account.tokens and token in account.tokens

    def _allowed(self, request):
        if not self.client_is_local:
            # Remote clients always need the owner's token, and an unclaimed server has none to accept.
            return self.claimed and self._is_owner(_token(request))
        networks = self._networks()
        if self.claimed:
            # Claimed: the owner's token, or an address listed in allowedNetworks (support article 200890058).
            return self._is_owner(_token(request)) or (bool(networks) and self._address_in(networks))
        if not networks:
            return True         # an unclaimed server trusts its local network
        # Signed out with allowedNetworks set: only localhost and the listed addresses (settingslist.rst:162-163).
        if self.client_address is not None and ipaddress.ip_address(self.client_address).is_loopback:
            return True
        return self._address_in(networks)

    def unauthorized(self, request):
        return status_page(401, "Unauthorized")

    def not_found(self, request):
        return status_page(404, "Not Found")

    # -- identity and root -------------------------------------------------------------------------------------------
    def friendly_name(self):
        return self.settings["FriendlyName"]["value"] or self.hostname

    def identity(self, request):
        return render(request, ("MediaContainer", {"size": 0, "claimed": self.claimed,
                                                   "machineIdentifier": self.machine_identifier,
                                                   "version": PMS_VERSION}, []))

    def root(self, request):
        attrs = {"size": 0, "allowCameraUpload": False, "allowSync": True, "claimed": self.claimed,
                 "friendlyName": self.friendly_name(), "machineIdentifier": self.machine_identifier,
                 "multiuser": True, "myPlex": self.claimed,
                 "myPlexMappingState": "mapped" if self.claimed else "unknown",
                 "myPlexSigninState": "ok" if self.claimed else "none", "myPlexSubscription": False,
                 "myPlexUsername": self.owner_username if self.claimed else None,
                 "platform": "Linux", "platformVersion": "", "transcoderActiveVideoSessions": 0,
                 "updatedAt": int(time.time()), "version": PMS_VERSION}
        return render(request, ("MediaContainer", attrs, []))

    # -- preferences -------------------------------------------------------------------------------------------------
    def get_prefs(self, request):
        children = [("Setting", dict(s), []) for s in self.settings.values()]
        return render(request, ("MediaContainer", {"size": len(children)}, children))

    @staticmethod
    def _coerce(setting, value):
        """``value`` (as sent in a query) as a value of the setting's type; HttpError 400 when it is none."""
        kind = setting["type"]
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1"):
                return True
            if text in ("false", "0"):
                return False
        elif kind == "int":
            try:
                return int(str(value).strip())
            except ValueError:
                pass
        elif kind == "double":
            try:
                return float(str(value).strip())
            except ValueError:
                pass
        else:
            return str(value)
        raise HttpError(400, None)

    def put_prefs(self, request):
        # Every query parameter is a setting, except the X-Plex-* ones clients may send as parameters.
        changes = {k: v[-1] for k, v in request.query_all.items() if not k.startswith("X-Plex-")}
        coerced = {}
        for key, value in changes.items():
            setting = self.settings.get(key)       # exact case, as python-plexapi sends it
            if setting is None:
                return status_page(400, "Bad Request")
            try:
                coerced[key] = self._coerce(setting, value)
            except HttpError:
                return status_page(400, "Bad Request")
        for key, value in coerced.items():
            self.settings[key]["value"] = value
        if coerced:
            self.pref_writes.append(coerced)
        return Reply(200, None)

    def pref(self, key):
        """The current value of a setting (for tests)."""
        return self.settings[key]["value"]

    @property
    def prefs(self):
        """{id: value} of every setting (for tests)."""
        return dict((k, s["value"]) for k, s in self.settings.items())

    # -- libraries ---------------------------------------------------------------------------------------------------
    def _section(self, key):
        section = next((s for s in self.sections if s["key"] == key), None)
        if section is None:
            raise refuse(404, "Not Found")
        return section

    def _locations(self, request):
        paths = [p for p in request.query_all.get("location", []) if p]
        for path in paths:
            if not self.paths_exist(path):
                # Unverified: python-plexapi refuses a path the server cannot browse before it asks
                # (library.py:375-381, "Path: ... does not exist."). The double refuses it with 400 as well.
                raise refuse(400, "Bad Request")
        located = []
        for path in paths:
            located.append({"id": self.next_location_id, "path": path})
            self.next_location_id += 1
        return located

    @staticmethod
    def _prefs_params(request):
        return dict((k[len("prefs["):-1], v[-1]) for k, v in request.query_all.items()
                    if k.startswith("prefs[") and k.endswith("]"))

    @staticmethod
    def _directory(section):
        attrs = dict((k, v) for k, v in section.items() if k not in ("Location", "prefs"))
        return ("Directory", attrs, [("Location", dict(loc), []) for loc in section["Location"]])

    def list_sections(self, request):
        children = [self._directory(s) for s in self.sections]
        return render(request, ("MediaContainer", {"size": len(children), "allowSync": False,
                                                   "title1": "Plex Library"}, children))

    def add_section(self, request):
        query = request.query
        kind = query.get("type")
        if not query.get("name") or kind not in SECTION_DEFAULTS:
            return status_page(400, "Bad Request")
        locations = self._locations(request)
        if not locations:
            return status_page(400, "Bad Request")
        agent, scanner, language = SECTION_DEFAULTS[kind]
        now = int(time.time())
        section = {"key": str(self.next_section_key), "title": query["name"], "type": kind,
                   "agent": query.get("agent") or agent, "scanner": query.get("scanner") or scanner,
                   "language": query.get("language") or language, "uuid": str(uuid.uuid4()),
                   "allowSync": True, "art": "/:/resources/%s-fanart.jpg" % kind, "composite": "",
                   "filters": True, "refreshing": False, "thumb": "/:/resources/%s.png" % kind,
                   "content": True, "directory": True, "hidden": 0,
                   "createdAt": now, "updatedAt": now, "scannedAt": now,
                   "Location": locations, "prefs": self._prefs_params(request)}
        self.next_section_key += 1
        self.sections.append(section)
        # Unverified: the reply body to a section POST. Clients ignore it; the new section is a useful answer.
        return render(request, ("MediaContainer", {"size": 1}, [self._directory(section)]))

    def edit_section(self, request):
        section = self._section(request.params["key"])
        query = request.query
        if not query.get("agent"):
            # The spec marks agent required, and python-plexapi always sends it (library.py:548-571).
            return status_page(400, "Bad Request")
        locations = self._locations(request)
        section["agent"] = query["agent"]
        for param, field in (("name", "title"), ("scanner", "scanner"), ("language", "language")):
            if query.get(param):
                section[field] = query[param]
        if locations:
            section["Location"] = locations     # the sent list replaces the whole list
        section["prefs"].update(self._prefs_params(request))
        section["updatedAt"] = int(time.time())
        return Reply(200, None)

    def delete_section(self, request):
        self.sections.remove(self._section(request.params["key"]))
        return Reply(200, None)

    def refresh_section(self, request):
        key = request.params["key"]
        if key != "all":
            self._section(key)
        self.refreshes.append((key, request.query.get("path"), request.flag("force")))
        return Reply(200, None)

    def section(self, title):
        """The section named ``title`` (for tests), or None."""
        return next((s for s in self.sections if s["title"] == title), None)

    def browse(self, request):
        encoded = request.params.get("encoded")
        if encoded is None:
            path = "/"
        else:
            try:
                path = base64.b64decode(unquote(encoded), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return status_page(400, "Bad Request")
            if not self.paths_exist(path):
                return status_page(404, "Not Found")
        children = []
        for child in self.list_dirs(path):
            key = "/services/browse/" + base64.b64encode(child.encode("utf-8")).decode("ascii")
            children.append(("Path", {"key": key, "path": child, "title": os.path.basename(child)}, []))
        return render(request, ("MediaContainer", {"size": len(children), "path": path}, children))

    # -- claim -------------------------------------------------------------------------------------------------------
    def _exchange(self, claim_token):
        """The account a claim token belongs to, as plex.tv tells it (None: refused or unreachable)."""
        if isinstance(self.plex_tv, PlexTvDouble):
            return self.plex_tv.exchange_claim(claim_token)
        if isinstance(self.plex_tv, str) and self.plex_tv:
            import httpx

            try:
                resp = httpx.post(self.plex_tv.rstrip("/") + "/api/claim/exchange", params={"token": claim_token},
                                  headers={"X-Plex-Client-Identifier": self.machine_identifier,
                                           "X-Plex-Product": "Plex Media Server", "X-Plex-Provides": "server"},
                                  timeout=5.0)
            except httpx.HTTPError:
                return None
            if resp.status_code != 200:
                return None
            user = ElementTree.fromstring(resp.text)
            token = user.findtext("authentication-token") or user.get("authenticationToken")
            return {"authToken": token, "username": user.get("username") or "owner"} if token else None
        return None

    def _mark_claimed(self, account):
        self.claimed = True
        self.owner_token = account["authToken"]
        self.owner_username = account["username"]
        if isinstance(self.plex_tv, PlexTvDouble):
            self.plex_tv.register_server(self)

    def _account_element(self):
        return ("MyPlex", {"authToken": self.owner_token if self.claimed else "",
                           "username": self.owner_username if self.claimed else "",
                           "mappingState": "mapped" if self.claimed else "unknown", "mappingError": "",
                           "signInState": "ok" if self.claimed else "none",
                           "publicAddress": "", "publicPort": 0, "privateAddress": "127.0.0.1", "privatePort": 32400,
                           "subscriptionFeatures": "", "subscriptionActive": False, "subscriptionState": "Unknown"}, [])

    def claim(self, request):
        claim_token = request.query.get("token")
        if not claim_token:
            return status_page(400, "Bad Request")
        account = self._exchange(claim_token)
        # Unverified: how PMS answers a claim token plex.tv refuses, and a claim by another account.
        if account is None or (self.claimed and account["authToken"] != self.owner_token):
            return status_page(400, "Bad Request")
        self._mark_claimed(account)
        return render(request, self._account_element())

    def account(self, request):
        return render(request, self._account_element())

    def unclaim(self, request):
        if isinstance(self.plex_tv, PlexTvDouble):
            self.plex_tv.unregister_server(self)
        self.claimed, self.owner_token, self.owner_username = False, None, ""
        return render(request, self._account_element())


# -- plex.tv -------------------------------------------------------------------------------------------------------
def _plex_tv_error(status, code, message):
    """plex.tv's v2 error body (the shape is unverified: clients look at the status)."""
    return Reply(status, {"errors": [{"code": code, "message": message, "status": status}]})


class PlexTvDouble(DoubleApp):
    """plex.tv: PINs, the account, claim tokens, resources. Tests call ``link_pin``, ``mint_claim``, ``expire_claims``."""

    name = "plex.tv"
    version = None
    spec = None         # no OpenAPI document of plex.tv: no contract check

    def __init__(self, account_token=None, username="arrkestra", email="admin@example.com", clock=time.time):
        super().__init__(auth=self._allowed)
        self.account_token = account_token or secrets.token_urlsafe(15)
        self.username, self.email = username, email
        self.account_id = 12345
        self.account_uuid = secrets.token_hex(8)
        self.tokens = {self.account_token}  # every token that signs in as the account
        self.clock = clock
        self.pins = {}                      # id -> pin dict
        self.next_pin_id = 111222333
        self.claims = {}                    # claim token -> expiry time; removed when used
        self.servers = {}                   # machineIdentifier -> PlexDouble
        add = self.add_route
        add("POST", "/api/v2/pins", self.create_pin, public=True)
        add("PUT", "/api/v2/pins/link", self.link_pin_request)
        add("PUT", "/api/v2/pins/link.json", self.link_pin_request)
        add("GET", "/api/v2/pins/{id}", self.check_pin, public=True)
        add("GET", "/users/account.json", lambda req: Reply(200, {"user": self.user()}))
        add("GET", "/api/v2/user", self.get_user)
        add("GET", "/api/v2/ping", self.ping)
        add("GET", "/api/claim/token.json", lambda req: Reply(200, {"token": self.mint_claim()}))
        add("GET", "/api/claim/token", lambda req: Reply(200, to_xml(("MediaContainer", {"token": self.mint_claim()}, [])),
                                                         content_type=XML_TYPE))
        add("POST", "/api/claim/exchange", self.exchange, public=True)
        add("GET", "/api/resources", self.resources)
        add("GET", "/api/users", self.users)

    # -- auth --------------------------------------------------------------------------------------------------------
    def _allowed(self, request):
        return _token(request) in self.tokens

    def unauthorized(self, request):
        return _plex_tv_error(401, 1001, "User could not be authenticated")

    def _answer(self, request, tag, fields, status=200):
        """A v2 answer: flat JSON when asked for, else one XML element (python-plexapi parses XML, myplex.py:1873-1883)."""
        if wants_json(request):
            return Reply(status, fields)
        attrs = dict((k, v) for k, v in fields.items() if not isinstance(v, (dict, list)))
        return Reply(status, to_xml((tag, attrs, [])), content_type=XML_TYPE)

    # -- account -----------------------------------------------------------------------------------------------------
    def user(self):
        """The account as /api/v2/user and /users/account.json give it (fields of the recorded user_info_free.json)."""
        return {"id": self.account_id, "uuid": self.account_uuid, "username": self.username, "title": self.username,
                "email": self.email, "friendlyName": "", "locale": None, "confirmed": True, "hasPassword": True,
                "protected": False, "thumb": "https://plex.tv/users/%s/avatar" % self.account_uuid,
                "authToken": self.account_token, "home": False, "guest": False, "restricted": False,
                "subscription": {"active": False, "status": "Inactive", "plan": None, "features": []}}

    def get_user(self, request):
        return self._answer(request, "user", self.user())

    def ping(self, request):
        if wants_json(request):
            return Reply(200, {"pong": True})
        # Unverified: the XML form of the ping reply.
        return Reply(200, to_xml(("pong", {"value": True}, [])), content_type=XML_TYPE)

    # -- PINs --------------------------------------------------------------------------------------------------------
    def _pin_fields(self, pin):
        now = self.clock()
        fields = dict((k, v) for k, v in pin.items() if not k.startswith("_"))
        fields["expiresIn"] = max(0, int(round(pin["_expires"] - now)))
        return fields

    def create_pin(self, request):
        client = request.headers.get("X-Plex-Client-Identifier")
        if not client:
            return _plex_tv_error(400, 1000, "X-Plex-Client-Identifier is missing")
        with self.lock:     # a public route runs without the app's lock
            return self._new_pin(request, client)

    def _new_pin(self, request, client):
        strong = request.flag("strong")
        alphabet = string.ascii_lowercase + string.digits if strong else string.ascii_uppercase + string.digits
        code = "".join(secrets.choice(alphabet) for dummy in range(25 if strong else 4))
        now = self.clock()
        pin = {"id": self.next_pin_id, "code": code, "product": request.headers.get("X-Plex-Product") or "0",
               "trusted": False, "qr": "https://plex.tv/api/v2/pins/qr/%s" % code, "clientIdentifier": client,
               "expiresIn": PIN_LIFETIME, "createdAt": _now_iso(now), "expiresAt": _now_iso(now + PIN_LIFETIME),
               "authToken": None, "newRegistration": None, "_expires": now + PIN_LIFETIME}
        self.next_pin_id += 1
        self.pins[pin["id"]] = pin
        return self._answer(request, "pin", self._pin_fields(pin), status=201)

    def _live_pin(self, pin):
        return pin is not None and self.clock() < pin["_expires"]

    def check_pin(self, request):
        try:
            pin = self.pins.get(int(request.params["id"]))
        except ValueError:
            pin = None
        client = request.headers.get("X-Plex-Client-Identifier")
        if not self._live_pin(pin) or client != pin["clientIdentifier"]:
            # A pin is only visible to the client that made it; an expired pin is gone (unverified: 404).
            return _plex_tv_error(404, 1020, "Code not found or expired")
        return self._answer(request, "pin", self._pin_fields(pin))

    def link_pin(self, code, token=None):
        """Sign the pin with ``code`` in, as the person does at plex.tv/link; ``token`` then signs in as the account."""
        pin = next((p for p in self.pins.values() if p["code"].lower() == code.lower() and self._live_pin(p)), None)
        if pin is None:
            raise KeyError("no live pin with code %r" % code)
        token = token or self.account_token
        self.tokens.add(token)
        pin["authToken"], pin["newRegistration"] = token, False
        return pin

    def link_pin_request(self, request):
        form = parse_qs(request.body.decode("utf-8", "replace"))
        code = (form.get("code") or [request.query.get("code", "")])[-1]
        try:
            self.link_pin(code, secrets.token_urlsafe(15))
        except KeyError:
            return _plex_tv_error(404, 1020, "Code not found or expired")
        return Reply(204, None)

    def expire_pins(self):
        """Let every pin run out (for tests)."""
        for pin in self.pins.values():
            pin["_expires"] = self.clock() - 1

    # -- claim -------------------------------------------------------------------------------------------------------
    def mint_claim(self):
        """A new claim token for the account, good for 4 minutes and one use."""
        token = "claim-" + secrets.token_urlsafe(15)
        self.claims[token] = self.clock() + CLAIM_LIFETIME
        return token

    def expire_claims(self):
        """Let every claim token run out (for tests)."""
        for token in self.claims:
            self.claims[token] = self.clock() - 1

    def exchange_claim(self, token):
        """The account (``{"authToken", "username"}``) of a live claim token, which is used up; None otherwise."""
        with self.lock:
            expires = self.claims.pop(token, None)
            if expires is None or self.clock() >= expires:
                return None
            return {"authToken": self.account_token, "username": self.username}

    def exchange(self, request):
        account = self.exchange_claim(request.query.get("token") or "")
        if account is None:
            return _plex_tv_error(400, 1000, "Invalid claim token")   # unverified status and body
        # The image's entrypoint takes the text of <authentication-token> out of this XML (entrypoint.sh:47-67).
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<user id=%s uuid=%s username=%s email=%s authenticationToken=%s>'
                '\n  <authentication-token>%s</authentication-token>\n</user>\n') % (
            quoteattr(str(self.account_id)), quoteattr(self.account_uuid), quoteattr(self.username),
            quoteattr(self.email), quoteattr(account["authToken"]), account["authToken"])
        return Reply(200, body, content_type=XML_TYPE)

    # -- servers -----------------------------------------------------------------------------------------------------
    def register_server(self, server):
        self.servers[server.machine_identifier] = server

    def unregister_server(self, server):
        self.servers.pop(server.machine_identifier, None)

    def resources(self, request):
        devices = []
        for server in self.servers.values():
            connections = [("Connection", {"protocol": "http", "address": "127.0.0.1", "port": 32400,
                                           "uri": "http://127.0.0.1:32400", "local": True}, [])]
            for url in (server.settings["customConnections"]["value"] or "").split(","):
                found = re.match(r"^(https?)://([^/:]+)(?::(\d+))?", url.strip())
                if found:
                    port = int(found.group(3) or (443 if found.group(1) == "https" else 80))
                    connections.append(("Connection", {"protocol": found.group(1), "address": found.group(2),
                                                       "port": port, "uri": url.strip().rstrip("/"), "local": False},
                                        []))
            devices.append(("Device", {"name": server.friendly_name(), "product": "Plex Media Server",
                                       "productVersion": PMS_VERSION, "platform": "Linux", "platformVersion": "",
                                       "device": "Docker Container", "clientIdentifier": server.machine_identifier,
                                       "provides": "server", "owned": True, "accessToken": self.account_token,
                                       "publicAddress": "", "httpsRequired": False, "synced": False, "relay": True,
                                       "presence": True}, connections))
        return Reply(200, to_xml(("MediaContainer", {"size": len(devices)}, devices)), content_type=XML_TYPE)

    def users(self, request):
        return Reply(200, to_xml(("MediaContainer", {"friendlyName": "myPlex", "identifier": "com.plexapp.plugins.myplex",
                                                     "machineIdentifier": "", "totalSize": 0, "size": 0}, [])),
                     content_type=XML_TYPE)


def _factory(args):
    if args.app == "plex.tv":
        return PlexTvDouble(account_token=args.account_token)
    return PlexDouble.from_env(dict(os.environ), plex_tv=args.plex_tv, claimed=bool(args.owner_token),
                               owner_token=args.owner_token)


def _arguments(parser):
    parser.add_argument("--app", choices=("pms", "plex.tv"), default="pms", help="which double to serve (default: pms)")
    parser.add_argument("--plex-tv", default=None, help="pms: URL of a plex.tv double to exchange claim tokens with")
    parser.add_argument("--owner-token", default=None, help="pms: start claimed, with this owner token")
    parser.add_argument("--account-token", default=None, help="plex.tv: the account's token (default: a random one)")


if __name__ == "__main__":
    sys.exit(run_cli(_factory, description=__doc__.splitlines()[0], add_arguments=_arguments))
