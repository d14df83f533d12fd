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

import logging
from dataclasses import replace

from desktop import paths
from desktop.clients.errors import ApiError
from desktop.clients.llm import CallUsage, LlmClient
from desktop.core import textprep
from desktop.core.llm_verify import (
    DECOY_REASONS,
    ShipmentItem,
    ShipmentList,
    add_flag,
    courier_code_for,
    couriers_agree,
    verify_items,
)
from desktop.core.offload import run_cpu_bound
from desktop.core.rules_extractor import RulesExtractor, has_plausible_candidate
from desktop.core.tracking import LineCache
from desktop.domain import Conversation, ExtractedShipment, ExtractionResult
from desktop.errors import ExtractionFailed

__all__ = ["DECOY_REASONS", "PROMPT", "LlmExtractor", "ShipmentItem", "ShipmentList", "courier_code_for",
           "couriers_agree", "first_pass", "load_prompt", "rules_pass", "user_message", "verify_items"]

log = logging.getLogger("shipscan.llm")

PROMPT = ("prompts", "extract_shipments.md")


def load_prompt() -> str:
    """The system prompt (resources/prompts/extract_shipments.md)."""
    return paths.resource(*PROMPT).read_text(encoding="utf-8")


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

    def warm_up(self) -> None:
        """The key check starts now (see `Extractor.warm_up`)."""
        self.llm.check_key_soon()

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
        return await self._ask(conversation, prepared)

    async def _ask(self, conversation: Conversation, prepared: textprep.PreparedConversation) -> ExtractionResult:
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
            return await self._failed(err, usage, conversation, prepared.truncated)
        # The rules' pass and the verification (which re-reads every message with the engine) are CPU-bound:
        # one hand-off to the engine worker once the answer is in. Not the rules while the answer is awaited:
        # each hand-off pickles the whole conversation, and at a scan's start, when a window of 150 fetches
        # and first passes compete for two cores, that extra pass delayed every first call.
        kept, notes, invented = await run_cpu_bound(verify_against_rules, reply.parsed.shipments, conversation,
                                                    prepared)
        if prepared.truncated:  # visible on each shipment: the LLM saw only part of this conversation
            kept = [replace(s, flags=add_flag(s.flags, "text_truncated")) for s in kept]
        return ExtractionResult(shipments=tuple(kept), extractor=self.name, llm_calls=usage.attempts,
                                tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, invented=invented,
                                truncated=prepared.truncated, notes=tuple(notes))

    async def _failed(self, err: ApiError, usage: CallUsage, conversation: Conversation,
                      truncated: bool) -> ExtractionResult:
        reason = f"LLM call failed after {usage.attempts} attempt(s): {err}"
        log.warning("%s", reason)
        if not self.fallback:
            raise ExtractionFailed(reason, tokens_in=usage.tokens_in, llm_calls=usage.attempts) from err
        engine = await run_cpu_bound(rules_pass, conversation)
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
    waits for the answer (`verify_against_rules`): at the start of a scan a whole window of conversations
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


def verify_against_rules(items: list[ShipmentItem], conversation: Conversation,
                         prepared: textprep.PreparedConversation) -> tuple[list[ExtractedShipment], list[str], int]:
    """The rules' pass, then `verify_items` against it: one hand-off for both. Pure and picklable."""
    return verify_items(items, conversation, prepared, rules_pass(conversation))


def user_message(prepared: textprep.PreparedConversation) -> str:
    """The user turn: textprep's `llm_text` as is (a "Subject:" line, then the messages without quoted
    history; a number found only in quoted history appears once, in a "[quoted in message ...]" excerpt)."""
    return prepared.llm_text
