"""`evaluation.evaluate(model, suite=..., tasks=...)`: evaluate an in-memory model, writing what `me5-eval run` writes.

The config is composed by Hydra from evaluation/conf/ as for `run` (model=custom, named after the model), and the
runner gets the model itself (evaluation/external.py) instead of loading weights.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from evaluation.compose import check_data_paths, compose_run_config
from evaluation.errors import ConfigError
from evaluation.external import ProtocolEmbedder, as_mteb_encoder, model_name_revision
from evaluation.runner import run


def evaluate(model: Any, *, suite: str = "mteb-en", tasks: str | list[str] | None = None,
             langs: str | list[str] | None = None, output_dir: str | Path = "results", name: str | None = None,
             revision: str | None = None, data_root: str | Path | None = None, batch_size: int = 64,
             overwrite: bool = False, overrides: list[str] | None = None) -> list:
    """Evaluate ``model`` (a SentenceTransformer, or any object with mteb 2.x's EncoderProtocol) on ``suite``
    narrowed to ``tasks`` / ``langs``; returns mteb TaskResults. Results go to
    ``output_dir/<name with / -> __>/<revision>/<Task>.json`` (mteb's layout + our provenance under ``me5_eval``);
    ``name`` / ``revision`` default to the model's mteb_model_meta. ``data_root`` defaults to $ME5_EVAL_DATA (tasks
    without local files load from the Hugging Face hub); ``overrides`` are any further Hydra overrides."""
    encoder = as_mteb_encoder(model)
    meta_name, meta_revision = model_name_revision(encoder)
    name = name or meta_name
    if not name:
        raise ConfigError("the model carries no name (mteb_model_meta.name); pass evaluate(..., name='org/model')")
    settings = {"model.name": name, "model.revision": revision or meta_revision, "tasks": tasks, "langs": langs,
                "output.dir": str(output_dir), "batch_size": batch_size, "output.overwrite": overwrite}
    if data_root is not None:
        settings["data.root"] = str(data_root)
    with tempfile.TemporaryDirectory(prefix="me5-eval-shards-") as shards:
        # no files to fingerprint: no text cache, and corpus shards live only for this call
        fixed = ["model=custom", f"suite={suite}", "model.path=null", "model.prompt_style=none",
                 "cache.enabled=false", f"cache.dir={shards}"]
        cfg = compose_run_config([*fixed, *(_override(k, v) for k, v in settings.items()), *(overrides or [])])
        if cfg.launcher_encodes_shards:
            raise ConfigError("an in-memory model cannot be sent to launcher workers; drop launcher= or shards=")
        check_data_paths(cfg)
        return run(cfg, embedder=ProtocolEmbedder(cfg, encoder))


def _override(key: str, value: Any) -> str:
    """key=value as Hydra parses it: null, lists, and quoted strings (names with '/', '@', spaces)."""
    if value is None:
        return f"{key}=null"
    if isinstance(value, bool | int):
        return f"{key}={str(value).lower()}"
    if isinstance(value, list | tuple):
        return f"{key}=[{','.join(_quote(str(v)) for v in value)}]"
    return f"{key}={_quote(str(value))}"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
