"""The experiment config: what a user writes, read from YAML, overridden and validated."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gymrun.config.loading import env_config, load_config, validate_document
    from gymrun.config.schema import ExperimentConfig, config_schema

__all__ = ["ExperimentConfig", "config_schema", "env_config", "load_config", "validate_document"]
_LOADING = ("env_config", "load_config", "validate_document")
_SCHEMA = ("ExperimentConfig", "config_schema")


def __getattr__(name: str) -> Any:
    # loading a config resolves its components (Gymnasium, agents, wrappers): imported when
    # first asked for, for start-up time (what reads recorded configs, the board, needs none);
    # the schema too, so that the command line enters `wording` without pydantic or Gymnasium
    if name in _LOADING:
        from gymrun.config import loading

        return getattr(loading, name)
    if name in _SCHEMA:
        from gymrun.config import schema

        return getattr(schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
