# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/upstream-facts.md is the spec of every app the collection runs: each image the catalog pins
is listed there with the upstream tag its facts were read at. Bumping an image without checking its
facts again fails here."""

from __future__ import annotations

import os
import re

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import catalog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOC = os.path.join(ROOT, "docs", "upstream-facts.md")


def checked_images():
    """The ``| image | upstream repository | tag |`` rows of the doc's "Checked at" table."""
    with open(DOC, encoding="utf-8") as handle:
        text = handle.read()
    table = text.split("## Checked at", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip(" `") for c in line.strip().strip("|").split("|")] for line in table.splitlines()
            if line.startswith("|") and not set(line) <= set("|-: ")]
    return dict((row[0], row[1:]) for row in rows[1:])


def test_every_pinned_image_has_its_facts_checked_at_its_version():
    checked = checked_images()
    pinned = [entry["image"] for entry in catalog.CATALOG.values() if entry["image"]] + [catalog.SUPPORT_IMAGES[n] for n in ("gluetun", "forwardarr")]
    for image in pinned:
        assert image in checked, (
            "%s is not in the 'Checked at' table of docs/upstream-facts.md: read the app's facts again at this "
            "version (config paths, env names, auth, probes, host checks) and list the image there" % image)
        repository, tag = checked[image][:2]
        assert re.match(r"^[\w.-]+/[\w.-]+$", repository) and tag, checked[image]
    stale = sorted(set(checked) - set(pinned))
    assert not stale, "docs/upstream-facts.md lists images the catalog no longer pins: %s" % ", ".join(stale)


def test_every_app_of_the_catalog_has_a_section():
    with open(DOC, encoding="utf-8") as handle:
        headings = [line[3:].strip().lower() for line in handle if line.startswith("## ")]
    for kind, entry in catalog.CATALOG.items():
        if entry["image"]:
            assert any(kind in h for h in headings), "no section on %s in docs/upstream-facts.md" % kind
