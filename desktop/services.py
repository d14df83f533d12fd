"""Building everything a command or the window needs: settings, keys, the database and the API clients.

    async with open_services(args) as svc:          # args: anything with `.demo` / `.db` (argparse works)
        scanner = Scanner(svc.front, svc.extractor("llm"), sink, settings=svc.settings, llm=svc.llm)

With `demo=True` the simulators of Front, OpenAI and Ship24 start in this process (daemon threads) on the
seeded demo workspace, the clients point at them with `desktop.sim.DEMO_KEYS`, and the demo database is
used (never the real one); the Ship24 simulator keeps its trackers in a file beside that database, as the
real Ship24 keeps them across runs. The demo budgets are the real services' with time running 10x faster
(Front's 200/min plan and OpenAI's per-minute limits per 6 s window), so a demo scan takes seconds, not
minutes; `SHIPSCAN_SIM_CONFIG=<json>` replaces the whole sim config (and then no state file is kept
unless that config names one).

Keys: a missing Front token raises ConfigurationError naming FRONT_API_TOKEN (commands exit 2). Without
an OpenAI key there is no LLM client and `extractor("llm")` falls back to the rules extractor, adding a
notice that the caller shows. Without a Ship24 key shipments are still found and queued.
"""

from __future__ import annotations

import logging
import os
import sys
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from desktop import log as applog
from desktop import paths
from desktop import settings as settings_mod
from desktop.clients.front import FrontClient
from desktop.core import storecalls
from desktop.core.events import RateLimitWait, Sink
from desktop.errors import ConfigurationError
from desktop.secrets import ENV_VARS, Keys, load_keys
from desktop.store.db import close_database, open_database

log = logging.getLogger("shipscan.pipeline")

DEMO_SEED = 7
DEMO_CONVERSATIONS = 300


class WaitRelay:
    """Forwards the clients' `on_wait(seconds, reason)` to whichever sink is current (None = dropped)."""

    def __init__(self) -> None:
        self.sink: Sink | None = None

    def _emit(self, service: str, seconds: float, reason: str) -> None:
        if self.sink is not None:
            self.sink(RateLimitWait(service, seconds, reason))

    def front(self, seconds: float, reason: str) -> None:
        self._emit("front", seconds, reason)

    def openai(self, seconds: float, reason: str) -> None:
        self._emit("openai", seconds, reason)

    def ship24(self, seconds: float, reason: str) -> None:
        self._emit("ship24", seconds, reason)


@dataclass
class Services:
    settings: settings_mod.Settings
    keys: Keys
    db_path: Path
    db: Any
    front: FrontClient
    llm: Any | None
    ship24: Any | None
    sims: Any | None
    demo: bool
    workspace: Any | None = None
    relay: WaitRelay = field(default_factory=WaitRelay)
    #: Things the user should be told (e.g. "no OpenAI key: using the rules extractor").
    notices: list[str] = field(default_factory=list)

    def extractor(self, kind: str | None = None) -> Any:
        """The extractor to use: `kind` ("llm" or "rules", default from settings); "llm" needs an OpenAI key."""
        kind = kind or self.settings.extractor
        if kind == "llm" and self.llm is None:
            self.notices.append(f"No OpenAI key ({ENV_VARS['openai']} or the keyring): using the rules "
                                "extractor instead of the LLM.")
            kind = "rules"
        return _make_extractor(kind, self.llm, self.settings)

    def demo_range(self) -> tuple[float, float]:
        """[since, until) covering every message of the demo workspace."""
        if self.workspace is None:
            raise ConfigurationError("the demo range is only known with --demo")
        times = [m.created_at for c in self.workspace.conversations for m in c.messages]
        return float(int(min(times))) - 1.0, float(int(max(times))) + 2.0


def _make_extractor(kind: str, llm: Any, settings: settings_mod.Settings) -> Any:
    try:
        from desktop.core.extractor import make_extractor
    except ImportError:  # the factory module is optional; build the two known extractors directly
        if kind == "llm":
            from desktop.core.llm_extractor import LlmExtractor
            return LlmExtractor(llm, prefilter=settings.llm_prefilter, token_budget=settings.llm_token_budget)
        from desktop.core.rules_extractor import RulesExtractor
        return RulesExtractor()
    return make_extractor(kind, llm_client=llm, settings=settings)


def _option(options: Any, name: str, override: Any) -> Any:
    return override if override is not None else getattr(options, name, None)


def demo_sim_config(db_path: str | Path | None = None) -> Any:
    """The demo's simulator settings (time-scaled Front budget), or `$SHIPSCAN_SIM_CONFIG`'s JSON as is.

    The demo keeps its database across runs, so its Ship24 simulator keeps its trackers too: in a state
    file beside `db_path` (default: the demo database), see `demo_ship24_state_file`.
    """
    from desktop.sim import SimConfig

    path = os.environ.get("SHIPSCAN_SIM_CONFIG")
    if path:
        return SimConfig.from_file(path)
    config = SimConfig()
    config.front.rate_limit_per_minute = 200       # Front's Scale plan...
    config.front.window_seconds = 6.0              # ...with time running 10x faster
    config.openai.window_seconds = 6.0             # OpenAI's per-minute budgets, 10x faster too
    config.ship24.state_file = str(demo_ship24_state_file(db_path))
    config.ship24.movement.enabled = True          # trackers move, with exceptions and stalls...
    config.ship24.movement.time_scale = 360.0      # ...a 6-hour step a minute, so minutes show movement
    return config


