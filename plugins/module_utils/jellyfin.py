# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jellyfin's API: the first-run wizard, sign-in, API keys and libraries."""

from __future__ import annotations

import time

from ._http import ApiError
from ._module import client_from_module, link_groups, new_module, run_links_module, run_reconciler
from ._reconcile import Reconciler, differences, find_by_name

CLIENT_HEADER = 'MediaBrowser Client="Arrkestra", Device="Ansible", DeviceId="arrkestra-ansible", Version="1"'
#: How long a run waits for a Jellyfin that is still migrating its database at start-up (seconds).
BOOT_WAIT = 300
COLLECTION_TYPES = ("movies", "tvshows", "music", "musicvideos", "homevideos", "boxsets", "books", "mixed")


def _auth_headers(value):
    """Jellyfin's client and token, in ``Authorization`` and in ``X-Emby-Authorization``: the Kubernetes API server's
    service proxy removes ``Authorization`` (it authenticates the controller with it), and Jellyfin 10.11 reads
    ``X-Emby-Authorization`` when ``Authorization`` is missing (docs/upstream-facts.md)."""
    return {"Authorization": value, "X-Emby-Authorization": value}


def admin_spec():
    return {"admin_user": {"type": "str"}, "admin_password": {"type": "str", "no_log": True}}


def jellyfin_module(argument_spec, required_one_of=None, required_together=None):
    spec = dict(admin_spec())
    spec.update(argument_spec)
    return new_module(spec, required_one_of=required_one_of,
                      required_together=(required_together or []) + [["admin_user", "admin_password"]])


class JellyfinSession:
    """One client; signs in with the admin user or uses an API key, as the task gives."""

    def __init__(self, module, client=None):
        self.module = module
        self.client = client or client_from_module(module, "Jellyfin", headers=_auth_headers(CLIENT_HEADER))
        self.token = None
        self._folders = None

    def authorise(self, token):
        self.token = token
        self.client.headers.update(_auth_headers('%s, Token="%s"' % (CLIENT_HEADER, token)))

    def folders(self):
        """The libraries (virtual folders), read once per run (again after a write)."""
        if self._folders is None:
            self._folders = self.client.get("/Library/VirtualFolders") or []
        return self._folders

    def forget_folders(self):
        self._folders = None

    def public_info(self):
        info = self.client.get("/System/Info/Public")
        if not isinstance(info, dict) or "Version" not in info:
            raise ApiError("%s does not look like Jellyfin (GET /System/Info/Public gave %r)."
                           % (self.client.base_url, str(info)[:80]),
                           hint="Check that `url` points at Jellyfin, including its base URL.")
        return info

    def wizard_completed(self, info):
        """Whether the wizard ran, from ``/System/Info/Public``; a server still starting up is waited for.

        While Jellyfin migrates its database at start-up, a stand-in server answers ``/System/Info/Public`` with
        ``StartupWizardCompleted: false`` whatever the real state, and ``/health`` with 200 "Degraded"
        (docs/upstream-facts.md): a "not completed" is trusted only once ``/health`` says "Healthy"."""
        deadline = time.monotonic() + BOOT_WAIT
        while not info.get("StartupWizardCompleted"):
            health = self.client.request("GET", "/health", raw_path=True, expect=(503,)).text.strip()
            if health == "Healthy":
                return False
            if time.monotonic() > deadline:
                raise ApiError("Jellyfin is still starting up after %d s: GET /health says %r, so whether its "
                               "first-run wizard ran cannot be told." % (BOOT_WAIT, health[:80]),
                               hint="Look at Jellyfin's log (a long database migration, or a failing health check), "
                                    "then run again.")
            time.sleep(2)
            info = self.public_info()
        return True

    def sign_in(self, username=None, password=None):
        """Signs in once per run: with the admin user, or with the API key when no user is given."""
        if self.token and username is None:
            return
        p = self.module.params
        username = username or p.get("admin_user")
        password = p.get("admin_password") if password is None else password
        if p.get("api_key") and not username:
            self.authorise(p["api_key"])
            return
        if not username:
            raise ApiError("Jellyfin needs `api_key` or `admin_user` and `admin_password`.")
        resp = self.client.request("POST", "/Users/AuthenticateByName", json_body={"Username": username, "Pw": password or ""},
                                   expect=(401,))
        if resp.status == 401:
            raise ApiError("Jellyfin refused the sign-in of user %r: wrong user name or password." % username,
                           hint="Give the admin user and password the first-run wizard set "
                                "(jellyfin_startup; the apps phase keeps them in Jellyfin's Secret).", status=401)
        self.authorise(resp.body["AccessToken"])

    def close(self):
        self.client.close()


