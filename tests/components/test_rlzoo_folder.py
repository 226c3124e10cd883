"""Reading rl-zoo3 model folders: the settings read as rl-zoo3's enjoy.py reads them, from
files written as rl-zoo3 writes them (``yaml.dump`` of an OrderedDict)."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import yaml

from gymrun.components.trained.rlzoo_folder import read_zoo_folder, zoo_yaml
from gymrun.errors import AgentError


def zoo_folder(root: Path, config: dict[str, Any], args: dict[str, Any] | None) -> Path:
    folder = root / "a2c" / "LunarLander-v3_2"
    (folder / "LunarLander-v3").mkdir(parents=True)
    (folder / "LunarLander-v3.zip").touch()  # read only when the model is loaded
    files = {"config.yml": config} | ({} if args is None else {"args.yml": args})
    for name, settings in files.items():
        text = yaml.dump(OrderedDict(sorted(settings.items())))
        (folder / "LunarLander-v3" / name).write_text(text)
    return folder


def test_the_settings_are_read_as_enjoy_py_reads_them(tmp_path: Path) -> None:
    config = {
        "env_wrapper": [
            "gymnasium.wrappers.FlattenObservation",
            {"gymnasium.wrappers.TimeLimit": {"max_episode_steps": 300}},
        ],
        "env_kwargs": {"continuous": True, "gravity": -9.0},
        "frame_stack": 3,
        "normalize": False,
        "train_freq": (1, "episode"),  # a tuple: !!python/tuple
    }
    args = {"algo": "a2c", "env": "LunarLander-v3", "env_kwargs": None}
    folder = read_zoo_folder(str(zoo_folder(tmp_path, config, args)))
    assert folder.wrappers == (
        ("gymnasium.wrappers:FlattenObservation", {}),
        ("gymnasium.wrappers:TimeLimit", {"max_episode_steps": 300}),
    )
    assert (folder.env_id, folder.algo, folder.frame_stack) == ("LunarLander-v3", "a2c", 3)
    assert folder.env_kwargs == {"continuous": True, "gravity": -9.0}  # args.yml gave none
    assert folder.vecnormalize is None
    assert zoo_yaml(folder.config_file)["train_freq"] == [1, "episode"]
    replaced = zoo_folder(tmp_path / "b", config, args | {"env_kwargs": {"continuous": False}})
    assert read_zoo_folder(str(replaced)).env_kwargs == {"continuous": False}


def test_without_args_yml_the_folder_names_env_and_algorithm(tmp_path: Path) -> None:
    folder = read_zoo_folder(str(zoo_folder(tmp_path, {"policy": "MlpPolicy"}, None)))
    assert (folder.env_id, folder.algo, folder.args_file) == ("LunarLander-v3", "a2c", None)
    elsewhere = tmp_path / "models"
    (tmp_path / "a2c").rename(elsewhere)  # a parent that names no algorithm
    assert read_zoo_folder(str(elsewhere / "LunarLander-v3_2")).algo is None
    assert read_zoo_folder(str(elsewhere / "LunarLander-v3_2"), algo="A2C").algo == "a2c"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("!!python/name:os.system ''\n", "line 1: the tag !!python/name:os.system is not read"),
        ("- 1\n- 2\n", "holds a list, not the mapping of settings rl-zoo3 writes"),
        ("a: [1\n", "line 2: not YAML"),
        (
            "!!python/object/apply:collections.OrderedDict\ndictitems: {a: 1}\n",
            "line 1: an OrderedDict not written as rl-zoo3 writes one",
        ),
    ],
)
def test_settings_that_are_not_rl_zoo3_s_are_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    file = tmp_path / "config.yml"
    file.write_text(text)
    with pytest.raises(AgentError) as raised:
        zoo_yaml(file)
    assert str(raised.value).startswith(f"agent rlzoo: {file}")
    assert message in str(raised.value)
