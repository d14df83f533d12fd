"""`shipscan extract [--extractor llm|rules] [--json] PATH...`: find the shipments in local files.

Reads `.txt`, `.html` and `.eml` files (`-` = standard input) and prints what it finds in each. With
`--json`, prints ONE JSON array with one object per input, in order:
`{"file": ..., "shipments": [{"tracking_number", "carrier", "courier_code", "confidence", "evidence",
"flags": [...]}], "error": null, "truncated": false, "tokens_sent": 0}` (the last two: whether the text
sent to the LLM was cut to its token budget, and the tokens it was charged). A file that cannot be read
(or whose extraction fails) gets its `error` and the others still run. Exit code: 0 when every file was handled, 1 when some failed.

The default extractor is "llm" when an OpenAI key is configured (OPENAI_API_KEY or the keyring), else
"rules". With `--demo` the OpenAI simulator answers (demo key). Without a key and without `--demo` the
rules extractor is used, and stderr says so.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import stat
import sys
from dataclasses import dataclass, field
from typing import Any

from desktop.domain import Conversation, ExtractedShipment, ExtractionResult

KEY_HELP = "OPENAI_API_KEY"


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "extract", parents=[common], help="find tracking numbers in .txt/.html/.eml files",
        description="Find the shipments (tracking number, carrier) in local files: .txt, .html, .eml, "
                    "or - for standard input.")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to read (- = standard input)")
    parser.add_argument("--extractor", choices=("llm", "rules"), default=None,
                        help="llm (needs an OpenAI key, or --demo) or rules (default: llm when a key is set)")
    parser.add_argument("--json", action="store_true", help="print one JSON array (one object per file)")
    parser.set_defaults(func=run)


@dataclass
class FileResult:
    file: str
    shipments: list[ExtractedShipment] = field(default_factory=list)
    error: str | None = None
    #: The text sent to the LLM was cut to the token budget; tokens the LLM call was charged.
    truncated: bool = False
    tokens_sent: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "shipments": [
            {"tracking_number": s.tracking_number, "carrier": s.carrier, "courier_code": s.courier_code,
             "confidence": round(s.confidence, 3), "evidence": s.evidence, "flags": list(s.flags)}
            for s in self.shipments], "error": self.error,
            "truncated": self.truncated, "tokens_sent": self.tokens_sent}


def run(args: argparse.Namespace) -> int:
    demo = bool(getattr(args, "demo", False))
    try:
        results = _extract_all(list(args.paths), args.extractor, demo)
    except _Unusable as error:
        print(f"shipscan extract: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=2, ensure_ascii=False))
    else:
        for result in results:
            _print_human(result)
    return 1 if any(r.error for r in results) else 0


class _Unusable(Exception):
    """The chosen extractor cannot run (e.g. the simulators did not start)."""


def _choose(kind: str | None, demo: bool) -> tuple[str, str | None]:
    """(extractor kind, OpenAI key or None). Says on stderr when it falls back to the rules extractor."""
    if kind == "rules":
        return "rules", None
    if demo:
        from desktop.sim import DEMO_KEYS

        return "llm", DEMO_KEYS["openai"]
    from desktop.secrets import get_key  # the keyring: only when a key may be needed

    key = get_key("openai")
    if key:
        return "llm", key
    print(f"shipscan extract: no OpenAI key configured ({KEY_HELP} or the keyring); "
          "using the rules extractor (tracking-number engine only).", file=sys.stderr)
    return "rules", None


def _extract_all(paths: list[str], kind: str | None, demo: bool) -> list[FileResult]:
    from desktop.core.extractor import make_extractor
    from desktop.settings import load

    chosen, key = _choose(kind, demo)
    settings = load().with_env()
    if chosen == "rules":
        # Plain CPU work: called directly, without the event loop and the worker thread the app hands it
        # to (there they keep the window responsive; here they would only cost start-up time).
        extractor = make_extractor("rules", settings=settings)
        return [_extract_one_sync(path, extractor) for path in paths]
    import asyncio

    return asyncio.run(_extract_llm(paths, key, demo, settings))


async def _extract_llm(paths: list[str], key: str | None, demo: bool, settings: Any) -> list[FileResult]:
    from desktop.core.extractor import make_extractor

    sims = client = None
    try:
        url = settings.openai_url
        if demo:
            sims = _start_simulators()
            url = sims.openai_url
        from desktop.clients.llm import LlmClient

        client = LlmClient(url, key or "", settings.model)
        extractor = make_extractor("llm", llm_client=client, settings=settings)
        return [await _extract_one(path, extractor) for path in paths]
    finally:
        if client is not None:
            await client.aclose()
        if sims is not None:
            sims.stop()


def _start_simulators() -> Any:
    from desktop.sim import start_simulators
    from desktop.sim.workspace import generate_workspace

    try:
        return start_simulators(generate_workspace(seed=7, conversations=50))
    except OSError as error:
        raise _Unusable(f"cannot start the demo simulators: {error}") from error


#: Seconds a FIFO or device may stay silent before we give up on it (a writer that never writes).
IDLE_SECONDS = 10.0


def read_capped(path: str, limit: int | None = None, idle: float = IDLE_SECONDS) -> bytes:
    """The bytes of `path` ("-" = standard input), read from the stream itself and never more than
    `limit` (default: documents.MAX_BYTES): a device (/dev/zero), a FIFO and stdin are capped like a
    file, and a stream that stays silent for `idle` seconds is an error, not a hang.

    Raises:
        DocumentError: unreadable, larger than the limit, or silent; the message names the file.
    """
    from desktop.core.documents import MAX_BYTES, DocumentError, unreadable

    limit = MAX_BYTES if limit is None else limit
    name = "standard input" if path == "-" else path
    if path == "-" and not _has_fileno(sys.stdin):   # a replaced stdin (tests, embedding): read it capped
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise DocumentError(f"{name}: more than {limit // (1024 * 1024)} MB; nothing was read from it")
        return data
    try:
        fd = sys.stdin.fileno() if path == "-" else os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise unreadable(path, error) from error
    try:
        data = _read_fd(fd, limit, idle, name)
    finally:
        if path != "-":
            os.close(fd)
    return data


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    return True


def _read_fd(fd: int, limit: int, idle: float, name: str) -> bytes:
    from desktop.core.documents import DocumentError

    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        raise DocumentError(f"{name}: is a directory")
    waits = not stat.S_ISREG(mode) and os.name == "posix"   # select() works on pipes only there
    chunks, size = [], 0
    while True:
        ready = select.select([fd], [], [], idle)[0] if waits else [fd]
        if not ready:
            raise DocumentError(f"{name}: no data for {idle:.0f} s (a pipe or device nobody writes to?)")
        try:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        except BlockingIOError:
            continue
        except OSError as error:
            raise DocumentError(f"{name}: {error.strerror or error}") from error
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise DocumentError(f"{name}: more than {limit // (1024 * 1024)} MB; nothing was read from it")


def _read(path: str) -> Conversation | FileResult:
    """The conversation in `path`, or the file's result carrying why it could not be read."""
    from desktop.core.documents import DocumentError, read_document

    try:
        return read_document(path, read_capped(path))
    except DocumentError as error:
        return FileResult(path, error=str(error))


