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
      - Password of that user. The module logs in (C(POST /api/v2/auth/login)) unless a kept session still works
        (O(session_cache)), and sends the
        C(Referer)/C(Origin) headers qBittorrent's CSRF protection wants.
      - qBittorrent bans an address after too many failed logins; a wrong password fails with a message that says so.
    type: str
    required: true
  session_cache:
    description:
      - A directory on the host that runs the module where the session (C(SID) cookie) of a sign-in is kept, in a file
        only its user can read, one per URL and user. While qBittorrent still knows the session, the next task and
        the next run use it and sign in no more, so a run with nothing to change sends no request that is not a
        read. An empty value keeps nothing (every task signs in).
    type: path
    default: ~/.cache/arrkestra/qbittorrent
notes:
  - O(api_key) is not used, since qBittorrent logs users in with a password.
  - Tested against the real C(qbittorrent-nox) 4.5 from Debian (WebUI API 2.8).
"""
