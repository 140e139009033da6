# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Single sign-on in front of the web UIs (``arrkestra_sso``): a forward-auth service - tinyauth by default,
Authelia for OIDC or second factors - deployed as an app of the stack, and one Traefik ``Middleware``
(``forwardAuth``) on the Ingresses of the apps that sit behind it (the arr apps, the download clients, Bazarr,
Homepage, Grafana). With it, the Servarr apps leave their login to it (``<APP>__AUTH__METHOD=External``); the
stack's NetworkPolicies already let nothing but Traefik and the apps that call them reach them, and the apps call
each other at their in-cluster Services, which no middleware is on.

Upstream facts: docs/upstream-facts.md, "Single sign-on".
"""

from __future__ import annotations

import yaml

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import catalog, checks, kube

PROVIDERS = ("tinyauth", "authelia")
#: The Middleware's name, in the stack's namespace (and in Grafana's, monitoring).
MIDDLEWARE = "arrkestra-sso"
#: The Ingress annotation through which Traefik's Ingress provider applies a Middleware of its CRD provider.
ANNOTATION = "traefik.ingress.kubernetes.io/router.middlewares"
#: The Middleware's CRD (Traefik v3's API group).
CRD = "middlewares.traefik.io"
API_VERSION = "traefik.io/v1alpha1"
#: The headers the provider answers a signed-in request with, passed on to the app.
RESPONSE_HEADERS = ("Remote-User", "Remote-Name", "Remote-Email", "Remote-Groups")
#: Where each provider answers Traefik's forward-auth request.
FORWARD_AUTH_PATH = {"tinyauth": "/api/auth/traefik", "authelia": "/api/authz/forward-auth"}
#: Where the users file is mounted in the provider's pod (a key of its Secret).
USERS_DIR = "/etc/arrkestra-sso"
#: The keys of the provider's Secret each provider reads as a file, by the environment variable naming the file.
SECRET_FILES = {"authelia": (("AUTHELIA_IDENTITY_VALIDATION_RESET_PASSWORD_JWT_SECRET_FILE", "jwt_secret"),
                             ("AUTHELIA_SESSION_SECRET_FILE", "session_secret"),
                             ("AUTHELIA_STORAGE_ENCRYPTION_KEY_FILE", "storage_encryption_key"))}
#: The user the collection makes, its password in the provider's Secret (a first run needs no clicking).
GENERATED_USER = "admin"
USER_FIELDS = ("password_hash", "email", "display_name", "groups")
#: The hashes each provider checks (tinyauth: Go's bcrypt; Authelia: go-crypt's decoders; docs/upstream-facts.md).
#: A ``$2y$`` hash (htpasswd's) is the same algorithm as ``$2b$``, under the name Authelia decodes.
HASH_PREFIXES = {"tinyauth": ("$2a$", "$2b$", "$2y$"),
                 "authelia": ("$2b$", "$2y$", "$argon2id$", "$argon2i$", "$argon2d$", "$scrypt$", "$y$", "$pbkdf2",
                              "$5$", "$6$", "$bcrypt-sha256$")}
#: The file of Authelia's filesystem notifier, in its config folder: the one-time codes of a TOTP registration.
AUTHELIA_NOTIFICATIONS = "notifications.txt"
#: Where Authelia's configuration file (its ConfigMap) is mounted; X_AUTHELIA_CONFIG names the file.
AUTHELIA_CONFIG_DIR = "/etc/authelia"


def check_fields(sso):
    """``arrkestra_sso`` on its own: the switch, the provider, the hostname and the users (name: bcrypt hash)."""
    sso["enabled"] = checks.boolean(sso["enabled"], "arrkestra_sso.enabled")
    sso["two_factor"] = checks.boolean(sso["two_factor"], "arrkestra_sso.two_factor")
    if sso["provider"] not in PROVIDERS:
        raise checks.InputError("arrkestra_sso.provider must be %s, not %r" % (" or ".join(PROVIDERS), sso["provider"]))
    if sso["hostname"] is not None:
        checks.hostname(sso["hostname"], "arrkestra_sso.hostname")
    users = {}
    for name, given in checks.mapping(sso["users"], "arrkestra_sso.users").items():
        where = "arrkestra_sso.users.%s" % name
        checks.text(str(name), where, r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$",
                    "a user name must be letters, digits and . _ @ -, at most 64 characters")
        user = dict(checks.mapping({"password_hash": given} if isinstance(given, str) else given, where, USER_FIELDS))
        digest = str(user.get("password_hash") or "")
        if not digest.startswith(HASH_PREFIXES[sso["provider"]]):
            raise checks.InputError(
                "%s.password_hash is not a password hash %s reads (%s...); never give a password in the inventory: "
                "make the hash with `htpasswd -nbBC 10 '' 'the password' | cut -d: -f2` (bcrypt)"
                % (where, sso["provider"], ", ".join(HASH_PREFIXES[sso["provider"]])))
        if ":" in digest or "\n" in digest:
            raise checks.InputError("%s.password_hash has a ':' or a line break: give the hash alone" % where)
        if user.get("email") is not None:
            checks.email(user["email"], where + ".email")
        user["groups"] = [str(g) for g in checks.listing(user.get("groups") or [], where + ".groups")]
        users[str(name)] = user
    if GENERATED_USER in users:
        raise checks.InputError("arrkestra_sso.users.%s: %s is the user the collection makes (its password is in the "
                                "sign-on's Secret); give yours another name" % (GENERATED_USER, GENERATED_USER))
    sso["users"] = users


def settings(sso, stack_settings, ingress_enabled, tls):
    """What needs the stack's settings as well: the sign-in page's hostname and the cookie's domain (``tls``: whether
    the apps' hostnames are served over https)."""
    domain = stack_settings["domain"]
    sso["hostname"] = sso["hostname"] or "auth.%s" % domain
    sso["domain"] = domain
    if not sso["enabled"]:
        return
    if not ingress_enabled:
        raise checks.InputError("arrkestra_sso.enabled needs the ingress (Traefik) the platform runs: the sign-on is a "
                                "Traefik middleware. Turn arrkestra_ingress.enabled on, or arrkestra_sso off")
    # tinyauth sets its cookie for its own hostname less the first label, Authelia for the cookie domain it is given
    # (docs/upstream-facts.md): the sign-in page must be one label under the apps' domain, which needs a dot itself.
    if "." not in domain:
        raise checks.InputError("arrkestra_sso.enabled: arrkestra_domain %s has one label; the sign-on's cookie needs a "
                                "domain of two labels at least (like media.home.arpa) for every app's hostname" % domain)
    if sso["hostname"].split(".", 1)[-1] != domain:
        raise checks.InputError("arrkestra_sso.hostname %s must be one label under arrkestra_domain %s (like auth.%s): "
                                "the sign-in cookie is set for the sign-on's hostname less its first label, and every "
                                "app's hostname must carry it" % (sso["hostname"], domain, domain))
    if sso["two_factor"] and sso["provider"] != "authelia":
        raise checks.InputError("arrkestra_sso.two_factor needs arrkestra_sso.provider authelia (a TOTP code after the "
                                "password); tinyauth's codes are per user in its users file, which the collection "
                                "does not make")
    if sso["provider"] == "authelia" and not tls:
        raise checks.InputError("arrkestra_sso.provider authelia needs https: Authelia refuses a sign-in URL and "
                                "apps over http. Turn arrkestra_certificates.enabled on (or give arrkestra_tls_secret), "
                                "or use provider tinyauth")


