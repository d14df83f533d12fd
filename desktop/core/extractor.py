"""The extractor interface and its factory.

    extractor = make_extractor("rules")                         # the engine alone
    extractor = make_extractor("llm", llm_client=client, settings=settings)
    result = await extractor.extract(conversation)              # ExtractionResult, or raises ExtractionFailed
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from desktop.domain import Conversation, ExtractionResult

if TYPE_CHECKING:
    from desktop.settings import Settings

ExtractorKind = Literal["llm", "rules"]


@runtime_checkable
class Extractor(Protocol):
    """Finds the shipments of one conversation.

    `extract` never returns an empty result for a failure: it raises `desktop.errors.ExtractionFailed`
    with the reason, so a failed conversation is never recorded as "no shipments".
    """

    name: str

    async def extract(self, conversation: Conversation) -> ExtractionResult: ...

    def warm_up(self) -> None:
        """Called as a scan fetches its first conversation's messages: start whatever the first `extract`
        would otherwise wait for (the LLM extractor's key check). Must not wait, fail or spend money."""


def make_extractor(kind: str, *, llm_client: object | None = None, settings: Settings | None = None) -> Extractor:
    """The extractor called `kind` ("llm" or "rules").

    "llm" needs `llm_client` (a `desktop.clients.llm.LlmClient`); `settings` supplies the pre-filter switch
    and the token budget. Raises ValueError for an unknown kind or an "llm" extractor without a client.
    """
    from desktop.core.rules_extractor import RulesExtractor

    if kind == "rules":
        return RulesExtractor()
    if kind == "llm":
        if llm_client is None:
            raise ValueError("the llm extractor needs an llm_client")
        from desktop.core.llm_extractor import (
            LlmExtractor,  # imported late: owned by another module, optional
        )

        prefilter = settings.llm_prefilter if settings is not None else True
        budget = settings.llm_token_budget if settings is not None else 6000
        return LlmExtractor(llm_client, prefilter=prefilter, token_budget=budget)
    raise ValueError(f"unknown extractor {kind!r}; expected 'llm' or 'rules'")
