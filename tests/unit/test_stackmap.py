# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The map of the stack (plugins/plugin_utils/stackmap.py), drawn from the model of the example inventory and of the
multi-instance fixture, checked as XML and looked at: rendered to PNG by rsvg-convert (Debian's librsvg2-bin,
tests/apt-packages.txt) in the test artefacts - ``$ARRKESTRA_ARTEFACTS/stackmap`` or ``tests/artefacts/stackmap``."""

from __future__ import annotations

import glob
import json
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import pytest
import yaml

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as link_model, model as stack_model
from ansible_collections.arrkestra.homelab.plugins.plugin_utils import stackmap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTEFACTS = os.path.join(os.environ.get("ARRKESTRA_ARTEFACTS") or os.path.join(ROOT, "tests", "artefacts"), "stackmap")
SVG = "{http://www.w3.org/2000/svg}"
INVENTORIES = {"example": os.path.join(ROOT, "inventories", "example"),
               "multi-instance": os.path.join(ROOT, "tests", "fixtures", "inventories", "multi-instance")}


def cluster_nodes(hosts):
    """``{host: ansible_host}`` of the ``cluster`` group of an inventory's hosts.yml (as the stack role hands them)."""
    def group(tree, name):
        for key, value in (tree or {}).items():
            if key == name:
                return value or {}
            found = group((value or {}).get("children"), name) if isinstance(value, dict) else None
            if found is not None:
                return found
        return None

    def members(entry):
        out = dict((host, (given or {}).get("ansible_host")) for host, given in (entry.get("hosts") or {}).items())
        for child in (entry.get("children") or {}).values():
            out.update(members(child or {}))
        return out
    entry = group(hosts, "cluster")
    return members(entry) if entry is not None else None


def load(name):
    """The stack model, links and cluster nodes of an inventory, as the stack and wiring roles compute them."""
    path = INVENTORIES[name]
    variables = {}
    for file_name in sorted(glob.glob(os.path.join(path, "group_vars", "all", "*.yml"))):
        with open(file_name, encoding="utf-8") as handle:
            variables.update(yaml.safe_load(handle) or {})
    with open(os.path.join(path, "hosts.yml"), encoding="utf-8") as handle:
        nodes = cluster_nodes(yaml.safe_load(handle))
    stack = stack_model.build(dict((k[len("arrkestra_"):], v) for k, v in variables.items()
                                   if k.startswith("arrkestra_")), nodes)
    data = stack["data"]
    links = link_model.derive([a for a in stack["apps"] if a["wired"]], {
        "media_root": data["media_root"], "torrents_root": data["torrents_root"], "usenet_root": data["usenet_root"]})
    return stack, links, nodes


def report_for(name):
    """Drift results of an inventory: one link in drift, one app unreachable, one app's object in drift."""
    return {
        "rows": [{"phase": "wiring", "app": "radarr", "object": "download client qbittorrent", "field": "port",
                  "declared": 8080, "actual": 8081, "action": "update", "link": "radarr/download_clients/qbittorrent"},
                 {"phase": "wiring", "app": "qbittorrent", "object": "category sonarr", "field": None,
                  "declared": "x", "actual": None, "action": "create", "link": "qbittorrent/categories/sonarr"},
                 {"phase": "apps", "app": "jellyfin", "object": "Deployment jellyfin", "field": "image",
                  "declared": "a", "actual": "b", "action": "update", "link": None},
                 {"phase": "platform", "app": None, "object": "IPAddressPool arrkestra", "field": "addresses",
                  "declared": "p", "actual": "q", "action": "update", "link": None}],
        "errors": [{"phase": "wiring", "app": "prowlarr" if name == "multi-instance" else "sabnzbd",
                    "message": "connection refused <&> \"quoted\""}],
        "timestamp": "2025-01-31T03:00:00Z",
    }


def parse(svg):
    return ET.fromstring(svg)


def text_of(element):
    return "".join(element.itertext())


def by_link(root):
    out = {}
    for element in root.iter():
        if element.get("data-link"):
            out.setdefault(element.get("data-link"), []).append(element)
    return out