def enabled(stack):
    return stack["platform"]["sso"]["enabled"]


def instance(sso, given_apps):
    """The provider's app instance, added to the inventory's apps when SSO is on (what the inventory gives for it
    under ``arrkestra_apps.<provider>`` - resources, image - is kept)."""
    if not sso["enabled"]:
        return given_apps
    out = dict(given_apps)
    for name, given in given_apps.items():
        if ((given or {}).get("kind") or name) in PROVIDERS and ((given or {}).get("kind") or name) != sso["provider"]:
            raise checks.InputError("arrkestra_apps.%s: arrkestra_sso.provider is %s; a second sign-on service would "
                                    "not be used" % (name, sso["provider"]))
    entry = dict(out.get(sso["provider"]) or {})
    if entry.get("hostname") not in (None, sso["hostname"]):
        raise checks.InputError("arrkestra_apps.%s.hostname: the sign-on's hostname is arrkestra_sso.hostname (the "
                                "cookie's domain is checked against it); set that instead" % sso["provider"])
    entry["hostname"] = sso["hostname"]
    entry["sso"] = False        # its own login page
    out[sso["provider"]] = entry
    return out


#: Distributions whose default network plugin enforces no NetworkPolicy (Talos: flannel): an arr app's ``External``
#: method would leave its UI - and its API key, which the UI hands out - to every pod of the cluster.
POLICIES_NOT_ENFORCED = ("talos",)


