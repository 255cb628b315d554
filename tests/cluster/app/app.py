"""Tiny Hydra sweep app for the cluster tests: each run writes <out_dir>/shard_<shard>.json describing where it ran.

python tests/cluster/app/app.py --multirun hydra/launcher=submitit_slurm shard=0,1 out_dir=/abs/dir ...
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


def _ray_worker() -> bool:
    if "ray" not in sys.modules:
        return False
    import ray

    return bool(ray.is_initialized())


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> dict:
    shard = int(cfg.shard)
    if cfg.exit_on_shard is not None and shard == int(cfg.exit_on_shard):
        os._exit(1)
    if cfg.raise_on_shard is not None and shard == int(cfg.raise_on_shard):
        raise RuntimeError(f"shard {shard} failed on purpose")
    started = time.time()
    if cfg.sleep_s:
        time.sleep(float(cfg.sleep_s))
    hc = HydraConfig.get()
    record = {
        "shard": shard,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "hostname": socket.gethostname(),
        "cwd": os.getcwd(),
        "python": sys.executable,
        "launcher": hc.launcher.get("_target_"),
        "job_num": hc.job.get("num"),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "slurm_array_job_id": os.environ.get("SLURM_ARRAY_JOB_ID"),
        "slurm_array_task_id": os.environ.get("SLURM_ARRAY_TASK_ID"),
        "ray_worker": _ray_worker(),
        "started": started,
        "finished": time.time(),
    }
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".shard_{shard}.json.tmp"
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(out / f"shard_{shard}.json")
    return record


if __name__ == "__main__":
    main()