def _session_run(module, make):
    run_reconciler(module, JellyfinSession, lambda session: make(module, session))


# -- the first-run wizard ------------------------------------------------------------
class StartupReconciler(Reconciler):
    """The wizard: done once, in Jellyfin's order; a server already set up is left alone."""

    result_key = "startup"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session

    def fetch(self):
        info = self.session.public_info()
        self.result["version"] = info.get("Version")
        return {"wizard_completed": self.session.wizard_completed(info), "server_name": info.get("ServerName")}

    def build(self, current):
        if current["wizard_completed"]:
            return current
        p = self.params
        return {"wizard_completed": True, "server_name": p["server_name"], "admin_user": p["admin_user"],
                "ui_culture": p["ui_culture"], "metadata_language": p["metadata_language"],
                "metadata_country": p["metadata_country"], "enable_remote_access": p["enable_remote_access"]}

    def compare(self, current, wanted):
        return [] if current["wizard_completed"] else differences(current, wanted)

    def update(self, current, wanted):
        p, client = self.params, self.session.client
        client.get("/Startup/Configuration")
        client.post("/Startup/Configuration", {"ServerName": p["server_name"], "UICulture": p["ui_culture"],
                                               "MetadataCountryCode": p["metadata_country"],
                                               "PreferredMetadataLanguage": p["metadata_language"]})
        client.get("/Startup/User")      # makes the initial user; the POST fails without it
        # Jellyfin 12 refuses (403) to set a first user who already has a password: a wizard cut short after this
        # step. The sign-in below then proves the password is the one given (docs/upstream-facts.md).
        client.request("POST", "/Startup/User", json_body={"Name": p["admin_user"], "Password": p["admin_password"]},
                       expect=(403,))
        client.post("/Startup/RemoteAccess", {"EnableRemoteAccess": p["enable_remote_access"],
                                              "EnableAutomaticPortMapping": False})
        client.post("/Startup/Complete")
        self.session.sign_in(p["admin_user"], p["admin_password"])          # proves the admin user works
        return wanted

    def create(self, wanted):  # pragma: no cover - the wizard state always exists
        return self.update(None, wanted)

    def remove(self, current):  # pragma: no cover - no state: absent
        return None


def run_startup(module):
    _session_run(module, StartupReconciler)


# -- API keys --------------------------------------------------------------------------
class ApiKeyReconciler(Reconciler):
    """An API key, by its app name; Jellyfin answers its creation with no body, so it is read back."""

    result_key = "key"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.name = self.params["name"]

    def _keys(self):
        return [k for k in (self.session.client.get("/Auth/Keys") or {}).get("Items", [])
                if (k.get("AppName") or "").lower() == self.name.lower()]

    def _known_key_works(self):
        """Whether the key the task already knows (``api_key``, kept in the stack's Secret) is still the app's key:
        then nothing signs in - a re-run sends no request that Jellyfin records."""
        known = self.params.get("api_key")
        if not known:
            return False
        self.session.authorise(known)
        resp = self.session.client.request("GET", "/Auth/Keys", expect=(401, 403))
        if resp.status != 200:
            return False
        keys = [k for k in (resp.body or {}).get("Items", []) if (k.get("AppName") or "").lower() == self.name.lower()]
        if not any(k.get("AccessToken") == known for k in keys):
            return False
        self._read = keys
        return True

    def fetch(self):
        self._read = None
        if not self._known_key_works():
            self.session.token = None       # the key given is not Jellyfin's (any more): sign in
            self.session.sign_in()
        keys = self._read if self._read is not None else self._keys()
        if not keys:
            return None
        if not any(k["AccessToken"] == self.params.get("api_key") for k in keys):
            self.result["api_key"] = keys[0]["AccessToken"]    # the key given is still the key: nothing to return
        return {"name": keys[0]["AppName"], "count": len(keys)}

    def build(self, current):
        return current or {"name": self.name, "count": 1}

    def compare(self, current, wanted):
        return []

    def create(self, wanted):
        self.session.client.post("/Auth/Keys", params={"app": self.name})
        keys = self._keys()
        if not keys:
            raise ApiError("Jellyfin made API key %r but does not list it in GET /Auth/Keys." % self.name)
        self.result["api_key"] = keys[0]["AccessToken"]
        return wanted

    def update(self, current, wanted):  # pragma: no cover - a key has nothing to change
        return current

    def remove(self, current):
        for key in self._keys():
            self.session.client.delete("/Auth/Keys/%s" % key["AccessToken"])
        self.result.pop("api_key", None)


