"""The board's package data: the pages' script, stylesheet and charting library (with its
licence) are files of the package, copied into every board; nothing is fetched."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from gymrun.board.site import ASSETS, Site


def test_the_charting_library_ships_with_its_licence(tmp_path: Path) -> None:
    static = resources.files("gymrun.board").joinpath("static")
    assert {"uplot.min.js", "uplot.min.css", "uplot.LICENSE"} <= set(ASSETS)
    assert "MIT License" in static.joinpath("uplot.LICENSE").read_text()
    Site(tmp_path).assets()
    for name in ASSETS:
        assert (tmp_path / "assets" / name).read_bytes() == static.joinpath(name).read_bytes()
    script = (tmp_path / "assets" / "board.js").read_text()
    assert "http://" not in script and "https://" not in script  # nothing from elsewhere