def decide(apps, platform):
    """Each app's ``sso`` (its Ingress behind the middleware) and ``auth_method`` (how a Servarr app asks for a
    login: ``External`` behind the sign-on, else ``Forms`` - also behind it where the NetworkPolicies are not
    enforced), decided once here."""
    sso = platform["sso"]
    for app in apps:
        wanted = app.pop("sso_given", None)
        behind = app["kind"] in catalog.BEHIND_SSO if wanted is None else wanted
        app["sso"] = bool(sso["enabled"] and behind and app["ingress"] and app["kind"] not in PROVIDERS)
        if app["kind"] in catalog.SERVARR:
            external = app["sso"] and platform["distribution"] not in POLICIES_NOT_ENFORCED
            app["auth_method"] = "External" if external else "Forms"


def provider_app(stack):
    for app in stack["apps"]:
        if app["kind"] in PROVIDERS:
            return app
    return None


def middleware(stack, namespace):
    """The forwardAuth Middleware in ``namespace``: every request to an app behind it is first asked of the
    provider, which lets it through (2xx, with the user's headers) or answers for the app (the sign-in page)."""
    provider = provider_app(stack)
    return {"apiVersion": API_VERSION, "kind": "Middleware",
            "metadata": kube.meta(MIDDLEWARE, namespace, component="sso"),
            "spec": {"forwardAuth": {"address": provider["url"] + FORWARD_AUTH_PATH[provider["kind"]],
                                     "trustForwardHeader": False,
                                     "authResponseHeaders": list(RESPONSE_HEADERS)}}}


def annotations(stack, namespace):
    """The annotation of an Ingress in ``namespace`` that sits behind the sign-on."""
    return {ANNOTATION: "%s-%s@kubernetescrd" % (namespace, MIDDLEWARE)}


def namespaces(stack):
    """The namespaces with an Ingress behind the sign-on: the stack's, and Grafana's with monitoring on."""
    if not enabled(stack):
        return []
    out = [stack["namespace"]]
    if stack["platform"]["monitoring"]["enabled"]:
        out.append("monitoring")
    return out


def platform_objects(stack):
    """The Middleware of each namespace with an Ingress behind the sign-on (objects of Traefik's CRD: the platform
    phase waits for it)."""
    return [middleware(stack, ns) for ns in namespaces(stack)]


# -- the provider's app -------------------------------------------------------------------------
def users_file(stack, credentials):
    """The provider's users file: the inventory's users and the one the collection makes (its password's bcrypt
    hash, from the provider's Secret)."""
    sso = stack["platform"]["sso"]
    users = dict(sso["users"])
    users[GENERATED_USER] = {"password_hash": credentials["password_bcrypt"], "email": None, "display_name": None,
                             "groups": ["admins"]}
    if sso["provider"] == "tinyauth":
        return "".join("%s:%s\n" % (name, users[name]["password_hash"]) for name in sorted(users))
    body = {"users": dict((name, dict(
        {"displayname": user.get("display_name") or name, "password": _authelia_hash(user["password_hash"]),
         "groups": list(user.get("groups") or [])},
        **({"email": user["email"]} if user.get("email") else {}))) for name, user in sorted(users.items()))}
    return yaml.safe_dump(body, default_flow_style=False, sort_keys=True)


def _authelia_hash(digest):
    return "$2b$" + digest[4:] if digest.startswith("$2y$") else digest


def _scheme(stack):
    return "https" if stack["tls_secret"] else "http"


