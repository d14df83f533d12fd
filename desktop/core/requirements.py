"""Ship24's live courier list (GET /couriers): which courier codes may be sent, and couriers' required fields.

Courier codes: the app's own table (`desktop.core.tracking.couriers`) only HINTS at Ship24 codes; several of
them are unconfirmed (api-notes §2.10). A code is sent only once the live list confirms it
(`verified_payload`): the hint if the list holds it (and it is not deprecated), else the one live courier
whose name equals the shipment's carrier name, else none at all -- `courierCode` is optional and Ship24
detects the courier itself, while a wrong code is refused or misleads tracking. Without the list, no code.

Required fields (`requiredFields`) are checked before a tracker is created.

Ship24 does not refuse a create that lacks a courier's required field. docs.ship24.com/couriers: "Our system
won't block your API request if this information is not provided, but as a result, it may not be able to
successfully retrieve tracking results for those specific couriers." Sent anyway, the tracker would use quota,
never find results, and nobody would be asked for the postcode. So the registration worker checks first and
asks the user (failed/needs_info) instead of sending.

Contracts:
- `CourierRequirements.current()` returns {courierCode: CourierRequirement} from GET /couriers, fetched
  lazily on first use and kept in memory for `ttl` seconds (default 24 h; the endpoint allows 1 request/s
  and the list rarely changes). Concurrent callers share one request.
- A failed fetch never blocks registration: it is logged, `current()` returns None (the caller sends
  without a courier code and without the check), and the next fetch is tried after `retry_seconds`, not
  on every drain.
- `verified_payload(payload, names, requirements)` and `missing(payload, requirements)` are pure.
  `missing` only reports the fields a person can supply through
  `desktop.store.review.set_destination` (destination postcode and country); another required field is
  ignored, since asking for it would block the shipment for ever.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from desktop.clients.errors import RateLimited

log = logging.getLogger("shipscan.registration")

#: How long the courier list is trusted (seconds).
COURIERS_TTL = 24 * 3600.0
#: After a failed fetch, how long to send without checking before asking Ship24 again (seconds).
COURIERS_RETRY = 300.0
#: A 429 on GET /couriers asking to wait at most this long (seconds) is waited out, once.
RATE_LIMIT_WAIT = 5.0
#: Payload fields a person can add to a shipment, in words a support agent understands.
FIELD_WORDS = {"destinationPostCode": "destination postcode", "destinationCountryCode": "destination country"}
NEEDS_INFO_PREFIX = "The carrier needs more details before Ship24 can track it"


class CourierSource(Protocol):
    async def couriers(self) -> list[dict]: ...


@dataclass(frozen=True, slots=True)
class CourierRequirement:
    code: str
    name: str
    fields: tuple[str, ...]
    #: Ship24 ignores a deprecated code (docs.ship24.com/couriers): never worth sending.
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class Missing:
    """A courier named in the payload needs `field`, which the payload lacks."""

    courier_code: str
    courier_name: str
    field: str


def parse_couriers(items: list[Any]) -> dict[str, CourierRequirement]:
    """Courier code -> requirement, from GET /couriers `data.couriers` (malformed entries skipped)."""
    result = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("courierCode"), str):
            continue
        fields = item.get("requiredFields") or []
        fields = tuple(f for f in fields if isinstance(f, str)) if isinstance(fields, list) else ()
        name = item.get("courierName") if isinstance(item.get("courierName"), str) else item["courierCode"]
        result[item["courierCode"]] = CourierRequirement(item["courierCode"], name, fields,
                                                         item.get("isDeprecated") is True)
    return result


def name_key(name: str | None) -> str:
    """A courier name compared loosely: "Canada Post" == "canada-post" == "CANADA POST"."""
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def verified_codes(hints: Iterable[str], names: Iterable[str | None],
                   couriers: Mapping[str, CourierRequirement] | None) -> list[str]:
    """The courier codes worth sending (see the module docstring); [] = send none.

    Args:
        hints: codes the shipment suggests (the app's table or a person's edit), unverified.
        names: the shipment's carrier names, most specific first ("FedEx Ground", "FedEx").
        couriers: the live list (`CourierRequirements.current()`); None = unavailable -> [].
    """
    if not couriers:
        return []
    confirmed = [code for code in dict.fromkeys(hints) if code in couriers and not couriers[code].deprecated]
    if confirmed:
        return confirmed[:3]  # Ship24 takes at most 3 per request
    for name in names:
        key = name_key(name)
        found = [c.code for c in couriers.values() if key and name_key(c.name) == key and not c.deprecated]
        if len(found) == 1:  # two live couriers of that name (DHL has several): let Ship24 decide
            return found
    return []


def verified_payload(payload: Mapping[str, Any], names: Iterable[str | None],
                     couriers: Mapping[str, CourierRequirement] | None) -> dict[str, Any]:
    """`payload` as it may be sent: its courierCode replaced by the verified codes, or removed."""
    result = {k: v for k, v in payload.items() if k != "courierCode"}
    codes = verified_codes(courier_codes(payload), names, couriers)
    if codes:
        result["courierCode"] = codes
    return result


def courier_codes(payload: Mapping[str, Any]) -> list[str]:
    value = payload.get("courierCode")
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def missing(payload: Mapping[str, Any], requirements: Mapping[str, CourierRequirement]) -> list[Missing]:
    """Required fields of the payload's couriers that it lacks (only those a person can add)."""
    found = []
    for code in courier_codes(payload):
        courier = requirements.get(code)
        if courier is None:
            continue
        found += [Missing(code, courier.name, f) for f in courier.fields
                  if f in FIELD_WORDS and not payload.get(f)]
    return found


