"""Model files as input: `validate` and `sweep --dry-run` read a model's metadata and never
unpickle it; a run says once that the SB3 files it loads are pickles; a file that is too
big, nested too deep, or not a regular file is bad input, named in one line."""

from __future__ import annotations

import base64
import functools
import json
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime
import pytest
import torch
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from gymrun.components.trained.sb3_spaces import stored_fits, stored_space
from tests.support.cli import gymrun

PICKLE_NOTE = (
    "note: SB3 model and VecNormalize files are pickles, and loading one runs the code it "
    "holds: load only files you trust"
)


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A PPO model of CartPole-v1 (64 steps of training: it plays, badly) and VecNormalize
    statistics of CartPole-v1."""
    folder = tmp_path_factory.mktemp("tiny")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, n_epochs=1, seed=0)
        model.learn(64)
    finally:
        torch.set_num_threads(threads)
    model.save(folder / "ppo.zip")
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    venv.save(str(folder / "stats.pkl"))
    return folder / "ppo.zip", folder / "stats.pkl"


def config(folder: Path, agent: dict[str, Any], **rest: Any) -> Path:
    path = folder / ("sweep.yaml" if "sweep" in rest else "eval.yaml")
    document = {"env": "CartPole-v1", "agent": {"name": "sb3", **agent}, "episodes": 2, "seed": 0}
    path.write_text(yaml.safe_dump(document | rest, sort_keys=False))
    return path


class Touch:
    """Unpickled, it creates `marker`: what any pickle may do when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return exec, (f"open({str(self.marker)!r}, 'a').close()",)


