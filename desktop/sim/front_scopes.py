"""Front double: what each route demands beyond a valid token (scopes and known query parameters).

This is the simulator's own copy of the Front core API spec (`x-required-scopes` and the `parameters` of
each operation it serves); it never reads ../shared at run time. tests/sim/test_front_scopes.py checks the
table against the spec where that folder exists.

- A token without a route's scopes gets 403 in Front's error shape. The message follows the one Front
  body seen in public client code (`Missing required scopes: [messages:read]`; one third-party source, LOW
  confidence): clients must not depend on its wording, only on the status.
- A query parameter the route does not list answers 400 when `reject_unknown_params` is on. Front's
  `q[statuses][]` form is the parameter `q` (Front's "query object").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from desktop.sim import front_data as fd

#: Every scope the simulator knows; a token configured with None has all of them.
ALL_SCOPES = ("conversations:read", "messages:read", "inboxes:read", "comments:read", "links:read")


@dataclass(frozen=True)
class RouteRules:
    scopes: tuple[str, ...]
    params: tuple[str, ...]


_PAGE = ("limit", "page_token")
#: Route name ("METHOD /template", as `SimService.route` names it) -> its scopes and query parameters.
ROUTES: dict[str, RouteRules] = {
    "GET /conversations/search/{query}": RouteRules(("conversations:read",), _PAGE),
    "GET /conversations": RouteRules(("conversations:read",), ("q", *_PAGE, "sort_by", "sort_order")),
    "GET /inboxes": RouteRules(("inboxes:read",), ()),
    "GET /inboxes/{id}/conversations": RouteRules(("conversations:read",), ("q", *_PAGE)),
    "GET /conversations/{id}": RouteRules(("conversations:read",), ()),
    "GET /conversations/{id}/messages": RouteRules(("messages:read",), (*_PAGE, "sort_by", "sort_order")),
    # `referer` is not in the operation's parameters, but Front's own `last_message` links carry it
    # (`.../messages/msg_x?referer=conversation`), so Front must accept it.
    "GET /messages/{id}": RouteRules(("messages:read",), ("referer",)),
}


def missing_scopes(route: str, granted: Iterable[str] | None) -> list[str]:
    """The scopes `route` needs that `granted` lacks (None grants everything)."""
    if granted is None:
        return []
    have = set(granted)
    return [scope for scope in ROUTES[route].scopes if scope not in have]


def param_name(raw: str) -> str:
    """`q[statuses][]` -> `q`: a query-object key belongs to the parameter named before its brackets."""
    return raw.split("[", 1)[0]


def unknown_params(route: str, names: Iterable[str]) -> list[str]:
    """Query parameter names the spec does not list for `route`, in the order given."""
    known = ROUTES[route].params
    return [name for name in names if param_name(name) not in known]


def forbidden_body(missing: list[str]) -> dict[str, Any]:
    return fd.error_body(403, "Forbidden", f"Missing required scopes: [{', '.join(missing)}]")
