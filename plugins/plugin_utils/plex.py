# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plex Media Server: what its pod needs besides an app's usual container - the environment its image's entrypoint
turns into preferences before the server starts.

Upstream facts (docs/upstream-facts.md, home-operations/containers@a9b84a4 apps/plex/entrypoint.sh): on every start
the entrypoint writes ``PLEX_ADVERTISE_URL`` as the ``customConnections`` preference (the URLs clients are told to
use, lines 70-74) and each ``PLEX_PREFERENCE_<n>="Key=Value"`` as a preference (lines 95-100; the key ends at the
last ``=``, so no value here holds one). The EULA is accepted there, so that no one is asked on a first visit; the
server's name, its libraries and the rest are the wiring's (``plex_links``), which reads the account token the Plex
sign-in keeps in the app's Secret. No claim token in the environment: it lives four minutes, and the wiring claims
the running server with a fresh one instead.
"""

from __future__ import annotations

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import kube

KIND = "plex"


def advertised_url(app):
    """The URL Plex tells its clients (customConnections): the ingress's, with its port written out, as Plex's
    clients take it; None without an ingress."""
    if not app["web_url"]:
        return None
    return app["web_url"] + (":443" if app["web_url"].startswith("https://") else ":80")


def env(app):
    out = [{"name": "PLEX_PREFERENCE_ARRKESTRA_EULA", "value": "AcceptedEULA=1"}]
    url = advertised_url(app)
    if url:
        out.append({"name": "PLEX_ADVERTISE_URL", "value": url})
    return out


def pod(stack, app, spec):
    """The environment (:func:`kube.feature_env`)."""
    if app["kind"] == KIND:
        kube.feature_env(app, spec, env(app))