def needs_info_message(gaps: list[Missing]) -> str:
    """E.g. "The carrier needs more details before Ship24 can track it: DPD needs the destination
    postcode. Add the destination postcode to the shipment." """
    by_courier: dict[str, list[str]] = {}
    for gap in gaps:
        words = by_courier.setdefault(gap.courier_name, [])
        if FIELD_WORDS[gap.field] not in words:
            words.append(FIELD_WORDS[gap.field])
    reasons = "; ".join(f"{name} needs the {' and the '.join(words)}" for name, words in by_courier.items())
    wanted = sorted({FIELD_WORDS[g.field].removeprefix("destination ") for g in gaps}, reverse=True)
    return (f"{NEEDS_INFO_PREFIX}: {reasons}. Add the destination {' and '.join(wanted)} to the shipment; "
            "it is registered as soon as it is saved.")


class CourierRequirements:
    """The courier list's required fields, cached in memory (see module docstring)."""

    def __init__(self, ship24: CourierSource, *, ttl: float = COURIERS_TTL,
                 retry_seconds: float = COURIERS_RETRY, clock: Callable[[], float] = time.time) -> None:
        self.ship24 = ship24
        self.ttl = ttl
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.fetches = 0  # GET /couriers requests made (for tests and logs)
        self._value: dict[str, CourierRequirement] | None = None
        self._valid_until = float("-inf")  # also the "do not ask again before" time after a failure
        self._lock: asyncio.Lock | None = None

    def invalidate(self) -> None:
        """Forget the list: the next `current()` fetches it again."""
        self._value, self._valid_until = None, float("-inf")

    async def current(self) -> dict[str, CourierRequirement] | None:
        """The requirements, fetching them if stale; None while the list is unavailable."""
        if self.clock() < self._valid_until:
            return self._value
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.clock() >= self._valid_until:  # not refreshed by a concurrent caller meanwhile
                await self._fetch()
        return self._value

    async def _ask(self) -> list[dict]:
        """GET /couriers; after a 429 once more (1 request/s per key, shared with any other process on the
        key: a second `shipscan retry` in the same second): the client's limiter waits out Retry-After."""
        self.fetches += 1
        try:
            return await self.ship24.couriers()
        except RateLimited as exc:
            if exc.retry_after > RATE_LIMIT_WAIT:
                raise
        self.fetches += 1
        return await self.ship24.couriers()

    async def _fetch(self) -> None:
        try:
            items = await self._ask()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never block registration on the courier list (any failure, even a bug)
            log.warning("Ship24 courier list unavailable (%s: %s); registering without checking couriers' "
                        "required fields, next try in %.0f s", type(exc).__name__, exc, self.retry_seconds)
            self._value, self._valid_until = None, self.clock() + self.retry_seconds
            return
        self._value = parse_couriers(items)
        self._valid_until = self.clock() + self.ttl
        needing = sorted(code for code, c in self._value.items() if c.fields)
        log.info("Ship24 courier list: %d couriers, %d with required fields", len(self._value), len(needing))
