"""The experiment config: what a user writes, read from YAML, overridden and validated."""

from gymrun.config.loading import env_config, load_config, validate_document
from gymrun.config.schema import ExperimentConfig, config_schema

__all__ = ["ExperimentConfig", "config_schema", "env_config", "load_config", "validate_document"]
