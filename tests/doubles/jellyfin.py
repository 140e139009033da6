"""Test double of Jellyfin 10.11: first-run wizard, sign-in, API keys, libraries.

Reproduces what ``api-behaviour.md`` says and the modules rely on:
``Authorization: MediaBrowser Token="..."`` (or ``X-Emby-Token``); errors as
plain text; ``GET /health`` → ``Healthy``; ``/System/Info/Public`` with
``StartupWizardCompleted``; the wizard in Jellyfin's order (``GET
/Startup/User`` before ``POST /Startup/User``), its endpoints refused once it
is complete; ``AuthenticateByName`` with the ``MediaBrowser Client=...``
header; ``POST /Auth/Keys?app=`` answering ``204`` and no body, keys found
with ``GET /Auth/Keys``; libraries whose paths must exist on the server
(``400``), a POST of an existing name silently creating ``Name2``, ``POST
/Library/VirtualFolders/Paths`` adding a path without de-duplication.
Every request and answer of a documented route is checked against the
OpenAPI document of Jellyfin 10.11.11.

    python -m tests.doubles.jellyfin --port 8096
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import uuid

if __package__ in (None, ""):  # run as a script: make ``tests`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.doubles._base import DoubleApp, HttpError, Reply, run_cli  # noqa: E402 pylint: disable=wrong-import-position

SPECS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs")
COLLECTION_TYPES = ("movies", "tvshows", "music", "musicvideos", "homevideos", "boxsets", "books", "mixed")
#: EncodingOptions as its constructor makes it (MediaBrowser.Model/Configuration/EncodingOptions.cs:16-62 at v10.11.11;
#: HardwareAccelerationType is not set there: its first member, none). Paths not set are null.
ENCODING_DEFAULTS = {
    "EncodingThreadCount": -1, "TranscodingTempPath": None, "FallbackFontPath": None, "EnableFallbackFont": False,
    "EnableAudioVbr": False, "DownMixAudioBoost": 2.0, "DownMixStereoAlgorithm": "None", "MaxMuxingQueueSize": 2048,
    "EnableThrottling": False, "ThrottleDelaySeconds": 180, "EnableSegmentDeletion": False, "SegmentKeepSeconds": 720,
    "HardwareAccelerationType": "none", "EncoderAppPath": None, "EncoderAppPathDisplay": None,
    "VaapiDevice": "/dev/dri/renderD128", "QsvDevice": "", "EnableTonemapping": False, "EnableVppTonemapping": False,
    "EnableVideoToolboxTonemapping": False, "TonemappingAlgorithm": "bt2390", "TonemappingMode": "auto",
    "TonemappingRange": "auto", "TonemappingDesat": 0.0, "TonemappingPeak": 100.0, "TonemappingParam": 0.0,
    "VppTonemappingBrightness": 16.0, "VppTonemappingContrast": 1.0, "H264Crf": 23, "H265Crf": 28,
    "EncoderPreset": None, "DeinterlaceDoubleRate": False, "DeinterlaceMethod": "yadif",
    "EnableDecodingColorDepth10Hevc": True, "EnableDecodingColorDepth10Vp9": True,
    "EnableDecodingColorDepth10HevcRext": False, "EnableDecodingColorDepth12HevcRext": False,
    "EnableEnhancedNvdecDecoder": True, "PreferSystemNativeHwDecoder": True, "EnableIntelLowPowerH264HwEncoder": False,
    "EnableIntelLowPowerHevcHwEncoder": False, "EnableHardwareEncoding": True, "AllowHevcEncoding": False,
    "AllowAv1Encoding": False, "EnableSubtitleExtraction": True, "HardwareDecodingCodecs": ["h264", "vc1"],
    "AllowOnDemandMetadataBasedKeyframeExtractionForExtensions": ["mkv"],
}
HARDWARE_ACCELERATIONS = ("none", "amf", "qsv", "nvenc", "v4l2m2m", "vaapi", "videotoolbox", "rkmpp")
DEFAULT_OPTIONS = {"Enabled": True, "EnableRealtimeMonitor": True, "EnablePhotos": True,
                   "SaveLocalMetadata": False, "PreferredMetadataLanguage": None, "MetadataCountryCode": None,
                   "AutomaticRefreshIntervalDays": 0, "PathInfos": []}


def _authorization(request, legacy=True):
    """The client's authorization header: Jellyfin 10.11.11 reads X-Emby-Authorization when Authorization is missing
    and EnableLegacyAuthorization is on - its default in 10.11.11, off in 12 (MediaBrowser.Model/Configuration/
    ServerConfiguration.cs:290 at both tags; Jellyfin.Server.Implementations/Security/AuthorizationContext.cs:229-237)."""
    return request.headers.get("Authorization") or (request.headers.get("X-Emby-Authorization") if legacy else "") or ""


class JellyfinDouble(DoubleApp):
    name = "Jellyfin"
    version = "10.11.11"
    spec = os.path.join(SPECS, "jellyfin-10.11.11.openapi.json")
    spec_host = "http://localhost"     # the document's only server

    def __init__(self, username="admin", password="jellyfin-admin-pw-1", strict=True, version=None):
        super().__init__(credentials={"header": {"Authorization": 'MediaBrowser Token="x"'}}, strict=strict)
        self.version = version or self.version
        # Jellyfin 12 turns the legacy ways of giving a token off (v12.0-rc5 ServerConfiguration.cs:290 and the
        # migration 20260531160000_DisableLegacyAuthorization.cs:25-31), and refuses to set a first user who has a
        # password (StartupController.cs:143-146 at v12.0-rc5).
        self.legacy_authorization = not self.version.startswith("12.")
        # While it migrates its database at start-up, Jellyfin runs a stand-in server: /health answers 200
        # "Degraded", /System/Info/Public says the wizard is not completed whatever it is, everything else 503
        # (Jellyfin.Server/ServerSetupApp/SetupServer.cs:204-236 and 307-321 at v10.11.11). ``booting`` is how many
        # more /health answers say so.
        self.booting = 0
        self.media_updates = []     # (path, update type) of POST /Library/Media/Updated
        self.encoding = dict(ENCODING_DEFAULTS, EncoderAppPath="/usr/lib/jellyfin-ffmpeg/ffmpeg",
                             EncoderAppPathDisplay="/usr/lib/jellyfin-ffmpeg/ffmpeg")
        self.username, self.password = username, password   # what the lab's wizard run will set
        self.server_id = str(uuid.uuid4())
        self.user_id = str(uuid.uuid4())
        self.config = {"ServerName": "", "UICulture": "en-US", "MetadataCountryCode": "US",
                       "PreferredMetadataLanguage": "en"}
        self.remote = {"EnableRemoteAccess": True, "EnableAutomaticPortMapping": False}
        self.user = None            # {"Name", "Password"} once the wizard made it
        self.startup_user_read = False
        self.completed = False
        self.sessions = {}          # token -> user name
        self.keys = []              # AuthenticationInfo dicts
        self.folders = []           # VirtualFolderInfo dicts
        self.next_key_id = 1
        add = self.add_route
        add("GET", "/health", self.health, public=True, documented=False)
        add("GET", "/System/Info/Public", self.public_info, public=True)
        add("GET", "/Startup/Configuration", self.startup(lambda req: Reply(200, dict(self.config))), public=True)
        add("POST", "/Startup/Configuration", self.startup(self.set_config), public=True)
        add("GET", "/Startup/User", self.startup(self.get_startup_user), public=True)
        add("POST", "/Startup/User", self.startup(self.set_startup_user), public=True)
        add("POST", "/Startup/RemoteAccess", self.startup(self.set_remote), public=True)
        add("POST", "/Startup/Complete", self.startup(self.complete), public=True)
        add("POST", "/Users/AuthenticateByName", self.authenticate, public=True)
        add("GET", "/Auth/Keys", self.admin(self.list_keys), public=True)
        add("POST", "/Auth/Keys", self.admin(self.create_key), public=True)
        add("DELETE", "/Auth/Keys/{key}", self.admin(self.revoke_key), public=True)
        add("GET", "/Library/VirtualFolders", self.admin(lambda req: Reply(200, self.folders)), public=True)
        add("POST", "/Library/VirtualFolders", self.admin(self.add_folder), public=True)
        add("DELETE", "/Library/VirtualFolders", self.admin(self.remove_folder), public=True)
        add("POST", "/Library/VirtualFolders/Paths", self.admin(self.add_path), public=True)
        add("DELETE", "/Library/VirtualFolders/Paths", self.admin(self.remove_path), public=True)
        add("POST", "/Library/VirtualFolders/LibraryOptions", self.admin(self.set_options), public=True)
        add("POST", "/Library/Media/Updated", self.admin(self.media_updated), public=True)
        # The document types a named configuration as a binary string: the JSON bodies are checked here.
        add("GET", "/System/Configuration/{key}", self.admin(self.get_named), public=True, documented=False)
        add("POST", "/System/Configuration/{key}", self.admin(self.set_named), public=True, documented=False)

    def handle(self, request):
        if self.booting and request.path not in ("/health", "/System/Info/Public"):
            self.log.append((request.method, request.path))
            return self._finish(Reply(503, "Jellyfin is starting up.", headers={"Retry-After": "5"}))
        return super().handle(request)

    def health(self, request):
        if self.booting:
            self.booting -= 1
            return Reply(200, "Degraded")
        return Reply(200, "Healthy")

    # -- auth ---------------------------------------------------------------------
    def _token(self, request):
        """AuthorizationContext.cs:84-111 at v10.11.11: the Authorization header, then (legacy only) X-Emby-Token
        and X-MediaBrowser-Token, then the ApiKey query parameter, then (legacy only) api_key."""
        legacy = self.legacy_authorization
        found = re.search(r'Token="([^"]*)"', _authorization(request, legacy))
        if found:
            return found.group(1)
        headers = ("X-Emby-Token", "X-MediaBrowser-Token") if legacy else ()
        queries = ("ApiKey", "api_key") if legacy else ("ApiKey",)
        return next((v for v in [request.headers.get(h) for h in headers] + [request.query.get(q) for q in queries]
                     if v), None)

    def _authorised(self, request):
        token = self._token(request)
        return bool(token) and (token in self.sessions or any(k["AccessToken"] == token for k in self.keys))

    def startup(self, handler):
        def guarded(request):
            if self.completed and not self._authorised(request):
                return Reply(401, "The startup wizard is complete.")
            return handler(request)
        return guarded

    def admin(self, handler):
        def guarded(request):
            if not self._authorised(request):
                return Reply(401, None)
            return handler(request)
        return guarded

    def writes(self):
        return [entry for entry in self.log if entry[0] in ("POST", "DELETE", "PUT")
                and entry[1] != "/Users/AuthenticateByName"]

    # -- wizard -------------------------------------------------------------------
    def public_info(self, request):
        return Reply(200, {"LocalAddress": "http://127.0.0.1:8096", "ServerName": self.config["ServerName"] or "jellyfin",
                           "Version": self.version, "ProductName": "Jellyfin Server", "OperatingSystem": "",
                           "Id": self.server_id, "StartupWizardCompleted": self.completed and not self.booting})

    def set_config(self, request):
        body = request.json or {}
        self.config.update((k, body[k]) for k in self.config if body.get(k) is not None)
        return Reply(204, None)

    def get_startup_user(self, request):
        self.startup_user_read = True
        if self.user is None:
            self.user = {"Name": "root", "Password": None}
        return Reply(200, {"Name": self.user["Name"], "Password": None})

    def set_startup_user(self, request):
        if self.version.startswith("12.") and self.user and self.user.get("Password"):
            return Reply(403, None)
        if not self.startup_user_read:
            # Jellyfin makes the initial user object on GET; without it the POST fails inside.
            return Reply(500, "Object reference not set to an instance of an object.")
        body = request.json or {}
        if not body.get("Name"):
            return Reply(400, "Name is required.")
        self.user = {"Name": body["Name"], "Password": body.get("Password") or ""}
        return Reply(204, None)

    def set_remote(self, request):
        body = request.json or {}
        self.remote.update((k, bool(body[k])) for k in self.remote if k in body)
        return Reply(204, None)

    def complete(self, request):
        if self.user is None or self.user.get("Password") is None:
            return Reply(400, "The startup user has not been set.")
        self.completed = True
        return Reply(204, None)

    def media_updated(self, request):
        """What the arr apps' Emby / Jellyfin notification sends on an import (LibraryController.cs:643-654)."""
        updates = (request.json or {}).get("Updates") or (request.json or {}).get("updates") or []
        for update in updates:
            path = update.get("Path") or update.get("path")
            if path is None:
                return Reply(500, "Value cannot be null. (Parameter 'path')")
            self.media_updates.append((path, update.get("UpdateType") or update.get("updateType")))
        return Reply(204, None)

    # -- named configuration: encoding ------------------------------------------------------
    def get_named(self, request):
        if request.params["key"].lower() != "encoding":
            return Reply(404, None)
        return Reply(200, dict(self.encoding))

    def set_named(self, request):
        """ConfigurationController.cs:93-108 and BaseConfigurationManager.cs:322-352 at v10.11.11: the body becomes
        the whole object - a field left out (or not spelt with its case) takes the constructor's default - and
        EncodingConfigurationStore.cs:19-48 refuses a new encoder path."""
        if request.params["key"].lower() != "encoding":
            return Reply(404, None)
        body = request.json if isinstance(request.json, dict) else {}
        new = dict(ENCODING_DEFAULTS)
        new.update((k, v) for k, v in body.items() if k in ENCODING_DEFAULTS)
        if new["HardwareAccelerationType"] not in HARDWARE_ACCELERATIONS:
            return Reply(400, "The JSON value could not be converted to HardwareAccelerationType.")
        if new["EncoderAppPath"] and new["EncoderAppPath"] != self.encoding["EncoderAppPath"]:
            return Reply(500, "Unable to update encoder app path.")
        new["EncoderAppPathDisplay"] = self.encoding["EncoderAppPathDisplay"]
        self.encoding = new
        return Reply(204, None)

    def complete_as(self, username, password):
        """Set the server up directly, as a user who clicked through the wizard in a browser."""
        self.user, self.completed, self.config["ServerName"] = {"Name": username, "Password": password}, True, "Home"

    # -- sign-in and keys ---------------------------------------------------------------
    def authenticate(self, request):
        header = _authorization(request, self.legacy_authorization)
        if not header.startswith("MediaBrowser ") or "Client=" not in header:
            return Reply(400, "Authorization header is missing the MediaBrowser Client, Device, DeviceId, Version.")
        body = request.json or {}
        if not self.completed or self.user is None or body.get("Username", "").lower() != self.user["Name"].lower() \
                or body.get("Pw") != self.user["Password"]:
            return Reply(401, "Error processing request.")
        token = secrets.token_hex(16)
        self.sessions[token] = self.user["Name"]
        return Reply(200, {"User": {"Name": self.user["Name"], "ServerId": self.server_id, "Id": self.user_id,
                                    "HasPassword": True, "HasConfiguredPassword": True},
                           "AccessToken": token, "ServerId": self.server_id})

    def list_keys(self, request):
        return Reply(200, {"Items": self.keys, "TotalRecordCount": len(self.keys), "StartIndex": 0})

    def create_key(self, request):
        app = request.query.get("app")
        if not app:
            return Reply(400, "The app name is required.")
        self.keys.append({"Id": self.next_key_id, "AccessToken": secrets.token_hex(16), "DeviceId": "",
                          "AppName": app, "AppVersion": "", "DeviceName": "", "UserId": "00000000-0000-0000-0000-000000000000",
                          "IsActive": True, "DateCreated": "2026-11-25T00:00:00.0000000Z", "DateRevoked": None,
                          "DateLastActivity": "2026-11-25T00:00:00.0000000Z", "UserName": None})
        self.next_key_id += 1
        return Reply(204, None)

    def revoke_key(self, request):
        self.keys = [k for k in self.keys if k["AccessToken"] != request.params["key"]]
        return Reply(204, None)

    # -- libraries ------------------------------------------------------------------
    def _folder(self, name):
        return next((f for f in self.folders if f["Name"].lower() == (name or "").lower()), None)

    @staticmethod
    def _check_path(path):
        if not path or not os.path.isdir(path):
            raise HttpError(400, "The path does not exist.")

    def add_folder(self, request):
        name = request.query.get("name")
        kind = request.query.get("collectionType")
        if not name:
            return Reply(400, "Name is required.")
        if kind and kind not in COLLECTION_TYPES:
            return Reply(400, "The value '%s' is not valid." % kind)
        paths = request.query_all.get("paths", [])
        for path in paths:
            self._check_path(path)
        base, suffix = name, 2
        while self._folder(name):          # Jellyfin's quirk: a name in use becomes "Name2"
            name, suffix = "%s%d" % (base, suffix), suffix + 1
        options = dict(DEFAULT_OPTIONS, **((request.json or {}).get("LibraryOptions") or {}))
        options["PathInfos"] = [{"Path": p} for p in paths]
        self.folders.append({"Name": name, "Locations": list(paths), "CollectionType": kind, "LibraryOptions": options,
                             "ItemId": str(uuid.uuid4()), "PrimaryImageItemId": None, "RefreshProgress": None,
                             "RefreshStatus": "Idle"})
        return Reply(204, None)

    def remove_folder(self, request):
        folder = self._folder(request.query.get("name"))
        if folder is None:
            return Reply(404, "There is no library of that name.")
        self.folders.remove(folder)
        return Reply(204, None)

    def add_path(self, request):
        body = request.json or {}
        folder = self._folder(body.get("Name"))
        if folder is None:
            return Reply(400, "There is no library of that name.")
        path = body.get("Path") or (body.get("PathInfo") or {}).get("Path")
        self._check_path(path)
        folder["Locations"].append(path)   # no de-duplication, as in Jellyfin
        folder["LibraryOptions"]["PathInfos"].append({"Path": path})
        return Reply(204, None)

    def remove_path(self, request):
        folder = self._folder(request.query.get("name"))
        path = request.query.get("path")
        if folder is None or path not in folder["Locations"]:
            return Reply(400, "The path is not in the library.")
        folder["Locations"] = [p for p in folder["Locations"] if p != path]
        folder["LibraryOptions"]["PathInfos"] = [p for p in folder["LibraryOptions"]["PathInfos"] if p["Path"] != path]
        return Reply(204, None)

    def set_options(self, request):
        body = request.json or {}
        folder = next((f for f in self.folders if f["ItemId"] == body.get("Id")), None)
        if folder is None:
            return Reply(404, "There is no library with that id.")
        folder["LibraryOptions"] = dict(folder["LibraryOptions"], **(body.get("LibraryOptions") or {}))
        return Reply(204, None)


if __name__ == "__main__":
    sys.exit(run_cli(lambda args: JellyfinDouble(), description=__doc__.splitlines()[0]))
