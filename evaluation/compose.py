"""Compose a `RunConfig` from evaluation/conf/ (package data) + command-line overrides (what `make eval` passes).

Hydra's own messages for unknown groups/keys are accurate but long; we turn the common ones into one
line that lists the valid choices.
"""

from __future__ import annotations

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, HydraException, MissingConfigException, OverrideParseException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from evaluation.config import RunConfig, register_configs
from evaluation.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parent / "conf"  # package data: `pip install .` ships it


def conf_dir() -> Path:
    if not (CONF_DIR / "config.yaml").is_file():
        raise ConfigError(f"config folder not found at {CONF_DIR}; reinstall me5-eval (pip install .)")
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
    if isinstance(err, OverrideParseException):
        bad = next((o for o in overrides if not _parses(o)), first)
        return ConfigError(f"cannot parse the override {bad!r}: {first}; overrides are key=value, lists key=[a,b]")
    if first.startswith("Ambiguous value for argument"):  # `tasks=A,B` without --multirun
        return ConfigError(f"invalid configuration: {first}: write key=[a,b] for a list, or add --multirun "
                           "to sweep over the values")
    cause = err.__cause__  # Hydra's "Error merging override x=y" wraps OmegaConf's reason (wrong type, no such key)
    if isinstance(cause, OmegaConfBaseException) and str(cause).strip():
        first = f"{first.rstrip('.')}: {str(cause).strip().splitlines()[0]}"
    return ConfigError(f"invalid configuration: {first}")


def _parses(override: str) -> bool:
    try:
        OverridesParser.create().parse_overrides([override])
    except OverrideParseException:
        return False
    return True


def normalise_override(override: str) -> str:
    """`data.paths.<Task>=DIR` adds a key to a dict; Hydra wants `++` for that, users should not have to."""
    return "++" + override if override.startswith("data.paths.") else override


def normalise_overrides(overrides: list[str]) -> list[str]:
    return [normalise_override(o) for o in overrides]


def sweep_jobs(overrides: list[str]) -> list[list[str]]:
    """The overrides of every job that `--multirun` runs for `overrides`: Hydra's own expansion (BasicSweeper),
    so `model=minilm,small tasks=A` gives [[model=minilm, tasks=A], [model=small, tasks=A]]."""
    overrides = normalise_overrides(overrides)
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
        return [job for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
    except HydraException as err:  # OverrideParseException, or a sweep type BasicSweeper cannot expand
        raise _explain(err, overrides) from err


def compose_dict(overrides: list[str] | None = None):
    """Compose the raw DictConfig (validated against the structured schema)."""
    overrides = normalise_overrides(overrides or [])
    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
            return compose(config_name="config", overrides=overrides)
    except (MissingConfigException, ConfigCompositionException, OverrideParseException,
            OmegaConfBaseException) as err:
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


def check_data_paths(cfg: RunConfig) -> None:
    """A data.root or data.paths.<Task> that does not exist is a typo: fail now, not after a fall-back to the hub."""
    if cfg.data.root is not None and not Path(cfg.data.root).is_dir():
        raise ConfigError(f"data.root={cfg.data.root} does not exist; point it at the data folder "
                          "(e.g. data.root=../shared/data) or set data.root=null to load every task from the hub")
    for task, path in cfg.data.paths.items():
        if not Path(path).exists():
            raise ConfigError(f"data.paths.{task}={path} does not exist; point it at the task's local copy")