def app_group(root, name):
    found = [g for g in root.iter(SVG + "g") if g.get("data-app") == name]
    assert len(found) == 1, name
    return found[0]


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_the_map_names_every_app_and_every_link_with_its_url(name):
    stack, links, nodes = load(name)
    root = parse(stackmap.svg(stack, links, nodes=nodes))
    assert root.tag == SVG + "svg"
    everything = text_of(root)
    for app in stack["apps"]:
        assert app["name"] in text_of(app_group(root, app["name"]))
    drawn = by_link(root)
    slim = dict((link["id"], link) for link in stackmap.slim(stack, links, nodes)["links"])
    apps = dict((a["name"], a) for a in stack["apps"])
    # and the calls of the apps the wiring does not link (Recyclarr, Unpackerr, Homepage): one per app whose
    # callers (its NetworkPolicy's) name them
    calls = [{"id": "%s/%s/%s" % (caller["name"], "widgets" if caller["kind"] == "homepage" else "calls", app["name"]),
              "app": caller["name"], "to": app["name"], "group": "widgets" if caller["kind"] == "homepage" else "calls"}
             for caller in stack["apps"] if not caller["wired"] for app in stack["apps"] if caller["name"] in app["callers"]]
    assert set(drawn) == set(link["id"] for link in links + calls)
    for link in links + calls:
        elements = drawn[link["id"]]
        titles = [text_of(t) for e in elements for t in e.iter(SVG + "title")]
        assert any(link["id"] in t for t in titles), link["id"]
        url = slim[link["id"]]["url"]
        if link["group"] == "widgets":      # a line of the dashboard's box, with the app's URL
            assert url == apps[link["to"]]["url"] and any(url in text_of(e) for e in elements), link["id"]
        elif link["to"] and link["group"] != "categories":
            # an arrow to the app it points at, labelled with where it points: the app's own URL here
            assert url == apps[link["to"]]["url"], link["id"]
            assert any(e.find(SVG + "path") is not None for e in elements), link["id"]
            assert any(url in text_of(e) for e in elements if e.get("class") == "link-label"), link["id"]
        else:
            assert url is None
    assert "namespace %s, domain %s" % (stack["namespace"], stack["domain"]) in everything
    for host, address in (nodes or {}).items():
        assert "%s  %s" % (host, address) in everything
    if name == "example":
        assert set(link["to"] for link in calls if link["app"] == "unpackerr") == {"radarr", "radarr-4k", "sonarr"}
        assert set(link["to"] for link in calls if link["app"] == "recyclarr") == {"radarr", "radarr-4k", "sonarr"}
        assert {"prowlarr", "radarr-4k", "qbittorrent", "sabnzbd", "seerr"} <= set(
            link["to"] for link in calls if link["app"] == "homepage")
        assert "widget radarr-4k -> http://radarr-4k.media.svc.cluster.local:7878" in text_of(
            app_group(root, "homepage"))
        assert "on node pi-1" in text_of(app_group(root, "jellyfin"))
        assert "/data/torrents/radarr-4k" in text_of(app_group(root, "qbittorrent"))
    if name == "multi-instance":
        assert "external: http://nas.lan:9091" in text_of(app_group(root, "transmission"))


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_drifted_links_and_unreachable_apps_are_marked(name):
    stack, links, nodes = load(name)
    report = report_for(name)
    root = parse(stackmap.svg(stack, links, report, nodes))
    drawn = by_link(root)
    drift = drawn["radarr/download_clients/qbittorrent"]
    assert all(e.get("data-state") == "drift" for e in drift)
    path = [p for e in drift for p in e.iter(SVG + "path")][0]
    assert path.get("stroke") == stackmap.COLOURS["drift"] and path.get("stroke-dasharray")
    assert any("update: download client" in text_of(e) for e in drift)
    category = drawn["qbittorrent/categories/sonarr"]
    assert category[0].get("data-state") == "drift" and "create: category sonarr" in text_of(category[0])
    # the app named in errors: unreachable, its own links not checked; the others in sync
    unreachable = report["errors"][0]["app"]
    box = app_group(root, unreachable)
    assert box.get("data-state") == "unreachable" and "UNREACHABLE" in text_of(box)
    assert 'connection refused <&> "quoted"' in text_of(box.find(SVG + "title"))     # escaped, and read back
    for link in links:
        state = drawn[link["id"]][0].get("data-state")
        if link["id"] in ("radarr/download_clients/qbittorrent", "qbittorrent/categories/sonarr"):
            continue
        assert state == ("unknown" if link["app"] == unreachable else "sync"), link["id"]
    assert app_group(root, "jellyfin").get("data-state") == "drift"
    assert "DRIFT: update" in text_of(app_group(root, "jellyfin"))
    assert app_group(root, "radarr").get("data-state") == "sync"
    everything = text_of(root)
    assert "platform IPAddressPool arrkestra addresses: update" in everything      # no app of the map: listed
    assert "checked 2025-01-31T03:00:00Z" in everything
    assert "8081" not in everything     # values are never drawn (they may be secrets)


