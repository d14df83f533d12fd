"""Which thread ran which SQL statement: peewee logs every statement at DEBUG on the "peewee" logger."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest


class Queries(logging.Handler):
    """Every SQL statement peewee runs while `recording`, with the ident of the thread that ran it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[int, str]] = []
        self.recording = True

    def emit(self, record: logging.LogRecord) -> None:
        if self.recording:
            sql = record.msg[0] if isinstance(record.msg, tuple) else str(record.msg)
            self.seen.append((record.thread, sql))

    def on_thread(self, ident: int) -> list[str]:
        return [sql for thread, sql in self.seen if thread == ident]

    def on_this_thread(self) -> list[str]:
        return self.on_thread(threading.get_ident())


@pytest.fixture
def queries() -> Iterator[Queries]:
    """A `Queries` listening to peewee for the test's duration."""
    logger = logging.getLogger("peewee")
    handler, level = Queries(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
