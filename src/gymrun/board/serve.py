"""Serving the board on 127.0.0.1 and rebuilding it as runs change.

The server is the standard library's. It is told which directories of the recordings
changed (`gymrun.board.watch`: inotify on Linux, so the work follows the changes and not
the size of the recordings; elsewhere the sizes and times of every run's, sweep's and
duel's files are polled) and builds again, looking only at those runs; also now and then
while a run is marked running, since a killed run writes nothing to say so. While only
running runs change, the pages of many runs are made again every `LIVE_PAGES_EVERY`
seconds (see `Kept`), a running run's own page at each build. Each build's written pages
are listed in ``/live.json``, which it keeps in memory: open pages ask for it every second
or two and refresh what changed without a reload (and are told when they are no longer on
the board: their run was removed). It answers only requests that name it
as 127.0.0.1, localhost or [::1]: any other name in the ``Host`` header is another site's
(DNS rebinding), refused with 421.
"""

from __future__ import annotations

import collections
import functools
import http.server
import io
import json
import stat
import threading
import time
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from gymrun.board.build import BuildReport, Kept, build_held
from gymrun.board.claim import claimed_board
from gymrun.board.scan import Listing, scan, signature
from gymrun.board.watch import Watcher
from gymrun.config.wording import wording
from gymrun.errors import GymrunError, UsageError

POLL_SECONDS = 1.0
DEFAULT_PORT = 8000
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


LIVE_PAGE = "/live.json"
LIVE_BUILDS = 64  # builds whose written pages /live.json lists
# A build that wrote more pages than this is listed as having changed every page (null): a
# page asks every second, and a list of thousands would be sent each time.
LIVE_PAGES = 500