def demo_ship24_state_file(db_path: str | Path | None = None) -> Path:
    """Where the demo's Ship24 simulator keeps its trackers: `demo-ship24.json` beside the demo database,
    or `<db>.ship24.json` beside any other database (so tests with their own databases never share)."""
    demo_db = paths.demo_db_path()
    if paths.is_database_url(db_path):   # a server's database: a file named after it in the data folder
        return paths.data_dir() / f"demo-ship24-{zlib.crc32(str(db_path).encode()):08x}.json"
    db = Path(db_path) if db_path is not None else demo_db
    if db == demo_db:
        return demo_db.with_name("demo-ship24.json")
    return db.with_name(db.name + ".ship24.json")


@asynccontextmanager
async def open_services(options: Any = None, *, demo: bool | None = None, db: str | Path | None = None,
                        settings: settings_mod.Settings | None = None, require: Sequence[str] = ("front",),
                        sim_config: Any = None, workspace: Any = None,
                        sims_in_child: bool = False, front_in_flight: int | None = None
                        ) -> AsyncIterator[Services]:
    """Open settings, keys, database and clients (and the demo simulators); close them all on exit.

    With `sims_in_child`, the demo's simulators run in a child process (the desktop app does this, so
    they never compete with the window for the interpreter lock); otherwise in threads of this process,
    where tests can read their logs. `front_in_flight`: Front requests on the wire at once (default
    `desktop.clients.front.MAX_IN_FLIGHT`; the window asks for fewer).

    Raises:
        ConfigurationError: a key in `require` ("front", "openai", "ship24") is missing; names its env var.
    """
    demo = bool(_option(options, "demo", demo))
    db_path = paths.resolve_db_path(_option(options, "db", db), demo)
    cfg = settings or settings_mod.load().with_env()
    sims = None
    if demo:
        from desktop.sim import DEMO_KEYS
        if workspace is None:
            from desktop.sim.workspace import generate_workspace
            workspace = generate_workspace(seed=DEMO_SEED, conversations=DEMO_CONVERSATIONS)
        sims = _start_demo_simulators(workspace, sim_config or demo_sim_config(db_path), sims_in_child)
        cfg = replace(cfg, front_url=sims.front_url, openai_url=sims.openai_url, ship24_url=sims.ship24_url)
        keys = Keys(front=DEMO_KEYS["front"], openai=DEMO_KEYS["openai"], ship24=DEMO_KEYS["ship24"])
    else:
        keys = load_keys()
    applog.register_secrets(keys.front, keys.openai, keys.ship24)  # masked in every log line from now on
    try:
        for service in require:
            if not getattr(keys, service):
                raise ConfigurationError(f"No {service} key: set {ENV_VARS[service]} (or save it in the app's "
                                         "settings, which keeps it in the system keyring).")
        database = open_database(db_path)
    except BaseException:
        if sims is not None:
            sims.stop()
        raise
    svc = Services(settings=cfg, keys=keys, db_path=db_path, db=database, front=None,  # type: ignore[arg-type]
                   llm=None, ship24=None, sims=sims, demo=demo, workspace=workspace)
    try:
        _open_clients(svc, front_in_flight)
        yield svc
    finally:
        await _close(svc)


def _start_demo_simulators(workspace: Any, config: Any, in_child: bool) -> Any:
    from desktop.sim import start_simulators

    if not in_child or getattr(sys, "frozen", False):  # a frozen bundle cannot run `-m`: use threads
        return start_simulators(workspace, config)
    from desktop.sim.process import start_simulators_process

    days = max(1, round((workspace.end - workspace.start) / 86400))
    return start_simulators_process(seed=workspace.seed, conversations=len(workspace.conversations),
                                    days=days, end=workspace.end, config=config)


def _open_clients(svc: Services, front_in_flight: int | None = None) -> None:
    cfg, keys, relay = svc.settings, svc.keys, svc.relay
    wire = {"max_in_flight": front_in_flight} if front_in_flight else {}
    svc.front = FrontClient(cfg.front_url, keys.front or "", budget_share=cfg.front_budget_share,
                            on_wait=relay.front, **wire)
    if keys.openai:
        from desktop.clients.llm import LlmClient
        extra = {}
        if svc.sims is not None:   # the demo's OpenAI budgets cover a time-scaled window, not a minute
            extra["rate_period"] = float(svc.sims.openai.config.window_seconds)
        svc.llm = LlmClient(cfg.openai_url, keys.openai, cfg.model, on_wait=relay.openai,
                            limits_file=paths.data_dir() / "openai-limits.json", **extra)
    if keys.ship24:
        try:
            from desktop.clients.ship24 import Ship24Client
        except ImportError:
            log.warning("the Ship24 client is not available; registration is off")
        else:
            svc.ship24 = Ship24Client(cfg.ship24_url, keys.ship24, on_wait=relay.ship24)


async def _close(svc: Services) -> None:
    for client in (svc.front, svc.llm, svc.ship24):
        if client is not None:
            try:
                await client.aclose()
            except Exception:  # closing must not hide the real outcome
                log.debug("closing %s failed", type(client).__name__, exc_info=True)
    storecalls.close()   # the core's store thread: its connection first, then this thread's
    close_database(svc.db)
    if svc.sims is not None:
        svc.sims.stop()
