# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every API module of arrkestra.homelab shares."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the app as the host that runs the module (usually the Ansible
        controller) reaches it, including any URL base, for example
        V(http://radarr.media.svc:7878) or V(https://media.example.org/radarr).
      - Falls back to the environment variable E(ARRKESTRA_URL).
      - Set it once for many tasks with C(module_defaults) and the module's action group.
    type: str
    required: true
  api_key:
    description:
      - API key of the app.
      - Falls back to the environment variable E(ARRKESTRA_API_KEY).
    type: str
  timeout:
    description:
      - Seconds to wait for each answer of the app.
    type: float
    default: 30
  retries:
    description:
      - How many times a request is sent again after a connection error, or after a
        C(502)/C(503)/C(504) answer to a request that is safe to repeat, waiting longer
        each time (0.5 s, 1 s, 2 s, ...).
    type: int
    default: 3
  validate_certs:
    description:
      - Whether the app's TLS certificate is verified. Set to V(false) only for a
        self-signed certificate you trust; prefer O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authority that signed the app's certificate.
    type: path
  client_cert:
    description:
      - PEM file of a TLS client certificate to present, for example the one of a kubeconfig
        when O(url) goes through the Kubernetes API server's service proxy
        (C(https://<api-server>/api/v1/namespaces/<ns>/services/http:<app>:<port>/proxy)).
      - It may hold the private key too; otherwise give O(client_key).
    type: path
  client_key:
    description:
      - PEM file of the private key of O(client_cert).
    type: path
requirements:
  - httpx >= 0.24 on the host that runs the module
"""

    ATTRIBUTES = r"""
attributes:
  check_mode:
    description: Can run in check mode and return a changed status prediction without modifying the app.
    support: full
  diff_mode:
    description: Returns details on what has changed (or would change in check mode); secrets are never shown.
    support: full
"""
