"""me5-eval: reproduce the evaluation of Multilingual E5 (arXiv 2402.05672) on any checkpoint.

`evaluation.evaluate(model, suite=..., tasks=...)` evaluates an in-memory model (evaluation/api.py).
"""

from evaluation.version import __version__

__all__ = ["__version__", "evaluate"]


def __getattr__(name: str):
    if name == "evaluate":  # deferred: the API pulls in Hydra, mteb and torch; `import evaluation.x` should not
        from evaluation.api import evaluate

        return evaluate
    raise AttributeError(f"module 'evaluation' has no attribute {name!r}")
