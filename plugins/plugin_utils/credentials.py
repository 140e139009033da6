# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apps' credentials: made once, up front (API keys, logins, and the stored forms the seeds write), kept in
one Secret per app, never replaced; and the digest on each pod template that restarts an app whose credentials,
as it reads them at start, were rotated."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import checks, kube, sso

#: bcrypt's own base64 alphabet (the salt of a ``$2b$`` hash), index for index with the standard one.
_BCRYPT_B64 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                              b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
#: bcrypt's cost of the sign-on's generated password (2^10 rounds: a tenth of a second on a Raspberry Pi 4).
BCRYPT_COST = 10


def _bcrypt():
    try:
        import bcrypt  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise checks.InputError(
            "arrkestra_sso: the sign-on's password is stored as a bcrypt hash, made on the controller with the Python "
            "library bcrypt, which is missing: pip install bcrypt (in the Python that runs ansible-playbook)")
    return bcrypt


def bcrypt_hash(password, salt):
    """The bcrypt hash (``$2b$``, :data:`BCRYPT_COST`) of ``password`` with the 16 bytes ``salt``."""
    encoded = base64.b64encode(salt)[:22].translate(_BCRYPT_B64)
    return _bcrypt().hashpw(password.encode("utf-8"), b"$2b$%02d$" % BCRYPT_COST + encoded).decode()


def bcrypt_matches(stored, password):
    """Whether ``stored`` is a bcrypt hash of ``password``."""
    if not stored or not stored.startswith(("$2a$", "$2b$", "$2y$")):
        return False
    try:
        return _bcrypt().checkpw(password.encode("utf-8"), stored.encode("utf-8"))
    except ValueError:
        return False


def qbittorrent_pbkdf2(password, salt):
    """qBittorrent's ``WebUI\\Password_PBKDF2``: PBKDF2-HMAC-SHA512, 100000 rounds, 16-byte salt, 64-byte key."""
    key = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, 100000, 64)
    return "@ByteArray(%s:%s)" % (base64.b64encode(salt).decode(), base64.b64encode(key).decode())


def pbkdf2_matches(stored, password):
    """Whether ``stored`` (``@ByteArray(salt:key)``, as :func:`qbittorrent_pbkdf2` makes it) is ``password``'s."""
    match = re.match(r"^@ByteArray\(([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)\)$", stored or "")
    if not match:
        return False
    return qbittorrent_pbkdf2(password, base64.b64decode(match.group(1))) == stored


#: What the seeds need besides an app's credentials, made from them once (the form each app stores).
DERIVED_CREDENTIALS = {"qbittorrent": ("password_pbkdf2",), "bazarr": ("password_md5",),
                       "tinyauth": ("password_bcrypt", "users"), "authelia": ("password_bcrypt", "users")}


def missing_credentials(stack, existing):
    """``{app: [keys]}`` the Secrets lack; ``existing`` is ``{app: {key: value}}`` read back from the cluster."""
    missing = {}
    for app in stack["apps"]:
        have = (existing or {}).get(app["name"]) or {}
        keys = [k for k in app["credentials"] if not have.get(k) and k not in (app.get("given_credentials") or ())]
        keys += [k for k in DERIVED_CREDENTIALS.get(app["kind"], ()) if not have.get(k)]
        if keys:
            missing[app["name"]] = keys
    return missing


def complete_credentials(stack, existing, random_bytes):
    """Every app's credentials: what ``existing`` holds, the rest made from ``random_bytes(n)``.

    Never replaces a value that exists: the Secrets are the source of truth.
    """
    out = {}
    for app in stack["apps"]:
        have = dict((existing or {}).get(app["name"]) or {})
        for key in app["credentials"]:
            if not have.get(key) and key not in (app.get("given_credentials") or ()):
                if key == "api_key":
                    have[key] = random_bytes(16).hex()
                elif key == "username":
                    have[key] = "admin"
                else:
                    have[key] = base64.urlsafe_b64encode(random_bytes(18)).decode().rstrip("=")
        # The forms the seeds store follow the password: made again when it was rotated in the Secret.
        if app["kind"] == "qbittorrent" and not pbkdf2_matches(have.get("password_pbkdf2"), have["password"]):
            have["password_pbkdf2"] = qbittorrent_pbkdf2(have["password"], random_bytes(16))
        if app["kind"] == "bazarr":
            have["password_md5"] = hashlib.md5(have["password"].encode("utf-8")).hexdigest()
        if app["kind"] in sso.PROVIDERS:
            # The sign-on's users file: the inventory's users and the generated one, its hash kept while it matches.
            if not bcrypt_matches(have.get("password_bcrypt"), have["password"]):
                have["password_bcrypt"] = bcrypt_hash(have["password"], random_bytes(16))
            have["users"] = sso.users_file(stack, have)
        if have:
            out[app["name"]] = have
    return out


#: The pod template annotation that restarts an app when what it reads from its Secret at start changed.
CREDENTIALS_ANNOTATION = "arrkestra.io/credentials-digest"


def credentials_digest(app, credentials, everyone=None):
    """A digest of what ``app`` reads from Secrets at start - from its own (``credentials``: its random API key,
    qBittorrent's salted password hash) or, for an ``[app, key]`` entry, from another app's (``everyone``:
    Unpackerr reads the arr apps' keys): on its pod template, so that a rotation restarts it; None for an app that
    reads nothing."""
    values = [(credentials or {}).get(key) if isinstance(key, str) else ((everyone or {}).get(key[0]) or {}).get(key[1])
              for key in app.get("reads_at_start") or ()]
    if not values:
        return None
    return hashlib.sha256(json.dumps(values).encode("utf-8")).hexdigest()[:16]


def secret_objects(stack, credentials):
    """The Secrets of the apps that have credentials."""
    out = []
    for app in stack["apps"]:
        if not app["secret"]:
            continue
        values = (credentials or {}).get(app["name"]) or {}
        out.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                    "metadata": kube.meta(app["secret"], stack["namespace"], app, "credentials"),
                    "stringData": dict((k, v) for k, v in sorted(values.items()))})
    return out
