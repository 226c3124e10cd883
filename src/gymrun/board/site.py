"""Writing the board's files: Jinja2 templates and the stylesheet (package data), pages and
the JSON beside every figure. A file is written only when its content changed, so a
rebuild touches only what a new or changed run changes."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from gymrun import numbers

PACKAGE = "gymrun.board"
ASSETS = ("board.css", "board.js")


def templates_fingerprint() -> str:
    """A hash of the templates and assets: when they change, every page is rebuilt."""
    digest = hashlib.sha1()
    for folder in ("templates", "static"):
        for item in sorted(resources.files(PACKAGE).joinpath(folder).iterdir(), key=str):
            if item.is_file():
                digest.update(item.name.encode() + item.read_bytes())
    return digest.hexdigest()


def number(value: Any) -> str:
    """A number as every gymrun table shows it (`gymrun.numbers.figure`).

    >>> number(195.0), number(13.7733), number(None), number("nan")
    ('195', '13.77', '—', 'nan')
    """
    return numbers.figure(value)


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
    return numbers.interval(estimate["value"], low, high)


def spread(summary: dict[str, Any]) -> str:
    """A summary's ``mean ± std (min, max)``, rounded as the terminal shows it.

    >>> spread({"mean_reward": 22.3988, "std_reward": 12.04, "min_reward": 9.0, "max_reward": 71.0})
    '22 ± 12 (min 9, max 71)'
    """
    decimals = numbers.decimals_for(summary.get("std_reward"))
    low, high = (summary.get(key) for key in ("min_reward", "max_reward"))
    ends = [
        numbers.figure(v, None if v is None or float(v).is_integer() else decimals)
        for v in (low, high)
    ]
    mean_std = numbers.plus_minus(summary.get("mean_reward"), summary.get("std_reward"))
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
    return "/".join(quote(part) for part in path.split("/"))


def jsonable(value: Any) -> Any:
    """`value` with NaN and infinities as null (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


class Site:
    """The board's output directory, and every file written to it in this build."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.written: list[Path] = []
        self._created: set[Path] = set()  # folders made in this build: nothing in them yet
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader(PACKAGE, "templates"),
            autoescape=jinja2.select_autoescape(["html"]),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters.update(
            number=number, interval=interval, spread=spread, when=when, url=url
        )

    def _folder(self, path: Path) -> bool:
        """Make the folder of `path`; True if it is new (so `path` cannot exist yet)."""
        folder = path.parent
        if folder in self._created:
            return True
        if folder.is_dir():
            return False
        folder.mkdir(parents=True)
        self._created.add(folder)
        return True

    def write(self, relative: str, content: bytes) -> bool:
        """Write the file at `relative` unless it already holds `content`."""
        path = self.out / relative
        if self._folder(path):
            path.write_bytes(content)
        else:
            try:
                if path.read_bytes() == content:
                    return False
            except FileNotFoundError:
                pass
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(content)
            os.replace(partial, path)  # a page being served is never seen half-written
        self.written.append(path)
        return True

    def page(self, relative: str, template: str, **context: Any) -> bool:
        base = "../" * relative.count("/")
        html = self.templates.get_template(template).render(base=base, **context)
        return self.write(relative, html.encode())

    def json(self, relative: str, data: Any) -> bool:
        try:  # compact: the C encoder; NaN (not JSON) sends it the slow way, made null
            text = json.dumps(data, allow_nan=False, default=str)
        except ValueError:
            text = json.dumps(jsonable(data), allow_nan=False, default=str)
        return self.write(relative, (text + "\n").encode())

    def place(self, relative: str, source: Path) -> bool:
        """Put a copy of `source` (an image or video of a recording) at `relative`: a hard
        link where the file system allows it, else a copy."""
        path = self.out / relative
        if not self._folder(path):
            try:
                if path.stat().st_ino == source.stat().st_ino or _same_file(path, source):
                    return False
                path.unlink()
            except FileNotFoundError:
                pass
        try:
            os.link(source, path)
        except OSError:
            shutil.copy2(source, path)
        self.written.append(path)
        return True

    def assets(self) -> None:
        for name in ASSETS:
            data = resources.files(PACKAGE).joinpath("static", name).read_bytes()
            self.write(f"assets/{name}", data)

    def remove(self, relatives: Iterable[str]) -> None:
        """Remove the folders of runs, sweeps or environments no longer recorded."""
        for relative in relatives:
            shutil.rmtree(self.out / relative, ignore_errors=True)


def _same_file(path: Path, source: Path) -> bool:
    a, b = path.stat(), source.stat()
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns
