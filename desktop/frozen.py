"""The PyInstaller bundle's entry point (build.spec's script): `shipscan ...`, plus the bundle's `python -m`.

A bundle has no `python -m`: its executable runs this script and nothing else. Code that starts one of
our modules as a child process (the demo's simulators: `desktop.sim.process._self_command`, which keeps
its own copy of the flag because the simulators import nothing of the product) runs
`[sys.executable, RUN_MODULE_FLAG, module, *args]` when frozen; `main` runs that module as `__main__`
with `args`. Every other command line goes to `desktop.cli.main` unchanged (multiprocessing's spawn
children included: `cli.main` calls `freeze_support` first).
"""

from __future__ import annotations

import runpy
import sys

#: argv[1] of a bundle started to run one module (never shown to users; not a `shipscan` option).
RUN_MODULE_FLAG = "--run-module"
#: The modules a bundle may be asked to run this way: nothing else is reachable from the outside.
RUNNABLE_MODULES = frozenset({"desktop.sim.process"})


def main(argv: list[str] | None = None) -> int:
    """Run the module named after RUN_MODULE_FLAG, else the `shipscan` command line; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [RUN_MODULE_FLAG]:
        if len(argv) < 2 or argv[1] not in RUNNABLE_MODULES:
            print(f"shipscan: {RUN_MODULE_FLAG} takes one of {sorted(RUNNABLE_MODULES)}", file=sys.stderr)
            return 2
        sys.argv = [argv[1], *argv[2:]]
        try:
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        except SystemExit as done:
            return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        return 0
    from desktop.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
