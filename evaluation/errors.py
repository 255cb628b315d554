"""User-facing errors: one clear message that names the fix.

The CLI prints `str(error)` of any `Me5EvalError` and exits 2 without a traceback;
anything else is a bug and keeps its traceback. ``resource_errors`` turns running out of GPU memory, host memory
or disk into such an error naming the setting to change.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Me5EvalError(Exception):
    """Base class of errors caused by the user's input (config, data, model, cache)."""


class ConfigError(Me5EvalError):
    """Unknown model / suite / task / language, or an invalid setting."""


class DataError(Me5EvalError):
    """A data file is missing or malformed."""


class DataFileError(DataError):
    """A malformed line in a data file: the message names file:line."""

    def __init__(self, path: str | Path, line: int | None, problem: str):
        self.path, self.line, self.problem = Path(path), line, problem
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")


class MissingDataError(DataError):
    """A data file does not exist: the message says which file and where it looked."""

    def __init__(self, what: str, looked_at: list[str | Path], hint: str = ""):
        places = ", ".join(str(p) for p in looked_at)  # one line: the CLI prints exactly one error line
        msg = f"missing data file for {what}; looked at: {places}"
        super().__init__(msg + (f". {hint}" if hint else ""))


class ModelLoadError(Me5EvalError):
    """A model could not be loaded from a local dir or the hub."""


class ModelOutputError(Me5EvalError):
    """The model produced embeddings no score can be computed from (NaN/inf)."""


class CacheError(Me5EvalError):
    """A cache/shard file is corrupt or does not match its manifest."""


def _is_cuda_oom(err: BaseException) -> bool:
    torch = sys.modules.get("torch")  # never imported here: a CUDA OOM can only come from a process that has torch
    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom is not None and isinstance(err, oom):
        return True
    return isinstance(err, RuntimeError) and "CUDA out of memory" in str(err)


@contextmanager
def resource_errors(cfg, what: str, shard_gb: float | None = None) -> Iterator[None]:
    """Turn out-of-GPU-memory, out-of-host-memory and out-of-disk errors into a Me5EvalError naming the setting.

    ``cfg`` is the run's RunConfig; ``what`` says what was running ("encoding SciFact/default shard 2/4");
    ``shard_gb`` the size of the shard file.
    """
    try:
        yield
    except Me5EvalError:
        raise
    except MemoryError as e:
        raise Me5EvalError(
            f"out of host memory while {what}: a shard's texts and embeddings are held in RAM, so raise shards= "
            f"(now {cfg.shards}) to make each shard smaller, or lower batch_size= (now {cfg.batch_size})"
        ) from e
    except OSError as e:
        if e.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        need = f" (this shard needs {shard_gb:.2f} GB)" if shard_gb else ""
        raise Me5EvalError(
            f"no space left on device while {what}: shards are written under cache.dir={cfg.cache.dir}{need}; "
            f"free disk there or set cache.dir= to a larger (shared) disk. Finished shards are kept; rerun to resume."
        ) from e
    except BaseException as e:
        if not _is_cuda_oom(e):
            raise
        half = max(1, cfg.batch_size // 2)
        raise Me5EvalError(
            f"out of GPU memory while {what} with batch_size={cfg.batch_size} (model.max_length="
            f"{cfg.model.max_length}): lower it, e.g. batch_size={half}; finished shards are kept, rerun to resume"
        ) from e