def run_api_key(module):
    _session_run(module, ApiKeyReconciler)


# -- libraries -------------------------------------------------------------------------
def _norm(path):
    return path.rstrip("/") if path and path != "/" else path


class LibraryReconciler(Reconciler):
    """A library (virtual folder), found by name first: Jellyfin would make "Movies2" otherwise."""

    result_key = "library"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        self.name = self.params["name"]

    def fetch(self):
        self.session.sign_in()
        found = find_by_name(self.session.folders(), self.name, key="Name")
        if found is None:
            return None
        self._id = found.get("ItemId")
        options = found.get("LibraryOptions") or {}
        wanted_options = self.params.get("options") or {}
        return {"name": found["Name"], "collection_type": found.get("CollectionType") or "mixed",
                "paths": [_norm(p) for p in found.get("Locations") or []],
                "options": dict((k, options.get(k)) for k in wanted_options)}

    def build(self, current):
        p = self.params
        wanted = dict(current or {"name": self.name, "collection_type": p.get("collection_type") or "mixed",
                                  "paths": [], "options": {}})
        if current and p.get("collection_type") and p["collection_type"] != current["collection_type"]:
            raise ApiError("Library %r exists in Jellyfin as %s, not %s, and Jellyfin cannot change the type of a "
                           "library." % (current["name"], current["collection_type"], p["collection_type"]),
                           hint="Give another name, or delete the library (state: absent) and run again.")
        if p.get("paths") is not None:
            wanted["paths"] = list(dict.fromkeys(_norm(x) for x in p["paths"]))
        if p.get("options"):
            wanted["options"] = dict(p["options"])
        return wanted

    def compare(self, current, wanted):
        found = []
        if sorted(set(current["paths"])) != sorted(wanted["paths"]) or len(current["paths"]) != len(set(current["paths"])):
            found.append("paths")
        found.extend("options." + k for k in sorted(wanted["options"]) if current["options"].get(k) != wanted["options"][k])
        return found

    def _path_error(self, exc, path):
        if exc.status == 400:
            raise ApiError("Jellyfin cannot use %r for library %r: %s" % (path, self.name, exc.message.split(": ", 1)[-1]),
                           hint="The path must exist inside the Jellyfin container: mount the shared data volume at "
                                "the same path in Jellyfin as in the arr apps (for example /data/media/movies).",
                           status=400)
        raise exc

    def create(self, wanted):
        self.session.forget_folders()
        params = [("name", self.name), ("collectionType", wanted["collection_type"]), ("refreshLibrary", "false")]
        params += [("paths", path) for path in wanted["paths"]]
        try:
            self.session.client.post("/Library/VirtualFolders", {"LibraryOptions": wanted["options"]}, params=params)
        except ApiError as exc:
            self._path_error(exc, ", ".join(wanted["paths"]))
        return wanted

    def update(self, current, wanted):
        client = self.session.client
        self.session.forget_folders()
        for path in wanted["paths"]:
            if path not in current["paths"]:
                try:
                    client.post("/Library/VirtualFolders/Paths", {"Name": current["name"], "Path": path},
                                params={"refreshLibrary": "false"})
                except ApiError as exc:
                    self._path_error(exc, path)
        seen = set()
        for path in current["paths"]:
            if path not in wanted["paths"] or path in seen:   # also drops duplicates another tool added
                client.delete("/Library/VirtualFolders/Paths",
                              params={"name": current["name"], "path": path, "refreshLibrary": "false"})
                if path in wanted["paths"]:
                    client.post("/Library/VirtualFolders/Paths", {"Name": current["name"], "Path": path},
                                params={"refreshLibrary": "false"})
            seen.add(path)
        if any(c.startswith("options.") for c in self.compare(current, wanted)):
            folders = client.get("/Library/VirtualFolders") or []
            folder = find_by_name(folders, current["name"], key="Name") or {}
            client.post("/Library/VirtualFolders/LibraryOptions", {
                "Id": folder.get("ItemId"), "LibraryOptions": dict(folder.get("LibraryOptions") or {}, **wanted["options"])})
        return wanted

    def remove(self, current):
        self.session.forget_folders()
        self.session.client.delete("/Library/VirtualFolders", params={"name": current["name"], "refreshLibrary": "false"})