def test_a_link_of_the_report_no_longer_derived_is_shown_in_its_app():
    stack, links, nodes = load("example")
    report = {"rows": [{"phase": "wiring", "app": "radarr", "action": "delete", "link": "radarr/download_clients/old"}],
              "errors": []}
    root = parse(stackmap.svg(stack, links, report, nodes))
    element = by_link(root)["radarr/download_clients/old"][0]
    assert element.get("data-state") == "drift" and "delete: download_clients/old" in text_of(element)


def test_the_map_is_deterministic_and_drawn_from_the_report_alone():
    stack, links, nodes = load("example")
    report = report_for("example")
    first = stackmap.svg(stack, links, report, nodes)
    assert first == stackmap.svg(stack, links, report, nodes)
    assert "checked " not in stackmap.svg(stack, links, dict(report, timestamp=None), nodes)    # only when given
    carried = dict(report, **stackmap.slim(stack, links, nodes))
    assert stackmap.svg_from_report(carried) == first
    # what the report carries is plain JSON: what a drift report writes and reads back
    assert stackmap.svg_from_report(json.loads(json.dumps(carried))) == first


def test_the_map_of_the_drift_report_as_scripts_drift_sh_draws_it():
    """The drift report carries the apps and links slim, its namespace as ``stack`` (plugins/plugin_utils/drift.py)."""
    stack, links, nodes = load("example")
    urls = dict((a["name"], a["url"]) for a in stack["apps"])
    report = dict(report_for("example"), stack=stack["namespace"],
                  apps=[dict((k, a.get(k)) for k in ("name", "kind", "url", "web_url")) for a in stack["apps"]],
                  links=[{"id": link["id"], "app": link["app"], "group": link["group"], "to": link["to"],
                          "url": urls.get(link["to"])} for link in links])
    for svg in (stackmap.svg({"namespace": report["stack"], "apps": report["apps"]}, report["links"], report),
                stackmap.svg_from_report(json.loads(json.dumps(report)))):
        root = parse(svg)
        drawn = by_link(root)
        assert set(drawn) == set(link["id"] for link in links)
        for link in links:
            if link["to"] and link["group"] != "categories":
                assert any(urls[link["to"]] in text_of(e) for e in drawn[link["id"]]), link["id"]
        assert drawn["radarr/download_clients/qbittorrent"][0].get("data-state") == "drift"
        assert app_group(root, "sabnzbd").get("data-state") == "unreachable"
        assert "namespace media" in text_of(root) and "domain" not in text_of(root.find(SVG + "text"))
        assert "http://radarr" not in text_of(by_link(root)["qbittorrent/categories/radarr"][0])


def test_no_secret_reaches_the_map():
    apps = [{"name": "radarr", "kind": "radarr", "url": "http://radarr:7878"},
            {"name": "seerr", "kind": "seerr", "url": "http://seerr:5055"},
            {"name": "sabnzbd", "kind": "sabnzbd", "url": "http://user:hunter2@sab.lan:8080/sab?apikey=s3cret#x",
             "external": True}]
    links = link_model.derive(apps, {"extra": [{"app": "seerr", "group": "services", "item": {
        "kind": "radarr", "name": "radarr-extra", "hostname": "radarr", "port": 7878, "root_folder": "/data/x",
        "app_api_key": "TOPSECRETKEY"}}]})
    stack = {"namespace": "media", "domain": "example.org", "platform": {}, "apps": apps}
    out = stackmap.svg(stack, links)
    parse(out)
    for secret in ("hunter2", "s3cret", "TOPSECRETKEY", "apikey", "user:"):
        assert secret not in out
    assert "http://sab.lan:8080/sab" in out
    extra = by_link(parse(out))["seerr/services/radarr-extra"][0]
    assert "service radarr-extra -> http://radarr:7878" in text_of(extra)


def test_text_that_is_not_xml_is_escaped():
    stack = {"namespace": "m&<>", "domain": "d\"'", "platform": {},
             "apps": [{"name": "a<b", "kind": "x&y", "url": "http://h:1/p?q=1&r=2", "web_url": None}]}
    links = [{"id": "a<b/tags/t&\"", "app": "a<b", "group": "tags", "to": None, "item": {"label": "t&\x01"}}]
    root = parse(stackmap.svg(stack, links, {"errors": [{"app": "a<b", "message": "bad \x00 <x>"}]}))
    assert "namespace m&<>, domain d\"'" in text_of(root)
    assert by_link(root)["a<b/tags/t&\""]
    assert app_group(root, "a<b").get("data-state") == "unreachable"


