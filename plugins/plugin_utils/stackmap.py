# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A map of the stack: its nodes, its apps and every link between them, as an SVG picture.

Pure functions, no I/O, no Graphviz (it runs on the controller, a Pi as often as not): the same stack, links and
drift report always give the same SVG, byte for byte. Drawn from the stack model (:mod:`model`), the wiring's links
(:mod:`links`) and, when given, the drift report's results - never by hand.

* :func:`svg` ``(stack, links, report=None, nodes=None)``: the map of a stack model and the links
  :func:`links.derive` gives for it (``nodes``: ``{host: address}`` or host names of the cluster, when known).
* :func:`slim` ``(stack, links, nodes=None)``: what the map needs of them, as plain JSON - the drift report carries
  it, so that the map can be drawn again from the report alone.
* :func:`svg_from_report` ``(report)``: the map from a drift report that carries :func:`slim`'s keys.

Both draw from the slim form, one drawing path; :func:`slim` takes apps and links already slim as well (those of
the drift report: ``{"stack": namespace, "apps": [{name, kind, url, web_url, node}], "links": [{id, app, group, to,
url}]}``, so ``svg({"namespace": report["stack"], "apps": report["apps"]}, report["links"], report)`` draws it too).
The slim form in full - what the drift report carries when it puts these keys at its top level,
``report.update(stackmap.slim(stack, links, nodes))``, with the domain, the nodes and what each link sets::

    {"namespace": "media", "domain": "media.example.org", "distribution": "k3s",
     "nodes": [{"name": "pi-1", "address": "192.168.1.11"}],            # [] when the cluster's hosts are unknown
     "apps": [{"name": "radarr-4k", "kind": "radarr",
               "url": "http://radarr-4k.media.svc.cluster.local:7878",   # as the other apps reach it, or None
               "web_url": "https://radarr-4k.media.example.org",          # what a person opens, or None
               "node": "pi-1",                                           # the node it is pinned to, or None
               "external": False, "cronjob": False}],
     "links": [{"id": "radarr-4k/download_clients/qbittorrent", "app": "radarr-4k", "group": "download_clients",
                "to": "qbittorrent",                                     # the app it points at, or None
                "url": "http://qbittorrent.media.svc.cluster.local:8080",  # where it points, or None
                "detail": ["/data/torrents/radarr-4k"]}]}                # folders or values it sets, no secret

Besides the wiring's links, :func:`slim` adds those of the apps the wiring does not make links for, which call
others from their own configuration (:data:`CALLS`): Recyclarr's and Unpackerr's calls to the arr apps as arrows,
Homepage's widgets as lines of its box - read from the ``callers`` of the stack model, as the NetworkPolicies are.

URLs are cleaned of any user, password, query or fragment; a link's URL and detail come from a list of known
options of its item (host, port, paths...), never from its secrets (which a link holds as references anyway).

What the drift report adds (all optional)::

    {"rows": [{"phase", "app", "object", "field", "declared", "actual", "action", "link"}],
     "errors": [{"phase", "app", "message"}],
     "timestamp": "2025-01-31T03:00:00Z"}

