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
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from evaluation.compose import conf_dir, normalise_override
from evaluation.config import RunConfig, register_configs
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


def worker_main(argv: list[str]) -> int:
    """`me5-eval worker [--multirun] OVERRIDES`: the same app under the CLI."""
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
