"""What the board publishes and removes: copies of regular files inside each run, never what
a link points at; only folders it made itself, whatever its manifest says; and one odd
record never stops the build of the rest."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

RANDOM = str(CONFIGS / "cartpole_random.yaml")
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- not for the board"


def recorded(name: str, *args: str) -> Path:
    result = gymrun("run", RANDOM, "-n", "5", "-q", "-o", f"rec/{name}", *args)
    assert result.code == 0, result.stderr
    return Path("rec") / name


def build(out: str = "site") -> dict[str, object]:
    result = gymrun("board", "rec", "--out", out, "--json")
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@contextlib.contextmanager
def record(site: str) -> Iterator[sqlite3.Connection]:
    """The board's record of its last build (``.board.db``), open to change by hand."""
    db = sqlite3.connect(Path(site, ".board.db"))
    try:
        with db:
            yield db
    finally:
        db.close()


def published(site: Path) -> list[bytes]:
    """Every file of the site, as a browser could fetch it."""
    return [p.read_bytes() for p in site.rglob("*") if p.is_file()]


def test_what_a_link_in_a_recording_points_at_is_never_published(tmp_path: Path) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_bytes(SECRET)
    private = tmp_path / "private"
    private.mkdir()
    (private / "episode-000000.mp4").write_bytes(SECRET)
    plot = recorded("plot")
    (plot / "reward.png").unlink()
    (plot / "reward.png").symlink_to(secret)
    video = recorded("video")
    (video / "videos").symlink_to(private)
    meta = recorded("meta")
    (meta / "meta.json").unlink()
    (meta / "meta.json").symlink_to(secret)
    report = build()
    assert report["damaged"] == 1  # the run whose meta.json is a link
    site = Path("site")
    assert not any(SECRET in content for content in published(site))
    assert secret.stat().st_nlink == 1  # not hard-linked into the site either
    assert not [p for p in site.rglob("*") if p.is_symlink()]
    index = json.loads((site / "index.json").read_text())
    [damaged] = index["damaged"]
    assert damaged["problem"] == (
        "rec/meta/meta.json: a symbolic link; the files of a recording are never links, so it "
        "is not followed"
    )


def test_a_copy_is_published_not_a_link(tmp_path: Path) -> None:
    Path("tiny.yaml").write_text(
        "env: CartPole-v1\nepisodes: 2\nsweep:\n  max_steps: [5, 9]\n  seeds: [0]\n"
    )
    result = gymrun("sweep", "tiny.yaml", "-o", "rec/tiny")
    assert result.code == 0, result.stderr
    build()
    plot = Path("rec/tiny/sweep.png")
    copy = Path("site/sweeps/tiny/sweep.png")
    assert copy.read_bytes() == plot.read_bytes()
    assert plot.stat().st_nlink == 1 and not copy.is_symlink()


@pytest.mark.parametrize("where", ["runs", "sweeps", "envs"])
def test_a_manifest_never_makes_a_build_remove_what_it_did_not_make(
    tmp_path: Path, where: str
) -> None:
    recorded("a")
    Path("sweep.yaml").write_text("env: CartPole-v1\nepisodes: 2\nsweep: {seeds: [0]}\n")
    assert gymrun("sweep", "sweep.yaml", "-o", "rec/s").code == 0  # site/sweeps/ is there too
    build()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.tex").write_text("years of work")
    bad = "../../victim"
    with record("site") as db:  # the board's record, planted with a path out of the board
        if where == "runs":
            for table in ("runs", "rows"):
                [columns] = db.execute(f"SELECT * FROM {table} WHERE id = 'a'")
                places = ", ".join("?" * len(columns))
                db.execute(f"INSERT INTO {table} VALUES ({places})", (bad, *columns[1:]))
        else:
            [(value,)] = db.execute("SELECT value FROM record WHERE key = ?", (where,))
            part = json.loads(value)
            if where == "envs":
                part.append(bad)
            else:
                part[bad] = {}
            db.execute("UPDATE record SET value = ? WHERE key = ?", (json.dumps(part), where))
    shutil.rmtree("rec/a")  # gone: the build removes its folder, and only its
    recorded("b")
    build()
    assert (victim / "thesis.tex").read_text() == "years of work"
    assert not Path("site/runs/a").exists() or where != "runs"
    assert Path("site/runs/b/index.html").is_file()


def test_a_planted_listing_never_makes_a_build_read_outside_the_recordings(
    tmp_path: Path,
) -> None:
    recorded("a")
    outside = tmp_path / "outside" / "t"  # a run of someone else's, beside the recordings
    shutil.copytree("rec/a", outside)
    build()
    here = os.stat("rec")
    with record("site") as db:
        # a listing that would hold for the recordings folder, naming a folder outside it
        planted = [here.st_ino, here.st_mtime_ns, here.st_mtime_ns + 10**10, "", "a\0../outside"]
        planted.append("")
        db.execute("INSERT OR REPLACE INTO listings VALUES ('.', ?)", (json.dumps(planted),))
    assert build()["runs"] == 1
    assert not any(b"outside" in page for page in published(Path("site")))


