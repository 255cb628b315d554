"""Compose a `RunConfig` from conf/ + command-line overrides (the same thing `make eval` passes).

Hydra's own messages for unknown groups/keys are accurate but long; we turn the common ones into one
line that lists the valid choices.
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from evaluation.config import RunConfig, register_configs
from evaluation.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


def conf_dir() -> Path:
    if not (CONF_DIR / "config.yaml").is_file():
        raise ConfigError(f"config folder not found at {CONF_DIR}; run me5-eval from a checkout (pip install -e .)")
    return CONF_DIR


def group_choices(group: str) -> list[str]:
    return sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))


def _explain(err: Exception, overrides: list[str]) -> ConfigError:
    text = str(err)
    for group in ("model", "suite", "launcher"):
        for ov in overrides:
            key, _, value = ov.partition("=")
            if key.lstrip("+~") == group and f"{group}/{value}" in text:
                return ConfigError(
                    f"unknown {group} '{value}'; choose one of: {', '.join(group_choices(group))}"
                    + (" (or model=custom model.path=DIR)" if group == "model" else "")
                )
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    return ConfigError(f"invalid configuration: {first}")


def normalise_override(override: str) -> str:
    """`data.paths.<Task>=DIR` adds a key to a dict; Hydra wants `++` for that, users should not have to."""
    return "++" + override if override.startswith("data.paths.") else override


def compose_dict(overrides: list[str] | None = None):
    """Compose the raw DictConfig (validated against the structured schema)."""
    overrides = [normalise_override(o) for o in overrides or []]
    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            return compose(config_name="config", overrides=overrides)
    except (MissingConfigException, ConfigCompositionException, OmegaConfBaseException) as err:
        raise _explain(err, overrides) from err
    finally:
        GlobalHydra.instance().clear()


def compose_run_config(overrides: list[str] | None = None) -> RunConfig:
    cfg = compose_dict(overrides)
    try:
        run: RunConfig = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as err:  # e.g. a MISSING required field (model.name for custom)
        raise ConfigError(f"incomplete configuration: {str(err).splitlines()[0]}") from err
    return run
