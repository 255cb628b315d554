"""The Hydra launchers me5-eval shards over (submitit_slurm, ray, joblib) work on real local clusters.

Each test runs tests/cluster/app/app.py as a 2-shard ``--multirun`` in a subprocess with a hard timeout.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

SWEEP_TIMEOUT_S = 120


def _records(out_dir: Path) -> dict[int, dict]:
    return {int(p.stem.split("_")[1]): json.loads(p.read_text()) for p in sorted(out_dir.glob("shard_*.json"))}


# ------------------------------------------------------------------------------------------------ Slurm


def test_slurm_node_idle_and_sacct_shim_first(slurm_cluster):
    r = slurm_cluster.run("sinfo", "-h", "-N", "-o", "%N %T %c")
    assert r.returncode == 0, r.stderr
    name, state, cpus = r.stdout.split()
    assert (name, state) == ("localhost", "idle"), r.stdout
    assert int(cpus) == slurm_cluster.cpus
    env = slurm_cluster.subprocess_env()
    sacct = shutil.which("sacct", path=env["PATH"])
    assert sacct == str(Path(__file__).resolve().parents[2] / "scripts" / "slurm-local" / "bin" / "sacct")


def test_submitit_slurm_two_shards(slurm_cluster, run_sweep, cluster_app, sweep_dir, tmp_path):
    out = tmp_path / "out"
    res = run_sweep(
        cluster_app,
        [*slurm_cluster.hydra_overrides(sweep_dir), "shard=0,1", f"out_dir={out}"],
        env=slurm_cluster.subprocess_env(),
        timeout=SWEEP_TIMEOUT_S,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.describe() + "\n" + slurm_cluster.log_tail()
    recs = _records(out)
    assert sorted(recs) == [0, 1], res.describe()
    for shard, rec in recs.items():
        assert rec["slurm_job_id"], rec  # written inside a Slurm job
        assert rec["slurm_array_task_id"] == str(shard), rec
        assert rec["launcher"].endswith("SlurmLauncher"), rec
    array_ids = {rec["slurm_array_job_id"] for rec in recs.values()}
    assert len(array_ids) == 1, recs  # one job array for the sweep
    (array_id,) = array_ids

    # The sacct shim answers submitit's exact query in a form submitit's own parser reads.
    from submitit.slurm.slurm import SlurmInfoWatcher

    r = slurm_cluster.run("sacct", "-o", "JobID,State,NodeList", "--parsable2", "-j", array_id)
    assert r.returncode == 0, r.stderr
    info = SlurmInfoWatcher().read_info(r.stdout)
    assert {info[f"{array_id}_{s}"]["State"] for s in (0, 1)} == {"COMPLETED"}, r.stdout
    assert info[f"{array_id}_0"]["NodeList"] == "localhost"


def test_submitit_slurm_crashed_job_fails_sweep(slurm_cluster, run_sweep, cluster_app, sweep_dir, tmp_path):
    """A job that dies without a result (os._exit) fails the sweep in bounded time: the sacct shim says FAILED."""
    out = tmp_path / "out"
    res = run_sweep(
        cluster_app,
        [*slurm_cluster.hydra_overrides(sweep_dir), "shard=0,1", "exit_on_shard=1", f"out_dir={out}"],
        env=slurm_cluster.subprocess_env(),
        timeout=90,  # without the shim this hangs forever
        cwd=tmp_path,
    )
    assert res.returncode != 0, res.describe()
    assert "has not produced any output (state: FAILED)" in res.output, res.describe()
    assert (out / "shard_0.json").exists() and not (out / "shard_1.json").exists()
    # submitit waits 15 s for a missing result pickle once the job is done; anything far above means polling broke
    assert res.duration_s < 60, res.describe()


def test_submitit_slurm_python_error_reaches_driver(slurm_cluster, run_sweep, cluster_app, sweep_dir, tmp_path):
    res = run_sweep(
        cluster_app,
        [*slurm_cluster.hydra_overrides(sweep_dir), "shard=0,1", "raise_on_shard=0", f"out_dir={tmp_path / 'out'}"],
        env=slurm_cluster.subprocess_env(),
        timeout=SWEEP_TIMEOUT_S,
        cwd=tmp_path,
    )
    assert res.returncode != 0, res.describe()
    assert "shard 0 failed on purpose" in res.output, res.describe()


# ------------------------------------------------------------------------------------------------ Ray


def test_ray_two_shards_on_existing_cluster(ray_cluster, run_sweep, cluster_app, sweep_dir, tmp_path):
    out = tmp_path / "out"  # absolute: tasks run in the head's cwd
    res = run_sweep(
        cluster_app,
        [*ray_cluster.hydra_overrides(sweep_dir, num_cpus_per_task=1), "shard=0,1", f"out_dir={out}"],
        env=ray_cluster.subprocess_env(),
        timeout=SWEEP_TIMEOUT_S,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.describe() + "\n" + ray_cluster.log_tail()
    assert f"Connecting to existing Ray cluster at address: {ray_cluster.address}" in res.output, res.describe()
    recs = _records(out)
    assert sorted(recs) == [0, 1], res.describe()
    for rec in recs.values():
        assert rec["ray_worker"] is True, rec
        assert rec["pid"] != res.driver_pid, rec
        assert rec["launcher"].endswith("RayLauncher"), rec
        assert rec["cwd"] == str(ray_cluster.state_dir), rec  # the head's cwd, not the driver's


# ------------------------------------------------------------------------------------------------ joblib


def test_joblib_two_shards(run_sweep, cluster_app, joblib_overrides, sweep_dir, tmp_path):
    out = tmp_path / "out"
    res = run_sweep(
        cluster_app,
        [*joblib_overrides(sweep_dir, n_jobs=2), "shard=0,1", f"out_dir={out}"],
        timeout=SWEEP_TIMEOUT_S,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.describe()
    recs = _records(out)
    assert sorted(recs) == [0, 1], res.describe()
    for rec in recs.values():
        assert rec["pid"] != res.driver_pid, rec  # ran in a loky worker process
        assert rec["launcher"].endswith("JoblibLauncher"), rec
        assert rec["slurm_job_id"] is None and rec["ray_worker"] is False, rec
