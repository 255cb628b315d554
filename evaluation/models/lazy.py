"""LazyEncoder: an encoder whose weights load on the first forward pass.

A warm rerun (every embedding cached, every shard stored) needs an encoder's fingerprint, dim, device and dtype,
never a forward pass; for a local model dir or a pinned hub revision all four are known from the config and the
folder, so such a run loads no weights (the benchmark's warm bar counts the loads).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.config import ModelConfig
from evaluation.models import loading
from evaluation.models.encoder import E5Encoder, check_dim, model_meta


class LazyEncoder:
    """Stands in for an E5Encoder; ``load()`` builds the real one (with ``loader``, default ``load_encoder``)."""

    def __init__(self, model_cfg: ModelConfig, *, device: str = "auto", protocol: str = "paper",
                 loader: Callable[..., E5Encoder] | None = None, memo_dir: str | Path | None = None):
        loading.check_settings(model_cfg, protocol)
        self.cfg, self.protocol, self._device_name = model_cfg, protocol, device
        self.device = loading.resolve_device(device)
        self.dtype = loading.resolve_dtype(model_cfg.dtype, self.device)
        self._predicted = loading.predicted_fingerprint(model_cfg, device, memo_dir)
        self._loader = loader
        self._encoder: E5Encoder | None = None
        self._meta = None
        self.forward_calls = 0  # encode calls that reached the model
        known = loading.model_dim(model_cfg)  # a local folder's config.json: a wrong model.dim fails right here
        # a hub model: the config's model.dim (E5Encoder checks it against the weights once they load), else unknown
        self._dim: int | None = model_cfg.dim if known is None else check_dim(known, model_cfg)

    @property
    def predicted(self) -> str | None:
        """The fingerprint known before loading; None for an unpinned hub model."""
        return self._predicted

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def load(self) -> E5Encoder:
        if self._encoder is None:
            # looked up at call time, so a test or benchmark that patches load_encoder sees every load
            loader = self._loader or loading.load_encoder
            enc = loader(self.cfg, device=self._device_name, protocol=self.protocol)
            if self._predicted is not None and enc.model_fingerprint() != self._predicted:
                # both come from loading._fingerprint; a difference means that contract broke, and cached
                # embeddings keyed on the predicted value would be mixed with the real model's
                raise RuntimeError(f"encoder fingerprint {enc.model_fingerprint()} != predicted {self._predicted}")
            self._encoder = enc
        return self._encoder

    def model_fingerprint(self) -> str:
        return self._predicted or self.load().model_fingerprint()

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = self.load().dim  # a hub model without model.dim: its config comes with the weights
        return self._dim

    @property
    def mteb_model_meta(self) -> Any:
        if self._meta is None:
            self._meta = model_meta(self.cfg, self.dim)
        return self._meta

    def encode_formatted(self, texts: list[str], **kwargs) -> np.ndarray:
        self.forward_calls += 1
        return loading.require_finite(self.load().encode_formatted(texts, **kwargs), self.cfg, self.dtype)
