"""The rules-only extractor: the tracking-number engine alone, gated by context (no network).

Used when no OpenAI key is configured or when the user picks it. Also home of the LLM pre-filter
`has_plausible_candidate`: a conversation with no plausible candidate anywhere need not go to the LLM.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.textprep import PreparedConversation, message_texts
from desktop.core.tracking import Candidate, LineCache, courier_info, find_candidates
from desktop.domain import Conversation, ExtractedShipment, ExtractionResult

#: Refusals that mean "not a tracking number at all" (the pre-filter ignores such spans).
HARD_REFUSALS = ("lookalike_characters", "part_of_longer_code")


def has_plausible_candidate(prepared: PreparedConversation, lines: LineCache | None = None) -> bool:
    """True when anything in the conversation (quoted history included) fits a tracking-number format and
    is not plainly something else. Deliberately generous: a False here means the LLM is not asked at all.
    `lines`: the line cache of an earlier scan of the same conversation (`collect`), read again here."""
    for candidate in find_candidates(prepared.full_text, lines):
        if candidate.matches and not any(r in HARD_REFUSALS for r in candidate.reasons):
            return True
    return False


@dataclass
class _Seen:
    best: Candidate
    message_id: str
    decoy: bool = False


def _is_decoy(candidate: Candidate) -> bool:
    return any(r.startswith(("decoy_label:", "phone_shape", "inside_unrelated_url")) for r in candidate.reasons)


def _strong(candidate: Candidate) -> bool:
    """Evidence that outweighs a decoy label elsewhere: a tracking label, a carrier link, or a strong format."""
    return "tracking_label" in candidate.reasons or any(r.startswith("carrier_link:") for r in candidate.reasons) \
        or candidate.score >= 0.7


def collect(conversation: Conversation, lines: LineCache | None = None) -> dict[str, _Seen]:
    """Per normalised number: its best accepted occurrence and the first message that carries it.
    `lines` (a new one when None) caches the lines scanned, for the caller to pass on to later scans."""
    seen: dict[str, _Seen] = {}
    vetoed: set[str] = set()
    # shared by the messages: a reply's quoted copy of an earlier one is not re-scanned
    lines = {} if lines is None else lines
    for message, text in message_texts(conversation):
        for candidate in find_candidates(text, lines):
            if not candidate.matches:
                continue
            if _is_decoy(candidate):
                vetoed.add(candidate.number)
            if not candidate.accepted:
                continue
            entry = seen.get(candidate.number)
            if entry is None:
                seen[candidate.number] = _Seen(candidate, message.id)
            elif candidate.score > entry.best.score:
                entry.best = candidate
    for number in vetoed & seen.keys():
        seen[number].decoy = True
    return {n: s for n, s in seen.items() if not s.decoy or _strong(s.best)}


def to_shipment(candidate: Candidate, message_id: str | None) -> ExtractedShipment:
    courier = courier_info(candidate.courier)
    flags = []
    if candidate.ambiguous:
        flags.append("ambiguous_format")
    if not candidate.has_check_digit:
        flags.append("no_check_digit")
    return ExtractedShipment(
        tracking_number=candidate.number, courier=candidate.courier, carrier=courier.name if courier else None,
        courier_code=courier.ship24_code if courier else None, confidence=candidate.score,
        evidence=candidate.context, validated=candidate.accepted, flags=tuple(flags), message_id=message_id)


class RulesExtractor:
    """The engine alone: every accepted candidate of the conversation, one shipment per number."""

    name = "rules"

    def warm_up(self) -> None:
        """Nothing to start (see `Extractor.warm_up`)."""

    async def extract(self, conversation: Conversation) -> ExtractionResult:
        # The engine is CPU-bound (a 1 MB thread takes ~0.2 s): run it off the event loop so the window
        # never freezes. One hand-off per conversation; safe with the PySide6 pin (stack-notes §0.1).
        # Imported here: the offload machinery (asyncio, multiprocessing) is not needed by `extract_sync`.
        from desktop.core.offload import run_cpu_bound

        return await run_cpu_bound(self.extract_sync, conversation)

    def extract_sync(self, conversation: Conversation, lines: LineCache | None = None) -> ExtractionResult:
        """The same as `extract`, for callers without an event loop (CLI, tests, benchmarks); `lines` as
        in `collect`."""
        found = collect(conversation, lines)
        shipments = tuple(to_shipment(s.best, s.message_id) for s in found.values())
        return ExtractionResult(shipments=shipments, extractor=self.name)
