"""What the LLM answers for one conversation, and the check that keeps it from inventing numbers.

Contract: `ShipmentList`/`ShipmentItem` are the strict structured-output schema of the extraction call.
`verify_items(items, conversation, prepared, engine)` applies step 4-6 of `desktop.core.llm_extractor`'s
docstring: an item is kept only if its number occurs in the conversation as a number of its own, is valid
under some format, and either the engine accepted it or the LLM's carrier fits a check-digit format the
engine found without context ("llm_only"); the engine's own shipments the LLM missed are added
("llm_missed"). Returns (kept, notes, dropped count). Pure and picklable (it may run in another process).
`courier_code_for`/`couriers_agree` map the LLM's carrier names onto the engine's courier codes.
`desktop.core.llm_extractor` re-exports the public names.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, Field

from desktop.core import textprep
from desktop.core.tracking import Candidate, courier_info, find_candidates, normalise, occurs_in, validate
from desktop.domain import Conversation, ExtractedShipment, ExtractionResult

log = logging.getLogger("shipscan.llm")

#: Engine reasons that mean "this is something else", not merely "no context" (see tracking.model.Candidate).
DECOY_REASONS = ("decoy_label:", "phone_shape", "inside_unrelated_url", "part_of_longer_code",
                 "lookalike_characters")


class ShipmentItem(BaseModel):
    """One shipment as the LLM reports it (strict schema: every field required, nullable where sensible)."""

    model_config = ConfigDict(extra="forbid")
    tracking_number: str = Field(description="The tracking number exactly as written in the text.")
    carrier: str | None = Field(description="Carrier named or linked for this number, or null.")
    order_number: str | None = Field(description="Order or PO number of this shipment, or null.")
    supplier: str | None = Field(description="Company that shipped the parcel, or null.")
    shipped_date: str | None = Field(description="Ship date as YYYY-MM-DD, or null.")
    destination_country: str | None = Field(description="ISO 3166-1 alpha-2 country code, or null.")
    destination_postcode: str | None = Field(description="Destination postcode or ZIP, or null.")
    confidence: float = Field(description="0 to 1: how sure this is a real tracking number.")
    evidence: str = Field(description="The sentence or line containing the number, copied from the text.")
    message_id: str | None = Field(description="Id of the message where the number first appears.")


class ShipmentList(BaseModel):
    """The whole answer: every shipment in the conversation (empty when there is none)."""

    model_config = ConfigDict(extra="forbid")
    shipments: list[ShipmentItem]


# --- carriers -----------------------------------------------------------------------------------------

_ALIASES: dict[str, tuple[str, ...]] = {
    "ups": ("ups", "unitedparcelservice"),
    "usps": ("usps", "unitedstatespostalservice", "uspostalservice", "uspost", "usmail"),
    "fedex": ("fedex", "federalexpress"),
    "dhl": ("dhl",),
    "amazon": ("amazon", "amzl"),
    "ontrac": ("ontrac",),
    "lasership": ("lasership",),
    "canada_post": ("canadapost", "postescanada"),
    "purolator": ("purolator",),
    "dpd": ("dpd",),
    "old_dominion": ("olddominion", "odfl"),
    "yodel": ("yodel",),
    "yunexpress": ("yunexpress", "yuntrack"),
    "canpar": ("canpar",),
    "landmark": ("landmark",),
    "speedee": ("speedee",),
    "gofo": ("gofo",),
    # National posts that issue UPU S10 numbers (XX123456789CC).
    "s10": ("s10", "upu", "royalmail", "chinapost", "laposte", "colissimo", "deutschepost", "postnl",
            "australiapost", "japanpost", "swisspost", "postnord", "correos", "posteitaliane", "ems",
            "nzpost", "anpost", "bpost", "postaustria", "indiapost", "koreapost", "singpost", "hongkongpost",
            "postalservice", "post"),
}
_ALIAS_ORDER = sorted(((alias, code) for code, aliases in _ALIASES.items() for alias in aliases),
                      key=lambda pair: -len(pair[0]))
#: Pairs of engine courier codes that may legitimately name the same parcel.
_COMPATIBLE = {frozenset(("lasership", "ontrac")), frozenset(("s10", "usps")), frozenset(("s10", "canada_post"))}


def courier_code_for(carrier: str | None) -> str | None:
    """The engine courier code for a carrier name the LLM wrote ("FedEx Ground" -> "fedex"), or None."""
    key = re.sub(r"[^a-z0-9]", "", (carrier or "").lower())
    if not key:
        return None
    for alias, code in _ALIAS_ORDER:
        if key.startswith(alias) or (len(alias) >= 4 and alias in key):
            return code
    return None


def couriers_agree(a: str | None, b: str | None) -> bool:
    """True when couriers `a` and `b` are the same (or compatible, e.g. a post and its S10 number)."""
    return a == b or frozenset((a, b)) in _COMPATIBLE


# --- verification ----------------------------------------------------------------------------------


class _CandidateIndex:
    """Every engine candidate of a conversation by number, per message (built on first use: most LLM
    answers hold only numbers the engine accepted already)."""

    def __init__(self, conversation: Conversation) -> None:
        self._conversation = conversation
        self._index: dict[str, list[Candidate]] | None = None

    def get(self, number: str) -> list[Candidate]:
        if self._index is None:
            self._index = {}
            for _message, text in textprep.message_texts(self._conversation):
                for cand in find_candidates(text):
                    self._index.setdefault(cand.number, []).append(cand)
        return self._index.get(number, [])


@dataclass(slots=True)
class _Verdict:
    shipment: ExtractedShipment | None
    reason: str = ""



def verify_items(items: list[ShipmentItem], conversation: Conversation,
                 prepared: textprep.PreparedConversation,
                 engine: ExtractionResult) -> tuple[list[ExtractedShipment], list[str], int]:
    """Check the LLM's items against the text and the engine; returns (kept, notes, dropped count).

    Pure and picklable (it may run in another process)."""
    accepted = {s.tracking_number: s for s in engine.shipments}
    candidates = _CandidateIndex(conversation)
    message_ids = {m.id for m in conversation.messages}
    kept: dict[str, ExtractedShipment] = {}
    notes: list[str] = []
    invented = 0
    for item in items:
        verdict = _judge(item, prepared, accepted, candidates, message_ids)
        if verdict.shipment is None:
            log.info("%s: dropped the LLM's %r: %s", conversation.ref.id, item.tracking_number[:40],
                     verdict.reason)
            invented += 1
            notes.append(f"dropped {item.tracking_number[:40]!r}: {verdict.reason}")
            continue
        number = verdict.shipment.tracking_number
        kept[number] = _merge(kept[number], verdict.shipment) if number in kept else verdict.shipment
    for number, shipment in accepted.items():
        if number not in kept:
            kept[number] = replace(shipment, flags=add_flag(shipment.flags, "llm_missed"))
    return list(kept.values()), notes, invented


def _judge(item: ShipmentItem, prepared: textprep.PreparedConversation,
           accepted: dict[str, ExtractedShipment], candidates: _CandidateIndex,
           message_ids: set[str]) -> _Verdict:
    number = normalise(item.tracking_number.strip())
    if not number:
        return _Verdict(None, "not a well-formed number")
    if not occurs_in(number, prepared.full_text):
        return _Verdict(None, "not in the conversation")
    matches = validate(number)
    if not matches:
        return _Verdict(None, "valid under no format")
    llm_courier = courier_code_for(item.carrier)
    if number in accepted:
        base = accepted[number]
        flags = base.flags
        if llm_courier and base.courier and not couriers_agree(llm_courier, base.courier):
            flags = add_flag(flags, "carrier_disagrees")
        return _Verdict(_enrich(base, item, prepared, message_ids, flags))
    found = candidates.get(number)   # every occurrence of the number the engine saw
    if not found:
        return _Verdict(None, "not found as a number of its own by the engine")
    # Conservative: one occurrence that is plainly something else (an order number, a phone) vetoes it.
    decoy = sorted({r for cand in found for r in cand.reasons if r.startswith(DECOY_REASONS)})
    if decoy:
        return _Verdict(None, f"engine rejected it ({', '.join(decoy)})")
    fitting = [m for m in matches if llm_courier and couriers_agree(llm_courier, m.courier)]
    if not fitting:
        return _Verdict(None, f"carrier {item.carrier!r} does not fit its format")
    checked = [m for m in fitting if m.has_check_digit]
    if not checked:
        return _Verdict(None, "format without a check digit and the context does not confirm it")
    courier = checked[0].courier
    base = _new_shipment(number, courier, found[0].context or item.evidence)
    return _Verdict(_enrich(base, item, prepared, message_ids, ("llm_only",)))


def _enrich(base: ExtractedShipment, item: ShipmentItem, prepared: textprep.PreparedConversation,
            message_ids: set[str], flags: tuple[str, ...]) -> ExtractedShipment:
    """`base` (the engine's view) with the LLM's metadata; the engine's courier is kept."""
    # The LLM's evidence only when it is really a line of the conversation holding the number.
    real = " ".join((item.evidence or "").split()) in " ".join(prepared.full_text.split())
    evidence = item.evidence if real and occurs_in(base.tracking_number, item.evidence) else base.evidence
    message_id = _message_for(base.tracking_number, item.message_id, prepared, message_ids) \
        or base.message_id
    confidence = max(0.0, min(1.0, float(item.confidence or 0.0)))
    if "carrier_disagrees" in flags or "llm_only" in flags:
        confidence = min(confidence, 0.5)
    elif base.validated:
        confidence = max(confidence, base.confidence)
    return replace(
        base, flags=flags, evidence=(evidence or "")[:500], message_id=message_id, confidence=confidence,
        order_number=_written(_clean(item.order_number), prepared.full_text) or base.order_number,
        supplier=_clean(item.supplier) or base.supplier,
        shipped_date=_date(item.shipped_date) or base.shipped_date,
        destination_country=_country(item.destination_country) or base.destination_country,
        destination_postcode=_clean(item.destination_postcode, 12) or base.destination_postcode)


def _new_shipment(number: str, courier: str, evidence: str) -> ExtractedShipment:
    info = courier_info(courier)
    return ExtractedShipment(tracking_number=number, courier=courier, carrier=info.name if info else None,
                             courier_code=info.ship24_code if info else None, confidence=0.5,
                             evidence=evidence, validated=False)


def _message_for(number: str, claimed: str | None, prepared: textprep.PreparedConversation,
                 message_ids: set[str]) -> str | None:
    """The oldest message whose own text (quoted history excluded) holds the number; else the oldest that
    quotes it; the LLM's claim only when no text holds it (the LLM often names a later, quoting reply)."""
    segments = [s for s in prepared.segments if occurs_in(number, s.text)]
    for quoted in (False, True):
        for segment in segments:
            if bool(segment.quoted) == quoted:
                return segment.message_id
    return claimed if claimed in message_ids else None


def _merge(first: ExtractedShipment, other: ExtractedShipment) -> ExtractedShipment:
    """Two reports of one number: keep the first, fill its gaps from the other, union the flags."""
    flags = first.flags
    for flag in other.flags:
        flags = add_flag(flags, flag)
    return replace(first, flags=flags, confidence=max(first.confidence, other.confidence),
                   order_number=first.order_number or other.order_number,
                   supplier=first.supplier or other.supplier,
                   shipped_date=first.shipped_date or other.shipped_date,
                   destination_country=first.destination_country or other.destination_country,
                   destination_postcode=first.destination_postcode or other.destination_postcode)


def add_flag(flags: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """`flags` with `flag` added at the end, unless it is there already."""
    return flags if flag in flags else (*flags, flag)


def _clean(value: str | None, limit: int = 120) -> str | None:
    value = (value or "").strip()
    return value[:limit] if value and value.lower() not in ("null", "none", "n/a", "unknown") else None


#: A label a model may put before the number itself ("PO 4500935085", "Order #1021").
_ORDER_LABEL = re.compile(r"^\s*(?:p\.?\s*o\.?|purchase\s+order|order|ord|no\.?|number|ref\.?)?\s*[:#-]?\s*", re.I)


def _written(value: str | None, text: str) -> str | None:
    """`value` when the conversation writes it (its letters and digits in that order as a word of their own,
    whatever separates them: "NW-9", "NW 9"; a label before it aside: "PO NW-9"), else None. A model offers
    order numbers that are pieces of other codes ("stNL" out of a postal number) or that nobody wrote, and a
    person would look for that order."""
    if not value:
        return None
    for form in (value, _ORDER_LABEL.sub("", value, count=1)):
        runs = re.findall(r"[A-Za-z0-9]+", form)
        if not runs or sum(map(len, runs)) < 2:
            continue
        pattern = "[^A-Za-z0-9]*".join(map(re.escape, runs))
        if re.search(rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])", text, re.IGNORECASE):
            return value
    return None


def _date(value: str | None) -> str | None:
    value = _clean(value)
    return value if value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None


def _country(value: str | None) -> str | None:
    value = _clean(value)
    return value.upper() if value and re.fullmatch(r"[A-Za-z]{2}", value) else None