def run_library(module):
    _session_run(module, LibraryReconciler)


# -- transcoding (encoding options) ------------------------------------------------------------
#: Module option -> field of Jellyfin's EncodingOptions (MediaBrowser.Model/Configuration/EncodingOptions.cs at
#: v10.11.11; JSON names are the property names, matched with their case: docs/upstream-facts.md).
ENCODING_FIELDS = {
    "hardware_acceleration": "HardwareAccelerationType",
    "vaapi_device": "VaapiDevice",
    "qsv_device": "QsvDevice",
    "enable_hardware_encoding": "EnableHardwareEncoding",
    "hardware_decoding_codecs": "HardwareDecodingCodecs",
    "enable_10bit_hevc_decoding": "EnableDecodingColorDepth10Hevc",
    "enable_10bit_vp9_decoding": "EnableDecodingColorDepth10Vp9",
    "prefer_system_native_hw_decoder": "PreferSystemNativeHwDecoder",
    "intel_low_power_h264_encoder": "EnableIntelLowPowerH264HwEncoder",
    "intel_low_power_hevc_encoder": "EnableIntelLowPowerHevcHwEncoder",
    "enable_tonemapping": "EnableTonemapping",
    "enable_vpp_tonemapping": "EnableVppTonemapping",
    "allow_hevc_encoding": "AllowHevcEncoding",
    "allow_av1_encoding": "AllowAv1Encoding",
    "transcoding_temp_path": "TranscodingTempPath",
    "encoding_thread_count": "EncodingThreadCount",
}
HARDWARE_ACCELERATIONS = ("none", "amf", "qsv", "nvenc", "v4l2m2m", "vaapi", "videotoolbox", "rkmpp")
#: Fields Jellyfin keeps itself: a new encoder path is refused, its display is computed.
SERVER_ENCODING_FIELDS = ("EncoderAppPath", "EncoderAppPathDisplay")


