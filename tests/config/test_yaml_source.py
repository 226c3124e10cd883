from pathlib import Path

import pytest

from gymrun.config.yaml_source import MAX_BYTES, parse_yaml, read_yaml
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
        (None, "file not found"),
        (b"\x7fELF\x02\x01\x01\x00\xff\xfe", "not a text file (invalid UTF-8 at byte 8)"),
        (b"x" * (MAX_BYTES + 1), f"file is larger than {MAX_BYTES:,} bytes, the limit for a"),
    ],
)
def test_unreadable_files(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "c.yaml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as exc:
        read_yaml(path)
    assert messages(exc)[0].startswith(f"{path}: {expected}")


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        read_yaml(tmp_path)


def test_empty_document_has_no_data() -> None:
    assert parse_yaml("# only a comment\n").data is None


def test_a_character_yaml_does_not_allow_is_named_with_its_line() -> None:
    with pytest.raises(ConfigError) as error:
        parse_yaml("env: CartPole-v1\nepisodes: 3\x00\n", "run.yaml")
    assert str(error.value) == "run.yaml:2: invalid YAML: character '\\x00' is not allowed in YAML"
