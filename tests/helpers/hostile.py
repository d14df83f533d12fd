"""The hostile-input corpus of issue 13, generated on demand (nothing large is committed).

Each function builds one probe: what a hostile or careless user fed the app. Run as a script to write
the corpus into a folder for manual probing: `python -m tests.helpers.hostile OUT_DIR`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from desktop.domain import Conversation, ConversationRef, Message

#: A key as pasted with a line break in the middle (issue 13, item 4).
NEWLINE_KEY = "sk-planted0123456789\nabcdefXYZ987"


def random_tracking_lines(count: int = 3000, seed: int = 13) -> str:
    """`Tracking: <18 random digits>` lines; about one in ten passes the SSCC-18 check digit."""
    rng = random.Random(seed)
    return "\n".join(f"Tracking: {rng.randrange(10**17, 10**18)}" for _ in range(count))


def conversation_of(text: str, cid: str = "cnv_hostile") -> Conversation:
    """One conversation with one inbound message holding `text`."""
    ref = ConversationRef(id=cid, subject="Shipment list", status="archived", inbox_ids=("inb_a",),
                          last_message_id="msg_h1", last_activity_at=1000.0, customer="x@example.com")
    message = Message(id="msg_h1", conversation_id=cid, created_at=1000.0, is_inbound=True,
                      sender="X <x@example.com>", subject="Shipment list", body_html="", text=text)
    return Conversation(ref, (message,))


def commit_hostile_conversation(cid: str = "cnv_hostile", *, approve_all_by_hand: bool = False) -> int:
    """Extract the 3,000-line conversation with the rules engine and commit it as a scan would (the
    database must be open); returns how many shipments it yielded (about 266)."""
    import asyncio
    import concurrent.futures

    from desktop.core import policy
    from desktop.core.rules_extractor import RulesExtractor
    from desktop.store import scans

    conversation = conversation_of(random_tracking_lines(), cid)
    # In a thread of its own: GUI tests call this while their qasync loop runs in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, RulesExtractor().extract(conversation)).result()
    outcome = scans.commit_conversation(conversation.ref, run_id=None, result=result,
                                        judge=policy.judge(approve_all_by_hand))
    return outcome.new_shipments


def bom_encoded(text: str, encoding: str) -> bytes:
    """`text` with the byte-order mark of `encoding` ("utf-8-sig", "utf-16", "utf-32": Python adds it)."""
    return text.encode(encoding)


def bidi_evidence(number: str) -> str:
    """A line whose number is wrapped in right-to-left override controls (shows reversed to a reviewer)."""
    return f"UPS tracking \u202e{number}\u202c please"


def arabic_indic(digits: str) -> str:
    """`digits` written with Arabic-Indic digits (U+0660..U+0669)."""
    return digits.translate(str.maketrans("0123456789", "".join(chr(0x660 + i) for i in range(10))))


def write_corpus(folder: Path) -> list[Path]:
    """Write the file probes into `folder`; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "random-tracking-3000.txt": random_tracking_lines().encode(),
        "ups-utf16.txt": bom_encoded("Your UPS tracking number is 1Z999AA10123456784", "utf-16"),
        "ups-utf32.txt": bom_encoded("Your UPS tracking number is 1Z999AA10123456784", "utf-32"),
        "bidi.txt": bidi_evidence("1Z999AA10123456784").encode(),
    }
    paths = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


if __name__ == "__main__":
    for path in write_corpus(Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")):
        print(path)