def test_a_planted_link_in_the_site_is_replaced_not_written_through(tmp_path: Path) -> None:
    recorded("a")
    build()
    target = tmp_path / "bashrc"
    target.write_text("mine")
    page = Path("site/runs/a/run.json")
    page.unlink()
    page.symlink_to(target)
    (Path("rec/a") / "summary.json").write_text(
        (Path("rec/a") / "summary.json").read_text().replace('"completed"', '"interrupted"')
    )
    build()
    assert target.read_text() == "mine"
    assert not page.is_symlink() and json.loads(page.read_text())["run"]["status"] == "interrupted"


def test_a_planted_link_in_place_of_the_boards_record_is_replaced_not_written_through(
    tmp_path: Path,
) -> None:
    recorded("a")
    build()
    theirs = tmp_path / "accounts.db"  # someone's own SQLite database, outside the board
    with contextlib.closing(sqlite3.connect(theirs)) as db, db:
        db.execute("CREATE TABLE accounts (name TEXT)")
        db.execute("INSERT INTO accounts VALUES ('kept')")
    before = theirs.read_bytes()
    for name in (".board.db", ".board.db-journal"):
        record = Path("site", name)
        record.unlink(missing_ok=True)
        record.symlink_to(theirs)
    recorded("b")
    assert build()["runs"] == 2
    assert theirs.read_bytes() == before
    assert not any(Path("site", name).is_symlink() for name in (".board.db", ".board.db-journal"))


def test_odd_records_are_shown_damaged_and_the_rest_is_built() -> None:
    no_git = recorded("no-git")
    meta = json.loads((no_git / "meta.json").read_text())
    del meta["git"]
    (no_git / "meta.json").write_text(json.dumps(meta))
    no_commit = recorded("no-commit")
    (no_commit / "meta.json").write_text(json.dumps(meta | {"git": {"dirty": True}}))
    strange = recorded(os.fsdecode(b"bad-\xff-name"))
    assert strange.is_dir()
    sweep = Path("sweep.yaml")
    sweep.write_text("env: CartPole-v1\nepisodes: 2\nsweep: {seeds: [0, 1]}\n")
    assert gymrun("sweep", str(sweep), "-o", "rec/sweep").code == 0
    document = json.loads(Path("rec/sweep/sweep.json").read_text())
    del document["points"][0]["values"]
    Path("rec/sweep/sweep.json").write_text(json.dumps(document))
    report = build()
    assert (report["runs"], report["sweeps"]) == (5, 1)
    index = json.loads(Path("site/index.json").read_text())
    problems = {row["id"]: row["problem"] for row in index["damaged"]}
    assert list(problems) == ["bad-\ufffd-name-" + _hash(b"bad-\xff-name")]
    assert "the directory's name is not UTF-8 (rename it)" in next(iter(problems.values()))
    [sweep_row] = index["sweeps"]
    assert sweep_row["status"] == "damaged"
    assert (
        sweep_row["problem"] == "rec/sweep/sweep.json: not a gymrun sweep (points.0 has no values)"
    )
    ranked = {
        row["id"]
        for env in index["environments"]
        for row in json.loads(Path(f"site/envs/{env['slug']}/leaderboard.json").read_text())["runs"]
    }
    assert {"no-git", "no-commit", "sweep/seed=0", "sweep/seed=1"} <= ranked


def _hash(raw: bytes) -> str:
    import hashlib

    return hashlib.sha1(raw).hexdigest()[:6]


def test_a_name_matplotlib_would_read_as_mathtext_is_drawn_as_written() -> None:
    config = Path("odd.yaml")
    # a string of the config that becomes a label of the sweep's plot and the board's
    config.write_text(
        yaml.safe_dump(
            {
                "env": "CartPole-v1",
                "episodes": 3,
                "wrappers": [{"name": "RecordEpisodeStatistics", "stats_key": "x"}],
                "sweep": {"wrappers.0.stats_key": ["$\\foo{$", "plain"], "seeds": [0, 1]},
            }
        )
    )
    result = gymrun("sweep", str(config), "-o", "rec/odd")
    assert result.code == 0, result.stderr
    assert "Traceback" not in result.stderr and "note:" not in result.stderr
    assert Path("rec/odd/sweep.png").read_bytes()[:4] == b"\x89PNG"
    [killed] = [p for p in Path("rec/odd").glob("*foo*seed=0/summary.json")]
    killed.write_text(killed.read_text().replace('"completed"', '"running"'))  # plot drawn here
    report = build()
    assert report["damaged"] == 0 and not report["notes"]
    # the page's chart shows labels as text (uPlot's textContent), never read as markup
    compare = json.loads(Path("site/envs/CartPole-v1/compare.json").read_text())
    assert any("$\\foo{$" in group["label"] for group in compare["groups"])
