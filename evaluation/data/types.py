"""Plain data shapes that every loader returns (loaders never know about models or mteb).

Local loaders (one per public format) return these; `evaluation.data.mteb_dataset` turns
them into the dataset dicts mteb's task evaluators read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evaluation.errors import DataError


@dataclass
class Corpus:
    """Documents in file order; shards are contiguous index ranges over this order."""

    ids: list[str]
    titles: list[str]
    texts: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def window(self, start: int, end: int) -> Corpus:
        """Documents ``start..end`` (a shard's range)."""
        return Corpus(self.ids[start:end], self.titles[start:end], self.texts[start:end])


def require_documents(n_docs: int, where: str | Path) -> None:
    """The one empty-corpus check (loaders, hub data, a sweep's pre-flight and its jobs): a corpus without a
    document cannot be searched, and a run that went on would report scores of 0."""
    if n_docs == 0:
        raise DataError(f"{where}: the corpus is empty; check the corpus file or data.paths")


@dataclass
class RetrievalData:
    corpus: Corpus  # or evaluation.data._files.FileCorpus (ids only; texts read per window)
    queries: dict[str, str]  # qid -> text, in file order
    qrels: dict[str, dict[str, int]]  # qid -> {docid: relevance}


@dataclass
class PairScoreData:
    """STS-style pairs with a gold similarity score."""

    sentence1: list[str]
    sentence2: list[str]
    scores: list[float]


@dataclass
class ClassificationData:
    train_texts: list[str]
    train_labels: list[int]
    test_texts: list[str]
    test_labels: list[int]
    label_names: list[str] = field(default_factory=list)  # label id -> name


@dataclass
class BitextData:
    """Aligned sentences (Tatoeba: line i <-> line i) or a BUCC-style gold alignment."""

    sentence1: list[str]  # non-English side
    sentence2: list[str]  # English side
    gold: list[tuple[int, int]] | None = None  # (index in sentence1, index in sentence2); None = aligned by position
