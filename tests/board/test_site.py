"""The board's package data: the pages' script, stylesheet and charting library (with its
licence) are files of the package, copied into every board; nothing is fetched."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import jinja2

from gymrun.board.site import ASSETS, Site, script_data


def test_the_charting_library_ships_with_its_licence(tmp_path: Path) -> None:
    static = resources.files("gymrun.board").joinpath("static")
    assert {"uplot.min.js", "uplot.min.css", "uplot.LICENSE"} <= set(ASSETS)
    assert "MIT License" in static.joinpath("uplot.LICENSE").read_text()
    Site(tmp_path).assets()
    for name in ASSETS:
        assert (tmp_path / "assets" / name).read_bytes() == static.joinpath(name).read_bytes()
    script = (tmp_path / "assets" / "board.js").read_text()
    assert "http://" not in script and "https://" not in script  # nothing from elsewhere


def test_a_pages_scripts_are_put_where_its_template_shows_them(tmp_path: Path) -> None:
    # the leaderboard's megabytes go into the page as bytes: the page is what rendering
    # them in would make, a script shown twice is in both places, one not shown is left out
    site = Site(tmp_path)
    # (an environment of its own: the board's templates are shared by every site)
    site.templates = site.templates.overlay(
        loader=jinja2.DictLoader(
            {"p.html": "<b>{{ title }}</b>{{ a }}|{{ b }}|{{ a }}{% if no %}{{ c }}{% endif %}"}
        )
    )
    scripts = {"a": script_data({"x": "</script>"}), "b": b"[1]", "c": b"{}"}
    assert site.page("p.html", "p.html", scripts, title="é <", no=False)
    assert (tmp_path / "p.html").read_text() == (
        '<b>é &lt;</b>{"x":"\\u003c/script\\u003e"}|[1]|{"x":"\\u003c/script\\u003e"}'
    )
    # written again only when it changed
    assert not site.page("p.html", "p.html", scripts, title="é <", no=False)
    assert site.page("p.html", "p.html", scripts | {"b": b"[2]"}, title="é <", no=False)
    assert (tmp_path / "p.html").read_text().count("[2]") == 1
