"""The experiment config: what a user writes, read from YAML, overridden and validated."""

from typing import TYPE_CHECKING, Any

from gymrun.config.schema import ExperimentConfig, config_schema

if TYPE_CHECKING:
    from gymrun.config.loading import env_config, load_config, validate_document

__all__ = ["ExperimentConfig", "config_schema", "env_config", "load_config", "validate_document"]
_LOADING = ("env_config", "load_config", "validate_document")


def __getattr__(name: str) -> Any:
    # loading a config resolves its components (Gymnasium, agents, wrappers): imported when
    # first asked for, for start-up time (what reads recorded configs, the board, needs none)
    if name in _LOADING:
        from gymrun.config import loading

        return getattr(loading, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
