from pathlib import Path

import pytest

from gymrun.config.yaml_source import MAX_BYTES, dump_yaml, parse_yaml, read_yaml
from gymrun.errors import ConfigError


def messages(exc: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_line_map_points_at_keys_and_list_items() -> None:
    doc = parse_yaml("env: CartPole-v1\nwrappers:\n  - name: a\n  - name: b\n    x: 1\n", "c.yaml")
    assert doc.line_of(("env",)) == 1
    assert doc.line_of(("wrappers", 1)) == 4
    assert doc.line_of(("wrappers", 1, "x")) == 5
    # a key the file does not spell out falls back to its nearest ancestor
    assert doc.line_of(("wrappers", 1, "missing")) == 4
    assert doc.line_of(("nowhere",)) is None


def test_malformed_yaml_names_file_and_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("env: [CartPole\n  x: 1\n", "bad.yaml")
    [message] = messages(exc)
    assert message.startswith("bad.yaml:2: invalid YAML:")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("env: CartPole-v1\n\tagent: random\n", "t.yaml:2: invalid YAML: a tab at column 1"),
        ("wrappers:\n  - name: a\n  \tx: 1\n", "t.yaml:3: invalid YAML: a tab at column 3"),
    ],
)
def test_a_tab_in_the_indentation_is_named(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text, "t.yaml")
    assert messages(exc) == [f"{expected}: YAML indents with spaces, never tabs"]


def test_alias_bomb_is_rejected_without_expanding() -> None:
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(ConfigError) as exc:
        parse_yaml("\n".join(levels), "bomb.yaml")
    assert messages(exc)[0].endswith(
        "more than 100,000 values, the limit for a config (its aliases expand to that many)"
    )


def test_recursive_alias_is_rejected() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("a: &a [1, *a]\n", "rec.yaml")
    assert "recursive alias" in messages(exc)[0]


def test_python_tags_are_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'env: !!python/object/apply:os.system ["touch {marker}"]\n'
    with pytest.raises(ConfigError) as exc:
        parse_yaml(text, "tag.yaml")
    assert (
        "tag.yaml:1: invalid YAML: tag 'tag:yaml.org,2002:python/object/apply:os.system'"
        " is not allowed" in messages(exc)[0]
    )
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, ": file not found"),
        (b"\x7fELF\x02\x01\x01\x00\xff\xfe", ":1: not a text file (invalid UTF-8 at byte 8)"),
        (b"env: CartPole-v1\nname: caf\xe9\n", ":2: not a text file (invalid UTF-8 at byte 26)"),
        (b"x" * (MAX_BYTES + 1), f": file is larger than {MAX_BYTES:,} bytes, the limit for a"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "c.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as exc:
        read_yaml(path)
    assert messages(exc)[0].startswith(f"{path}{expected}")


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        read_yaml(tmp_path)


def test_empty_document_has_no_data() -> None:
    assert parse_yaml("# only a comment\n").data is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("010", "010 is 8 in YAML 1.1 and 10 in YAML 1.2; write 10 or 8"),
        ("-010", "-010 is -8 in YAML 1.1 and -10 in YAML 1.2; write -10 or -8"),
        ("1:30", "1:30 is 90 in YAML 1.1 and the string '1:30' in YAML 1.2; write 90 or '1:30'"),
        ("1:30.5", "1:30.5 is 90.5 in YAML 1.1 and the string '1:30.5' in YAML 1.2; write 90.5"),
        ("0b1010", "0b1010 is 10 in YAML 1.1 and the string '0b1010' in YAML 1.2; write 10"),
        ("1_000", "1_000 is 1000 in YAML 1.1 and the string '1_000' in YAML 1.2; write 1000"),
        ("1_0.5", "1_0.5 is 10.5 in YAML 1.1 and the string '1_0.5' in YAML 1.2; write 10.5"),
        ("+0x1F", "+0x1F is 31 in YAML 1.1 and the string '+0x1F' in YAML 1.2; write 31"),
        ("yes", "yes is true in YAML 1.1 and the string 'yes' in YAML 1.2; write true or 'yes'"),
        ("Off", "Off is false in YAML 1.1 and the string 'Off' in YAML 1.2; write false or 'Off'"),
        ("n", "n is false in YAML 1.1 and the string 'n' in YAML 1.2; write false or 'n'"),
        ("Y", "Y is true in YAML 1.1 and the string 'Y' in YAML 1.2; write true or 'Y'"),
    ],
)
def test_values_yaml_1_1_reads_otherwise_are_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml(f"env: CartPole-v1\nwrappers:\n  - name: w\n    x: {text}\n", "run.yaml")
    [problem] = messages(exc)
    assert problem.startswith(f"run.yaml:4 wrappers.0.x: {message}")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("10", 10),
        ("07", 7),  # octal 7 is 7
        ("09", 9),
        ("+5", 5),
        ("0o12", 10),
        ("0x1F", 31),
        ("0.5", 0.5),
        (".5", 0.5),
        ("1e-3", 0.001),
        ("1E5", 100000.0),
        ("1.5e3", 1500.0),
        ("-.inf", float("-inf")),
        ("true", True),
        ("FALSE", False),
        ("~", None),
        ("'010'", "010"),
        ('"yes"', "yes"),
        ("!!str 1:30", "1:30"),
        ("2024-01-01", "2024-01-01"),  # a date is a string, as in YAML 1.2
        ("=", "="),
        ("on the left", "on the left"),
    ],
)
def test_values_are_read_as_yaml_1_2_reads_them(text: str, value: object) -> None:
    read = parse_yaml(f"x: {text}\n").data["x"]
    assert (type(read), read) == (type(value), value)


