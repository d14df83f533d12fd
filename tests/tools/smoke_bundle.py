"""Smoke-test the PyInstaller bundle the way a user gets it: packed, unpacked and installed outside the
source tree, then run with a clean environment (no virtual environment, no PYTHONPATH, a fresh HOME).

    python tests/tools/smoke_bundle.py [dist/shipscan] [--json]

Checks, in order (each failure names the missing piece; the exit code is 1 if any check failed):
 1. layout: the executable, the prompt, the icons, the .desktop file, install.sh, build-info.json, the
    bundled README, the licence texts (Qt's LGPL included); the Qt platform plugins offscreen and xcb, image
    formats; nothing that must not ship (QtWebEngine, Qt3D, Qt translations, the GTK theme); every Qt
    library each plugin links is in the bundle (system libraries the target must have are listed);
 2. install: `tar czf` the bundle, unpack it in a temporary folder, run install.sh --prefix there;
 3. `shipscan --version` prints the version of desktop/__init__.py;
 4. `shipscan about --json`: a built bundle (build date), Qt present, the keyring backend it finds (reported);
    and where dbus-run-session and gnome-keyring-daemon exist, that it finds the Secret Service there;
 5. `shipscan scan --demo --json`: completes with no failure and no 429, and recall/precision against the
    demo's ground truth as tests/commands/test_scan.py asks (recall >= 0.97, precision >= 0.99);
 6. the window: `QT_QPA_PLATFORM=offscreen SHIPSCAN_QUIT_AFTER=3 shipscan --demo` opens (its log says so),
    closes by itself and exits 0 (this starts the demo's simulators as a child of the bundle);
 7. the same under X11 (xcb) when `xvfb-run` exists; reported as skipped otherwise.
The ground truth comes from this source tree (the harness's Python), never from the bundle under test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

REQUIRED_FILES = ("shipscan", "install.sh", "_internal/build-info.json", "_internal/docs/README.md",
                  "_internal/resources/prompts/extract_shipments.md", "_internal/resources/linux/shipscan.desktop",
                  "_internal/resources/icons/shipscan-48.png", "_internal/resources/icons/shipscan-256.png",
                  "_internal/licenses/THIRD-PARTY.json", "_internal/licenses/Qt/LGPL-3.0.txt",
                  "_internal/licenses/Qt/GPL-3.0.txt", "_internal/licenses/Python/LICENSE.txt")
PLUGINS = "_internal/PySide6/Qt/plugins"
REQUIRED_PLUGINS = ("platforms/libqoffscreen.so", "platforms/libqxcb.so", "imageformats/libqjpeg.so",
                    "imageformats/libqico.so")
FORBIDDEN = re.compile(r"(QtWebEngine|Qt63D|Qt6Quick|Qt6Qml|/translations/|libqgtk3|Qt6Wayland)", re.I)


class Smoke:
    """Runs the checks, records each one's outcome and time."""

    def __init__(self, bundle: Path, work: Path) -> None:
        self.bundle, self.work = bundle, work
        self.results: list[dict] = []
        self.installed: Path | None = None
        self.isolation: bool | None = None
        self.home = work / "home"
        self.run_dir = work / "cwd"
        self.run_dir.mkdir(parents=True)

    def check(self, name: str, function) -> None:
        started = time.monotonic()
        try:
            detail = function() or ""
            ok = True
        except AssertionError as failure:
            detail, ok = str(failure), False
        except Exception as error:  # noqa: BLE001 - a crash in a check is that check's failure
            detail, ok = f"{type(error).__name__}: {error}", False
        seconds = time.monotonic() - started
        self.results.append({"check": name, "ok": ok, "seconds": round(seconds, 1), "detail": detail})
        print(f"{'ok  ' if ok else 'FAIL'} {name} ({seconds:.1f} s){': ' + detail if detail else ''}", flush=True)

    # ------------------------------------------------------------------ environment

    def env(self, **extra: str) -> dict[str, str]:
        """A user's environment: system PATH only (no venv), a fresh HOME, no Python or Qt variables."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(self.home), "LANG": "C.UTF-8",
               "TMPDIR": str(self.work)}
        for name in ("DISPLAY", "XAUTHORITY", "DBUS_SESSION_BUS_ADDRESS"):
            if name in os.environ and name not in extra:
                env[name] = os.environ[name]
        env.update(extra)
        return env

    def hidden(self) -> list[str]:
        """The folders the bundle must not need: this source tree (and its venv) and the Python install
        the venv came from; hidden from the bundle's processes by an empty tmpfs in a mount namespace."""
        folders = [str(REPO)]
        base = Path(sys.base_prefix).resolve()
        if not any(base == Path(p) for p in ("/", "/usr", "/usr/local")):
            folders.append(str(base))
        return folders

    def isolate(self, command: list[str]) -> list[str]:
        """`command`, run where the folders of `hidden()` are empty (root with unshare), else as it is."""
        if self.isolation is None:
            probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs none \"$1\"", "sh", str(self.work)],
                                   capture_output=True) if shutil.which("unshare") else None
            self.isolation = bool(probe and probe.returncode == 0)
        if not self.isolation:
            return command
        script = 'for d in "$@"; do [ "$d" = -- ] && break; mount -t tmpfs none "$d" || exit 97; shift; done; ' \
                 'shift; exec "$@"'
        return ["unshare", "-m", "sh", "-c", script, "sh", *self.hidden(), "--", *command]

    def shipscan(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        assert self.installed is not None, "install failed earlier: nothing to run"
        return subprocess.run(self.isolate([str(self.installed), *args]), cwd=self.run_dir, env=self.env(**env),
                              capture_output=True, text=True, timeout=timeout)

    # ------------------------------------------------------------------ checks

    def layout(self) -> str:
        missing = [f for f in REQUIRED_FILES if not (self.bundle / f).exists()]
        missing += [f"Qt plugin {p}" for p in REQUIRED_PLUGINS if not (self.bundle / PLUGINS / p).exists()]
        assert not missing, "missing from the bundle: " + ", ".join(missing)
        forbidden = sorted({str(p.relative_to(self.bundle)) for p in self.bundle.rglob("*")
                            if FORBIDDEN.search("/" + str(p.relative_to(self.bundle)))})
        assert not forbidden, "must not ship: " + ", ".join(forbidden[:10])
        qt_missing, system_needed = self._plugin_links()
        assert not qt_missing, "Qt libraries the plugins link are not in the bundle: " + ", ".join(qt_missing)
        styles = self.bundle / PLUGINS / "styles"
        size = sum(p.lstat().st_size for p in self.bundle.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
        return (f"{size:.1f} MB; styles: {'plugins ' + str(sorted(p.name for p in styles.iterdir())) if styles.is_dir() else 'built into QtWidgets (no plugin folder in this PySide6 wheel)'}"
                f"; the target must provide: {', '.join(sorted(system_needed)) or 'nothing beyond the bundle'}")

    def _plugin_links(self) -> tuple[list[str], set[str]]:
        """(Qt libraries a plugin links that ldd cannot find, other missing system libraries)."""
        if shutil.which("ldd") is None:
            return [], set()
        qt_missing, system = [], set()
        for plugin in sorted((self.bundle / PLUGINS).rglob("*.so")):
            out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True,
                                 env={"LD_LIBRARY_PATH": str(self.bundle / "_internal")}).stdout
            for name in re.findall(r"^\s*(\S+) => not found", out, re.M):
                if name.startswith(("libQt6", "libpython", "libpyside", "libshiboken")):
                    qt_missing.append(f"{name} (for {plugin.name})")
                else:
                    system.add(name)
        return qt_missing, system

    def install(self) -> str:
        tarball = self.work / "shipscan.tar.gz"
        with tarfile.open(tarball, "w:gz", compresslevel=6) as archive:
            archive.add(self.bundle, arcname="shipscan")
        unpacked = self.work / "unpacked"
        with tarfile.open(tarball) as archive:
            archive.extractall(unpacked, filter="tar")
        prefix = self.work / "prefix"
        done = subprocess.run(["sh", str(unpacked / "shipscan" / "install.sh"), "--prefix", str(prefix)],
                              env=self.env(), capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"install.sh failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
        self.installed = prefix / "bin" / "shipscan"
        desktop_file = prefix / "share" / "applications" / "shipscan.desktop"
        assert self.installed.exists(), f"install.sh did not link {self.installed}"
        assert desktop_file.is_file(), f"install.sh did not install {desktop_file}"
        assert f'Exec="{prefix}/lib/shipscan/shipscan"' in desktop_file.read_text(), "the .desktop Exec line"
        for size in (16, 32, 48, 256):
            icon = prefix / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "shipscan.png"
            assert icon.is_file(), f"install.sh did not install the {size}px icon"
        return f"tarball {tarball.stat().st_size / 1e6:.1f} MB; installed in {prefix}"

    def version(self) -> str:
        from desktop import __version__

        done = self.shipscan("--version", timeout=60)
        assert done.returncode == 0, f"--version exit {done.returncode}: {done.stderr.strip()[-500:]}"
        assert done.stdout.strip() == f"shipscan {__version__}", f"--version printed {done.stdout.strip()!r}"
        where = (f"with {' and '.join(self.hidden())} hidden" if self.isolation else
                 "NOT isolated from the source tree (needs root and unshare)")
        return f"{done.stdout.strip()}; every run below {where}, PATH={self.env()['PATH']}"

    def about(self) -> str:
        done = self.shipscan("about", "--json", timeout=60)
        assert done.returncode == 0, f"about exit {done.returncode}: {done.stderr.strip()[-500:]}"
        facts = json.loads(done.stdout)
        assert facts["frozen"] and facts["build_date"], "the bundle's build-info.json was not read"
        assert facts.get("qt"), f"Qt is not importable in the bundle: {facts.get('qt_error')}"
        lgpl = [lic["name"] for lic in facts["licences"] if "LGPL" in lic["licence"]]
        assert lgpl, "no LGPL component (Qt) in the bundle's licence index"
        keyring = facts["keyring"]
        return (f"keyring backend: {keyring['backend']} ({'usable' if keyring['usable'] else 'cannot store keys'})"
                f"; Qt {facts['qt']}, Python {facts['python']}, built {facts['build_date']}")

    def secret_service(self) -> str:
        """With a D-Bus session and an unlocked GNOME Keyring, the bundle must find the Secret Service."""
        tools = [shutil.which(t) for t in ("dbus-run-session", "gnome-keyring-daemon")]
        if None in tools:
            return "skipped: needs dbus-run-session and gnome-keyring-daemon (apt install gnome-keyring)"
        script = ('printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; sleep 1; '
                  'exec "$1" about --json')
        env = {k: v for k, v in self.env().items() if k != "DBUS_SESSION_BUS_ADDRESS"}
        done = subprocess.run(self.isolate([tools[0], "--", "sh", "-c", script, "sh", str(self.installed)]),
                              cwd=self.run_dir, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"about under a D-Bus session exit {done.returncode}: {done.stderr[-500:]}"
        keyring = json.loads(done.stdout)["keyring"]
        assert keyring["usable"] and "SecretService" in keyring["backend"], (
            f"with GNOME Keyring running the bundle found {keyring}: is keyring.backends.SecretService "
            "(with secretstorage and jeepney) in the bundle?")
        return f"keyring backend with GNOME Keyring: {keyring['backend']}"

    def demo_scan(self) -> str:
        from desktop.services import DEMO_CONVERSATIONS, DEMO_SEED
        from desktop.sim.workspace import generate_workspace

        done = self.shipscan("scan", "--demo", "--json")
        assert done.returncode == 0, f"scan --demo exit {done.returncode}: {done.stderr.strip()[-800:]}"
        summary = json.loads(done.stdout)
        assert summary["state"] == "completed", f"scan state {summary['state']}"
        assert summary["conversations_failed"] == 0, f"{summary['conversations_failed']} conversations failed"
        assert summary["front_429s"] == 0, f"{summary['front_429s']} 429s from Front"
        truth = set(generate_workspace(seed=DEMO_SEED, conversations=DEMO_CONVERSATIONS).truth_by_number)
        database = next(self.home.rglob("demo.sqlite3"), None)
        assert database is not None, f"no demo.sqlite3 under {self.home}"
        with sqlite3.connect(database) as conn:
            found = {row[0] for row in conn.execute("SELECT tracking_number FROM shipment")}
        recall = len(found & truth) / len(truth)
        precision = len(found & truth) / len(found) if found else 0.0
        detail = (f"{len(found)} found of {len(truth)} true; recall {recall:.4f}, precision {precision:.4f}; "
                  f"{summary['extractor']} extractor, {summary['seconds']:.1f} s")
        assert recall >= 0.97 and precision >= 0.99, detail
        return detail

    def window(self, platform: str = "offscreen", wrapper: tuple[str, ...] = ()) -> str:
        state = self.work / f"state-{platform}"
        env = self.env(QT_QPA_PLATFORM=platform, SHIPSCAN_QUIT_AFTER="3", XDG_STATE_HOME=str(state))
        started = time.monotonic()
        done = subprocess.run(self.isolate([*wrapper, str(self.installed), "--demo"]), cwd=self.run_dir, env=env,
                              capture_output=True, text=True, timeout=180)
        seconds = time.monotonic() - started
        assert done.returncode == 0, f"the window exited {done.returncode}: {done.stderr.strip()[-800:]}"
        assert "Traceback" not in done.stderr, f"a traceback: {done.stderr.strip()[-800:]}"
        log = next(state.rglob("shipscan.log"), None)
        assert log is not None, f"no shipscan.log under {state}"
        text = log.read_text()
        assert "window opening (demo=True" in text, "the log never says the window opened"
        assert "window closed" in text, "the log never says the window closed"
        return f"opened and closed by itself ({platform}), {seconds:.1f} s"

    def window_xcb(self) -> str:
        xvfb = shutil.which("xvfb-run")
        if xvfb is None:
            return "skipped: no xvfb-run here (the xcb plugin's libraries were checked in layout)"
        return self.window("xcb", (xvfb, "-a"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the built bundle from outside the source tree.")
    parser.add_argument("bundle", nargs="?", default=str(REPO / "dist" / "shipscan"))
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    bundle = Path(args.bundle).resolve()
    if not (bundle / "shipscan").exists():
        print(f"FAIL layout: no bundle at {bundle} (run `pyinstaller build.spec` first)")
        return 1
    work = Path(tempfile.mkdtemp(prefix="shipscan-smoke-"))
    assert not work.is_relative_to(REPO), "the smoke test must run outside the source tree"
    smoke = Smoke(bundle, work)
    started = time.monotonic()
    try:
        smoke.check("layout", smoke.layout)
        smoke.check("install", smoke.install)
        if smoke.installed is not None:
            smoke.check("--version", smoke.version)
            smoke.check("about --json (keyring)", smoke.about)
            smoke.check("keyring: Secret Service", smoke.secret_service)
            smoke.check("scan --demo --json", smoke.demo_scan)
            smoke.check("window offscreen", smoke.window)
            smoke.check("window xcb", smoke.window_xcb)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    failed = [r["check"] for r in smoke.results if not r["ok"]]
    total = time.monotonic() - started
    print(f"smoke: {len(smoke.results) - len(failed)}/{len(smoke.results)} checks passed in {total:.0f} s"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    if args.json:
        print(json.dumps({"ok": not failed, "seconds": round(total, 1), "checks": smoke.results}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