def rewritten(source: Path, target: Path, **entries: bytes) -> Path:
    """A copy of zip `source` with `entries` replaced (or added)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, entries.pop(name, None) or old.read(name))
        for name, content in entries.items():
            new.writestr(name, content)
    return target


def poisoned(model: Path, target: Path, marker: Path) -> Path:
    """A copy of `model` whose serialized values, every one, as SB3 stores them in ``data``
    (base64 of a pickle), are pickles that create `marker`."""
    data = json.loads(zipfile.Path(model, "data").read_text())
    blob = base64.b64encode(pickle.dumps(Touch(marker))).decode()
    for value in data.values():
        if isinstance(value, dict) and ":serialized:" in value:
            value[":serialized:"] = blob
    return rewritten(model, target, data=json.dumps(data, indent=4).encode())


def test_validate_and_a_dry_run_read_an_sb3_model_without_unpickling_it(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = tiny
    marker = tmp_path / "unpickled"
    path = config(tmp_path, {"path": str(poisoned(model, tmp_path / "evil.zip", marker))})
    code, out, err = gymrun("validate", str(path))
    assert (code, out) == (
        0,
        f"{path}: valid — CartPole-v1, wrappers: none, agent: sb3, 2 episodes\n",
    )
    assert err == (
        "note: agent sb3: its files were read, not loaded; the model's weights are checked when "
        "a run loads them\n"
    )
    assert not marker.exists()
    sweep = config(tmp_path, {"path": "evil.zip"}, sweep={"seeds": [0, 1]})
    code, out, err = gymrun("sweep", str(sweep), "--dry-run")
    assert code == 0, err
    assert not marker.exists()
    gymrun("run", str(path), "--no-record")  # loading is unpickling: that is what runs
    assert marker.exists()


def test_validate_and_a_dry_run_never_unpickle_vecnormalize_statistics(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = tiny
    marker = tmp_path / "unpickled"
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps(Touch(marker)))
    path = config(tmp_path, {"path": str(model), "vecnormalize": "evil.pkl"})
    code, _, err = gymrun("validate", str(path))
    assert (code, err) == (
        0,
        "note: agent sb3: its files were read, not loaded; the model's weights and the "
        "VecNormalize statistics are checked when a run loads them\n",
    )
    sweep = config(tmp_path, {"path": str(model), "vecnormalize": "evil.pkl"}, sweep={"seeds": [0]})
    assert gymrun("sweep", str(sweep), "--dry-run").code == 0
    assert not marker.exists()
    code, _, err = gymrun("run", str(path), "--no-record")
    assert marker.exists()
    assert (code, err) == (
        2,
        f"error: {path}:5 agent.vecnormalize: agent sb3: vecnormalize {tmp_path}/evil.pkl "
        "holds a "
        "NoneType, not the "
        "VecNormalize that VecNormalize.save writes\n",
    )


def with_spaces(model: Path, target: Path, **fields: dict[str, Any]) -> Path:
    """A copy of `model` whose ``data`` says other things of its spaces than the pickles of
    them do (`fields`: the readable fields to change, by space)."""
    data = json.loads(zipfile.Path(model, "data").read_text())
    for space, changes in fields.items():
        data[space].update(changes)
    return rewritten(model, target, data=json.dumps(data).encode())


def test_validate_finds_what_does_not_fit_in_the_models_metadata(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = tiny
    marker = tmp_path / "unpickled"
    evil = poisoned(model, tmp_path / "evil.zip", marker)
    wide = with_spaces(
        evil, tmp_path / "wide.zip", observation_space={"low": "[-9. -inf -1. -inf]"}
    )
    three = with_spaces(evil, tmp_path / "three.zip", action_space={"n": "3"})
    high = "[4.8, inf, 0.4189, inf]"
    cases = [
        (
            evil,
            "Acrobot-v1",
            f"{evil} was trained on observations Box (4,) float32, but the environment's are "
            "Box (6,) float32",
        ),
        (
            evil,
            "MountainCar-v0",
            f"{evil} was trained on observations Box (4,) float32, but the environment's are "
            "Box (2,) float32",
        ),
        (  # the same shape and dtype: the bounds are what differ, and are shown
            wide,
            "CartPole-v1",
            f"{wide} was trained on observations Box (4,) float32 in [-9, -inf, -1, -inf].."
            f"{high}, but the environment's are Box (4,) float32 in [-4.8, -inf, -0.4189, "
            f"-inf]..{high}",
        ),
        (
            three,
            "CartPole-v1",
            f"{three} was trained on actions Discrete(3), but the environment's are Discrete(2)",
        ),
    ]
    for file, env, message in cases:
        path = config(tmp_path, {"path": str(file)}, env=env)
        code, out, err = gymrun("validate", str(path))
        assert (code, out, err) == (2, "", f"error: {path}:4 agent.path: agent sb3: {message}\n"), (
            env
        )
        # a run finds it too, before the model is loaded
        assert gymrun("run", str(path), "--no-record")[::2] == (2, err)
    assert not marker.exists()


# -- files too big, nested too deep, or not files ----------------------------------------------


def zip_of(path: Path, entries: Iterator[tuple[str, int, int, int, Iterator[bytes]]]) -> Path:
    """Write a zip by hand from (name, method, crc, size, chunks of its stored bytes): as a
    zip bomb is made, without compressing what it unpacks to."""
    central, offset = [], 0
    with path.open("wb") as out:
        for name, method, crc, size, chunks in entries:
            encoded = name.encode()
            out.write(
                struct.pack(
                    "<4s5H3L2H", b"PK\3\4", 20, 0, method, 0, 33, crc, 0, size, len(encoded), 0
                )
            )
            out.write(encoded)
            start = out.tell()
            for chunk in chunks:
                out.write(chunk)
            stored = out.tell() - start
            out.seek(offset + 18)
            out.write(struct.pack("<L", stored))
            out.seek(0, os.SEEK_END)
            central.append(
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\1\2",
                    20,
                    20,
                    0,
                    method,
                    0,
                    33,
                    crc,
                    stored,
                    size,
                    len(encoded),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + encoded
            )
            offset = out.tell()
        directory = b"".join(central)
        out.write(directory)
        out.write(
            struct.pack(
                "<4s4H2LH", b"PK\5\6", 0, 0, len(central), len(central), len(directory), offset, 0
            )
        )
    return path


MiB = 1 << 20


def zeros(size: int) -> tuple[int, Iterator[bytes]]:
    """The CRC of `size` zero bytes and their deflated stream, made a MiB at a time: a full
    flush after each MiB makes every MiB's deflated bytes the same, computed once."""
    block = bytes(MiB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)

    def chunks() -> Iterator[bytes]:
        for _ in range(size // MiB):
            yield one
        yield compressor.flush()

    return zeros_crc(size), chunks()


@functools.cache
def zeros_crc(size: int) -> int:
    block, crc = bytes(MiB), 0
    for _ in range(size // MiB):
        crc = zlib.crc32(block, crc)
    return crc


@pytest.fixture(scope="session")
def bombs(tiny: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny model with its ``data`` (or its weights, ``policy.pth``) unpacking to 3 GiB
    of zeros from 3 MB, with a ``data`` nested 50,000 levels deep, and with 1,500 or 25,000
    empty entries (whose list zipfile reads whole)."""
    folder = tmp_path_factory.mktemp("bombs")
    model, _ = tiny
    made = {}
    with zipfile.ZipFile(model) as source:
        for bombed in ("data", "policy.pth"):
            crc, chunks = zeros(3 << 30)

            def entries(bombed: str = bombed, crc: int = crc, chunks: Any = chunks) -> Any:
                for name in source.namelist():
                    if name == bombed:
                        yield name, zipfile.ZIP_DEFLATED, crc, 3 << 30, chunks
                    else:
                        content = source.read(name)
                        yield (
                            name,
                            zipfile.ZIP_STORED,
                            zlib.crc32(content),
                            len(content),
                            iter([content]),
                        )

            made[bombed] = zip_of(folder / f"{bombed.replace('.', '_')}_bomb.zip", entries())
    deep = b"[" * 50_000 + b"]" * 50_000
    made["deep"] = rewritten(model, folder / "deep.zip", data=deep)
    for name, count in (("entries", 1500), ("directory", 25_000)):  # entries of nothing
        empty = {f"{number:08d}": b"" for number in range(count)}
        made[name] = rewritten(model, folder / f"{name}.zip", **empty)
    return made


@pytest.mark.parametrize("command", [["validate"], ["run", "--no-record"]])
def test_a_zip_bomb_or_deep_nesting_is_bad_input(
    bombs: dict[str, Path], tmp_path: Path, command: list[str]
) -> None:
    assert bombs["data"].stat().st_size < 5 * MiB
    cases = {
        "data": "its entry 'data' unpacks to 3 GiB, more than the 64 MiB gymrun reads",
        "policy.pth": "its entries unpack to 3 GiB, more than the 1 GiB gymrun loads",
        "deep": "its 'data' is nested more than 100 levels deep",
        "entries": "it has 1,506 entries, more than the 1,000 gymrun reads",
        "directory": "its list of entries takes 1.288 MiB, more than the 1 MiB gymrun reads",
    }
    for case, problem in cases.items():
        path = config(tmp_path, {"path": str(bombs[case])})
        code, _, err = gymrun(*command, str(path))
        assert (code, err) == (
            2,
            f"error: {path}:4 agent.path: agent sb3: {bombs[case]} is not a Stable-Baselines3 "
            "model gymrun loads: "
            f"{problem}\n",
        ), case


def test_a_file_that_is_not_a_regular_file_is_named_for_what_it_is(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = tiny
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    cases = [
        ({"path": str(fifo)}, f"not a regular file (a FIFO): {fifo}"),
        ({"path": "/dev/zero"}, "not a regular file (a character device): /dev/zero"),
        ({"path": str(model), "vecnormalize": str(fifo)}, f"not a regular file (a FIFO): {fifo}"),
        (
            {"path": str(model), "vecnormalize": "/dev/zero"},
            "not a regular file (a character device): /dev/zero",
        ),
        ({"path": str(tmp_path)}, f"is a directory, not a file: {tmp_path}"),
    ]
    for agent, message in cases:
        path = config(tmp_path, agent)
        # the file the problem is about: the statistics', when they are given
        place = "5 agent.vecnormalize" if "vecnormalize" in agent else "4 agent.path"
        for command in (["validate"], ["run", "--no-record"]):
            code, _, err = gymrun(*command, str(path))
            said = f"error: {path}:{place}: agent sb3: {message}\n"
            assert (code, err) == (2, said), (agent, command)
    policy = tmp_path / "onnx.yaml"
    policy.write_text(
        yaml.safe_dump({"env": "CartPole-v1", "agent": {"name": "onnx", "path": str(fifo)}})
    )
    code, _, err = gymrun("validate", str(policy))
    assert (code, err) == (
        2,
        f"error: {policy}:3 agent.path: agent onnx: not a regular file (a FIFO): {fifo}\n",
    )


def test_vecnormalize_statistics_too_big_to_be_statistics_are_refused_unread(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    model, _ = tiny
    huge = tmp_path / "huge.pkl"
    with huge.open("wb") as handle:
        handle.truncate(100 * MiB)  # sparse: no disk spent
    path = config(tmp_path, {"path": str(model), "vecnormalize": str(huge)})
    for command in (["validate"], ["run", "--no-record"]):
        code, _, err = gymrun(*command, str(path))
        assert (code, err) == (
            2,
            f"error: {path}:5 agent.vecnormalize: agent sb3: vecnormalize {huge} is 100 MiB, "
            "more than the 64 MiB gymrun loads as VecNormalize statistics\n",
        ), command


# -- a run says what loading a pickle means ----------------------------------------------------


def test_a_run_says_once_that_the_files_it_loads_are_pickles(
    tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    model, stats = tiny
    path = config(tmp_path, {"path": str(model), "vecnormalize": str(stats)})
    code, _, err = gymrun("run", str(path), "--no-record", "-q")
    assert code == 0, err
    assert err.splitlines() == [PICKLE_NOTE]
    code, _, err = gymrun("run", str(path), "--no-record", "-q", "--workers", "2")
    assert code == 0, err
    assert err.splitlines() == [PICKLE_NOTE]  # not once per worker
    code, out, err = gymrun("run", str(path), "--no-record", "--json", "-n", "4")
    assert code == 0, err
    assert len(json.loads(out)["episodes"]) == 4  # stdout is the JSON document alone
    assert err.splitlines() == [PICKLE_NOTE]
    sweep = config(tmp_path, {"path": str(model)}, sweep={"seeds": [0, 1, 2]})
    code, _, err = gymrun("sweep", str(sweep), "--no-record", "-e", "process", "-w", "2")
    assert code == 0, err
    assert err.splitlines().count(PICKLE_NOTE) == 1
    assert "pickles" not in gymrun("validate", str(path)).stderr  # nothing was loaded


# -- ONNX: the graph's inputs and outputs, read from the file ---------------------------------


def linear(path: Path, weights: np.ndarray, input_shape: list[Any], output: str = "scores") -> Path:
    """An ONNX model ``observation @ weights``."""
    tensor = helper.make_tensor_value_info
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["obs", "weights"], [output])],
        "linear",
        [tensor("obs", TensorProto.FLOAT, input_shape)],
        [tensor(output, TensorProto.FLOAT, [*input_shape[:-1], weights.shape[1]])],
        [onnx.numpy_helper.from_array(weights.astype(np.float32), "weights")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_validate_reads_an_onnx_models_inputs_and_outputs_without_loading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("onnxruntime loaded the model")

    monkeypatch.setattr(onnxruntime, "InferenceSession", refused)
    good = linear(tmp_path / "good.onnx", np.ones((4, 2)), ["batch", 4])
    (tmp_path / "corrupt.onnx").write_bytes(b"\x08\x07not a protobuf")
    cases = {
        "good": ({"path": str(good)}, None),
        "wide": (
            {"path": str(linear(tmp_path / "wide.onnx", np.ones((5, 2)), ["batch", 5]))},
            f"{tmp_path}/wide.onnx input 'obs' has shape [batch, 5], but the environment's "
            "observations have shape [4] (an input of shape [batch, 4] takes them)",
        ),
        "three": (
            {"path": str(linear(tmp_path / "three.onnx", np.ones((4, 3)), [1, 4]))},
            f"{tmp_path}/three.onnx output 'scores' gives 3 numbers per observation; the "
            "actions Discrete(2) need 1 (the action) or 2 (a score for each action)",
        ),
        "input name": (
            {"path": str(good), "input": "observation"},
            f"{good} has no input 'observation' (its inputs: obs)",
        ),
        "output name": (
            {"path": str(good), "output": "actions"},
            f"{good} has no output 'actions' (its outputs: scores)",
        ),
        "corrupt": (
            {"path": "corrupt.onnx"},
            f"{tmp_path}/corrupt.onnx is not an ONNX model: unknown wire type 6 at byte 3",
        ),
    }
    for case, (agent, message) in cases.items():
        path = tmp_path / "onnx.yaml"
        path.write_text(yaml.safe_dump({"env": "CartPole-v1", "agent": {"name": "onnx", **agent}}))
        code, _, err = gymrun("validate", str(path))
        if message is None:
            assert (code, err) == (
                0,
                "note: agent onnx: its file was read, not loaded; what it computes is checked "
                "when a run loads it\n",
            )
        else:
            line = path.read_text().splitlines().index(f"  path: {agent['path']}") + 1
            said = f"error: {path}:{line} agent.path: agent onnx: {message}\n"
            assert (code, err) == (2, said), case


# -- whatever a model's data says of its spaces, reading it fails cleanly ------------------------

SPACE_TYPES = [
    f"<class 'gymnasium.spaces.{module}.{name}'>"
    for module, name in [
        ("box", "Box"),
        ("discrete", "Discrete"),
        ("multi_discrete", "MultiDiscrete"),
        ("multi_binary", "MultiBinary"),
        ("dict", "Dict"),
        ("tuple", "Tuple"),
        ("text", "Text"),
    ]
]
NUMBERS = st.sampled_from(["0", "-1", "255", "1e+38", "-inf", "inf", "nan", "4.8", "1e99999", "-"])
ARRAY_TEXTS = st.lists(NUMBERS, max_size=6).map(lambda items: f"[{' '.join(items)}]")
FIELD_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | NUMBERS
    | ARRAY_TEXTS
    | st.text(max_size=20)
    | st.lists(st.integers(-3, 10), max_size=4)
    | st.sampled_from(["float32", "uint8", "int64", "bool", "O", "complex64", "{'a': Box(0, 1)}"])
)
ENTRIES = st.fixed_dictionaries(
    {":type:": st.sampled_from(SPACE_TYPES) | st.text(max_size=10)},
    optional={
        key: FIELD_VALUES
        for key in ["dtype", "_shape", "low", "high", "n", "start", "nvec", "spaces"]
    },
)
ENV_SPACES = [
    gym.spaces.Box(-1, 1, (2,), np.float32),
    gym.spaces.Box(0, 255, (4, 4, 3), np.uint8),
    gym.spaces.Discrete(2),
    gym.spaces.MultiDiscrete([3, 4]),
    gym.spaces.MultiBinary(3),
    gym.spaces.Dict({"a": gym.spaces.Discrete(2)}),
    gym.spaces.Tuple([gym.spaces.Discrete(2)]),
]


@settings(max_examples=300, deadline=None)
@given(entry=ENTRIES)
def test_a_models_spaces_are_read_from_any_data_without_failing(entry: dict[str, Any]) -> None:
    stored = stored_space(entry)
    if stored is None:
        return
    assert isinstance(stored.label, str)
    for space in ENV_SPACES:
        assert stored.matches(space) in (True, False, None)
        assert stored_fits(stored, space) in (True, False, None)
