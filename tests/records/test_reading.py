"""Reading a recorded run back (``show``, ``compare``): a damaged file is named with its line and
the rest is still shown; whatever the damage, the only outcomes are output or exit 2."""

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.strategies import FUZZ, VALUES

RANDOM = str(CONFIGS / "cartpole_random.yaml")


@pytest.fixture
def recorded() -> Path:
    assert gymrun("run", RANDOM, "-n", "5", "-o", "run", "-q")[0] == 0
    return Path("run")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            lambda r: (r / "episodes.jsonl").write_text(
                (r / "episodes.jsonl").read_text().replace('{"episode": 3', 'garbage{"episode": 3')
            ),
            "run/episodes.jsonl:4: not an episode record",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_bytes(
                (r / "episodes.jsonl").read_bytes()[:50] + b"\xff\xfe\n"
            ),
            "run/episodes.jsonl:1: not an episode record",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_text(
                '{"episode": 0, "seed": 1, "reward": "lots", "steps": 2, "terminated": true, '
                '"truncated": false, "reached": null}\n'
            ),
            "run/episodes.jsonl:1: not an episode record (reward 'lots' is not a number)",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_text(
                '{"episode": 0, "seed": 1, "reward": 2.0, "steps": 2, "terminated": true, '
                '"truncated": false, "reached": null, "is_success": "yes"}\n'
            ),
            "run/episodes.jsonl:1: not an episode record (metric is_success 'yes' is not a "
            "number, true, false or null)",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_text(
                '{"episode": 0, "seed": 1, "reward": 2.0, "steps": 2, "terminated": true, '
                '"truncated": false, "reached": null, "distance": NaN}\n'
            ),
            "run/episodes.jsonl:1: not an episode record (metric distance nan is not a number",
        ),
        (
            lambda r: (r / "summary.json").write_text(
                '{"status": "completed", "metrics": {"is_success": {"mean": "high"}}}'
            ),
            "run/summary.json: not a summary (metrics.is_success.mean is a string",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_text("[1, 2]\n"),
            "run/episodes.jsonl:1: not an episode record (a line is not a JSON object)",
        ),
        (
            lambda r: ((r / "episodes.jsonl").unlink(), (r / "episodes.jsonl").mkdir()),
            "run/episodes.jsonl: not a regular file (a directory)",
        ),
        (
            lambda r: (r / "summary.json").write_text("[1]"),
            "run/summary.json: not a summary (a list, not a mapping)",
        ),
        (
            lambda r: (r / "summary.json").write_bytes(b"\x00\x01"),
            "run/summary.json: not a summary",
        ),
    ],
)
def test_show_and_compare_name_the_damaged_file_and_line(
    recorded: Path, damage: Callable[[Path], object], expected: str
) -> None:
    damage(recorded)
    for command in (["show", "run"], ["compare", "run"], ["show", "run", "--json"]):
        code, out, err = gymrun(*command)
        assert code == 2, command
        assert f"error: {expected}" in err
        assert "Traceback" not in err
    code, out, _ = gymrun("show", "run")
    assert "cartpole_random: CartPole-v1" in out  # what could be read is still shown


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", "not a gymrun run's config"),
        ("- 1\n", "not a gymrun run's config"),
        ("a: [\n", "cannot read the run's config"),
    ],
)
def test_a_damaged_config_is_named(recorded: Path, config: str, expected: str) -> None:
    (recorded / "config.yaml").write_text(config)
    code, _, err = gymrun("show", "run")
    assert code == 2 and err.startswith(f"error: run/config.yaml: {expected}")


def test_show_finds_the_newest_run_of_a_second(tmp_path: Path) -> None:
    for suffix in ("", "-2", "-9", "-11"):
        stamp = "2026-01-01T00-00-00Z" + suffix
        assert gymrun("run", RANDOM, "-n", "1", "-q", "-o", f"recordings/x/{stamp}")[0] == 0
    out = gymrun("show", "recordings/x")[1]
    assert out.startswith("run recordings/x/2026-01-01T00-00-00Z-11\n")


RUN_FILES = ["config.yaml", "episodes.jsonl", "summary.json", "meta.json"]


DAMAGE = st.one_of(
    st.just(("delete", b"")),
    st.tuples(st.just("bytes"), st.binary(max_size=200)),
    st.tuples(st.just("truncate"), st.integers(0, 400).map(lambda n: n.to_bytes(2, "big"))),
    st.tuples(st.just("json"), VALUES.map(lambda v: yaml.safe_dump(v).encode())),
    st.tuples(st.just("line"), st.binary(max_size=60)),
    st.just(("directory", b"")),
)


@pytest.fixture(scope="module")
def healthy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("healthy") / "run"
    result = gymrun(
        "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "6", "-q", "-o", str(directory)
    )
    assert result.code == 0, result.stderr
    return directory


