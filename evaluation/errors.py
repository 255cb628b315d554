"""User-facing errors: one clear message that names the fix.

The CLI prints `str(error)` of any `Me5EvalError` and exits 2 without a traceback;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

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