class Live:
    """What the builds since the server started wrote: a version, counted up by each build
    that wrote a page, and the pages each of the last `LIVE_BUILDS` wrote. A page that
    knows the version it was shown at asks which pages changed since."""

    def __init__(self) -> None:
        self.version = 0
        self._recent: collections.deque[tuple[int, list[str] | None]] = collections.deque(
            maxlen=LIVE_BUILDS
        )
        self._lock = threading.Lock()

    def built(self, report: BuildReport) -> None:
        pages = sorted(p for p in report.written if p.endswith(".html"))
        if pages:
            with self._lock:
                self.version += 1
                self._recent.append((self.version, pages if len(pages) <= LIVE_PAGES else None))

    def document(self, there: bool | None = None) -> bytes:
        """``{"version": N, "changes": [[version, [pages...]], ...]}``, oldest first (null
        for a build that wrote more than `LIVE_PAGES` pages: any may have changed); with
        `there`, ``"there"``: whether the page that asked is still on the board (one whose
        run, sweep or duel was removed from the recordings is not).

        >>> live = Live()
        >>> def wrote(pages): live.built(BuildReport(Path("b"), 0, 0, 0, 0, 0, written=pages))
        >>> wrote(["index.html", "index.json"])
        >>> wrote([f"runs/r{i}/index.html" for i in range(LIVE_PAGES + 1)])
        >>> live.document(there=True)
        b'{"version": 2, "changes": [[1, ["index.html"]], [2, null]], "there": true}'
        """
        with self._lock:
            changes = [[version, pages] for version, pages in self._recent]
            found: dict[str, Any] = {"version": self.version, "changes": changes}
        if there is not None:
            found["there"] = there
        return json.dumps(found).encode()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Files of the board, never cached (a reload shows the latest build), not logged;
    only to requests for the names it is served under; and ``/live.json``."""

    def __init__(self, *args: Any, live: Live, **kwargs: Any) -> None:
        self.live = live
        super().__init__(*args, **kwargs)

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
        path, _, query = self.path.partition("?")
        if path == LIVE_PAGE:
            # ?page=PATH: the page asking, told whether it is still on the board
            asking = urllib.parse.parse_qs(query).get("page")
            site = Path(self.directory)
            body = self.live.document(None if not asking else servable(site, site / asking[0]))
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        # Only the board's pages and data: a regular file or a folder of the site, not
        # hidden (its build record, a file half written), reached without a link (the
        # board makes none; one planted there is not followed).
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
    """Whether `path` is a folder or regular file inside `site`, none of whose names is
    hidden (the board keeps its build record as ``.board.db``), reached through no link.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     site = Path(tmp)
    ...     _ = (site / "index.html").write_text("board")
    ...     _ = (site / ".board.db").write_text("{}")
    ...     (site / "key").symlink_to("/etc/hostname")
    ...     names = ("index.html", ".board.db", "key", "missing")
    ...     [servable(site, site / name) for name in names]
    [True, False, False, False]
    """
    try:
        relative = path.relative_to(site)
    except ValueError:
        return False
    if any(part.startswith(".") for part in relative.parts):
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


Listings = dict[str, Listing]


def recordings_state(root: Path, listings: Listings | None = None) -> tuple[list[Any], Listings]:
    """Everything a build depends on, cheaply: the run, sweep and duel directories and the
    sizes and times of their files; and the folders' listings, for the next look (a folder
    that did not change is not listed again)."""
    if not root.is_dir():
        return [], {}
    found = scan(root, listings)
    state = [[d, found.stamps[run_id]] for run_id, d in found.runs.items()]
    return state + [[str(d), signature(d)] for d in found.sweeps + found.duels], found.listings


def serve_board(
    root: Path,
    out: Path,
    *,
    port: int = DEFAULT_PORT,
    on_ready: Callable[[str], None] | None = None,
    on_build: Callable[[BuildReport], None] | None = None,
    on_error: Callable[[GymrunError], None] | None = None,
    stop: threading.Event | None = None,
    poll_seconds: float = POLL_SECONDS,
    on_progress: Callable[[int, int], None] | None = None,
) -> None:
    """Build the board, serve `out` at ``http://127.0.0.1:PORT/`` (`port` 0 picks a free
    one; `on_ready` gets the address), and build again as the recordings change, until
    `stop` is set or Ctrl-C. `on_progress` follows the first build as `build_board` tells
    it (the later ones read a few runs each). `out` is locked while it is served: another
    board's build there is refused, and this server is refused while another holds it."""
    with claimed_board(root, out):  # no other board writes `out` while it is served
        kept = Kept()
        live = Live()
        report = build_held(root, out, kept=kept, on_progress=on_progress)
        if on_build is not None:
            on_build(report)
        handler = functools.partial(_Handler, directory=str(out), live=live)
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:
            given = wording().valued("port", port)
            raise UsageError(f"{given}: cannot serve on 127.0.0.1 ({exc.strerror})") from exc
        thread = threading.Thread(target=server.serve_forever, name="board-server", daemon=True)
        thread.start()
        stop = stop or threading.Event()
        watcher = Watcher(root)
        try:
            if on_ready is not None:
                on_ready(f"http://127.0.0.1:{server.server_address[1]}/")
            state, listings = ([], {}) if watcher.watching else recordings_state(root)
            built = time.monotonic()
            while not stop.wait(poll_seconds):
                changed = watcher.changes()
                if changed is None and not watcher.watching:  # no inotify: poll every file
                    now, listings = recordings_state(root, listings)
                    changed = None if now != state else set()
                    state = now
                live_due = report.running and time.monotonic() - built > LIVE_RECHECK_SECONDS
                catch_up = kept.behind and time.monotonic() >= kept.pages_due
                if changed is not None and not changed and not live_due and not catch_up:
                    continue
                try:
                    report = build_held(root, out, changed=changed, kept=kept)
                except GymrunError as exc:
                    if on_error is not None:
                        on_error(exc)
                else:
                    live.built(report)
                    if on_build is not None:
                        on_build(report)
                built = time.monotonic()
        finally:
            watcher.close()
            server.shutdown()
            server.server_close()
            thread.join()
