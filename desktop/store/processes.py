"""Whether the process that wrote a row still runs: a pid, with that process's start time where known.

Gone means: no such pid, a zombie, or (Linux) a pid now used by a process with another start time; where no
start time can be read, the pid alone decides. Only meaningful for rows written on THIS machine: another
desktop's process is judged by its lease (`desktop.store.claims`).
"""

from __future__ import annotations

import os
import socket


def process_state(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks since boot) of `pid` from /proc/<pid>/stat, or None where
    there is no such file (no such process, or not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            text = stat.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ")"; fields 3... follow the last ")".
    fields = text[text.rfind(")") + 2:].split()
    return (fields[0], fields[19]) if len(fields) > 19 else None


def process_started(pid: int) -> str | None:
    """The start time stored with a run row for `pid` (None where it cannot be read)."""
    state = process_state(pid)
    return state[1] if state is not None else None


def pid_alive(pid: int | None, started: str | None = None) -> bool:
    """Whether the process that ran a row (`pid`, with start time `started` when known) still runs."""
    if not pid:
        return False
    state = process_state(pid)
    if state is not None:
        letter, now_started = state
        if letter in "ZXx":     # a zombie: killed, only waiting for its parent to read the exit code
            return False
        return started is None or now_started == started
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # exists, owned by someone else
        return True
    return True


def this_process() -> str:
    """This process as a lease owner names it: `pid@host`."""
    return f"{os.getpid()}@{socket.gethostname()}"


def owner_alive(owner: str | None) -> bool | None:
    """Whether the process named by a lease owner (`pid@host`, maybe followed by `#...`) still runs: None
    when that cannot be told here (another host, or not such a name)."""
    pid, _, rest = (owner or "").partition("@")
    host = rest.partition("#")[0]
    if not pid.isdigit() or host != socket.gethostname():
        return None
    return pid_alive(int(pid))
