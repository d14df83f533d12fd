"""Is a number part of a URL, and is that URL a tracking link (whose courier)?

Mail links come wrapped: Outlook safelinks and click trackers carry the carrier's link percent-encoded in a
parameter ("...?url=https%3A%2F%2Fwww.ups.com%2Ftrack%3Ftracknum%3D1Z..."), sometimes twice. So the URL
text before the number is decoded first and the INNERMOST link (the last "https://" in it) decides: its
host (a courier's own site, or a multi-carrier tracking service), or a parameter / path named after
tracking ("piececode=", "tracking_numbers=", "/tracking/"). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_I = re.IGNORECASE

#: Host names of couriers' tracking sites.
CARRIER_HOSTS: dict[str, re.Pattern[str]] = {code: re.compile(rx, _I) for code, rx in {
    "ups": r"(?:^|\.)ups\.com$", "usps": r"(?:^|\.)usps\.com$", "fedex": r"(?:^|\.)fedex\.com$",
    "dhl": r"(?:^|\.)dhl[a-z]*\.[a-z.]+$", "amazon": r"(?:^|\.)amazon\.[a-z.]+$|(?:^|\.)amzn\.[a-z.]+$",
    "ontrac": r"(?:^|\.)ontrac\.com$", "lasership": r"(?:^|\.)lasership\.com$",
    "canada_post": r"canadapost|postescanada", "purolator": r"(?:^|\.)purolator\.com$",
    "dpd": r"(?:^|\.)dpd(?:group)?\.[a-z.]+$", "old_dominion": r"(?:^|\.)odfl\.com$",
    "yodel": r"(?:^|\.)yodel\.co\.uk$", "yunexpress": r"yuntrack|yunexpress", "canpar": r"(?:^|\.)canpar\.[a-z.]+$",
    "landmark": r"landmarkglobal", "speedee": r"speedeedelivery", "gofo": r"gofoexpress",
    "s10": r"royalmail|laposte|postnl|deutschepost|correos|posteitaliane|auspost|japanpost|swisspost",
}.items()}

#: Multi-carrier tracking services and shops' tracking pages: a tracking link, courier unknown ("").
TRACKING_SERVICE_HOSTS = re.compile(
    r"17track|parcelsapp|aftership|narvar|ship24|track123|trackingmore|parcelmonitor|packagetrackr|"
    r"parcelperform|wismolabs|route\.com$", _I)

#: URL parameter names and path words that mean "tracking number" whatever the host. Generic ones
#: ("id=", "q=", "number=", "/orders/") count only on a courier's own site (CARRIER_HOSTS).
#: ("/shipments/123", "?parcel_id=": a shop's own record ids, not tracking words.)
_TRACKING_WORD = r"(?:track|trk|trace|tlabel|piececode|identcode|sendung|awb|waybill|consignment|suivi|seguimiento)"
_LINK_PARAM = re.compile(
    rf"(?:[?&#;]|&amp;)(?:[\w.\-]*{_TRACKING_WORD}[\w.\-]*|nums?|idc)=$"
    rf"|/[\w.\-]*{_TRACKING_WORD}[\w.\-]*/(?:[a-z]{{2,12}}/)?$", _I)
_URL_START = re.compile(r"(?:https?://|www\.)([^/\s?#%&]+)", _I)
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
URL_WALK = 600   # URLs are shorter than this; bounds the walk back in hostile texts
_URL_STOP = "\"'<>()[]"


def url_run(text: str, start: int) -> str:
    """The non-space text right before `start` (up to URL_WALK characters): the URL it may belong to."""
    run_start = start
    floor = max(0, start - URL_WALK)
    while run_start > floor and not text[run_start - 1].isspace() and text[run_start - 1] not in _URL_STOP:
        run_start -= 1
    return text[run_start:start]


def _decoded(run: str) -> str:
    """`run` with percent-escapes decoded (twice at most: redirectors encode once more)."""
    for _ in range(2):
        if not _PERCENT.search(run):
            break
        run = unquote(run)
    return run


def host_courier(host: str) -> str | None:
    """The courier whose tracking site `host` is, "" for a multi-carrier tracking service, else None."""
    host = host.lower()
    found = next((code for code, rx in CARRIER_HOSTS.items() if rx.search(host)), None)
    if found is None and TRACKING_SERVICE_HOSTS.search(host):
        return ""
    return found


def link_at(text: str, start: int) -> tuple[bool, str | None]:
    """(is text[start] inside a URL?, the courier of the tracking link it is in: a courier code, "" for a
    tracking link of an unknown courier, None when the URL is not a tracking link)."""
    run = url_run(text, start)
    if "/" not in run and "%" not in run and "." not in run:
        return False, None
    decoded = _decoded(run)
    urls = list(_URL_START.finditer(decoded))
    if not urls:
        return False, None
    inner = urls[-1]
    courier = host_courier(inner.group(1))
    if courier:
        return True, courier
    if courier == "" or _LINK_PARAM.search(decoded[inner.start():]):
        return True, ""
    return True, None


_TRACKING_ANYWHERE = re.compile(rf"[?&#;/][\w.\-]*{_TRACKING_WORD}", _I)


def is_tracking_link(url: str) -> bool:
    """True when `url` (or the link a redirector wraps in it) goes to a courier's or a tracking service's
    site, or names a tracking parameter or path: a link whose target may be the only place of a number."""
    decoded = _decoded(url)
    urls = list(_URL_START.finditer(decoded))
    if not urls:
        return False
    inner = urls[-1]
    return host_courier(inner.group(1)) is not None or bool(_TRACKING_ANYWHERE.search(decoded, inner.end()))