def damaged_copy(healthy: Path, target: Path, damage: dict[str, tuple[str, bytes]]) -> None:
    shutil.copytree(healthy, target)
    for name, (kind, data) in damage.items():
        path = target / name
        if kind == "delete":
            path.unlink()
        elif kind == "bytes" or kind == "json":
            path.write_bytes(data)
        elif kind == "truncate":
            path.write_bytes(path.read_bytes()[: int.from_bytes(data, "big")])
        elif kind == "line":
            content = path.read_bytes().split(b"\n")
            content.insert(len(content) // 2, data)
            path.write_bytes(b"\n".join(content))
        elif kind == "directory":
            path.unlink()
            path.mkdir()


@FUZZ
@given(damage=st.dictionaries(st.sampled_from(RUN_FILES), DAMAGE, min_size=1, max_size=4))
@example(damage={"config.yaml": ("line", b"0:")})  # a key that is a number: compare sorted keys
def test_damaged_run_directories_are_shown_or_refused_cleanly(
    tmp_path: Path, healthy_run: Path, damage: dict[str, tuple[str, bytes]]
) -> None:
    target = tmp_path / f"damaged-{len(list(tmp_path.iterdir()))}"
    damaged_copy(healthy_run, target, damage)
    for command in (
        ["show", str(target)],
        ["show", str(target), "--json"],
        ["compare", str(target), str(healthy_run)],
    ):
        result = gymrun(*command)
        assert result.code in (0, 2), (command, damage, result.stderr)
        assert "Traceback" not in result.stderr
        if result.code == 2:
            errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
            assert errors, result.stderr


def test_show_tells_a_run_still_recording_from_one_whose_process_is_gone(tmp_path: Path) -> None:
    import fcntl
    import json
    import os

    os.chdir(tmp_path)
    assert gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-o", "r").code == 0
    summary = Path("r/summary.json")
    summary.write_text(json.dumps(json.loads(summary.read_text()) | {"status": "running"}))
    with Path("r/.gymrun.lock").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as the run's process holds it while it records
        shown = gymrun("show", "r")
        assert "│ status   │ running" in shown.stdout
        assert shown.stderr == "note: the run is still going\n"
    shown = gymrun("show", "r")  # nobody holds it: the process is gone
    assert "│ status   │ killed" in shown.stdout
    assert shown.stderr == (
        "note: its process is gone: it was killed before it could end "
        "(gymrun run --resume r goes on from its last episode)\n"
    )


@pytest.mark.parametrize(
    ("record", "key", "where"),
    [
        ("sweep", "status", ""),
        ("sweep", "points.0.status", "points.0."),
        ("duel", "status", ""),
        ("duel", "runs.1.status", "runs.1."),
    ],
)
def test_a_status_gymrun_never_writes_is_named(record: str, key: str, where: str) -> None:
    if record == "sweep":
        Path("s.yaml").write_text(
            "env: CartPole-v1\nagent: random\nepisodes: 2\nsweep: {seeds: [0, 1]}\n"
        )
        made = gymrun("sweep", "s.yaml", "-o", "r")
    else:
        made = gymrun(
            "duel", RANDOM, str(CONFIGS / "cartpole_epsilon.yaml"), "--set", "episodes=2",
            "--max-seeds", "2", "--round", "2", "-o", "r",
        )  # fmt: skip
    assert made.code == 0, made.stderr
    path = Path("r") / f"{record}.json"
    document = json.loads(path.read_text())
    *parents, last = key.split(".")
    inner = document
    for part in parents:
        inner = inner[int(part)] if part.isdigit() else inner[part]
    inner[last] = "paused"
    path.write_text(json.dumps(document))

    for command in (["show", "r"], ["show", "r", "--json"]):
        result = gymrun(*command)
        assert (result.code, result.stderr) == (
            2,
            f"error: r/{record}.json: not a gymrun {record} ({where}status 'paused' is not one "
            "of running, completed, interrupted, failed)\n",
        )


@pytest.mark.parametrize("status", ["completed", "running"])
def test_a_last_line_cut_off_is_named_and_left_out(recorded: Path, status: str) -> None:
    episodes = recorded / "episodes.jsonl"
    lines = episodes.read_bytes().splitlines(keepends=True)
    episodes.write_bytes(b"".join(lines[:4]) + lines[4][:30])  # as a crash mid-write leaves it
    summary = json.loads((recorded / "summary.json").read_text())
    (recorded / "summary.json").write_text(json.dumps(summary | {"status": status}))
    gone = subprocess.Popen(["true"])  # the run's process: no more
    gone.wait(timeout=30)
    meta = json.loads((recorded / "meta.json").read_text())
    (recorded / "meta.json").write_text(json.dumps(meta | {"pid": gone.pid}))
    cut = "run/episodes.jsonl:5: its last line is cut off (30 bytes without their end)"

    result = gymrun("show", "run")

    if status == "completed":  # it ended with 5 episodes on disk: one was lost since
        assert (result.code, result.stderr) == (
            2,
            f"error: {cut}: 4 episodes where the run's summary.json counts 5: episodes were lost\n",
        )
    else:  # killed mid-write: its 4 whole episodes are shown, and what was not is said
        assert result.code == 0
        assert result.stderr.startswith(f"note: {cut}: left out, not an episode\nnote: its ")
        assert "killed" in result.stderr
        assert "│ episodes │ 4 of 5 " in result.stdout


def test_a_config_edited_after_the_run_is_not_taken_for_the_one_it_ran(recorded: Path) -> None:
    config = recorded / "config.yaml"
    config.write_text(config.read_text().replace("CartPole-v1", "MountainCar-v0"))
    meta = json.loads((recorded / "meta.json").read_text())
    said = (
        "run/config.yaml: not the config the run ran (it was edited since: meta.json keeps "
        f"the hash of that one, {meta['config_sha256'][:12]}..., and this one hashes to "
    )
    for command in (["show", "run"], ["show", "run", "--json"], ["compare", "run"]):
        result = gymrun(*command)
        assert result.code == 2, command
        assert f"\nerror: {said}" in "\n" + result.stderr
    resumed = gymrun("run", "--resume", "run")
    assert resumed.code == 2
    assert resumed.stderr.startswith(f"error: --resume run: {said}")
    assert resumed.stderr.endswith("...); the run was complete already; nothing was played\n")

    # a record written before meta.json kept the hash is read as it always was
    del meta["config_sha256"]
    (recorded / "meta.json").write_text(json.dumps(meta))
    assert gymrun("show", "run").code == 0
