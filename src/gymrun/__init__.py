"""gymrun: run reinforcement-learning experiments on Gymnasium environments from YAML configs.

>>> from gymrun import load_config, run_experiment
>>> result = run_experiment(load_config("configs/cartpole_balance.yaml", episodes=3, seed=0))
>>> result.summary.mean_reward, result.summary.verdict
(500.0, 'reached on average')
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing itself is not imported: start-up time

# Public names and the modules holding them. They are imported on first use (a lazy import
# for start-up time), so that `gymrun --help` does not pay for gymnasium, numpy and pydantic,
# nor the command for reading the package's metadata before it handles Ctrl-C.
_EXPORTS = {
    "__version__": "gymrun.version",
    "load_config": "gymrun.config",
    "ExperimentConfig": "gymrun.config",
    "config_schema": "gymrun.config",
    "run_experiment": "gymrun.run",
    "evaluate": "gymrun.run",
    "RunResult": "gymrun.run",
    "Experiment": "gymrun.core.experiment",
    "EpisodeResult": "gymrun.core.episodes",
    "play": "gymrun.core.loop",
    "Policy": "gymrun.components.policy",
    "Summary": "gymrun.core.summary",
    "SummaryBuilder": "gymrun.core.summary",
    "Expectation": "gymrun.core.expectations",
    "check_expectations": "gymrun.core.expectations",
    "list_envs": "gymrun.components.catalog",
    "load_sweep": "gymrun.sweep",
    "run_sweep": "gymrun.sweep",
    "Duel": "gymrun.duel",
    "DuelResult": "gymrun.duel",
    "load_duel": "gymrun.duel",
    "run_duel": "gymrun.duel",
    "run_baselines": "gymrun.baselines",
    "describe_env": "gymrun.diagnostics.inspection",
    "build_board": "gymrun.board.build",
    "GymrunError": "gymrun.errors",
    "ConfigError": "gymrun.errors",
    "RolloutError": "gymrun.errors",
    "AgentError": "gymrun.errors",
    "ClusterError": "gymrun.errors",
    "EnvError": "gymrun.errors",
    "FaultError": "gymrun.errors",
    "ImportTargetError": "gymrun.errors",
    "NotInstalledError": "gymrun.errors",
    "PilotError": "gymrun.errors",
    "RecordError": "gymrun.errors",
    "ResumeRefused": "gymrun.errors",
    "UnknownNameError": "gymrun.errors",
    "UsageError": "gymrun.errors",
    "WrapperError": "gymrun.errors",
}

__all__ = [
    "AgentError",
    "ClusterError",
    "ConfigError",
    "Duel",
    "DuelResult",
    "EnvError",
    "EpisodeResult",
    "Expectation",
    "Experiment",
    "ExperimentConfig",
    "FaultError",
    "GymrunError",
    "ImportTargetError",
    "NotInstalledError",
    "PilotError",
    "Policy",
    "RecordError",
    "ResumeRefused",
    "RolloutError",
    "RunResult",
    "Summary",
    "SummaryBuilder",
    "UnknownNameError",
    "UsageError",
    "WrapperError",
    "build_board",
    "check_expectations",
    "config_schema",
    "describe_env",
    "evaluate",
    "list_envs",
    "load_config",
    "load_duel",
    "load_sweep",
    "play",
    "run_baselines",
    "run_duel",
    "run_experiment",
    "run_sweep",
]

if TYPE_CHECKING:
    from typing import Any

    from gymrun.baselines import run_baselines
    from gymrun.board.build import build_board
    from gymrun.components.catalog import list_envs
    from gymrun.components.policy import Policy
    from gymrun.config import ExperimentConfig, config_schema, load_config
    from gymrun.core.episodes import EpisodeResult
    from gymrun.core.expectations import Expectation, check_expectations
    from gymrun.core.experiment import Experiment
    from gymrun.core.loop import play
    from gymrun.core.summary import Summary, SummaryBuilder
    from gymrun.diagnostics.inspection import describe_env
    from gymrun.duel import Duel, DuelResult, load_duel, run_duel
    from gymrun.errors import (
        AgentError,
        ClusterError,
        ConfigError,
        EnvError,
        FaultError,
        GymrunError,
        ImportTargetError,
        NotInstalledError,
        PilotError,
        RecordError,
        ResumeRefused,
        RolloutError,
        UnknownNameError,
        UsageError,
        WrapperError,
    )
    from gymrun.run import RunResult, evaluate, run_experiment
    from gymrun.sweep import load_sweep, run_sweep
    from gymrun.version import __version__ as __version__


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gymrun' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value
