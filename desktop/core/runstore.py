"""Opening a scan run's row in the store: one call on the store thread (`desktop.core.storecalls`).

Contract: `open_run_rows(params, extractor)` flags runs a killed process left "running", then resumes the
latest unfinished run over the same range and inboxes (same rescan setting) or starts a new one; it
returns the row, whether it was resumed, and the batches the resumed run had finished. The core decides
(resume or not), the store stores; all of it runs on the thread that calls it (the store thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from desktop.store import scans

log = logging.getLogger("shipscan.pipeline")


@dataclass(frozen=True)
class OpenedRun:
    row: Any                  # the run's ScanRunRow
    resumed: bool
    batches: list[dict] = field(default_factory=list)   # the finished batches of a resumed run


def open_run_rows(params: Any, extractor: str) -> OpenedRun:
    """Resume or start the run of `params` (a `pipeline.ScanParams`) with `extractor` (see the module)."""
    scans.mark_interrupted()
    old = scans.find_resumable(params.since, params.until, params.inboxes)
    common = dict(batch_size=params.batch_size, concurrent_batches=params.concurrent_batches, extractor=extractor)
    if old is not None and bool(old.rescan) == params.rescan:
        row = scans.resume_run(old.id, **common)
        log.info("resuming scan run %s (%s)", row.id, old.state)
        return OpenedRun(row, True, scans.run_batches(row.id))
    row = scans.start_run(since=params.since, until=params.until, inboxes=params.inboxes, rescan=params.rescan,
                          **common)
    return OpenedRun(row, False)