class EncodingReconciler(Reconciler):
    """Jellyfin's encoding options (Dashboard > Playback > Transcoding): only the fields the task names are
    compared; the write sends the whole object back as it was read, with those fields changed, because Jellyfin
    replaces the whole object and resets every field left out (ConfigurationController.cs:93-108 at v10.11.11)."""

    result_key = "encoding"

    def __init__(self, module, session, params=None):
        super().__init__(module, params)
        self.session = session
        wanted = dict((field, self.params[option]) for option, field in ENCODING_FIELDS.items()
                      if self.params.get(option) is not None)
        wanted.update(self.params.get("options") or {})
        server = sorted(set(wanted) & set(SERVER_ENCODING_FIELDS))
        if server:
            raise ApiError("Jellyfin keeps %s itself and refuses a new encoder path." % ", ".join(server),
                           hint="Leave it out: the image sets the path of its jellyfin-ffmpeg.")
        self.wanted = wanted
        self._all = None

    def fetch(self):
        self.session.sign_in()
        self._all = self.session.client.get("/System/Configuration/encoding") or {}
        unknown = sorted(k for k in self.wanted if k not in self._all)
        if unknown:
            raise ApiError("Jellyfin %s has no encoding option %s." % (self.session.client.app_version or "",
                                                                       ", ".join(unknown)),
                           hint="Names are those of GET /System/Configuration/encoding, with their case (for example "
                                "HardwareAccelerationType); Jellyfin ignores a name it does not know.")
        return dict((k, self._all[k]) for k in self.wanted)

    @staticmethod
    def _same(field, have, want):
        if field == "HardwareDecodingCodecs":
            return sorted(str(c).lower() for c in have or ()) == sorted(str(c).lower() for c in want or ())
        return have == want

    def build(self, current):
        return dict(self.wanted)

    def compare(self, current, wanted):
        return sorted(k for k in wanted if not self._same(k, current.get(k), wanted[k]))

    def update(self, current, wanted):
        body = dict(self._all, **wanted)
        self.session.client.post("/System/Configuration/encoding", body)
        return wanted

    def create(self, wanted):  # pragma: no cover - the options always exist
        return self.update({}, wanted)

    def remove(self, current):  # pragma: no cover - no state: absent
        return None


def run_encoding(module):
    _session_run(module, EncodingReconciler)


# -- the modules' options, and jellyfin_links ------------------------------------------------
def startup_spec():
    return {
        "server_name": {"type": "str", "default": "Jellyfin"},
        "ui_culture": {"type": "str", "default": "en-US"},
        "metadata_language": {"type": "str", "default": "en"},
        "metadata_country": {"type": "str", "default": "US"},
        "enable_remote_access": {"type": "bool", "default": True},
    }


def api_key_spec():
    return {
        "name": {"type": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


def library_spec():
    return {
        "name": {"type": "str", "required": True},
        "collection_type": {"type": "str", "choices": list(COLLECTION_TYPES)},
        "paths": {"type": "list", "elements": "str"},
        "options": {"type": "dict"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }


def encoding_spec():
    spec = dict((option, {"type": "bool"}) for option in ENCODING_FIELDS)
    spec.update({
        "hardware_acceleration": {"type": "str", "choices": list(HARDWARE_ACCELERATIONS)},
        "vaapi_device": {"type": "str"},
        "qsv_device": {"type": "str"},
        "hardware_decoding_codecs": {"type": "list", "elements": "str"},
        "transcoding_temp_path": {"type": "str"},
        "encoding_thread_count": {"type": "int"},
        "options": {"type": "dict"},
    })
    return spec


def _with_login(make):
    """A reconciler factory whose item also carries the module's sign-in options (the admin user, the known key)."""
    def factory(module, session, params):
        p = module.params
        return make(module, session, dict(params, admin_user=p.get("admin_user"), admin_password=p.get("admin_password"),
                                          api_key=p.get("api_key")))
    return factory


LINK_RECONCILERS = {
    "startup": (_with_login(StartupReconciler), lambda p: "first-run wizard"),
    "api_keys": (_with_login(ApiKeyReconciler), lambda p: "API key %s" % p["name"]),
    "libraries": (LibraryReconciler, lambda p: "library %s" % p["name"]),
    "encoding": (EncodingReconciler, lambda p: "encoding options"),
}


def run_links(module):
    """The wizard, the API keys, the libraries, then the encoding options, in one session: one sign-in at most, each
    collection read once.
    In check mode, a server whose wizard is still to run has no admin to sign in with: the rest waits for the run."""
    def skip(name, result):
        return name != "startup" and module.check_mode and bool((result.get("startup") or {}).get("changed"))

    def finish(result):
        made = [r["api_key"] for r in result.get("api_keys") or () if r.get("api_key")]
        if made:
            result["api_key"] = made[0]
    run_links_module(module, JellyfinSession,
                     lambda session: link_groups(module, session, "jellyfin_links", LINK_RECONCILERS), skip, finish)