def boxes_of(root):
    """(x, y, w, h) of every app box and of every label of a link."""
    def rect(element):
        found = element.find(SVG + "rect")
        return tuple(float(found.get(k)) for k in ("x", "y", "width", "height"))
    apps = [rect(g) for g in root.iter(SVG + "g") if g.get("class") == "app"]
    labels = [(g.get("data-link"), rect(g)) for g in root.iter(SVG + "g") if g.get("class") == "link-label"]
    return apps, labels


def overlap(a, b):
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_no_label_overlaps_another_or_a_box_and_every_text_fits(name):
    stack, links, nodes = load(name)
    root = parse(stackmap.svg(stack, links, report_for(name), nodes))
    apps, labels = boxes_of(root)
    for index, (link, box) in enumerate(labels):
        for other, other_box in labels[index + 1:]:
            assert not overlap(box, other_box), (link, other)
        for app in apps:
            assert not overlap(box, app), link
    for index, app in enumerate(apps):
        for other in apps[index + 1:]:
            assert not overlap(app, other)
    # every text of a box or a label ends inside it (the monospace estimate of its width)
    for group in root.iter(SVG + "g"):
        if group.get("class") not in ("app", "link-label"):
            continue
        x, dummy, w, dummy = (float(group.find(SVG + "rect").get(k)) for k in ("x", "y", "width", "height"))
        for text in group.iter(SVG + "text"):
            end = float(text.get("x")) + stackmap.text_width(text_of(text), int(text.get("font-size")))
            assert end <= x + w + 0.5, text_of(text)


# -- the picture ---------------------------------------------------------------------------------------------------
def read_png(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit RGB or RGBA PNG, decoded with zlib alone."""
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, header, idat = 8, None, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, colour, dummy, dummy, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), previous[i], (previous[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, [bytes(b for i in range(0, stride, bpp) for b in row[i:i + 3]) for row in rows[::2]]


def render(name, svg):
    """The SVG and its PNG, in the test artefacts; the PNG's path."""
    converter = shutil.which("rsvg-convert")
    assert converter, "rsvg-convert is missing: apt-get install librsvg2-bin (tests/apt-packages.txt)"
    os.makedirs(ARTEFACTS, exist_ok=True)
    svg_path, png_path = (os.path.join(ARTEFACTS, name + ext) for ext in (".svg", ".png"))
    with open(svg_path, "w", encoding="utf-8") as handle:
        handle.write(svg)
    subprocess.run([converter, "--format", "png", "-o", png_path, svg_path], check=True, capture_output=True)
    return png_path


def colours_of(png):
    """``{RGB: pixels}`` of every other pixel of every other row of a PNG; its width and height."""
    width, height, rows = read_png(png)
    colours = {}
    for row in rows:
        for i in range(0, len(row), 6):
            colours[row[i:i + 3]] = colours.get(row[i:i + 3], 0) + 1
    return width, height, colours


def share(colours, test):
    return sum(n for c, n in colours.items() if test(c)) / sum(colours.values())


def red(c):
    return c[0] > 180 and c[1] < 110 and c[2] < 110


def orange(c):
    return c[0] > 200 and 100 < c[1] < 160 and c[2] < 80


@pytest.mark.parametrize("name", sorted(INVENTORIES))
def test_the_map_renders_to_a_picture_that_is_not_blank_with_its_drift_in_colour(name):
    stack, links, nodes = load(name)
    pictures = {}
    for suffix, report in (("", None), ("-drift", report_for(name))):
        svg = stackmap.svg(stack, links, report, nodes)
        root = parse(svg)
        width, height, colours = colours_of(render(name + suffix, svg))
        assert (width, height) == (int(root.get("width")), int(root.get("height")))
        assert 1000 <= width <= 4000 and 300 <= height <= 2000, (width, height)
        assert 0.5 < share(colours, lambda c: c == b"\xff\xff\xff") < 0.97     # mostly background, yet drawn on
        assert share(colours, lambda c: max(c) < 90) > 0.005                     # text and lines
        assert len(colours) > 50
        pictures[suffix] = colours
    # in sync, only the legend's samples are red or orange; with the report, the link in drift, the unreachable
    # app's border and the app in drift are
    assert share(pictures["-drift"], red) > 5 * share(pictures[""], red)
    assert share(pictures["-drift"], orange) > 5 * share(pictures[""], orange)
    unreachable = stackmap.COLOURS["unreachable_fill"]
    grey = bytes(int(unreachable[i:i + 2], 16) for i in (1, 3, 5))
    assert share(pictures["-drift"], lambda c: c == grey) > 5 * share(pictures[""], lambda c: c == grey)
