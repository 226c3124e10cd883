"""Writing the board's files: Jinja2 templates and the stylesheet (package data), pages and
the JSON beside every figure. A file is written only when its content changed, so a
rebuild touches only what a new or changed run changes."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

import jinja2
import orjson
from markupsafe import Markup, escape

from gymrun.core.metrics import shown_name
from gymrun.errors import GymrunError, RecordError
from gymrun.numbers import counted, decimals_for, figure, interval_against, plus_minus
from gymrun.numbers import interval as interval_text
from gymrun.records.files import open_record, read_bytes

PACKAGE = "gymrun.board"
# the stylesheet, the script, and the charting library the pages draw with (uPlot, MIT)
ASSETS = ("board.css", "board.js", "uplot.min.js", "uplot.min.css", "uplot.LICENSE")
# what a file is written from: bytes, parts of them in order, or a function giving the parts
Content = bytes | Sequence[bytes] | Callable[[], Iterable[bytes]]
BUILT_FOLDERS = ("runs", "sweeps", "duels", "envs")  # the folders a build makes, and may remove


def templates_fingerprint() -> str:
    """A hash of the templates and assets: when they change, every page is rebuilt."""
    digest = hashlib.sha1()
    for folder in ("templates", "static"):
        for item in sorted(resources.files(PACKAGE).joinpath(folder).iterdir(), key=str):
            if item.is_file():
                digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()


def number(value: Any) -> str:
    """A number as every gymrun table shows it (`gymrun.figure`).

    >>> number(195.0), number(13.7733), number(None), number("nan")
    ('195', '13.77', '—', 'nan')
    """
    return figure(value)


def interval(estimate: dict[str, Any] | None) -> str:
    """``13.77 [12.91, 14.62]``, or the value alone when it has no interval.

    >>> interval({"value": 13.7733, "ci95": [12.91, 14.62]})
    '13.77 [12.91, 14.62]'
    >>> interval({"value": 7.0, "ci95": [None, None]})
    '7'
    """
    if not estimate or estimate.get("value") is None:
        return "—"
    low, high = estimate["ci95"]
    return interval_text(estimate["value"], low, high)


def metric_value(value: bool | float | None) -> str:
    """An episode's value of a metric: ``✓ yes`` or ``✗ no`` for a boolean, the number
    otherwise, ``—`` for none.

    >>> metric_value(True), metric_value(0.25), metric_value(None)
    ('✓ yes', '0.25', '—')
    """
    if isinstance(value, bool):
        return "✓ yes" if value else "✗ no"
    return figure(value)


def against(estimate: dict[str, Any] | None, bound: float | None) -> str:
    """An estimate's interval against a bound, with the digits that show each end's side.

    >>> against({"value": 0.78, "ci95": [0.69975, 0.86]}, 0.7)
    '0.7800 [0.6997, 0.8600]'
    """
    if not estimate or estimate.get("value") is None:
        return "—"
    low, high = estimate["ci95"]
    return interval_against(estimate["value"], low, high, bound)


def spread(summary: dict[str, Any]) -> str:
    """A summary's ``mean ± std (min, max)``, rounded as the terminal shows it.

    >>> spread({"mean_reward": 22.3988, "std_reward": 12.04, "min_reward": 9.0, "max_reward": 71.0})
    '22 ± 12 (min 9, max 71)'
    """
    decimals = decimals_for(summary.get("std_reward"), summary.get("mean_reward"))
    low, high = (summary.get(key) for key in ("min_reward", "max_reward"))
    ends = [
        figure(v, None if v is None or float(v).is_integer() else decimals) for v in (low, high)
    ]
    mean_std = plus_minus(summary.get("mean_reward"), summary.get("std_reward"))
    return f"{mean_std} (min {ends[0]}, max {ends[1]})"


def when(stamp: str | None) -> str:
    """An ISO time (gymrun writes UTC) as ``2026-11-24 19:07``.

    >>> when("2026-11-24T19:07:03.5+00:00"), when(None)
    ('2026-11-24 19:07', '—')
    """
    if not stamp:
        return "—"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M")


def url(path: str) -> str:
    """A relative link to a file of the board, each segment quoted (run names may hold
    spaces, ``#`` or ``?``).

    >>> url("runs/my run#2/t/index.html")
    'runs/my%20run%232/t/index.html'
    """
    return path if _PLAIN.fullmatch(path) else quote(path)


_PLAIN = re.compile(r"[A-Za-z0-9_.~/-]*")  # nothing to quote


def site_base(folder: str) -> str:
    """The relative link from a page in `folder` to the board's root.

    >>> site_base("envs/CartPole-v1"), site_base("")
    ('../../', '')
    """
    return "../" * (folder.count("/") + 1) if folder else ""


def json_bytes(data: Any) -> bytes:
    """`data` as compact JSON, NaN and infinities as null (JSON has neither), numpy numbers
    as numbers and anything else JSON has no type for as its text. orjson: a board of
    thousands of runs writes megabytes of JSON at each build.

    >>> import numpy as np
    >>> json_bytes({"mean": float("nan"), "steps": np.int64(9), 1: Path("a")})
    b'{"mean":null,"steps":9,"1":"a"}'
    """
    return orjson.dumps(
        data, default=str, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    )


def read_board_json(directory: Path, name: str, limit: int) -> Any:
    """A JSON file the board wrote with `json_bytes` (its record of the last build), read
    as any file of a recording is, and parsed with orjson (it is megabytes)."""
    data = read_bytes(directory, name, limit)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"{directory / name}: not JSON ({str(exc)[:200]})") from None


def script_data(data: Any) -> bytes:
    """`data` as JSON to put inside a page's ``<script type="application/json">``: with
    ``<``, ``>`` and ``&`` escaped, so no text in it can end the script.

    >>> print(script_data({"name": "</script>"}).decode())
    {"name":"\\u003c/script\\u003e"}
    """
    return script_bytes(json_bytes(data))


def script_bytes(text: bytes) -> bytes:
    """JSON made by `json_bytes` (a file's, used again in a page) as `script_data` puts it
    in a page."""
    for raw, escaped in ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026")):
        text = text.replace(raw, escaped)
    return text


def jsonable(value: Any) -> Any:
    """`value` with NaN and infinities as null (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def episode_body(
    rows: list[dict[str, Any]], block_size: int, metrics: Sequence[str] = ()
) -> Markup:
    """The rows of a run page's table of episodes (one an episode, or blocks of them), made
    here rather than in a template loop: a board writes thousands of these pages. Each
    row ends with the `metrics` named: an episode's value, or a block's mean.

    >>> html = episode_body([{"episode": 0, "seed": 5, "reward": 9.5, "steps": 9,
    ...                       "ended": "terminated", "reached": False,
    ...                       "metrics": {"is_success": True}}], 1, ["is_success"])
    >>> html.count("<td"), "9.5" in html, html.endswith("<td>✗ no</td><td>✓ yes</td></tr>")
    (7, True, True)
    """
    reached = {None: "—", True: "✓ yes", False: "✗ no"}
    if block_size == 1:
        lines = [
            f'<tr><td class="num">{e["episode"]}</td><td class="num muted">'
            f'{"—" if e["seed"] is None else e["seed"]}</td><td class="num">'
            f'{figure(e["reward"])}</td><td class="num">{e["steps"]}</td><td>{e["ended"]}'
            f"</td><td>{reached[e['reached']]}</td>"
            + "".join(f"<td>{metric_value(e['metrics'].get(name))}</td>" for name in metrics)
            + "</tr>"
            for e in rows
        ]
    else:
        lines = [
            f'<tr><td class="nowrap">{b["first"]}\u2013{b["last"]}</td><td class="num">'
            f'{figure(b["mean_reward"])}</td><td class="num">{figure(b["min_reward"])}</td>'
            f'<td class="num">{figure(b["max_reward"])}</td><td class="num">'
            f'{figure(b["mean_steps"])}</td><td class="num">'
            f"{'—' if b['reached'] is None else b['reached']}</td>"
            + "".join(f'<td class="num">{figure(b["metrics"].get(name))}</td>' for name in metrics)
            + "</tr>"
            for b in rows
        ]
    return Markup("\n".join(lines))  # numbers and fixed words only: nothing to escape


@functools.cache
def _templates() -> jinja2.Environment:
    """The board's templates, made once a process: a server builds every second or so, and
    compiling them costs more than a build after one change."""
    templates = jinja2.Environment(
        loader=jinja2.PackageLoader(PACKAGE, "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # package data: not changed while a board is built
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.filters.update(
        number=number,
        interval=interval,
        against=against,
        spread=spread,
        when=when,
        url=url,
        metric_name=shown_name,
        metric_value=metric_value,
        counted=counted,
    )
    return templates


FOLDERS_KEPT = 256  # folders a build remembers it made or checked (see `Site._folder`)


class Site:
    """The board's output directory, and every file written to it in this build."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[str] = []  # by their paths inside the board (thousands: as text)
        # Folders made in this build (nothing in them yet), and folders found to be the
        # board's own, without links: remembered for the files written next (a run's
        # few, one after another), never for every run of a first build.
        self._created: set[Path] = set()
        self._checked: set[Path] = set()
        self._macros: Any = None
        self._mark = secrets.token_hex(8)  # where a page's scripts go: no text holds it
        self.templates = _templates()

    def macro(self, name: str) -> Callable[..., Markup]:
        """A macro of ``macros.html``, to make HTML of many rows one at a time."""
        if self._macros is None:
            self._macros = self.templates.get_template("macros.html").module
        found: Callable[..., Markup] = getattr(self._macros, name)
        return found

    def cells(self, run: Any) -> dict[str, str]:
        """A run's cells on a leaderboard, as HTML: made once, when the run is read, and
        kept with its row (a leaderboard of thousands of runs is written from them)."""
        wanted = run.episodes_wanted
        return {
            "href": url(f"runs/{run.id}/index.html"),
            "score": escape(interval(run.score)),
            "episodes": f"{run.episodes}"
            + (f" of {wanted}" if wanted and run.episodes != wanted else ""),
            "boundary": escape(number(run.reward_boundary)),
            "solved": str(self.macro("solved")(run, 100)).strip(),
            "agent": escape(run.agent or "—"),
            "wrappers": escape(", ".join(run.wrappers) or "—"),
            "date": escape(when(run.started_at)),
            "status": str(self.macro("status")(run.status)),
        } | {f"metric:{name}": escape(interval(value)) for name, value in run.metrics.items()}

    def _folder(self, path: Path) -> bool:
        """Make the folder of `path` inside the board; True if it is new (so `path` cannot
        exist yet). A folder on the way that is a link, or leads out of the board, is
        refused: the board writes inside `out` and nowhere else."""
        folder = path.parent
        if folder in self._created:
            return True
        if folder in self._checked:
            return False
        relative = folder.relative_to(self.out)
        if ".." in relative.parts or relative.is_absolute():
            raise RecordError(f"{folder}: outside the board; nothing is written there")
        step, made = self.out, False
        for part in relative.parts:
            step = step / part
            if step.is_symlink():
                raise RecordError(f"{step}: a symbolic link inside the board; not written through")
            if not step.is_dir():
                try:
                    step.mkdir()
                    made = True
                except FileExistsError:  # made meanwhile by another of the build's processes
                    if step.is_symlink() or not step.is_dir():
                        raise RecordError(f"{step}: not a folder of the board") from None
        known = self._created if made else self._checked
        if len(known) >= FOLDERS_KEPT:
            known.clear()  # looked at again if written in again: made, it is not new then
        known.add(folder)
        return made

    def write(self, relative: str, content: Content) -> bool:
        """Write the file at `relative` unless it already holds `content`: bytes, parts of
        them in order, or a function giving the parts (a page of thousands of rows, made as
        it is written and never held whole). Into a new file beside it, renamed into place
        (a page being served is never seen half-written, and a link left in its place is
        replaced, never written through)."""
        if isinstance(content, bytes):
            content = [content]
        path = self.out / relative
        if self._folder(path):  # a folder made in this build, not yet shown to anyone
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            with os.fdopen(os.open(path, flags, 0o644), "wb") as file:
                file.writelines(content() if callable(content) else content)
            self.written.append(relative)
            return True
        if callable(content):  # made once: written while it is compared with the file there
            if not self._replace(path, lambda file: _same_written(path, content(), file)):
                return False
        else:
            with (
                contextlib.suppress(OSError, GymrunError),
                open_record(path.parent, path.name) as there,
            ):
                # read back only when it could be the same, part by part
                size = sum(map(len, content))
                if os.fstat(there.fileno()).st_size == size and all(
                    there.read(len(part)) == part for part in content
                ):
                    return False
            self._replace(path, lambda file: file.writelines(content))
        self.written.append(relative)
        return True

    def _replace(self, path: Path, fill: Callable[[BinaryIO], object]) -> bool:
        """Replace the file at `path` with one `fill` writes, unless `fill` says (True) that
        the file there already holds what it wrote: whether it was replaced."""
        # a name of this process's own (a build's worker processes write files of their
        # own), made new: never a file or link someone left there
        name = path.with_name(f".{path.name}.{os.getpid()}.partial")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            descriptor = os.open(name, flags, 0o644)
        except FileExistsError:  # left by a build that was killed: only ever ours
            os.unlink(name)
            descriptor = os.open(name, flags, 0o644)
        try:
            with os.fdopen(descriptor, "wb") as file:
                os.fchmod(file.fileno(), 0o644)
                same = fill(file) is True
            if same:
                os.unlink(name)
            else:
                os.replace(name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
        return not same

    def drawn(self, relative: str, draw: Callable[[Path], object]) -> Path:
        """A figure drawn by `draw(path)` (matplotlib) at `relative`, through a new file
        renamed into place."""
        path = self.out / relative
        self._folder(path)
        partial = path.with_name(f".{path.stem}.drawing{path.suffix}")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        draw(partial)
        os.replace(partial, path)
        self.written.append(relative)
        return path

    def page(
        self, relative: str, template: str, scripts: Mapping[str, Content] = {}, **context: Any
    ) -> bool:
        """Write the page `template` makes of `context`. Each of `scripts` (JSON made by
        `script_data`, or parts of it as `write` takes them: a leaderboard's is megabytes)
        is put where the template shows its name as bytes: never made text and encoded
        again with the page around it."""
        base = "../" * relative.count("/")
        marks = {name: Markup(f"\x00{self._mark}:{name}\x00") for name in scripts}
        html = self.templates.get_template(template).render(base=base, **context, **marks)
        content = html.encode()
        if not scripts:
            return self.write(relative, content)
        places = []  # where each script's name is shown (none, when the page has no use for it)
        for name, data in scripts.items():
            mark = marks[name].encode()
            at = content.find(mark)
            while at >= 0:
                places.append((at, len(mark), data))
                at = content.find(mark, at + len(mark))
        places.sort(key=lambda place: place[0])

        def parts() -> Iterator[bytes]:
            done = 0
            for at, length, data in places:
                yield content[done:at]
                if isinstance(data, bytes):
                    yield data
                else:
                    yield from data() if callable(data) else data
                done = at + length
            yield content[done:]

        return self.write(relative, parts)

    def read(self, relative: str, without: int = 0) -> Iterator[bytes]:
        """The file this build wrote (or left as it was) at `relative`, in parts of a
        megabyte, without its last `without` bytes."""
        with open_record(self.out, *relative.split("/")) as file:
            left = os.fstat(file.fileno()).st_size - without
            while left > 0:
                part = file.read(min(left, 1 << 20))
                if not part:
                    return
                left -= len(part)
                yield part

    def json(self, relative: str, data: Any) -> bool:
        return self.write(relative, json_bytes(data) + b"\n")

    def place(self, relative: str, directory: Path, *parts: str) -> bool:
        """Put a copy of a recording's file (an image or a video: ``directory/part/...``,
        a regular file inside it, read as `gymrun.records.files` reads every file of a
        recording) at `relative`. A copy, never a link: what the board publishes is only
        what it read."""
        path = self.out / relative
        with open_record(directory, *parts) as source:
            found = os.fstat(source.fileno())
            if not self._folder(path):
                with contextlib.suppress(OSError):
                    there = path.lstat()
                    if (there.st_size, there.st_mtime_ns) == (found.st_size, found.st_mtime_ns):
                        return False  # the copy made from this same file before
            self._replace(path, lambda file: shutil.copyfileobj(source, file, 1 << 20))
        os.utime(path, ns=(found.st_atime_ns, found.st_mtime_ns), follow_symlinks=False)
        self.written.append(relative)
        return True

    def assets(self) -> None:
        for name in ASSETS:
            data = resources.files(PACKAGE).joinpath("static", name).read_bytes()
            self.write(f"assets/{name}", data)

    def remove(self, relatives: Iterable[str]) -> None:
        """Remove the folders of runs, sweeps, duels or environments no longer recorded: each
        a folder the board made under ``runs/``, ``sweeps/``, ``duels/`` or ``envs/``, never a
        link or anything outside the board (a damaged or planted manifest names nothing
        else)."""
        for relative in relatives:
            path = self.out / relative
            if removable(self.out, relative):
                shutil.rmtree(path, ignore_errors=True)


def _same_written(path: Path, parts: Iterable[bytes], file: BinaryIO) -> bool:
    """Write `parts` to `file`: whether the file at `path` holds just what was written."""
    with contextlib.ExitStack() as opened:
        there = None
        with contextlib.suppress(OSError, GymrunError):
            there = opened.enter_context(open_record(path.parent, path.name))
        same = there is not None
        for part in parts:
            file.write(part)
            same = same and there is not None and there.read(len(part)) == part
        return same and there is not None and not there.read(1)


def removable(out: Path, relative: str) -> bool:
    """Whether `relative` names a folder of the board's own that a build may remove.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as site:
    ...     (Path(site) / "runs" / "a" / "t1").mkdir(parents=True)
    ...     [removable(Path(site), f) for f in ("runs/a/t1", "runs/../../victim", "/etc", "runs")]
    [True, False, False, False]
    """
    parts = Path(relative).parts
    if (
        len(parts) < 2
        or parts[0] not in BUILT_FOLDERS
        or Path(relative).is_absolute()
        or any(part in ("", ".", "..") for part in parts)
    ):
        return False
    step = out
    for part in parts:
        step = step / part
        if step.is_symlink():
            return False
    return step.is_dir()
