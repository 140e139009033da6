# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the Jellyfin modules sign in."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  admin_user:
    description:
      - Jellyfin administrator to sign in as (C(POST /Users/AuthenticateByName)).
    type: str
  admin_password:
    description:
      - Password of O(admin_user).
    type: str
notes:
  - Tested against a test double of Jellyfin 10.11 whose every request and answer is checked against Jellyfin's
    OpenAPI document.
"""
