# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the qBittorrent modules log in."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  username:
    description:
      - User of qBittorrent's WebUI.
    type: str
    default: admin
  password:
    description:
      - Password of that user. The module logs in once per run (C(POST /api/v2/auth/login)) and sends the
        C(Referer)/C(Origin) headers qBittorrent's CSRF protection wants.
      - qBittorrent bans an address after too many failed logins; a wrong password fails with a message that says so.
    type: str
    required: true
notes:
  - O(api_key) is not used, since qBittorrent logs users in with a password.
  - Tested against the real C(qbittorrent-nox) 4.5 from Debian (WebUI API 2.8).
"""
