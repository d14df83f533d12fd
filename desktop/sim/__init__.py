"""Loopback simulators of Front, OpenAI and Ship24 (real HTTP servers on 127.0.0.1), plus the workspace.

    from desktop.sim import SimConfig, start_simulators, DEMO_KEYS
    with start_simulators(workspace, SimConfig()) as sims:
        sims.front_url, sims.openai_url, sims.ship24_url      # base URLs (openai_url ends in /v1)
        sims.front.log, sims.front.config                     # SimLog and live (mutable) config per service

Nothing here imports Qt or anything from `desktop` outside `desktop.sim`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from desktop.sim.config import (
    DEMO_KEYS,
    FaultConfig,
    FrontSimConfig,
    LatencyConfig,
    OpenAISimConfig,
    Ship24SimConfig,
    SimConfig,
)
from desktop.sim.server import SimLog, SimServer

__all__ = ["DEMO_KEYS", "FaultConfig", "FrontSimConfig", "LatencyConfig", "OpenAISimConfig", "Ship24SimConfig",
           "SimConfig", "SimLog", "SimServer", "Simulators", "start_simulators"]


@dataclass
class Simulators:
    """The three running servers. `stop()` shuts them down; also a context manager."""

    front: SimServer
    openai: SimServer
    ship24: SimServer

    @property
    def front_url(self) -> str:
        return self.front.url

    @property
    def openai_url(self) -> str:
        return self.openai.url + "/v1"

    @property
    def ship24_url(self) -> str:
        return self.ship24.url

    def stop(self) -> None:
        for server in (self.front, self.openai, self.ship24):
            server.stop()

    def __enter__(self) -> Simulators:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def start_simulators(workspace: object, config: SimConfig | None = None) -> Simulators:
    """Start Front, OpenAI and Ship24 simulators serving `workspace` (a desktop.sim.workspace.Workspace),
    each on 127.0.0.1:<free port> in its own daemon thread. `config` defaults to SimConfig()."""
    from desktop.sim.front import FrontService  # late: keeps `import desktop.sim` light
    from desktop.sim.openai_sim import OpenAIService
    from desktop.sim.ship24 import Ship24Service

    cfg = config or SimConfig()
    front = SimServer(FrontService(workspace, cfg.front, cfg.seed)).start()  # type: ignore[arg-type]
    openai = SimServer(OpenAIService(workspace, cfg.openai, cfg.seed + 1)).start()  # type: ignore[arg-type]
    ship24 = SimServer(Ship24Service(cfg.ship24, cfg.seed + 2)).start()
    return Simulators(front, openai, ship24)