def _found(path: str, result: ExtractionResult) -> FileResult:
    return FileResult(path, list(result.shipments), truncated=result.truncated, tokens_sent=result.tokens_in)


async def _extract_one(path: str, extractor: Any) -> FileResult:
    from desktop.errors import ExtractionFailed

    conversation = _read(path)
    if isinstance(conversation, FileResult):
        return conversation
    try:
        return _found(path, await extractor.extract(conversation))
    except ExtractionFailed as error:
        return FileResult(path, error=f"extraction failed: {error.reason}")


def _extract_one_sync(path: str, extractor: Any) -> FileResult:
    """`_extract_one` for an extractor with `extract_sync` (the rules extractor)."""
    from desktop.errors import ExtractionFailed

    conversation = _read(path)
    if isinstance(conversation, FileResult):
        return conversation
    try:
        return _found(path, extractor.extract_sync(conversation))
    except ExtractionFailed as error:
        return FileResult(path, error=f"extraction failed: {error.reason}")


def _print_human(result: FileResult) -> None:
    if result.error:
        print(f"{result.file}: ERROR {result.error}")
        return
    count = len(result.shipments)
    cut = " (text cut to the token budget)" if result.truncated else ""
    print(f"{result.file}: {count} shipment{'s' if count != 1 else ''}{cut}")
    for s in result.shipments:
        flags = f" [{', '.join(s.flags)}]" if s.flags else ""
        carrier = s.carrier or "unknown carrier"
        print(f"  {s.tracking_number}  {carrier}  confidence {s.confidence:.2f}{flags}")
        if s.evidence:
            print(f"    {s.evidence}")
