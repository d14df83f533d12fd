"""DelayProxy: a TCP proxy on 127.0.0.1 that puts a database server "far away", for tests and benchmarks.

Every chunk of bytes is passed on `delay` seconds after it arrived, in each direction, so one round trip
(a query and its answer) takes at least 2 x `delay` more, while the bandwidth stays what it was (chunks
in flight overlap, as on a real long line). `hold()` stops all traffic until `release()` (or until
`release_after` seconds, so code that blocks on the database fails a test rather than hangs it): a
database made as slow as a test needs, deterministically.

    with DelayProxy.for_url(pg_url, delay=0.05) as proxy:
        open_database(proxy.url)              # the same database, 50 ms away each way

Threads, not asyncio: the proxy must keep working while the code under test blocks its own loop.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit


class DelayProxy:
    """Listens on 127.0.0.1 (`port`), connects each client to `upstream` and delays what passes."""

    def __init__(self, upstream: tuple[str, int], delay: float = 0.05, target_url: str | None = None) -> None:
        self.upstream = upstream
        self.delay = delay              # seconds, each way; may be changed while running
        self._target_url = target_url
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._gate = threading.Event()
        self._gate.set()
        self._release_timer: threading.Timer | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        self.connections = 0
        threading.Thread(target=self._accept, name="delay-proxy", daemon=True).start()

    @classmethod
    def for_url(cls, url: str, delay: float = 0.05) -> DelayProxy:
        """A proxy in front of the server of a `postgresql://` URL; `proxy.url` is that URL through it."""
        parts = urlsplit(url)
        return cls((parts.hostname or "127.0.0.1", parts.port or 5432), delay, target_url=url)

    @property
    def url(self) -> str:
        """The URL given to `for_url`, with its host and port replaced by the proxy's."""
        if self._target_url is None:
            raise ValueError("the proxy was not made from a URL")
        parts = urlsplit(self._target_url)
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{self.port}"))

    # ------------------------------------------------------------------ holding traffic

    @property
    def held(self) -> bool:
        return not self._gate.is_set()

    def hold(self, release_after: float = 10.0) -> None:
        """Stop passing bytes (both ways) until `release()`, or `release_after` seconds at most."""
        self._gate.clear()
        self._release_timer = threading.Timer(release_after, self.release)
        self._release_timer.daemon = True
        self._release_timer.start()

    def release(self) -> None:
        if self._release_timer is not None:
            self._release_timer.cancel()
        self._gate.set()

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        """Stop listening and cut every connection (the server sees its clients go)."""
        self._closed = True
        self.release()
        with self._lock:
            sockets, self._sockets = self._sockets + [self._listener], []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def __enter__(self) -> DelayProxy:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, server]
                self.connections += 1
            self._pipe(client, server)
            self._pipe(server, client)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()
        threading.Thread(target=self._read, args=(source, chunks), daemon=True, name="delay-proxy-in").start()
        threading.Thread(target=self._send, args=(chunks, sink), daemon=True, name="delay-proxy-out").start()

    def _read(self, source: socket.socket, chunks: queue.Queue) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            chunks.put((time.monotonic() + self.delay, data))
            if not data:
                return

    def _send(self, chunks: queue.Queue, sink: socket.socket) -> None:
        while True:
            due, data = chunks.get()
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._gate.wait()
            try:
                if not data:
                    sink.shutdown(socket.SHUT_WR)  # the other side finished: pass the end on
                    return
                sink.sendall(data)
            except OSError:
                return
