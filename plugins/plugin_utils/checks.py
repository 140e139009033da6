# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of single inventory values, each raising :class:`InputError` with the variable, the bad value and
what a right one looks like.

The stack model (:mod:`model`, :mod:`platform` and the features) and the wiring (:mod:`links`) call them on every
value they read, before any object is made or any app called; ``tests/integration/contract/test_bad_inputs.py`` is
the table of what is checked. Pure functions, no I/O.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from urllib.parse import urlsplit

#: Kubernetes quantities (apimachinery resource.Quantity): a non-negative number with an SI or binary suffix.
_QUANTITY_RE = re.compile(r"^(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<unit>[KMGTPE]i|[mkMGTPE]|[eE][0-9]+)?$")
_UNITS = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
          "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
#: Standard cron fields (what a Kubernetes CronJob's schedule takes, robfig/cron's standard parser).
_CRON_FIELDS = (("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
                ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
                ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")))
_CRON_MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


class InputError(ValueError):
    """An inventory value is wrong; the message names the variable, the value and what would be right."""


def _fail(variable, value, right):
    raise InputError("%s: %s is %s" % (variable, _shown(value), right))


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def closest(name, known):
    """`` (did you mean x?)`` for the known name nearest to a misspelt one, or ""."""
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return " (did you mean %s?)" % match[0] if match else ""


def mapping(value, variable, known=None):
    """A mapping, with only ``known`` keys (when given)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(variable, value, "not a mapping; give key: value lines%s"
              % (" (keys: %s)" % ", ".join(sorted(known)) if known else ""))
    if known is not None:
        for key in value:
            if key not in known:
                raise InputError("%s: unknown option %s%s; known: %s"
                                 % (variable, _shown(key), closest(str(key), known), ", ".join(sorted(known))))
    return value


def listing(value, variable):
    """A list (one value is taken as a list of one)."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [value]
    if not isinstance(value, (list, tuple)):
        _fail(variable, value, "not a list")
    return list(value)


def boolean(value, variable):
    """true/false (and the words YAML and ``-e`` give for them)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    _fail(variable, value, "not a boolean; use true or false")


def integer(value, variable, low=None, high=None):
    """A whole number between ``low`` and ``high``."""
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        number = None
    else:
        try:
            number = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
        except ValueError:
            number = None
    span = "from %s to %s" % (low, high) if low is not None and high is not None else (
        "at least %s" % low if low is not None else "at most %s" % high if high is not None else "")
    if number is None:
        _fail(variable, value, "not a whole number" + ("; give one %s" % span if span else ""))
    if low is not None and number < low or high is not None and number > high:
        _fail(variable, value, "out of range; give a whole number %s" % span)
    return number


def port(value, variable):
    """A TCP/UDP port, 1-65535."""
    return integer(value, variable, 1, 65535)


def text(value, variable, pattern=None, right=None):
    """A non-empty string (matching ``pattern``)."""
    if not isinstance(value, str) or not value.strip() or pattern is not None and not re.match(pattern, value):
        _fail(variable, value, right or "not a non-empty string")
    return value


def quantity(value, variable, resource):
    """A Kubernetes quantity of ``cpu`` (cores: 2, 0.5, 500m) or ``memory``/``storage`` (bytes: 512Mi, 1Gi);
    returns it in cores or bytes."""
    match = _QUANTITY_RE.match(str(value).strip()) if isinstance(value, (str, int, float)) and \
        not isinstance(value, bool) else None
    example = "cores like 2 or 0.5, or millicores like 500m" if resource == "cpu" else "bytes like 512Mi or 2Gi"
    if not match:
        _fail(variable, value, "not a Kubernetes quantity of %s; give %s" % (resource, example))
    unit = match.group("unit") or ""
    if resource != "cpu" and unit in ("m", "k") or resource == "cpu" and unit not in ("", "m"):
        _fail(variable, value, "not a %s quantity (%s is %s); give %s" % (
            resource, unit, "milli-" if unit == "m" else "a byte unit" if resource == "cpu" else "kilo-, not kibi-",
            example))
    scale = 10 ** int(unit[1:]) if unit[:1] in ("e", "E") and len(unit) > 1 else _UNITS[unit]
    return float(match.group("number")) * scale


def dns_label(value, variable, max_length=63, what="name"):
    """A DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit."""
    if not isinstance(value, str) or len(value) > max_length or not _LABEL_RE.match(value):
        _fail(variable, value, "not a valid %s: lower-case letters, digits and '-', starting and ending with a "
              "letter or digit, at most %d characters" % (what, max_length))
    return value


def hostname(value, variable):
    """A DNS name (lower case, dot-separated labels of at most 63 characters, 253 in all, no trailing dot)."""
    if isinstance(value, str) and value == value.lower() and 0 < len(value) <= 253 and \
            all(_LABEL_RE.match(part) and len(part) <= 63 for part in value.split(".")):
        return value
    _fail(variable, value, "not a DNS name; give lower-case labels of letters, digits and '-' joined by dots "
          "(like radarr.media.home.arpa), at most 253 characters")


def is_subdomain(value):
    """Whether ``value`` is a DNS-1123 subdomain (dot-separated labels, 253 characters in all)."""
    return len(value) <= 253 and all(_LABEL_RE.match(p) for p in value.split("."))


def subdomain(value, variable):
    """A DNS-1123 subdomain: the name of most Kubernetes objects (StorageClass, Secret, claim)."""
    if not isinstance(value, str) or not is_subdomain(value):
        raise InputError("%s: %r is not a Kubernetes object name; give lower-case letters, digits, '-' and '.', "
                         "starting and ending with a letter or digit" % (variable, value))
    return value


def label(key, value, variable):
    """A Kubernetes label: an optional DNS prefix and '/', a name of 63 characters; a value of 63."""
    name_re = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
    prefix, dummy, name = str(key).rpartition("/")
    good = bool(name) and re.match(name_re, name) and (not prefix or is_subdomain(prefix)) and \
        isinstance(value, (str, int, bool)) and re.match(name_re, str(value).lower() if isinstance(value, bool) else str(value))
    if not good:
        raise InputError("%s: %r: %r is not a node label; give key: value like kubernetes.io/arch: arm64 (names and "
                         "values of at most 63 letters, digits, '-', '_' and '.')" % (variable, key, value))


def absolute_path(value, variable):
    """An absolute path of a node or a NAS, without '..'."""
    if not isinstance(value, str) or not value.startswith("/") or "\n" in value or ".." in value.split("/"):
        raise InputError("%s: %r is not an absolute path (like /srv/arrkestra/data)" % (variable, value))
    return value


def server(value, variable):
    """A host the nodes reach: an IP address or a DNS name."""
    try:
        return address(value, variable)
    except InputError:
        return hostname(value, variable)


def url(value, variable):
    """An http(s) URL with a host."""
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        good = parts and parts.scheme in ("http", "https") and parts.hostname and (parts.port or 1)
    except ValueError:
        good = False
    if not good:
        raise InputError("%s: %r is not an http(s) URL with a host (like http://192.168.1.10:9091)" % (variable, value))
    return value


def timezone(value, variable):
    """An IANA time zone (the apps' TZ); checked against the controller's zone database when it has one."""
    try:
        import zoneinfo
        zones = zoneinfo.available_timezones()
    except ImportError:   # pragma: no cover - Python 3.9+
        zones = set()
    if not isinstance(value, str) or (zones and value not in zones) or not re.match(r"^[A-Za-z0-9_+/-]+$", value):
        raise InputError("%s: %r is not a time zone; give an IANA name like Europe/Paris or Etc/UTC%s"
                         % (variable, value, closest(str(value), zones)))
    return value


def memory_mib(value, variable="a memory quantity"):
    """Mebibytes of a Kubernetes memory quantity ("192Mi", "1Gi", "512M")."""
    return quantity(value, variable, "memory") / 1048576.0


def email(value, variable):
    """An e-mail address."""
    if not isinstance(value, str) or not _EMAIL_RE.match(value):
        _fail(variable, value, "not an e-mail address (like you@example.org)")
    return value


def address(value, variable):
    """An IP address (v4 or v6)."""
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        _fail(variable, value, "not an IP address (like 192.168.1.240)")


def network(value, variable):
    """A network in CIDR form; a lone address is its /32 (or /128)."""
    try:
        return ipaddress.ip_network(str(value).strip(), strict=False)
    except ValueError:
        _fail(variable, value, "not a network (like 192.168.1.0/24)")


def cron(value, variable):
    """A CronJob schedule: five fields (minute hour day-of-month month day-of-week) or @daily and the like."""
    right = ("not a cron schedule; give five fields, minute hour day-of-month month day-of-week (like '30 3 * * *'), "
             "or one of %s" % ", ".join(_CRON_MACROS))
    if not isinstance(value, str):
        _fail(variable, value, right)
    fields = value.split()
    if len(fields) == 1 and fields[0] in _CRON_MACROS:
        return value
    if len(fields) != 5:
        _fail(variable, value, right)
    for field, (name, low, high, names) in zip(fields, _CRON_FIELDS):
        for part in field.split(","):
            if not _cron_part(part, low, high, names):
                _fail(variable, value, "not a cron schedule: its %s field %r is not a value from %d to %d, a range, "
                      "a list or a step (like 3, 1-5, 1,15 or */10)" % (name, field, low, high))
    return value


def _cron_part(part, low, high, names):
    span, dummy, step = part.partition("/")
    if step and not (step.isdigit() and int(step) > 0):
        return False
    if span in ("*", "?"):
        return True
    ends = span.split("-")
    if len(ends) > 2:
        return False
    values = []
    for end in ends:
        if end.upper() in names:
            values.append(names.index(end.upper()) + (1 if low == 1 else 0))
        elif end.isdigit():
            values.append(int(end))
        else:
            return False
    return all(low <= v <= high for v in values) and values == sorted(values)
