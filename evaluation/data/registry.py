"""mteb task name (+ hf_subset + split) -> local loader and its files under ``data.root``.

``override`` (``data.paths.<Task>``) replaces the task's default location: the folder (or file) of its data;
for MIRACLRetrieval / MrTidyRetrieval, whose topics and qrels ship under data.root but whose corpus does not,
it is the CORPUS location: a folder with ``<lang>/corpus.jsonl[.gz]``, or a path containing ``{lang}``
(ISO code, e.g. ``/big/miracl/{lang}.jsonl.gz``). Relative overrides are taken relative to ``root``.
Mr.TyDi's ``corpus-sample/`` is a 4-passage test fixture, so it is never picked by default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.data import beir, bucc, classification, laser, sts, trec
from evaluation.data._files import count_lines, read_lines
from evaluation.errors import ConfigError, MissingDataError

MIRACL_LANGS = (
    "ar",
    "bn",
    "de",
    "en",
    "es",
    "fa",
    "fi",
    "fr",
    "hi",
    "id",
    "ja",
    "ko",
    "ru",
    "sw",
    "te",
    "th",
    "yo",
    "zh",
)
MRTYDI_LANGS = {  # mteb hf_subset -> ISO code used in the Mr.TyDi / anserini file names
    "arabic": "ar", "bengali": "bn", "english": "en", "finnish": "fi", "indonesian": "id", "japanese": "ja",
    "korean": "ko", "russian": "ru", "swahili": "sw", "telugu": "te", "thai": "th",
}  # fmt: skip
BUCC_PAIRS = ("de-en", "fr-en", "ru-en", "zh-en")
STS_YEARS = {"STS12": "STS12-en-test", "STS13": "STS13-en-test", "STS14": "STS14-en-test",
             "STS15": "STS15-en-test", "STS16": "STS16-en-test"}  # fmt: skip

Files = dict[str, list[Path]]  # role -> candidate paths, first existing wins


@dataclass(frozen=True)
class _Source:
    default: str  # location relative to data.root
    splits: tuple[str, ...]  # mteb eval split(s) the local files provide
    files: Callable[[Path, Path, str, str], Files]  # (root, base, subset, split) -> candidates per role
    load: Callable[[dict[str, Path], str, str], Any]
    count: Callable[[dict[str, Path], str, str], dict[str, int | None]]
    subsets: Callable[[Path, Path], list[str]] = lambda root, base: ["default"]
    optional: frozenset[str] = frozenset()  # roles that may be missing when only counting
    # retrieval sources: the same data with a FileCorpus (ids only, texts read per shard) instead of a Corpus
    load_lazy: Callable[[dict[str, Path], str, str], Any] | None = None
    corpus_id_key: str | None = None  # a JSONL corpus (role "corpus"): the key of its document ids


def _in(base: Path, *names: str) -> list[Path]:
    """A file given directly (override to the file itself) or looked for inside the folder ``base``."""
    return [base] if base.suffix in {".csv", ".tsv", ".txt", ".gz", ".jsonl"} else [base / n for n in names]


def _pairs_count(n: int) -> dict[str, int | None]:
    return {"queries": None, "documents": None, "texts": 2 * n}


def _sts_year(folder: str) -> _Source:
    # SentEval's top-level files are what mteb holds (see evaluation.data.sts); organiser folders load too.
    return _Source(
        default=f"sts/senteval/{folder}",
        splits=("test",),
        files=lambda root, base, subset, split: {"folder": [base]},
        # re-join clitics only in SentEval's tokenised top-level folders (named STSxx-en-test), never in originals
        load=lambda f, subset, split: sts.read_sts_year(f["folder"], rejoin=f["folder"].name.endswith("-en-test")),
        count=lambda f, subset, split: _pairs_count(sts.count_sts_year(f["folder"])),
    )


def _classification_count(data) -> dict[str, int | None]:
    return {"queries": None, "documents": None, "texts": len(data.train_texts) + len(data.test_texts)}


def _trec_source(kind: str, split: str, iso: Callable[[str], str], subsets: tuple[str, ...]) -> _Source:
    if kind == "miracl":
        topics, qrels = "miracl/topics/topics.miracl-v1.0-{l}-dev.tsv", "miracl/qrels/qrels.miracl-v1.0-{l}-dev.tsv"
    else:
        topics, qrels = (
            "mrtydi/topics/topics.mrtydi-v1.1-{l}.test.txt.gz",
            "mrtydi/qrels/qrels.mrtydi-v1.1-{l}.test.txt",
        )

    def files(root: Path, base: Path, subset: str, split: str) -> Files:
        lang = iso(subset)
        corpus = [Path(str(base).replace("{lang}", lang))] if "{lang}" in str(base) else [
            base / lang / "corpus.jsonl", base / lang / "corpus.jsonl.gz"]  # fmt: skip
        return {"topics": [root / topics.format(l=lang)], "qrels": [root / qrels.format(l=lang)], "corpus": corpus}

    def count(f: dict[str, Path], subset: str, split: str) -> dict[str, int | None]:
        c = trec.count_trec(f["topics"], f["qrels"], f.get("corpus"))
        texts = None if c["documents"] is None else c["queries"] + c["documents"]
        return {**c, "texts": texts}

    def local(root: Path, base: Path) -> list[str]:
        return [
            s for s in subsets if all(p[0].is_file() for r, p in files(root, base, s, split).items() if r != "corpus")
        ]

    return _Source(
        default=f"{kind}/corpus",
        splits=(split,),
        files=files,
        load=lambda f, subset, split: trec.read_trec_retrieval(f["topics"], f["qrels"], f["corpus"]),
        load_lazy=lambda f, subset, split: trec.read_trec_retrieval(f["topics"], f["qrels"], f["corpus"],
                                                                    lazy_corpus=True),
        count=count,
        subsets=local,
        optional=frozenset({"corpus"}),
        corpus_id_key="docid",
    )


def _tatoeba_subsets(root: Path, base: Path) -> list[str]:
    return [f"{lang}-eng" for lang in laser.tatoeba_languages(base)] if base.is_dir() else []


def _bucc_files(root: Path, base: Path, subset: str, split: str) -> Files:
    xx, stem = subset.split("-")[0], f"{subset}.training"
    # the official tarballs unpack to bucc2018/<pair>/; also accept the folder given directly
    dirs = [base / subset, base.parent / "bucc2018" / subset, base]
    return {ext: [d / f"{stem}.{ext}" for d in dirs] for ext in (xx, "en", "gold")}


def _bucc_load(f: dict[str, Path], subset: str, split: str):
    return bucc.read_bucc(f["gold"].parent, subset, "training")


def _bucc_count(f: dict[str, Path], subset: str, split: str) -> dict[str, int | None]:
    return {"queries": None, "documents": None, "texts": count_lines(f["gold"]) + count_lines(f["en"])}


def _bucc_subsets(root: Path, base: Path) -> list[str]:
    return [
        p for p in BUCC_PAIRS if all(any(c.is_file() for c in cs) for cs in _bucc_files(root, base, p, "test").values())
    ]


# Every MTEB(eng, v1) retrieval task is a BEIR dataset: its folder name in BEIR's downloads (and mteb's eval split).
BEIR_TASKS = {
    "ArguAna": ("arguana", "test"), "ClimateFEVER": ("climate-fever", "test"), "DBPedia": ("dbpedia-entity", "test"),
    "FEVER": ("fever", "test"), "FiQA2018": ("fiqa", "test"), "HotpotQA": ("hotpotqa", "test"),
    "MSMARCO": ("msmarco", "dev"), "NFCorpus": ("nfcorpus", "test"), "NQ": ("nq", "test"),
    "QuoraRetrieval": ("quora", "test"), "SCIDOCS": ("scidocs", "test"), "SciFact": ("scifact", "test"),
    "TRECCOVID": ("trec-covid", "test"), "Touche2020": ("webis-touche2020", "test"),
    **{f"CQADupstack{forum.capitalize()}Retrieval": (f"cqadupstack/{forum}", "test") for forum in (
        "android", "english", "gaming", "gis", "mathematica", "physics", "programmers", "stats", "tex", "unix",
        "webmasters", "wordpress")},
}  # fmt: skip


def _beir_source(folder: str, split: str) -> _Source:
    return _Source(
        default=f"beir/{folder}",
        splits=(split,),
        files=lambda root, base, subset, split: {
            "qrels": [base / "qrels" / f"{split}.tsv"],
            "queries": [base / "queries.jsonl", base / "queries.jsonl.gz"],
            "corpus": [base / "corpus.jsonl", base / "corpus.jsonl.gz"],
        },
        load=lambda f, subset, split: beir.read_beir(f["qrels"].parent.parent, split),
        load_lazy=lambda f, subset, split: beir.read_beir(f["qrels"].parent.parent, split, lazy_corpus=True),
        count=lambda f, subset, split: (lambda c: {**c, "texts": c["queries"] + c["documents"]})(
            beir.count_beir(f["qrels"].parent.parent, split)
        ),
        corpus_id_key="_id",
    )


SOURCES: dict[str, _Source] = {
    **{task: _sts_year(folder) for task, folder in STS_YEARS.items()},
    "STSBenchmark": _Source(
        default="sts/senteval/STSBenchmark/stsbenchmark",
        splits=("test",),
        files=lambda root, base, subset, split: {"file": _in(base, f"sts-{split}.csv")},
        load=lambda f, subset, split: sts.read_stsbenchmark(f["file"]),
        count=lambda f, subset, split: _pairs_count(sum(1 for line in read_lines(f["file"]) if line.strip())),
    ),
    "SICK-R": _Source(
        default="sts/dataset-sts/sick2014",
        splits=("test",),
        files=lambda root, base, subset, split: {n: [base / n] for n in sts.SICK_FILES},
        load=lambda f, subset, split: sts.read_sick(f[sts.SICK_FILES[0]].parent),
        count=lambda f, subset, split: _pairs_count(sum(count_lines(p) - 1 for p in f.values())),
    ),
    "Banking77Classification": _Source(
        default="classification/banking77",
        splits=("test",),
        files=lambda root, base, subset, split: {
            n: [base / n] for n in ("train.csv", f"{split}.csv", "categories.json")
        },
        load=lambda f, subset, split: classification.read_banking77(f["train.csv"].parent, split),
        count=lambda f, subset, split: _classification_count(
            classification.read_banking77(f["train.csv"].parent, split)
        ),
    ),
    "EmotionClassification": _Source(
        default="classification/emotion",
        splits=("test", "validation"),
        files=lambda root, base, subset, split: {
            s: [base / classification.EMOTION_FILES[s]] for s in dict.fromkeys(("train", split))
        },
        load=lambda f, subset, split: classification.read_emotion(f["train"].parent, split),
        count=lambda f, subset, split: {
            "queries": None,
            "documents": None,
            "texts": sum(count_lines(p) - 1 for p in f.values()),  # minus the header line
        },
    ),
    **{task: _beir_source(folder, split) for task, (folder, split) in BEIR_TASKS.items()},
    "Tatoeba": _Source(
        default="tatoeba/v1",
        splits=("test",),
        files=lambda root, base, subset, split: {
            side: [base / f"tatoeba.{subset.split('-')[0]}-eng.{side}"] for side in (subset.split("-")[0], "eng")
        },  # fmt: skip
        load=lambda f, subset, split: laser.read_tatoeba(f["eng"].parent, subset),
        count=lambda f, subset, split: _pairs_count(laser.count_tatoeba(f["eng"].parent, subset)),
        subsets=_tatoeba_subsets,
    ),
    "BUCC": _Source(
        default="bucc", splits=("test",), files=_bucc_files, load=_bucc_load, count=_bucc_count, subsets=_bucc_subsets
    ),
    "MIRACLRetrieval": _trec_source("miracl", "dev", lambda s: s, MIRACL_LANGS),
    "MrTidyRetrieval": _trec_source("mrtydi", "test", lambda s: MRTYDI_LANGS.get(s, s), tuple(MRTYDI_LANGS)),
}


def has_local_source(task_name: str) -> bool:
    return task_name in SOURCES


def _source(task_name: str) -> _Source:
    if task_name not in SOURCES:
        raise ConfigError(f"no local loader for task {task_name!r}; local loaders exist for: {', '.join(SOURCES)}")
    return SOURCES[task_name]


def _base(task_name: str, root: Path, override: str | Path | None) -> Path:
    if override is None:
        return Path(root) / _source(task_name).default
    path = Path(override).expanduser()
    return path if path.is_absolute() else Path(root) / path


def _check_split(task_name: str, split: str) -> None:
    splits = _source(task_name).splits
    if split not in splits:
        raise ConfigError(f"{task_name}: the local files provide split(s) {list(splits)}, not {split!r}")


def local_files(
    task_name: str,
    subset: str,
    split: str,
    root: Path,
    override: str | Path | None = None,
    *,
    optional_ok: bool = False,
) -> dict[str, Path]:
    """The files (or folders) a load would read, by role; a missing one raises MissingDataError naming every
    place looked at. With ``optional_ok``, optional roles (MIRACL/Mr.TyDi corpus) may be absent."""
    src = _source(task_name)
    _check_split(task_name, split)
    root = Path(root)
    found: dict[str, Path] = {}
    for role, candidates in src.files(root, _base(task_name, root, override), subset, split).items():
        hit = next((p for p in candidates if p.exists()), None)
        if hit is not None:
            found[role] = hit
        elif not (optional_ok and role in src.optional):
            hint = (
                f"Fix: set data.root (now {root}) to the folder holding the public data, "
                f"or data.paths.{task_name} to where this task's {'corpus' if role in src.optional else 'data'} lives."
            )
            raise MissingDataError(f"{task_name}/{subset} ({split}) {role}", candidates, hint)
    return found


def load_local(task_name: str, subset: str, split: str, root: Path, override: str | Path | None = None,
               lazy_corpus: bool = False) -> Any:
    """Load one (task, hf_subset, split) from local files into an evaluation.data.types object; ``lazy_corpus``:
    a retrieval corpus as a FileCorpus (ids in memory, texts read per shard window) where the format allows."""
    _check_subset(task_name, subset, root, override)
    src = _source(task_name)
    load = src.load_lazy if lazy_corpus and src.load_lazy else src.load
    return load(local_files(task_name, subset, split, root, override), subset, split)


def jsonl_corpus(task_name: str, subset: str, split: str, root: Path, override: str | Path | None = None
                 ) -> tuple[Path, str] | None:
    """(corpus file, id key) when the task's corpus is one local JSONL file (BEIR ``_id``, MIRACL / Mr.TyDi
    ``docid``), which can be read a shard window at a time (evaluation/data/jsonl_corpus.py); None otherwise."""
    id_key = _source(task_name).corpus_id_key
    if id_key is None:
        return None
    path = local_files(task_name, subset, split, root, override, optional_ok=True).get("corpus")
    if path is None or not path.is_file() or not path.name.endswith((".jsonl", ".jsonl.gz")):
        return None
    return path, id_key


def count_local(task_name: str, subset: str, split: str, root: Path, override: str | Path | None = None) -> dict:
    """Cheap sizes for planning: {queries, documents, texts}; None where unknown or not applicable
    (documents=None when a MIRACL / Mr.TyDi corpus is absent)."""
    _check_subset(task_name, subset, root, override)
    files = local_files(task_name, subset, split, root, override, optional_ok=True)
    return _source(task_name).count(files, subset, split)


def local_base(task_name: str, root: Path, override: str | Path | None = None) -> Path:
    """The folder (or file) a task's local data lives at: data.paths.<Task>, else its default under root."""
    return _base(task_name, Path(root), override)


def local_subsets(task_name: str, root: Path, override: str | Path | None = None) -> list[str]:
    """hf_subsets whose files are present (for MIRACL / Mr.TyDi: topics + qrels; the corpus is checked at load)."""
    return _source(task_name).subsets(Path(root), _base(task_name, Path(root), override))


def _check_subset(task_name: str, subset: str, root: Path, override: str | Path | None) -> None:
    known = {"MIRACLRetrieval": MIRACL_LANGS, "MrTidyRetrieval": tuple(MRTYDI_LANGS), "BUCC": BUCC_PAIRS}
    if task_name in known and subset not in known[task_name]:
        raise ConfigError(f"{task_name}: unknown hf_subset {subset!r}; expected one of {list(known[task_name])}")
    if task_name == "Tatoeba" and not subset.endswith("-eng"):
        raise ConfigError(f"Tatoeba: hf_subsets look like 'sqi-eng', got {subset!r}")
    if task_name not in known and task_name != "Tatoeba" and subset != "default":
        raise ConfigError(f"{task_name} has the single hf_subset 'default', got {subset!r}")