A link whose ``id`` is the ``link`` of a row is drawn in drift (red, dashed, with the row's action); the links of an
app named in ``errors`` are not checked (dotted) and the app is drawn unreachable; an app with rows of phase apps or
platform (or wiring rows of no link) is drawn in drift. Rows and errors of no app on the map are listed under the
legend. Declared and actual values are never drawn (they may be secrets): only objects, fields' names and actions.

Layout: the cluster's nodes in a strip at the top, then the apps in columns by role, each column in the order of the
stack model - indexers and the apps that ask the arr apps for something (Seerr, Bazarr), the arr apps, the download
clients and media servers they call, the other apps. Most links thus join neighbouring columns; one that spans a
column passes below it. Each link is a path with an arrowhead from the app whose API holds it to the app it points
at, labelled with its group and URL; the labels of a gap between two columns are stacked so that none overlaps.
What a link sets in its own app (root folders, categories, libraries...) is a line of that app's box.
"""

from __future__ import annotations

import math
import re
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as links_model

FONT = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
#: Advance of a monospace character, in em (DejaVu Sans Mono: 0.602; a little more for other fonts).
CHAR_EM = 0.62
TITLE_SIZE, NAME_SIZE, TEXT_SIZE, SMALL_SIZE = 18, 13, 11, 10
LINE = 15           # height of a line of text in a box
LABEL_LINE = {SMALL_SIZE: 12, TEXT_SIZE: 14}     # height of a line of a link's label, by font size
PAD = 10            # inside a box
NEAR, FAR = 44, 72  # room in a gap between two columns before its labels, and after them
MARGIN = 24

#: The columns of the map, each with its roles in order: (caption, kinds; None: every kind of no other role).
COLUMNS = (
    (("indexers", ("prowlarr", "flaresolverr")), ("requests, subtitles", ("seerr", "overseerr", "jellyseerr", "bazarr"))),
    (("arr apps", links_model.ARR_KINDS),),
    (("download clients", tuple(links_model.DOWNLOAD_CLIENTS)), ("media servers", tuple(links_model.MEDIA_SERVERS))),
    (("other apps", None),),
)
#: Groups of links that are a line of their app's box although they name another app (``to``): a download
#: client's category for an arr app is made in the client, and the client never calls the arr app; a dashboard's
#: widgets read most apps of the stack (arrows to all of them would hide the rest of the map).
BOX_GROUPS = ("categories", "widgets")
#: The links of an app that the wiring does not make - it calls the others from its own configuration (Recyclarr,
#: Unpackerr, Homepage: the catalog's ``calls``) - drawn from the ``callers`` the stack model gives each app (what
#: its NetworkPolicy lets in). No drift row names them: a change of one is a row of its app's own objects.
CALLS = "calls"
#: The kinds whose calls are the widgets of a dashboard: lines of its box (``widgets``), not arrows.
DASHBOARDS = ("homepage",)
#: How a group of links reads on the map.
GROUP_TITLES = {
    "download_clients": "download client", "notifications": "notification", "applications": "application",
    "indexer_proxies": "indexer proxy", "services": "service", "setup": "media server", "connections": "connection",
    "categories": "category", "root_folders": "root folder", "libraries": "library", "startup": "startup",
    "api_keys": "API key", "tags": "tag", "encoding": "encoding", "preferences": "preference",
    CALLS: "calls its API", "widgets": "widget",
}
#: Options of an item that say what a link sets in its app (folders, names, modes): never a secret.
DETAIL_KEYS = ("save_path", "dir", "paths", "hardware_acceleration")

COLOURS = {
    "text": "#1f2933", "muted": "#616e7c", "frame": "#9aa5b1", "box": "#ffffff", "box_line": "#52606d",
    "sync": "#3e4c59", "drift": "#d64545", "unknown": "#9aa5b1", "drifted_app": "#e67e22",
    "unreachable_fill": "#e4e7eb", "unreachable_line": "#d64545", "node": "#e6f6ff", "node_line": "#3e7bb6",
    "column": "#f5f7fa", "background": "#ffffff", "label_bg": "#ffffff",
}
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# -- the slim form --------------------------------------------------------------------------------------------
def clean_url(url):
    """``url`` without user, password, query or fragment (None for no URL)."""
    if not url or not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:
        host = "[%s]" % host
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None else "%s:%d" % (host, port)
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _item_url(item):
    """Where an item's host and port options point: ``host``/``hostname`` (or Seerr's ``jellyfin_`` and ``plex_``
    ones), ``port``, ``use_ssl``, ``url_base``/``base_url``; or a URL option (Prowlarr's application ``base_url``)."""
    for prefix in ("", "jellyfin_", "plex_"):
        host = item.get(prefix + "hostname") or item.get(prefix + "host")
        if not isinstance(host, str) or not host:
            continue
        if "://" in host:
            return clean_url(host)
        tls = bool(item.get(prefix + "use_ssl"))
        port = item.get(prefix + "port")
        base = item.get(prefix + "url_base") or item.get(prefix + "base_url") or ""
        if not isinstance(base, str) or "://" in base:
            base = ""
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host
        netloc = host
        if isinstance(port, int) and port != (443 if tls else 80):
            netloc = "%s:%d" % (host, port)
        return clean_url("%s://%s/%s" % ("https" if tls else "http", netloc, base.strip("/")))
    for key in ("base_url", "url"):
        if isinstance(item.get(key), str) and "://" in item[key]:
            return clean_url(item[key])
    return None


def _strip_slash(url):
    """A URL without the one slash of an empty path (``http://host:80/`` reads ``http://host:80``)."""
    if url and url.count("/") == 3 and url.endswith("/"):
        return url[:-1]
    return url


def _detail(item):
    out = []
    for key in DETAIL_KEYS:
        value = item.get(key)
        if isinstance(value, (list, tuple)):
            out.extend(str(v) for v in value if isinstance(v, (str, int)))
        elif isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            out.append(str(value))
    return out


def _slim_link(link, apps):
    """A link as the map reads it, from a link of :func:`links.derive` or one already slim (no ``item``)."""
    if "item" not in link:
        url, detail = clean_url(link.get("url")), [str(d) for d in link.get("detail") or ()]
    else:
        url, detail = _item_url(link.get("item") or {}), _detail(link.get("item") or {})
    if not url and link.get("to") and link.get("group") not in BOX_GROUPS:
        url = clean_url((apps.get(link.get("to")) or {}).get("url"))
    if link.get("group") == "categories" and "item" not in link:
        url = None      # a category's "to" is the arr app that files into it, not where it points
    return {"id": str(link["id"]), "app": link.get("app"), "group": str(link.get("group") or ""), "to": link.get("to"),
            "url": _strip_slash(url), "detail": detail}


def _slim_app(app):
    """An app as the map reads it, from the stack model or already slim."""
    return {"name": app["name"], "kind": app.get("kind") or app["name"], "url": clean_url(app.get("url")),
            "web_url": clean_url(app.get("web_url")),
            "node": app.get("node") or (app.get("node_selector") or {}).get("kubernetes.io/hostname"),
            "external": bool(app.get("external")), "cronjob": bool(app.get("cronjob"))}


def _nodes(nodes):
    if isinstance(nodes, dict):
        return [{"name": str(name), "address": str(address) if address else None}
                for name, address in sorted(nodes.items(), key=lambda kv: str(kv[0]))]
    out = []
    for node in nodes or ():
        if isinstance(node, dict):
            out.append({"name": str(node.get("name")), "address": node.get("address")})
        else:
            out.append({"name": str(node), "address": None})
    return out


def _calls(models, apps):
    """The links of the apps the wiring does not make (see :data:`CALLS`), slim, in the stack's order of callers and
    then of the apps they call; none for apps already slim (no ``callers``: the report carries these links)."""
    by_name = dict((a["name"], a) for a in apps)
    unwired = [a["name"] for a in models if a.get("wired") is False and a["name"] in by_name]
    out = []
    for caller in unwired:
        group = "widgets" if by_name[caller]["kind"] in DASHBOARDS else CALLS
        for target in models:
            if caller in (target.get("callers") or ()) and target["name"] in by_name:
                out.append({"id": "%s/%s/%s" % (caller, group, target["name"]), "app": caller, "group": group,
                            "to": target["name"], "url": by_name[target["name"]]["url"]})
    return out


def slim(stack, links, nodes=None):
    """What the map needs of the stack model, its links and the cluster's ``nodes`` (see the module's docstring)."""
    models = [a for a in stack.get("apps") or () if isinstance(a, dict) and a.get("name")]
    apps = [_slim_app(a) for a in models]
    by_name = dict((a["name"], a) for a in apps)
    links = [link for link in links or () if isinstance(link, dict) and link.get("id")] + _calls(models, apps)
    return {
        "namespace": stack.get("namespace") or stack.get("stack"), "domain": stack.get("domain"),
        "distribution": stack.get("distribution") or (stack.get("platform") or {}).get("distribution"),
        "nodes": _nodes(nodes if nodes is not None else stack.get("nodes")),
        "apps": apps,
        "links": [_slim_link(link, by_name) for link in links],
    }


def svg(stack, links, report=None, nodes=None):
    """The map of ``stack`` (the stack model) and its ``links`` (:func:`links.derive`), with the drift ``report``'s
    results when given."""
    return _draw(slim(stack, links, nodes), report or {})


def svg_from_report(report):
    """The map from a drift report that carries :func:`slim`'s keys (and its own results)."""
    return _draw(slim(report, report.get("links")), report)


# -- text -----------------------------------------------------------------------------------------------------
def _esc(text):
    text = _XML_BAD.sub("?", str(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text):
    return '"%s"' % _esc(text).replace('"', "&quot;")


def _plural(count, word):
    return "%d %s%s" % (count, word, "" if count == 1 else "s")


def text_width(text, size=TEXT_SIZE):
    """The width of ``text`` at ``size`` px, estimated with a monospace metric."""
    return len(str(text)) * size * CHAR_EM


def _num(value):
    """A coordinate as the SVG gets it: at most one decimal, never ``-0``."""
    out = ("%.1f" % value).rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def _text(x, y, text, size=TEXT_SIZE, fill=None, weight=None, anchor=None, extra=""):
    attrs = 'x="%s" y="%s" font-size="%d"' % (_num(x), _num(y), size)
    if fill:
        attrs += ' fill="%s"' % fill
    if weight:
        attrs += ' font-weight="%s"' % weight
    if anchor:
        attrs += ' text-anchor="%s"' % anchor
    return "<text %s%s>%s</text>" % (attrs, extra, _esc(text))


# -- the drift report's results ------------------------------------------------------------------------------
def _results(data, report):
    names = set(a["name"] for a in data.get("apps") or ())
    ids = set(link["id"] for link in data.get("links") or ())
    drift, drifted, notes, stray = {}, {}, [], {}
    for row in report.get("rows") or ():
        app, link = row.get("app"), row.get("link")
        action = str(row.get("action") or "differs")
        if link:
            actions = drift.setdefault(link, [])
            if action not in actions:
                actions.append(action)
            if link not in ids and app in names:
                stray.setdefault(app, [])
                if link not in stray[app]:
                    stray[app].append(link)
            elif link not in ids:
                notes.append("link %s: %s" % (link, action))
        elif app in names:
            drifted.setdefault(app, []).append(row)
        else:
            what = " ".join(str(row.get(k)) for k in ("object", "field") if row.get(k))
            notes.append("%s%s: %s" % (row.get("phase") or "drift", (" " + what) if what else "", action))
    unreachable = {}
    for error in report.get("errors") or ():
        if error.get("app") in names:
            unreachable.setdefault(error["app"], []).append(str(error.get("message") or "unreachable"))
        else:
            notes.append("%s: %s" % (error.get("phase") or "error", error.get("message") or "failed"))
    return {"drift": drift, "drifted": drifted, "unreachable": unreachable, "notes": notes, "stray": stray,
            "checked": bool(report.get("rows") is not None or report.get("errors") is not None)}


# -- layout ---------------------------------------------------------------------------------------------------
def _column_of(kind):
    """The column of an app of ``kind``, the caption of its role and the role's place in the column."""
    for index, roles in enumerate(COLUMNS):
        for place, (caption, kinds) in enumerate(roles):
            if kinds is not None and kind in kinds:
                return index, caption, place
    return len(COLUMNS) - 1, COLUMNS[-1][-1][0], len(COLUMNS[-1]) - 1


def _is_edge(link, names):
    return bool(link.get("to")) and link["to"] in names and link["group"] not in BOX_GROUPS


def _row_text(link):
    """The lines of a link drawn in its app's box: the first names it, the others (indented) are its detail."""
    name = link["id"][len("%s/%s/" % (link["app"], link["group"])):] if link["id"].startswith(
        "%s/%s/" % (link["app"], link["group"])) else link["id"]
    title = GROUP_TITLES.get(link["group"], link["group"].replace("_", " "))
    detail = ([link["url"]] if link.get("url") else []) + [str(d) for d in link.get("detail") or ()]
    first = "%s %s" % (title, name)
    if len(detail) == 1:
        return [first + " -> " + detail[0]]
    return [first] + detail


def _boxes(data, results):
    """Each app's box: its lines of text, size and column."""
    names = set(a["name"] for a in data["apps"])
    rows_of = {}
    for link in data.get("links") or ():
        if not _is_edge(link, names) and link["app"] in names:
            rows_of.setdefault(link["app"], []).append(link)
    boxes = []
    for app in data["apps"]:
        column, role, place = _column_of(app["kind"])
        lines = [{"text": app["name"], "size": NAME_SIZE, "weight": "bold"}]
        if app["kind"] != app["name"]:
            lines.append({"text": "%s instance" % app["kind"], "size": SMALL_SIZE, "fill": COLOURS["muted"]})
        if app.get("external"):
            lines.append({"text": "external: %s" % (app.get("url") or "?"), "size": SMALL_SIZE,
                          "fill": COLOURS["muted"]})
        elif app.get("cronjob"):
            lines.append({"text": "CronJob, no web UI", "size": SMALL_SIZE, "fill": COLOURS["muted"]})
        elif app.get("web_url"):
            lines.append({"text": app["web_url"], "size": SMALL_SIZE, "fill": COLOURS["muted"]})
        else:
            lines.append({"text": "no web UI (in the cluster only)", "size": SMALL_SIZE, "fill": COLOURS["muted"]})
        badges = []
        if app.get("node"):
            badges.append(("on node %s" % app["node"], COLOURS["node_line"]))
        if app["name"] in results["unreachable"]:
            badges.append(("UNREACHABLE", COLOURS["unreachable_line"]))
        elif app["name"] in results["drifted"]:
            actions = sorted(set(str(r.get("action") or "differs") for r in results["drifted"][app["name"]]))
            badges.append(("DRIFT: %s" % ", ".join(actions), COLOURS["drifted_app"]))
        for text, colour in badges:
            lines.append({"text": text, "size": SMALL_SIZE, "fill": colour, "weight": "bold"})
        for link in rows_of.get(app["name"], ()):
            state = _link_state(link, results)
            texts = _row_text(link)
            if state == "drift":
                texts[0] = "%s: %s" % ("/".join(results["drift"][link["id"]]), texts[0])
            for index, text in enumerate(texts):
                lines.append({"text": text, "size": TEXT_SIZE, "link": link["id"], "indent": 2 if index == 0 else 4,
                              "first": index == 0, "state": state, "title": _link_title(link, results),
                              "fill": COLOURS["drift"] if state == "drift" else
                              (COLOURS["unknown"] if state == "unknown" else COLOURS["text"])})
        for link_id in results["stray"].get(app["name"], ()):
            lines.append({"text": "%s: %s" % ("/".join(results["drift"][link_id]), link_id[len(app["name"]) + 1:]),
                          "size": TEXT_SIZE, "link": link_id, "first": True, "indent": 2, "state": "drift",
                          "title": "%s: %s (no longer derived)" % (link_id, "/".join(results["drift"][link_id])),
                          "fill": COLOURS["drift"]})
        height = PAD * 2 + sum(LINE + (2 if line["size"] == NAME_SIZE else 0) for line in lines)
        width = max(text_width(line["text"], line["size"]) + text_width(" " * line.get("indent", 0), line["size"])
                    for line in lines) + PAD * 2
        boxes.append({"app": app, "column": column, "role": role, "place": place, "lines": lines, "w": width,
                      "h": height})
    return boxes


def _link_state(link, results):
    if link["id"] in results["drift"]:
        return "drift"
    if link["app"] in results["unreachable"]:
        return "unknown"
    return "sync" if results["checked"] else "declared"


def _link_title(link, results):
    title = "%s (%s)" % (link["id"], GROUP_TITLES.get(link["group"], link["group"]))
    if link.get("url"):
        title += ": %s" % link["url"]
    state = _link_state(link, results)
    if state == "drift":
        title += " - in drift: %s" % "/".join(results["drift"][link["id"]])
    elif state == "unknown":
        title += " - not checked: %s is unreachable" % link["app"]
    return title


def _pack(labels, top):
    """Stacks ``labels`` (each with ``ideal`` y and ``h``) in the order of their ideal y so that none overlaps, as
    near their ideal y as they can be and not above ``top``."""
    labels.sort(key=lambda item: (item["ideal"], item["key"]))
    previous = None
    for label in labels:
        label["y"] = label["ideal"] if previous is None else max(label["ideal"], previous["y"] + previous["h"] + 4)
        previous = label
    if labels:
        shift = sum(label["y"] - label["ideal"] for label in labels) / len(labels)
        shift = min(shift, min(label["y"] for label in labels) - top)
        for label in labels:
            label["y"] -= max(shift, 0)


def _layout(data, results):
    boxes = _boxes(data, results)
    by_name = dict((b["app"]["name"], b) for b in boxes)
    columns = [sorted((b for b in boxes if b["column"] == index), key=lambda b: b["place"])  # stable: model order
               for index in range(len(COLUMNS))]
    columns = [c for c in columns if c]
    for index, column in enumerate(columns):
        for box in column:
            box["column"] = index
    widths = [max(b["w"] for b in column) for column in columns]
    for box in boxes:
        box["w"] = widths[box["column"]]
    # vertical: each column from the top, its roles captioned
    nodes = data.get("nodes") or []
    top = MARGIN + 64 + (44 if nodes else 26)
    captions = []
    bottoms = []
    for index, column in enumerate(columns):
        y, role = top, None
        for box in column:
            if box["role"] != role:
                y += 14 if role is not None else 0
                captions.append({"column": index, "y": y + 12, "text": box["role"]})
                y += 22
                role = box["role"]
            box["y"] = y
            y += box["h"] + 18
        bottoms.append(y - 18)
    # links: each edge's label in the gap next to its app, toward the app it points at
    names = set(by_name)
    edges = []
    for link in data.get("links") or ():
        if not (_is_edge(link, names) and link["app"] in names):
            continue
        source, target = by_name[link["app"]], by_name[link["to"]]
        step = (target["column"] > source["column"]) - (target["column"] < source["column"])
        gap = source["column"] if step < 0 else source["column"] + 1     # same column: bulges into its right gap
        state = _link_state(link, results)
        group = GROUP_TITLES.get(link["group"], link["group"].replace("_", " "))
        if state == "drift":
            group = "%s: %s" % ("/".join(results["drift"][link["id"]]), group)
        lines = [(group, SMALL_SIZE), (link.get("url") or "", TEXT_SIZE)]
        lines = [line for line in lines if line[0]]
        height = sum(LABEL_LINE[size] for dummy, size in lines) + 6
        edges.append({"link": link, "source": source, "target": target, "step": step, "gap": gap, "state": state,
                      "title": _link_title(link, results),
                      "label": {"lines": lines, "w": max(text_width(t, size) for t, size in lines) + 10, "h": height,
                                "key": link["id"], "ideal": source["y"] + source["h"] / 2 - height / 2}})
    gaps = dict((index, []) for index in range(len(columns) + 1))
    for edge in edges:
        gaps[edge["gap"]].append(edge["label"])
    for labels in gaps.values():
        _pack(labels, top)
    # a link that spans columns passes below them (and below the labels between them)
    spans = sorted((e for e in edges if abs(e["target"]["column"] - e["source"]["column"]) > 1),
                   key=lambda e: e["link"]["id"])
    for index, edge in enumerate(spans):
        low, high = sorted((edge["source"]["column"], edge["target"]["column"]))
        crossed = [g for g in range(low + 1, high + 1) if g != edge["gap"]]    # gaps it goes along under
        under = [bottoms[c] for c in range(low + 1, high)] + [
            label["y"] + label["h"] for g in crossed for label in gaps[g]]
        edge["corridor"] = max(under) + 22 + index * 10
    height_used = max(bottoms + [label["y"] + label["h"] for labels in gaps.values() for label in labels]
                      + [e["corridor"] for e in spans] + [top])
    # horizontal: gaps as wide as their labels
    gap_widths = []
    for index in range(len(columns) + 1):
        labels = gaps[index]
        inner = max([label["w"] for label in labels] + [0])
        steps = set(e["step"] for e in edges if e["gap"] == index)
        if labels:
            # a label starts NEAR from the column its link leaves, its line goes on to the widest label's end, then
            # bends to the box it points at in the last FAR pixels of the gap
            gap_widths.append(inner + (NEAR + FAR if len(steps - {0}) < 2 else 2 * FAR))
        else:
            gap_widths.append(16 if index in (0, len(columns)) else 48)
    x = MARGIN + 14
    column_x = []
    for index in range(len(columns)):
        x += gap_widths[index]
        column_x.append(x)
        x += widths[index]
    right = x + gap_widths[len(columns)]
    gap_x = [MARGIN + 14] + [column_x[i] + widths[i] for i in range(len(columns))]
    for box in boxes:
        box["x"] = column_x[box["column"]]
    for edge in edges:
        label = edge["label"]
        left, width = gap_x[edge["gap"]], gap_widths[edge["gap"]]
        inner = max(other["w"] for other in gaps[edge["gap"]])
        if edge["step"] >= 0:
            label["x"] = left + NEAR
            edge["run_to"] = left + NEAR + inner
        else:
            label["x"] = left + width - NEAR - label["w"]
            edge["run_to"] = left + width - NEAR - inner
    for edge in edges:
        if "corridor" in edge:      # under the columns between its two ends, up to its box in the last gap's end
            step = edge["step"]
            first = edge["source"]["column"] + step
            edge["enter"] = column_x[first] - 6 if step > 0 else column_x[first] + widths[first] + 6
            final = edge["target"]["column"] if step > 0 else edge["target"]["column"] + 1
            edge["leave"] = gap_x[final] + gap_widths[final] - FAR if step > 0 else gap_x[final] + FAR
    _ports(edges)
    return {"boxes": boxes, "edges": edges, "captions": captions, "column_x": column_x, "widths": widths,
            "top": top, "bottom": height_used, "right": right, "nodes": nodes}


def _ports(edges):
    """Where each edge leaves and enters its boxes: on the side facing the other end, spread along the side in the
    order of the other end's height so that links leave a box without crossing."""
    sides = {}
    for edge in edges:
        label = edge["label"]
        anchor = label["y"] + label["h"] / 2
        out_side = "right" if edge["step"] >= 0 else "left"
        in_side = "left" if edge["step"] > 0 else "right"
        far = edge.get("corridor", anchor)
        sides.setdefault((edge["source"]["app"]["name"], out_side), []).append((anchor, edge["link"]["id"], edge, "out"))
        sides.setdefault((edge["target"]["app"]["name"], in_side), []).append((far, edge["link"]["id"], edge, "in"))
    for (dummy, side), ends in sides.items():
        ends.sort(key=lambda end: (end[0], end[1], end[3]))
        for index, (dummy_anchor, dummy_id, edge, which) in enumerate(ends):
            box = edge["source"] if which == "out" else edge["target"]
            span = box["h"] - 16
            y = box["y"] + 8 + span * (index + 1) / (len(ends) + 1)
            x = box["x"] + (box["w"] if side == "right" else 0)
            edge[which] = (x, y)


# -- drawing --------------------------------------------------------------------------------------------------
def _edge_path(edge):
    """A link's path: from its app's box to its label, along the label to the end of the gap's widest label, then to
    the box it points at - or down under the columns it spans first; a link within a column bulges beside it."""
    (sx, sy), (tx, ty) = edge["out"], edge["in"]
    label = edge["label"]
    ly = label["y"] + label["h"] / 2
    if edge["step"] == 0:      # out to the label's end and back
        near, bend = label["x"], NEAR * 0.6
        return "M%s,%s C%s,%s %s,%s %s,%s C%s,%s %s,%s %s,%s" % tuple(_num(v) for v in (
            sx, sy, sx + bend, sy, near - bend, ly, near, ly, near - bend, ly, tx + bend, ty, tx, ty))
    near = label["x"] if edge["step"] > 0 else label["x"] + label["w"]
    run_to = edge["run_to"]
    bend = NEAR * 0.6 * edge["step"]
    turn = FAR * 0.6 * edge["step"]
    path = "M%s,%s C%s,%s %s,%s %s,%s L%s,%s" % tuple(_num(v) for v in (
        sx, sy, sx + bend, sy, near - bend, ly, near, ly, run_to, ly))
    if "corridor" in edge:
        cy = edge["corridor"]
        enter, leave = edge["enter"], edge["leave"]
        path += " C%s,%s %s,%s %s,%s L%s,%s C%s,%s %s,%s %s,%s" % tuple(_num(v) for v in (
            run_to + turn, ly, enter - turn, cy, enter, cy, leave, cy, leave + turn, cy, tx - turn, ty, tx, ty))
    else:
        path += " C%s,%s %s,%s %s,%s" % tuple(_num(v) for v in (run_to + turn, ly, tx - turn, ty, tx, ty))
    return path


def _draw(data, report):
    results = _results(data, report or {})
    layout = _layout(data, results)
    legend_top = layout["bottom"] + 28
    notes = results["notes"][:12]
    if len(results["notes"]) > 12:
        notes.append("... and %d more" % (len(results["notes"]) - 12))
    width = int(math.ceil(max(layout["right"] + 14 + MARGIN, 760)))
    height = int(math.ceil(legend_top + 56 + (len(notes) * LINE + 22 if notes else 0) + MARGIN))
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family=%s>'
           % (_num(width), _num(height), _num(width), _num(height), _attr(FONT)),
           "<defs>"]
    for state in ("sync", "declared", "drift", "unknown"):
        colour = COLOURS["sync" if state == "declared" else state]
        out.append('<marker id="arrow-%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
                   'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>' % (state, colour))
    out.append("</defs>")
    out.append('<rect width="100%%" height="100%%" fill="%s"/>' % COLOURS["background"])
    out.extend(_title(data, report or {}, results))
    out.extend(_frame(data, layout))
    out.append('<g class="links">')
    for edge in layout["edges"]:
        out.append(_edge(edge))
    out.append("</g>")
    out.append('<g class="apps">')
    for box in layout["boxes"]:
        out.extend(_box(box, results))
    out.append("</g>")
    out.append('<g class="labels">')
    for edge in layout["edges"]:
        out.append(_label(edge))
    out.append("</g>")
    out.extend(_legend(legend_top, results, notes))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _title(data, report, results):
    where = ", ".join("%s %s" % (key, data[key]) for key in ("namespace", "domain") if data.get(key))
    out = [_text(MARGIN, MARGIN + 16, "Arrkestra stack" + (" - " + where if where else ""),
                 size=TITLE_SIZE, weight="bold", fill=COLOURS["text"])]
    edges = [link for link in data["links"] if link.get("to") and link["group"] != "categories"]
    parts = ["%d apps" % len(data["apps"]), "%d links (%d between apps)" % (len(data["links"]), len(edges))]
    if data.get("distribution"):
        parts.insert(0, str(data["distribution"]))
    if results["checked"]:
        parts.append(_plural(len(results["drift"]), "link") + " in drift")
        if results["drifted"]:
            parts.append(_plural(len(results["drifted"]), "app") + " in drift")
        if results["unreachable"]:
            parts.append("%d unreachable: %s" % (len(results["unreachable"]), ", ".join(sorted(results["unreachable"]))))
    else:
        parts.append("as declared (no drift check)")
    if report.get("timestamp"):
        parts.append("checked %s" % report["timestamp"])
    out.append(_text(MARGIN, MARGIN + 38, " - ".join(parts), size=TEXT_SIZE, fill=COLOURS["muted"]))
    return out


def _frame(data, layout):
    nodes = layout["nodes"]
    top = MARGIN + 52
    out = ['<rect class="cluster" x="%s" y="%s" width="%s" height="%s" rx="10" fill="none" stroke="%s" '
           'stroke-width="1.2"/>' % (_num(MARGIN), _num(top), _num(layout["right"] + 14 - MARGIN),
                                     _num(layout["bottom"] + 16 - top), COLOURS["frame"])]
    caption = "cluster" + (" (%s)" % data["distribution"] if data.get("distribution") else "")
    out.append(_text(MARGIN + 12, top + 18, caption, size=TEXT_SIZE, weight="bold", fill=COLOURS["muted"]))
    x = MARGIN + 12 + text_width(caption) + 16
    for node in nodes:
        text = node["name"] + ("  %s" % node["address"] if node.get("address") else "")
        w = text_width(text) + 16
        out.append('<g class="node" data-node=%s><title>node %s</title><rect x="%s" y="%s" width="%s" height="22" '
                   'rx="4" fill="%s" stroke="%s"/>%s</g>'
                   % (_attr(node["name"]), _esc(text), _num(x), _num(top + 4), _num(w), COLOURS["node"],
                      COLOURS["node_line"], _text(x + 8, top + 19, text, fill=COLOURS["node_line"])))
        x += w + 10
    for caption in layout["captions"]:
        column = caption["column"]
        out.append(_text(layout["column_x"][column], caption["y"], caption["text"].upper(), size=SMALL_SIZE,
                         weight="bold", fill=COLOURS["muted"]))
    return out


def _box(box, results):
    app = box["app"]
    name = app["name"]
    fill, stroke, dash, width = COLOURS["box"], COLOURS["box_line"], "", 1.2
    state = "sync"
    if name in results["unreachable"]:
        fill, stroke, dash, width, state = COLOURS["unreachable_fill"], COLOURS["unreachable_line"], "5,3", 2.2, \
            "unreachable"
    elif name in results["drifted"]:
        stroke, width, state = COLOURS["drifted_app"], 2.4, "drift"
    if app.get("external") and not dash:
        dash = "6,3"
    title = "%s (%s)" % (name, app["kind"])
    if app.get("url"):
        title += " at %s" % app["url"]
    if name in results["unreachable"]:
        title += " - unreachable: %s" % "; ".join(results["unreachable"][name])
    elif name in results["drifted"]:
        title += " - in drift: %s" % "; ".join(
            "%s (%s)" % (" ".join(str(r[k]) for k in ("phase", "object", "field") if r.get(k)), r.get("action") or "differs")
            for r in results["drifted"][name])
    out = ['<g class="app" data-app=%s data-state="%s"><title>%s</title>' % (_attr(name), state, _esc(title)),
           '<rect x="%s" y="%s" width="%s" height="%s" rx="6" fill="%s" stroke="%s" stroke-width="%s"%s/>'
           % (_num(box["x"]), _num(box["y"]), _num(box["w"]), _num(box["h"]), fill, stroke, _num(width),
              (' stroke-dasharray="%s"' % dash) if dash else "")]
    y = box["y"] + PAD
    for line in box["lines"]:
        step = LINE + (2 if line["size"] == NAME_SIZE else 0)
        y += step
        if line.get("indent"):
            if line.get("first"):
                out.append('<circle cx="%s" cy="%s" r="1.8" fill="%s"/>' % (
                    _num(box["x"] + PAD + text_width(" ", line["size"]) * 0.8), _num(y - 8),
                    line.get("fill") or COLOURS["text"]))
        text = _text(box["x"] + PAD + text_width(" " * line.get("indent", 0), line["size"]), y - 4, line["text"],
                     size=line["size"], fill=line.get("fill") or COLOURS["text"], weight=line.get("weight"))
        if line.get("link"):
            title = "<title>%s</title>" % _esc(line["title"]) if line.get("first") else ""
            out.append('<g class="link" data-link=%s data-state="%s">%s%s</g>'
                       % (_attr(line["link"]), line["state"], title, text))
        else:
            out.append(text)
    out.append("</g>")
    return out


def _edge(edge):
    state = edge["state"]
    colour = COLOURS["sync" if state == "declared" else state]
    dash = {"drift": ' stroke-dasharray="7,4"', "unknown": ' stroke-dasharray="2,3"'}.get(state, "")
    return ('<g class="link" data-link=%s data-state="%s"><title>%s</title><path d="%s" fill="none" stroke="%s" '
            'stroke-width="%s"%s marker-end="url(#arrow-%s)"/></g>'
            % (_attr(edge["link"]["id"]), state, _esc(edge["title"]),
               _edge_path(edge), colour, "1.8" if state == "drift" else "1.1", dash, state))


def _label(edge):
    label, state = edge["label"], edge["state"]
    colour = COLOURS["drift"] if state == "drift" else (COLOURS["unknown"] if state == "unknown" else COLOURS["text"])
    out = ['<g class="link-label" data-link=%s data-state="%s"><rect x="%s" y="%s" width="%s" height="%s" rx="3" '
           'fill="%s" fill-opacity="0.92" stroke="%s" stroke-width="0.6"/>'
           % (_attr(edge["link"]["id"]), state, _num(label["x"]), _num(label["y"] + 1), _num(label["w"]),
              _num(label["h"] - 2), COLOURS["label_bg"], colour)]
    y = label["y"] + 3
    for index, (text, size) in enumerate(label["lines"]):
        y += LABEL_LINE[size]
        muted = index == 0 and len(label["lines"]) > 1 and state != "drift"
        out.append(_text(label["x"] + 5, y - 3, text, size=size, fill=COLOURS["muted"] if muted else colour,
                         weight="bold" if state == "drift" else None))
    out.append("</g>")
    return "".join(out)


def _legend(top, results, notes):
    x = MARGIN
    out = ['<g class="legend">', _text(x, top, "LEGEND", size=SMALL_SIZE, weight="bold", fill=COLOURS["muted"])]
    y = top + 22
    entries = [("sync" if results["checked"] else "declared",
                "link: app -> app it points at" + (", in sync" if results["checked"] else " (not checked)"), ""),
               ("drift", "link in drift (action)", ' stroke-dasharray="7,4"'),
               ("unknown", "not checked: its app is unreachable", ' stroke-dasharray="2,3"')]
    for state, text, dash in entries:
        colour = COLOURS["sync" if state == "declared" else state]
        out.append('<path d="M%s,%s L%s,%s" stroke="%s" stroke-width="1.6"%s marker-end="url(#arrow-%s)"/>'
                   % (_num(x), _num(y - 4), _num(x + 40), _num(y - 4), colour, dash, state))
        out.append(_text(x + 48, y, text, fill=COLOURS["text"]))
        x += 48 + text_width(text) + 28
    for fill, stroke, dash, text in ((COLOURS["box"], COLOURS["drifted_app"], "", "app in drift"),
                                     (COLOURS["unreachable_fill"], COLOURS["unreachable_line"], "5,3", "unreachable app"),
                                     (COLOURS["box"], COLOURS["box_line"], "6,3", "external app")):
        out.append('<rect x="%s" y="%s" width="28" height="16" rx="4" fill="%s" stroke="%s" stroke-width="2"%s/>'
                   % (_num(x), _num(y - 13), fill, stroke, (' stroke-dasharray="%s"' % dash) if dash else ""))
        out.append(_text(x + 36, y, text, fill=COLOURS["text"]))
        x += 36 + text_width(text) + 28
    y += 24
    if notes:
        out.append(_text(MARGIN, y, "NOT ON THE MAP", size=SMALL_SIZE, weight="bold", fill=COLOURS["muted"]))
        for note in notes:
            y += LINE
            out.append(_text(MARGIN, y, note, fill=COLOURS["drift"]))
    out.append("</g>")
    return out
