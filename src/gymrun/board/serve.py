"""Serving the board on 127.0.0.1 and rebuilding it as runs change.

The server is the standard library's; a build runs whenever a run's, sweep's or duel's files
change (their sizes and times, polled), and also now and then while a run is marked
running, since a killed run writes nothing to say so. It answers only requests that name
it as 127.0.0.1, localhost or [::1]: any other name in the ``Host`` header is another
site's (DNS rebinding), refused with 421.
"""

from __future__ import annotations

import functools
import http.server
import stat
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gymrun.board.build import BuildReport, build_board
from gymrun.board.scan import scan, signature
from gymrun.errors import GymrunError, UsageError

POLL_SECONDS = 1.0
LIVE_RECHECK_SECONDS = 10.0


LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_local_host(host: str | None, port: int) -> bool:
    """Whether a request's ``Host`` header names this machine's loopback server on `port`
    (one of `LOCAL_NAMES`, with that port or none). Another name is another site's: a page
    a browser shows can point a name of its own at 127.0.0.1 (DNS rebinding), and the
    browser would let it read what is served under that name.

    >>> [is_local_host(h, 8000) for h in ("localhost:8000", "127.0.0.1", "[::1]:8000")]
    [True, True, True]
    >>> [is_local_host(h, 8000) for h in ("evil.example:8000", "localhost:8001", None)]
    [False, False, False]
    """
    if host is None:
        return False
    name = host.strip().lower()
    return any(name in (local, f"{local}:{port}") for local in LOCAL_NAMES)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the board, never cached (a reload shows the latest build), not logged;
    only to requests for the names it is served under."""

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        hosts = self.headers.get_all("Host") or []
        address = self.server.server_address
        port = int(address[1]) if isinstance(address, tuple) else 0
        if len(hosts) == 1 and is_local_host(hosts[0], port):
            return True
        self._misdirected(port)
        return False

    def _misdirected(self, port: int) -> None:
        """421, with a line of text saying which names are served (and nothing else)."""
        names = ", ".join(f"{name}:{port}" for name in LOCAL_NAMES)
        body = f"421 Misdirected Request: this board answers only as {names}\n".encode()
        self.close_connection = True
        self.send_response(HTTPStatus.MISDIRECTED_REQUEST)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_head(self) -> Any:
        # Only what the board wrote: a regular file or a folder of the site, reached
        # without a link (the board makes none; one planted there is not followed).
        if not servable(Path(self.directory), Path(self.translate_path(self.path))):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def servable(site: Path, path: Path) -> bool:
    """Whether `path` is a folder or regular file inside `site`, reached through no link.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     site = Path(tmp)
    ...     _ = (site / "index.html").write_text("board")
    ...     (site / "key").symlink_to("/etc/hostname")
    ...     [servable(site, site / name) for name in ("index.html", "key", "missing")]
    [True, False, False]
    """
    try:
        relative = path.relative_to(site)
    except ValueError:
        return False
    step = site
    for part in relative.parts:
        step = step / part
        if step.is_symlink():
            return False
    try:
        mode = step.stat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def recordings_state(root: Path) -> list[Any]:
    """Everything a build depends on, cheaply: the run, sweep and duel directories and the
    sizes and times of their files."""
    found = scan(root)
    return [[str(d), signature(d)] for d in found.runs + found.sweeps + found.duels]


def serve_board(
    root: Path,
    out: Path,
    *,
    port: int = 8000,
    on_ready: Callable[[str], None] | None = None,
    on_build: Callable[[BuildReport], None] | None = None,
    on_error: Callable[[GymrunError], None] | None = None,
    stop: threading.Event | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> None:
    """Build the board, serve `out` at ``http://127.0.0.1:PORT/`` (`port` 0 picks a free
    one; `on_ready` gets the address), and rebuild when the recordings change, until
    `stop` is set or Ctrl-C."""
    report = build_board(root, out)
    if on_build is not None:
        on_build(report)
    handler = functools.partial(_Handler, directory=str(out))
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as exc:
        raise UsageError(f"--port {port}: cannot serve on 127.0.0.1 ({exc.strerror})") from exc
    thread = threading.Thread(target=server.serve_forever, name="board-server", daemon=True)
    thread.start()
    stop = stop or threading.Event()
    try:
        if on_ready is not None:
            on_ready(f"http://127.0.0.1:{server.server_address[1]}/")
        state, built = recordings_state(root), time.monotonic()
        while not stop.wait(poll_seconds):
            now = recordings_state(root) if root.is_dir() else []
            live = report.running and time.monotonic() - built > LIVE_RECHECK_SECONDS
            if now == state and not live:
                continue
            try:
                report = build_board(root, out)
            except GymrunError as exc:
                if on_error is not None:
                    on_error(exc)
            else:
                if on_build is not None:
                    on_build(report)
            state, built = now, time.monotonic()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