def test_keys_are_names_whatever_yaml_1_1_makes_of_them() -> None:
    assert parse_yaml("on: 1\nn: 2\n010: 3\n").data == {"on": 1, "n": 2, 10: 3}


def test_every_problem_of_a_file_has_its_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("env: CartPole-v1\nepisodes: 010\nrecord:\n  video: yes\n", "run.yaml")
    assert [m.split(" is ")[0] for m in messages(exc)] == [
        "run.yaml:2 episodes: 010",
        "run.yaml:4 record.video: yes",
    ]


def test_a_number_too_long_for_python_names_its_line_and_key() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("env: CartPole-v1\nsweep:\n  seeds: [1, " + "7" * 5000 + "]\n", "big.yaml")
    assert messages(exc) == [
        "big.yaml:3 sweep.seeds.1: a number has more than 4,300 digits, more than Python reads"
    ]


def test_deep_nesting_names_its_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("env: CartPole-v1\nx:\n  y: " + "[" * 70 + "]" * 70 + "\n", "deep.yaml")
    assert messages(exc)[0].startswith("deep.yaml:3: invalid YAML: nested 70 levels deep")


def test_a_character_yaml_does_not_allow_names_its_line() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_yaml("env: CartPole-v1\nname: a\x07b\n", "bell.yaml")
    assert messages(exc) == ["bell.yaml:2: invalid YAML: character #x0007 is not allowed in YAML"]


# Strings that YAML 1.1 or YAML 1.2 reads as something else when they are written plain.
LOOK_ALIKES = [
    *("y", "Y", "n", "N", "yes", "No", "on", "OFF", "true", "False", "null", "~", ""),
    *("1e3", "1.0e3", "-2E-5", ".5", "1.", "0o17", "0x1F", "010", "1_000", "+1", "1:30"),
    *(".inf", "-.Inf", ".nan", "2026-01-01", "<<"),
]


def test_what_dump_yaml_writes_parse_yaml_reads_back_as_it_was() -> None:
    # a run's config.yaml is written with dump_yaml and read with parse_yaml
    data = {
        "strings": LOOK_ALIKES,
        "by_key": {text or "empty": text for text in LOOK_ALIKES},
        "numbers": [0, -7, 10**20, 0.1, 1e-300, 1e300, float("inf"), -float("inf")],
        "others": [True, False, None, [], {}, "plain words", "naïve ✓"],
    }
    assert parse_yaml(dump_yaml(data)).data == data
