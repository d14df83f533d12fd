"""LLM extraction that cannot invent numbers: one structured-output call per conversation, then checked.

`LlmExtractor.extract(conversation)`:

1. `textprep.prepare` builds the text: `llm_text` (quoted history and signatures removed, so a quoted number
   is sent once; cut to `token_budget`) and `full_text` (everything, quoted history included).
2. The engine runs on the engine worker (`desktop.core.offload`: a thread, or in the app a process):
   first the text and the pre-filter (`first_pass`); with the pre-filter on (default) a conversation where
   `has_plausible_candidate` is False skips the LLM (`skipped_llm=True`, no tokens spent; the rules'
   shipments, if any, are still returned). Otherwise `RulesExtractor` on the same conversation
   (`rules_pass`) runs while the LLM's answer is awaited, and later, only for numbers it did not accept,
   every candidate occurrence per message.
3. One LLM call (`LlmClient.parse`, schema `ShipmentList`, prompt `resources/prompts/extract_shipments.md`).
4. Never trust the answer. Each proposed number is kept only if:
   - it normalises and `occurs_in` the conversation's full text as a number of its own, and
   - it is valid under some format (`validate`), and
   - either the engine accepted it on its own (a check digit or a context-gated format: the engine's
     courier decides; if the LLM names a different carrier the shipment is flagged "carrier_disagrees"),
   - or the engine found it but lacked the context to accept it, it was not rejected as a decoy, the LLM's
     carrier fits one of its formats and that format has a check digit (the LLM supplies the context; the
     shipment is kept unvalidated, flagged "llm_only", for a person to confirm). A format without a
     check digit that the engine did not accept is dropped: the LLM and the context must agree.
   Everything dropped is counted in `invented` (the field counts "proposed but not kept").
5. Duplicates are merged on the normalised number. A shipment's message is the oldest message whose own
   text (quoted history excluded) holds the number, whatever message the LLM named.
6. Decision on numbers the LLM missed: every shipment the engine accepts on its own is added even when the
   LLM did not report it, flagged "llm_missed". Recall must not depend on the LLM: it adds metadata and
   rescues context-poor candidates, the engine keeps the floor.

A failed call (after the client's retries) raises `ExtractionFailed(reason)` carrying the tokens and calls
spent, unless `fallback=True`, which returns the engine's shipments with a note instead. A permanent
refusal (`ApiError.permanent`: a wrong key, no quota) is raised as it is, fallback or not: it is not about
this conversation, and the caller stops the whole scan on it; the error carries `llm_calls` and
`tokens_in`, what this call spent (a 401 is one request sent; a call queued behind it sends nothing: 0).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, Field

from desktop import paths
from desktop.clients.errors import ApiError
from desktop.clients.llm import CallUsage, LlmClient
from desktop.core import textprep
from desktop.core.offload import run_cpu_bound
from desktop.core.rules_extractor import RulesExtractor, has_plausible_candidate
from desktop.core.tracking import (
    Candidate,
    LineCache,
    courier_info,
    find_candidates,
    normalise,
    occurs_in,
    validate,
)
from desktop.domain import Conversation, ExtractedShipment, ExtractionResult
from desktop.errors import ExtractionFailed

log = logging.getLogger("shipscan.llm")

PROMPT = ("prompts", "extract_shipments.md")
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


def load_prompt() -> str:
    """The system prompt (resources/prompts/extract_shipments.md)."""
    return paths.resource(*PROMPT).read_text(encoding="utf-8")


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


# --- the extractor ------------------------------------------------------------------------------------


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


class LlmExtractor:
    """The "llm" extractor (see the module docstring). Safe to share between concurrent tasks."""

    name = "llm"

    def __init__(self, llm_client: LlmClient, *, prefilter: bool = True, token_budget: int = 6000,
                 fallback: bool = False, prompt: str | None = None) -> None:
        self.llm = llm_client
        self.prefilter = prefilter
        self.token_budget = token_budget
        self.fallback = fallback
        self.prompt = prompt if prompt is not None else load_prompt()

    async def extract(self, conversation: Conversation) -> ExtractionResult:
        """Shipments of `conversation`; raises ExtractionFailed when the LLM call fails, the ApiError itself
        when it is permanent (see the module docstring)."""
        # The engine is CPU-bound (a 130-message thread takes a second or two): the engine worker keeps the
        # event loop (and the GUI on qasync) responsive meanwhile.
        prepared, engine, plausible = await run_cpu_bound(first_pass, conversation, self.token_budget,
                                                          self.prefilter)
        if engine is not None:      # nothing plausible: the LLM is not asked, the rules' shipments stand
            return ExtractionResult(shipments=engine.shipments, extractor=self.name, skipped_llm=True,
                                    truncated=prepared.truncated)
        # The rules' own pass runs on the worker while the answer is awaited, not before the call.
        rules = asyncio.ensure_future(run_cpu_bound(rules_pass, conversation))
        try:
            return await self._ask(conversation, prepared, rules)
        finally:
            rules.cancel()

    async def _ask(self, conversation: Conversation, prepared: textprep.PreparedConversation,
                   rules: asyncio.Future[ExtractionResult]) -> ExtractionResult:
        usage = CallUsage()
        try:
            reply = await self.llm.parse(self.prompt, user_message(prepared), ShipmentList,
                                         cost=prepared.token_estimate + len(self.prompt) // 4, usage=usage)
        except ApiError as err:
            if err.permanent:
                # What this call spent goes with the error (a refused key still cost a request): read in
                # the same step of the loop it is raised in, so a refusal shared by queued calls (which
                # send nothing: 0) never carries another call's count.
                err.llm_calls, err.tokens_in = usage.attempts, usage.tokens_in  # type: ignore[attr-defined]
                raise
            return self._failed(err, usage, await rules, prepared.truncated)
        # Verification re-reads every message with the engine: also CPU-bound, also off the loop.
        kept, notes, invented = await run_cpu_bound(
            verify_items, reply.parsed.shipments, conversation, prepared, await rules)
        if prepared.truncated:  # visible on each shipment: the LLM saw only part of this conversation
            kept = [replace(s, flags=_add_flag(s.flags, "text_truncated")) for s in kept]
        return ExtractionResult(shipments=tuple(kept), extractor=self.name, llm_calls=usage.attempts,
                                tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, invented=invented,
                                truncated=prepared.truncated, notes=tuple(notes))

    def _failed(self, err: ApiError, usage: CallUsage, engine: ExtractionResult,
                truncated: bool) -> ExtractionResult:
        reason = f"LLM call failed after {usage.attempts} attempt(s): {err}"
        log.warning("%s", reason)
        if not self.fallback:
            raise ExtractionFailed(reason, tokens_in=usage.tokens_in, llm_calls=usage.attempts) from err
        return ExtractionResult(shipments=engine.shipments, extractor=self.name, llm_calls=usage.attempts,
                                tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, truncated=truncated,
                                notes=(f"rules fallback: {reason}",))

    def verify(self, items: list[ShipmentItem], conversation: Conversation,
               prepared: textprep.PreparedConversation,
               engine: ExtractionResult) -> tuple[list[ExtractedShipment], list[str], int]:
        """See `verify_items`."""
        return verify_items(items, conversation, prepared, engine)


def first_pass(conversation: Conversation, token_budget: int, prefilter: bool
               ) -> tuple[textprep.PreparedConversation, ExtractionResult | None, bool]:
    """What the LLM call needs: the prepared text and whether the pre-filter sees a plausible candidate;
    plus the rules' shipments when it sees none (the LLM is then not asked). Otherwise the rules' pass
    (`rules_pass`) waits until the call is sent: at the start of a scan a whole window of conversations
    queues here, and each one's call goes out half as late. Pure and picklable (it may run in another
    process)."""
    prepared = textprep.prepare(conversation, token_budget=token_budget)
    if not prefilter:
        return prepared, None, True
    lines: LineCache = {}   # the rules read again the lines the pre-filter scanned: no second scan
    if has_plausible_candidate(prepared, lines):
        return prepared, None, True
    return prepared, RulesExtractor().extract_sync(conversation, lines), False


def rules_pass(conversation: Conversation) -> ExtractionResult:
    """The rules' shipments of `conversation` (verification weighs the LLM's items against them)."""
    return RulesExtractor().extract_sync(conversation)


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
            kept[number] = replace(shipment, flags=_add_flag(shipment.flags, "llm_missed"))
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
            flags = _add_flag(flags, "carrier_disagrees")
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
        order_number=_clean(item.order_number) or base.order_number,
        supplier=_clean(item.supplier) or base.supplier,
        shipped_date=_date(item.shipped_date) or base.shipped_date,
        destination_country=_country(item.destination_country) or base.destination_country,
        destination_postcode=_clean(item.destination_postcode, 12) or base.destination_postcode)




def user_message(prepared: textprep.PreparedConversation) -> str:
    """The user turn: textprep's `llm_text` as is (a "Subject:" line, then the messages without quoted
    history; a number found only in quoted history appears once, in a "[quoted in message ...]" excerpt)."""
    return prepared.llm_text


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
        flags = _add_flag(flags, flag)
    return replace(first, flags=flags, confidence=max(first.confidence, other.confidence),
                   order_number=first.order_number or other.order_number,
                   supplier=first.supplier or other.supplier,
                   shipped_date=first.shipped_date or other.shipped_date,
                   destination_country=first.destination_country or other.destination_country,
                   destination_postcode=first.destination_postcode or other.destination_postcode)


def _add_flag(flags: tuple[str, ...], flag: str) -> tuple[str, ...]:
    return flags if flag in flags else (*flags, flag)


def _clean(value: str | None, limit: int = 120) -> str | None:
    value = (value or "").strip()
    return value[:limit] if value and value.lower() not in ("null", "none", "n/a", "unknown") else None


def _date(value: str | None) -> str | None:
    value = _clean(value)
    return value if value and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None


def _country(value: str | None) -> str | None:
    value = _clean(value)
    return value.upper() if value and re.fullmatch(r"[A-Za-z]{2}", value) else None
