"""Put local data into an mteb task exactly as mteb's own load_data + dataset_transform leave it.

After ``attach_local_data`` the task evaluates with mteb's own evaluators (``task.evaluate`` /
``mteb.evaluate``), so scores equal mteb's on its HF copies whenever the data are the same. Layouts
(mteb 2.26, read from mteb/abstasks/*.py and the task classes):

- STS: ``DatasetDict({split: Dataset(sentence1, sentence2, score)})`` (monolingual: load_dataset's result);
  mteb rescales ``score`` by the task's min/max itself.
- Classification: ``DatasetDict({"train": Dataset(text, label), split: ...})``. mteb never trains on all of
  ``train``: for each of ``n_experiments`` (10) it shuffles the row indices with ``RandomState(task.seed)``
  and keeps the first ``samples_per_label`` rows of every label (8 for Banking77, 16 for Emotion), fits a
  LogisticRegression and reports the mean. Row order and label ids therefore must match mteb's copy
  (our loaders keep file order and mteb's ids).
- BitextMining: Tatoeba ``{subset: DatasetDict({split: Dataset(sentence1, sentence2)})}``; BUCC: mteb's
  ``BUCCBitextMining.dataset_transform`` output, plain dicts ``{"sentence1": gold xx sentences (one per gold
  pair, in gold order), "sentence2": every English sentence, "gold": [(i, j)] 0-based}``.
- Retrieval: ``{subset: {split: RetrievalSplitData(corpus=Dataset(id, title, text), queries=Dataset(id, text),
  relevant_docs={qid: {docid: grade}}, top_ranked=None)}}``, subset ``"default"`` for monolingual tasks.
"""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict

from evaluation.data.types import BitextData, ClassificationData, PairScoreData, RetrievalData
from evaluation.errors import ConfigError


def _expect(task_name: str, subset: str, data: Any, cls: type) -> None:
    if not isinstance(data, cls):
        raise ConfigError(
            f"{task_name}/{subset}: expected {cls.__name__} for this task type, got {type(data).__name__}"
        )


def sts_dataset(data: PairScoreData, split: str) -> DatasetDict:
    return DatasetDict(
        {split: Dataset.from_dict({"sentence1": data.sentence1, "sentence2": data.sentence2, "score": data.scores})}
    )


def classification_dataset(data: ClassificationData, split: str, train_split: str = "train") -> DatasetDict:
    if split == train_split:
        raise ConfigError(f"cannot evaluate on the classifier's training split {train_split!r}")
    return DatasetDict(
        {
            train_split: Dataset.from_dict({"text": data.train_texts, "label": data.train_labels}),
            split: Dataset.from_dict({"text": data.test_texts, "label": data.test_labels}),
        }
    )


def bitext_dataset(data: BitextData, split: str) -> DatasetDict | dict[str, dict[str, Any]]:
    if data.gold is None:  # Tatoeba: aligned by position
        return DatasetDict({split: Dataset.from_dict({"sentence1": data.sentence1, "sentence2": data.sentence2})})
    # BUCC: replicate mteb's dataset_transform (queries = the xx side of each gold pair, in gold order)
    return {
        split: {
            "sentence1": [data.sentence1[i] for i, _ in data.gold],
            "sentence2": list(data.sentence2),
            "gold": [(i, j) for i, j in data.gold],
        }
    }


def retrieval_split(data: RetrievalData) -> dict[str, Any]:
    corpus = Dataset.from_dict({"id": data.corpus.ids, "title": data.corpus.titles, "text": data.corpus.texts})
    queries = Dataset.from_dict({"id": list(data.queries), "text": list(data.queries.values())})
    relevant = {qid: dict(docs) for qid, docs in data.qrels.items()}
    # RetrievalSplitData is a TypedDict: a plain dict with these keys is what mteb's loader returns.
    return {"corpus": corpus, "queries": queries, "relevant_docs": relevant, "top_ranked": None}


_BUILDERS = {
    "STS": (PairScoreData, lambda task, d, split: sts_dataset(d, split)),
    "Classification": (ClassificationData, lambda task, d, split: classification_dataset(d, split, task.train_split)),
    "BitextMining": (BitextData, lambda task, d, split: bitext_dataset(d, split)),
    "Retrieval": (RetrievalData, lambda task, d, split: {split: retrieval_split(d)}),
}


def attach_local_data(task: Any, data_by_subset: dict[str, Any], split: str) -> Any:
    """Set ``task.dataset`` from {hf_subset: types.* object} for one eval split; returns the task.

    ``task.hf_subsets`` is restricted to the given subsets (in mteb's order) and ``task.data_loaded`` set,
    so mteb will not download anything.
    """
    name, task_type = task.metadata.name, task.metadata.type
    if task_type not in _BUILDERS:
        raise ConfigError(f"{name}: task type {task_type!r} has no local-data bridge (supported: {list(_BUILDERS)})")
    if not data_by_subset:
        raise ConfigError(f"{name}: no local data given")
    known = list(task.metadata.hf_subsets)
    unknown = [s for s in data_by_subset if s not in known]
    if unknown:
        raise ConfigError(
            f"{name}: unknown hf_subset(s) {unknown}; mteb's are {known[:10]}{' ...' if len(known) > 10 else ''}"
        )
    cls, build = _BUILDERS[task_type]
    built = {}
    for subset, data in data_by_subset.items():
        _expect(name, subset, data, cls)
        built[subset] = build(task, data, split)
    if task_type != "Retrieval" and not task.metadata.is_multilingual:
        # monolingual non-retrieval tasks: mteb keeps load_dataset's DatasetDict itself (no subset level)
        task.dataset = built["default"]
    else:
        task.dataset = built
    task.hf_subsets = [s for s in known if s in data_by_subset]
    task.data_loaded = True
    return task
