"""Real local clusters for tests: a single-node Slurm (munged + slurmctld + slurmd) and a Ray head, on 127.0.0.1 only.

Fixtures (any test under tests/cluster/ can use them; tests that do are marked ``cluster`` automatically):

``slurm_cluster`` (session) -> :class:`SlurmCluster`
    Runs scripts/slurm-local/start.sh in a private state dir (/tmp/me5s-XXXX) on two free ports; installs slurm-wlm
    with apt-get on first use (~10 s). Yields ``env`` (SLURM_CONF, PATH with the sacct shim first, SLURM_LOCAL_DIR),
    ``subprocess_env()``, ``hydra_overrides(sweep_dir)`` for ``hydra/launcher=submitit_slurm``. Always runs stop.sh.
``ray_cluster`` (session) -> :class:`RayCluster`
    Runs scripts/ray-local/start.sh (``ray start --head --block`` from this venv) in /tmp/me5r-XXXX on free ports.
    Yields ``address`` (127.0.0.1:PORT), ``env`` (RAY_ADDRESS, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0,
    RAY_AUTH_MODE=disabled, RAY_USAGE_STATS_ENABLED=0), ``subprocess_env()``, ``hydra_overrides(sweep_dir)`` for
    ``hydra/launcher=ray``. Teardown sends SIGTERM to the head's PID (never ``ray stop``, which kills by name).
``run_sweep`` -> callable ``run_sweep(app, overrides, env=None, timeout=120, cwd=None) -> SweepResult``
    Runs ``python <app> --multirun <overrides>`` in its own process group with a hard timeout (the group is killed
    and the test fails on expiry, so CI never hangs).
``sweep_dir`` -> an absolute, empty per-test directory (``<tmp_path>/sweep``).
``joblib_overrides(sweep_dir, n_jobs=2)`` -> overrides for ``hydra/launcher=joblib`` (plain function, also a fixture).

Both clusters are checked to listen on loopback addresses only (``ss -ltnp`` over their process trees); a
listener elsewhere fails the fixture. If a cluster cannot be started (not root, apt-get unreachable, ray missing)
the tests are skipped with the precise reason; set ME5_CLUSTER_REQUIRED=1 to turn those skips into failures.
ME5_CLUSTER_KEEP_STATE=1 keeps the state dirs (daemon logs) after the session.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SLURM_SCRIPTS = REPO / "scripts" / "slurm-local"
RAY_SCRIPTS = REPO / "scripts" / "ray-local"
APP = Path(__file__).resolve().parent / "app" / "app.py"

REQUIRED = os.environ.get("ME5_CLUSTER_REQUIRED") == "1"
KEEP_STATE = os.environ.get("ME5_CLUSTER_KEEP_STATE") == "1"
# apt-get update + install of slurm-wlm takes ~10 s here; leave room for a slow mirror or a dpkg lock held by others.
SLURM_START_TIMEOUT_S = int(os.environ.get("ME5_SLURM_START_TIMEOUT_S", "300"))
RAY_START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 60


def _unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason}\n(ME5_CLUSTER_REQUIRED=1: not skipping)", pytrace=False)
    pytest.skip(reason)


def _tail(text: str, n: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


# ------------------------------------------------------------------------------------------------ helpers


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (from the ephemeral range, so outside Ray's 10002-19999 worker range)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        p = free_port()
        if p not in ports and not 10002 <= p <= 19999:
            ports.append(p)
    return ports


def process_tree(roots: Sequence[int]) -> set[int]:
    """The given live PIDs and all their descendants (from /proc)."""
    from evaluation.sweep.driver import process_descendants

    return {p for r in roots if Path(f"/proc/{r}").exists() for p in (r, *process_descendants(r))}


_LOOPBACK = re.compile(r"^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\]):\d+$")


def non_loopback_listeners(pids: set[int]) -> list[str]:
    """Listening TCP/UDP sockets of ``pids`` whose local address is not loopback (``ss -Hltunp``)."""
    ss = shutil.which("ss") or "/usr/bin/ss"
    out = subprocess.run([ss, "-Hltunp"], capture_output=True, text=True, timeout=10, check=True).stdout
    bad = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 6:
            continue
        local, users = cols[4], cols[-1]
        owners = {int(p) for p in re.findall(r"pid=(\d+)", users)}
        if owners & pids and not _LOOPBACK.match(local):
            bad.append(line.strip())
    return bad


@dataclass
class SweepResult:
    cmd: list[str]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float
    driver_pid: int

    @property
    def output(self) -> str:
        return self.stdout + "\n" + self.stderr

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.cmd)}\nrc={self.returncode} in {self.duration_s:.1f}s\n"
            f"---- stdout (tail)\n{_tail(self.stdout)}\n---- stderr (tail)\n{_tail(self.stderr)}"
        )


def run_hydra_sweep(
    app: str | Path,
    overrides: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: str | Path | None = None,
) -> SweepResult:
    """``python <app> --multirun <overrides>`` with a hard timeout; on expiry kills its process group and fails."""
    cmd = [sys.executable, str(app), "--multirun", *overrides]
    run_env = dict(os.environ if env is None else env)
    run_env.setdefault("HYDRA_FULL_ERROR", "1")
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=str(cwd) if cwd else None,
        env=run_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # own process group: a timeout kills the driver and its local workers
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        stdout, stderr = proc.communicate()
        res = SweepResult(cmd, -9, stdout, stderr, time.monotonic() - t0, proc.pid)
        pytest.fail(f"Hydra sweep did not finish within {timeout}s (killed)\n{res.describe()}", pytrace=False)
    return SweepResult(cmd, proc.returncode, stdout, stderr, time.monotonic() - t0, proc.pid)


def joblib_overrides(sweep_dir: Path, n_jobs: int = 2) -> list[str]:
    return ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}", f"hydra.sweep.dir={sweep_dir}"]


# ------------------------------------------------------------------------------------------------ Slurm


@dataclass
class SlurmCluster:
    state_dir: Path
    conf: Path
    ctld_port: int
    slurmd_port: int
    env: dict[str, str] = field(default_factory=dict)
    """Variables to add to a client's environment: SLURM_CONF, PATH (sacct shim first), SLURM_LOCAL_DIR."""
    partition: str = "debug"
    cpus: int = 0

    def subprocess_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.update(self.env)
        return env

    def hydra_overrides(self, sweep_dir: Path, timeout_min: int = 5, cpus_per_task: int = 1) -> list[str]:
        """Overrides for ``hydra/launcher=submitit_slurm`` on this cluster (absolute submitit folder)."""
        sweep_dir = Path(sweep_dir).resolve()
        return [
            "hydra/launcher=submitit_slurm",
            f"hydra.launcher.partition={self.partition}",
            f"hydra.launcher.timeout_min={timeout_min}",
            f"hydra.launcher.cpus_per_task={cpus_per_task}",
            f"hydra.launcher.submitit_folder={sweep_dir}/.submitit/%j",
            f"hydra.sweep.dir={sweep_dir}",
        ]

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Run a Slurm client command (squeue, sinfo, sacct shim, scancel...) against this cluster."""
        return subprocess.run(list(args), env=self.subprocess_env(), capture_output=True, text=True, timeout=timeout)

    def log_tail(self, n: int = 30) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log"):
            p = self.state_dir / "log" / name
            if p.exists():
                parts.append(f"---- {p}\n" + _tail(p.read_text(errors="replace"), n))
        return "\n".join(parts)

    def daemon_pids(self) -> list[int]:
        pids_file = self.state_dir / "pids"
        if not pids_file.exists():
            return []
        return [int(line.split()[1]) for line in pids_file.read_text().splitlines() if line.strip()]


def _stop_slurm(state_dir: Path) -> None:
    env = dict(os.environ, SLURM_LOCAL_DIR=str(state_dir), SLURM_LOCAL_PURGE="0" if KEEP_STATE else "1")
    subprocess.run(["bash", str(SLURM_SCRIPTS / "stop.sh")], env=env, capture_output=True, timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    if os.geteuid() != 0:
        _unavailable("local Slurm needs root (munged/slurmd run as root with a private key); run the tests as root")
    if shutil.which("ss") is None and not Path("/usr/bin/ss").exists():
        _unavailable("`ss` (iproute2) is missing: needed to check ports and loopback-only listeners")
    state_dir = Path(tempfile.mkdtemp(prefix="me5s-", dir="/tmp"))
    ctld_port, slurmd_port = free_ports(2)
    env = dict(
        os.environ,
        SLURM_LOCAL_DIR=str(state_dir),
        SLURM_LOCAL_CTLD_PORT=str(ctld_port),
        SLURM_LOCAL_SLURMD_PORT=str(slurmd_port),
    )
    try:
        try:
            proc = subprocess.run(
                ["bash", str(SLURM_SCRIPTS / "start.sh")],
                env=env,
                capture_output=True,
                text=True,
                timeout=SLURM_START_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as e:
            _unavailable(
                f"local Slurm: scripts/slurm-local/start.sh did not finish in {SLURM_START_TIMEOUT_S}s "
                f"(apt-get or a daemon hung):\n{_tail(str(e.stderr or ''))}"
            )
        if proc.returncode != 0:
            _unavailable(
                f"local Slurm could not be installed/started (scripts/slurm-local/start.sh rc={proc.returncode}):\n"
                + _tail(proc.stderr, 60)
            )
        cluster = SlurmCluster(
            state_dir=state_dir,
            conf=state_dir / "slurm.conf",
            ctld_port=ctld_port,
            slurmd_port=slurmd_port,
            env={
                "SLURM_LOCAL_DIR": str(state_dir),
                "SLURM_CONF": str(state_dir / "slurm.conf"),
                "PATH": f"{SLURM_SCRIPTS / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}{os.pathsep}/usr/sbin",
            },
            cpus=os.cpu_count() or 1,
        )
        bad = non_loopback_listeners(process_tree(cluster.daemon_pids()))
        if bad:
            pytest.fail("local Slurm listens on non-loopback addresses:\n" + "\n".join(bad), pytrace=False)
        yield cluster
    finally:
        _stop_slurm(state_dir)
        if not KEEP_STATE and state_dir.exists() and not (state_dir / "pids").exists():
            shutil.rmtree(state_dir, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ Ray


@dataclass
class RayCluster:
    address: str
    state_dir: Path
    head_pid: int
    env: dict[str, str] = field(default_factory=dict)
    """Variables every driver needs: RAY_ADDRESS, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, RAY_AUTH_MODE=disabled, ..."""

    def subprocess_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env.update(self.env)
        return env

    def hydra_overrides(self, sweep_dir: Path, num_cpus_per_task: int | None = None) -> list[str]:
        """Overrides for ``hydra/launcher=ray`` on this existing cluster.

        ``object_store_memory=null``: the launcher always sets 78643200, which ray.init refuses when connecting to an
        existing cluster. Keys under ray.init/ray.remote other than ``address`` need a leading ``+``.
        """
        ov = [
            "hydra/launcher=ray",
            f"hydra.launcher.ray.init.address={self.address}",
            "+hydra.launcher.ray.init.object_store_memory=null",
            f"hydra.sweep.dir={Path(sweep_dir).resolve()}",
        ]
        if num_cpus_per_task is not None:
            ov.append(f"+hydra.launcher.ray.remote.num_cpus={num_cpus_per_task}")
        return ov

    def log_tail(self, n: int = 30) -> str:
        p = self.state_dir / "ray-start.log"
        return f"---- {p}\n" + _tail(p.read_text(errors="replace"), n) if p.exists() else ""


def _stop_ray(state_dir: Path) -> None:
    env = dict(os.environ, RAY_LOCAL_DIR=str(state_dir), RAY_LOCAL_PURGE="0" if KEEP_STATE else "1")
    subprocess.run(["bash", str(RAY_SCRIPTS / "stop.sh")], env=env, capture_output=True, timeout=STOP_TIMEOUT_S)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    ray_bin = Path(sys.executable).parent / "ray"
    try:
        import hydra_plugins.hydra_ray_launcher  # noqa: F401
        import ray  # noqa: F401
    except ImportError as e:
        _unavailable(f"ray / hydra-ray-launcher not importable in {sys.executable}: {e} (pip install -e '.[ray]')")
    if not ray_bin.exists():
        _unavailable(f"ray CLI not found next to {sys.executable} ({ray_bin})")
    if shutil.which("ss") is None and not Path("/usr/bin/ss").exists():
        _unavailable("`ss` (iproute2) is missing: needed to check ports and loopback-only listeners")
    state_dir = Path(tempfile.mkdtemp(prefix="me5r-", dir="/tmp"))
    port, client_port, agent_port = free_ports(3)
    env = dict(
        os.environ,
        RAY_BIN=str(ray_bin),
        RAY_LOCAL_DIR=str(state_dir),
        RAY_LOCAL_PORT=str(port),
        RAY_LOCAL_CLIENT_PORT=str(client_port),
        RAY_LOCAL_AGENT_PORT=str(agent_port),
        RAY_LOCAL_CPUS=os.environ.get("ME5_RAY_CPUS", "2"),
    )
    try:
        try:
            # cwd=state_dir: tasks on a pre-started head run in the head's cwd, keep them out of the repo.
            proc = subprocess.run(
                ["bash", str(RAY_SCRIPTS / "start.sh")],
                env=env,
                cwd=state_dir,
                capture_output=True,
                text=True,
                timeout=RAY_START_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired as e:
            _unavailable(f"local Ray head did not start in {RAY_START_TIMEOUT_S}s:\n{_tail(str(e.stderr or ''))}")
        if proc.returncode != 0:
            if "non-loopback" in proc.stderr:
                pytest.fail(f"local Ray head listens on non-loopback addresses:\n{_tail(proc.stderr)}", pytrace=False)
            _unavailable(
                f"local Ray head could not be started (scripts/ray-local/start.sh rc={proc.returncode}):\n"
                + _tail(proc.stderr, 60)
            )
        head_pid = int((state_dir / "pid").read_text().strip())
        cluster = RayCluster(
            address=f"127.0.0.1:{port}",
            state_dir=state_dir,
            head_pid=head_pid,
            env={
                "RAY_ADDRESS": f"127.0.0.1:{port}",
                "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
                "RAY_AUTH_MODE": "disabled",
                "RAY_USAGE_STATS_ENABLED": "0",
            },
        )
        bad = non_loopback_listeners(process_tree([head_pid]))
        if bad:
            pytest.fail("local Ray head listens on non-loopback addresses:\n" + "\n".join(bad), pytrace=False)
        yield cluster
    finally:
        _stop_ray(state_dir)
        if not KEEP_STATE and state_dir.exists() and not (state_dir / "pid").exists():
            shutil.rmtree(state_dir, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ sweeps


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    d = tmp_path / "sweep"
    d.mkdir()
    return d.resolve()


@pytest.fixture
def run_sweep() -> Callable[..., SweepResult]:
    return run_hydra_sweep


@pytest.fixture(name="joblib_overrides")
def _joblib_overrides_fixture() -> Callable[..., list[str]]:
    return joblib_overrides


@pytest.fixture
def cluster_app() -> Path:
    """The tiny sweep app of these tests (writes <out_dir>/shard_<shard>.json)."""
    return APP


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if {"slurm_cluster", "ray_cluster"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.cluster)
