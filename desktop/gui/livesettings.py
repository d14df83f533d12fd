"""Saved settings put in force in the running app (issue 11 item 1), without Qt.

`apply(services, worker, new)` replaces `services.settings` and hands each setting to what reads it:
- at once: registration by hand (the worker's next claim), the model (the LLM client's next call),
  your name (`desktop.store.actor`: the next scan and review);
- from the next scan: the automatic-registration caps, the pre-filter, the token budget (a scan reads
  `services.settings` when it starts);
- at the next start (what it returns, for the message): endpoints and keys (the open clients keep
  theirs), Front's budget share (the running pacer's), the scan defaults (the scan panel's fields).
Endpoints that hold for this run only (`Settings.endpoint_overrides`: the demo, environment variables)
stay as they are. The status refresh schedule is the bridge's to restart.
"""

from __future__ import annotations

from dataclasses import replace

from desktop.settings import Settings
from desktop.store import actor

ENDPOINTS = ("front_url", "openai_url", "ship24_url")


def apply(services, worker, new: Settings) -> list[str]:
    """Put `new` in force on `services` (and `worker`, None without Ship24); returns, in words, what
    changed but waits for the next start."""
    old: Settings = services.settings
    services.settings = replace(new, **{name: getattr(old, name) for name in ENDPOINTS},
                                front_budget_share=old.front_budget_share,
                                endpoint_overrides=old.endpoint_overrides)
    if getattr(services, "llm", None) is not None:
        services.llm.model = new.model
    actor.set_name(new.user_name)   # the next scan and review are recorded under it
    if worker is not None:
        worker.approve_all_by_hand = new.approve_all_by_hand
        worker.wake()
    return waiting_for_restart(old, new)


def waiting_for_restart(old: Settings, new: Settings) -> list[str]:
    """What differs between `old` and `new` that only the next start applies."""
    endpoints = any(getattr(new, name) != getattr(old, name) and not old.overridden(name) for name in ENDPOINTS)
    defaults = (new.batch_size, new.concurrent_batches, new.extractor) != (
        old.batch_size, old.concurrent_batches, old.extractor)
    return [what for what, changed in (("endpoints", endpoints),
                                       ("Front's budget share", new.front_budget_share != old.front_budget_share),
                                       ("scan defaults", defaults)) if changed]
