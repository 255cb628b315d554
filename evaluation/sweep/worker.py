"""The shard worker: a Hydra app that encodes corpus shard ``shard_index`` of every retrieval task x subset of the
run's suite (evaluation/sweep/shard_job.py), then writes its receipt for the driver.

Any Hydra launcher can sweep it over ``shard_index=0..N-1``::

    python -m evaluation.sweep.worker --multirun model=large suite=miracl shards=64 'shard_index=range(0,64)' \\
        hydra/launcher=submitit_slurm hydra.launcher.partition=gpu ...
    me5-eval worker model=minilm suite=mteb-en 'tasks=[SciFact]' shards=4 shard_index=2 data.root=...   # one shard

``me5-eval run ... launcher=slurm|ray|joblib|gpus`` builds that command itself (evaluation/sweep/command.py). The
receipt goes to ``<sweep dir>/receipts/shard-NNNNN.json`` (one job: ``<run dir>/receipts/``).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra._internal.utils import get_args_parser
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from evaluation.compose import compose_run_config, conf_dir, normalise_override, normalise_overrides, sweep_jobs
from evaluation.config import RunConfig, register_configs
from evaluation.errors import ConfigError
from evaluation.sweep.gpus_launcher import register_gpus_launcher
from evaluation.sweep.receipts import RECEIPTS, write_receipt

log = logging.getLogger(__name__)

register_configs()
register_gpus_launcher()


def _receipts_dir() -> Path | None:
    try:
        hc = HydraConfig.get()
    except ValueError:
        return None  # not inside a Hydra job: there is no job dir to put a receipt in
    if hc.mode == RunMode.MULTIRUN:
        return Path(hc.sweep.dir) / RECEIPTS
    return Path(hc.runtime.output_dir) / RECEIPTS


@hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="config")
def main(cfg: DictConfig) -> dict:
    # Deferred (torch): the gpus launcher's spawned workers import this module as multiprocessing's __mp_main__
    # before they set CUDA_VISIBLE_DEVICES, so this module must not load torch; the job's code does.
    from evaluation.sweep.shard_job import encode_worker_shard

    run_cfg: RunConfig = OmegaConf.to_object(cfg)
    receipt = encode_worker_shard(run_cfg)
    out = _receipts_dir()
    if out is not None:
        write_receipt(out, receipt)
    log.info("shard %d/%d done: %d item(s), %d encoded now", run_cfg.shard_index + 1, run_cfg.shards,
             len(receipt["items"]), sum(it["encoded"] for it in receipt["items"]))
    return receipt


def _cli_args(argv: list[str]) -> list[str]:
    """Command-line overrides as `me5-eval run` takes them (`data.paths.<Task>=DIR` without `++`)."""
    return [normalise_override(a) if "=" in a and not a.startswith("-") else a for a in argv]


def check_worker_jobs(argv: list[str]) -> None:
    """Compose every job of `me5-eval worker ...` now: a bad value or a shard_index missing or out of range is one
    ConfigError line (exit 2) before Hydra starts, not Hydra's report of a failed job. A run from another config
    (--config-name, as the launchers' command has) is checked by its jobs."""
    parser = get_args_parser()
    args = parser.parse_intermixed_args(argv)
    if args.help or args.hydra_help or args.info or args.shell_completion or args.cfg or args.config_name:
        return
    search = [f"hydra.searchpath=[file://{Path(args.config_dir).resolve()}]"] if args.config_dir else []
    for job in sweep_jobs(args.overrides) if args.multirun else [normalise_overrides(args.overrides)]:
        cfg = compose_run_config([*search, *job])
        if cfg.shard_index is None:
            raise ConfigError(f"shard_index is not set: give shard_index=i (one of 0..{cfg.shards - 1}, shards="
                              f"{cfg.shards}), or --multirun 'shard_index=range(0,{cfg.shards})'")


def worker_main(argv: list[str]) -> int:
    """`me5-eval worker [--multirun] OVERRIDES`: the same app under the CLI."""
    check_worker_jobs(argv)
    sys.argv = ["me5-eval worker", *_cli_args(argv)]
    main()
    return 0


if __name__ == "__main__":
    # Run the module's importable copy, not __main__'s: Ray/submitit/the gpus launcher then pickle the task
    # function's helpers by reference (evaluation.sweep.worker.*) instead of by value.
    from evaluation.sweep.worker import _cli_args
    from evaluation.sweep.worker import main as _importable_main

    sys.argv[1:] = _cli_args(sys.argv[1:])
    _importable_main()