def authelia_configuration(stack, app):
    """Authelia's configuration file: no secret in it (they come from files of its Secret). With ``two_factor`` every
    app behind it asks for a TOTP code too (each user registers an authenticator at the first sign-in; the one-time
    code that confirms it goes to the filesystem notifier's file). After a sign-in at the sign-on's own page, the
    stack's Homepage, when it has one."""
    sso = stack["platform"]["sso"]
    cookie = {"domain": sso["domain"], "authelia_url": "%s://%s" % (_scheme(stack), app["hostname"])}
    home = [a for a in stack["apps"] if a["kind"] == "homepage" and a["web_url"]]
    if home:
        cookie["default_redirection_url"] = home[0]["web_url"]
    out = {
        "server": {"address": "tcp://0.0.0.0:%d/" % app["port"]},
        "log": {"level": "info"},
        "authentication_backend": {"password_reset": {"disable": True},
                                   "file": {"path": USERS_DIR + "/users.yml", "watch": True}},
        "access_control": {"default_policy": "two_factor" if sso["two_factor"] else "one_factor"},
        "session": {"cookies": [cookie]},
        "storage": {"local": {"path": app["config_dir"] + "/db.sqlite3"}},
        "notifier": {"filesystem": {"filename": app["config_dir"] + "/" + AUTHELIA_NOTIFICATIONS}},
    }
    if sso["two_factor"]:
        out["totp"] = {"issuer": sso["domain"]}
    return out


def _authelia_config(stack, app):
    return yaml.safe_dump(authelia_configuration(stack, app), default_flow_style=False, sort_keys=True)


def authelia_config_map(stack, app):
    """The ConfigMap's name, with a digest of the file: a new configuration is a new name in the pod template, which
    restarts Authelia (it reads its configuration once); the apps phase prunes the old one."""
    return kube.digest_name(app["name"] + "-config", _authelia_config(stack, app))


def config_objects(stack, app):
    """Authelia's configuration file, as a ConfigMap (tinyauth is configured by its environment alone)."""
    if app["kind"] != "authelia":
        return []
    return [{"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": kube.meta(authelia_config_map(stack, app), stack["namespace"], app, "config"),
             "data": {"configuration.yml": _authelia_config(stack, app)}}]


def pod(stack, app, spec):
    """The provider's environment and its users file (a key of its Secret) mounted read-only."""
    if app["kind"] not in PROVIDERS:
        return
    container = spec["containers"][0]
    users = "users.yml" if app["kind"] == "authelia" else "users"
    spec["volumes"].append({"name": "sso-users", "secret": {"secretName": app["secret"], "defaultMode": 0o440,
                                                            "items": [{"key": "users", "path": users}]}})
    container["volumeMounts"].append({"name": "sso-users", "mountPath": USERS_DIR, "readOnly": True})
    if app["kind"] == "tinyauth":
        env = [{"name": "TINYAUTH_APPURL", "value": "%s://%s" % (_scheme(stack), app["hostname"])},
               {"name": "TINYAUTH_AUTH_USERSFILE", "value": USERS_DIR + "/users"},
               {"name": "TINYAUTH_AUTH_SECURECOOKIE", "value": "true" if stack["tls_secret"] else "false"},
               {"name": "TINYAUTH_DATABASE_PATH", "value": app["config_dir"] + "/tinyauth.db"},
               {"name": "TINYAUTH_RESOURCES_ENABLED", "value": "false"},
               {"name": "TINYAUTH_ANALYTICS_ENABLED", "value": "false"}]
    else:
        spec["volumes"].append({"name": "sso-config", "configMap": {"name": authelia_config_map(stack, app)}})
        spec["volumes"].append({"name": "sso-secrets", "secret": {"secretName": app["secret"], "defaultMode": 0o440,
                                                                  "items": [{"key": key, "path": key} for dummy, key
                                                                            in SECRET_FILES["authelia"]]}})
        container["volumeMounts"] += [{"name": "sso-config", "mountPath": AUTHELIA_CONFIG_DIR, "readOnly": True},
                                      {"name": "sso-secrets", "mountPath": USERS_DIR + "/secrets", "readOnly": True}]
        env = [{"name": "X_AUTHELIA_CONFIG", "value": AUTHELIA_CONFIG_DIR + "/configuration.yml"}]
        env += [{"name": var, "value": "%s/secrets/%s" % (USERS_DIR, key)} for var, key in SECRET_FILES["authelia"]]
    kube.feature_env(app, spec, env)


def summary(stack, app):
    """How to sign in, for the run's summary."""
    if app["kind"] not in PROVIDERS:
        return None
    return ("login (the sign-on of the apps behind it): user %s, password: kubectl -n %s get secret %s -o go-template="
            "'{{.data.password | base64decode}}{{\"\\n\"}}'" % (GENERATED_USER, stack["namespace"], app["secret"]))
