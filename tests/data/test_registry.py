"""Registry: mteb task names / hf_subsets / splits -> local files, counts, and missing-data messages."""

from __future__ import annotations

import mteb
import pytest

from evaluation.data import registry
from evaluation.data.types import BitextData, ClassificationData, PairScoreData, RetrievalData
from evaluation.errors import ConfigError, DataError, MissingDataError


def test_known_tasks_match_mteb_names_splits_and_subsets():
    for name, source in registry.SOURCES.items():
        task = mteb.get_task(name)
        assert set(source.splits) >= set(task.metadata.eval_splits), name
    assert set(mteb.get_task("MIRACLRetrieval").metadata.hf_subsets) == set(registry.MIRACL_LANGS)
    assert set(mteb.get_task("MrTidyRetrieval").metadata.hf_subsets) == set(registry.MRTYDI_LANGS)
    assert set(mteb.get_task("BUCC").metadata.hf_subsets) == set(registry.BUCC_PAIRS)
    assert registry.has_local_source("SciFact") and not registry.has_local_source("ImdbClassification")


def test_local_subsets(data_root):
    assert len(registry.local_subsets("Tatoeba", data_root)) == 112
    assert registry.local_subsets("MIRACLRetrieval", data_root) == list(registry.MIRACL_LANGS)
    assert registry.local_subsets("MrTidyRetrieval", data_root) == list(registry.MRTYDI_LANGS)
    assert registry.local_subsets("BUCC", data_root) == []  # not shipped
    assert registry.local_subsets("STS12", data_root) == ["default"]


@pytest.mark.parametrize(
    ("task", "subset", "split", "cls", "texts"),
    [
        ("STS12", "default", "test", PairScoreData, 6216),
        ("STS13", "default", "test", PairScoreData, 3000),
        ("STS14", "default", "test", PairScoreData, 7500),
        ("STS15", "default", "test", PairScoreData, 6000),
        ("STS16", "default", "test", PairScoreData, 2372),
        ("STSBenchmark", "default", "test", PairScoreData, 2758),
        ("SICK-R", "default", "test", PairScoreData, 19854),
        ("Banking77Classification", "default", "test", ClassificationData, 13083),
        ("EmotionClassification", "default", "test", ClassificationData, 18000),
        ("Tatoeba", "amh-eng", "test", BitextData, 336),
        ("SciFact", "default", "test", RetrievalData, 5483),
    ],
)
def test_load_and_count_agree(data_root, task, subset, split, cls, texts):
    data = registry.load_local(task, subset, split, data_root)
    assert isinstance(data, cls)
    assert registry.count_local(task, subset, split, data_root)["texts"] == texts


def test_trec_counts_without_corpus_and_corpus_override(data_root):
    assert registry.count_local("MIRACLRetrieval", "sw", "dev", data_root) == {
        "queries": 482, "documents": None, "texts": None}  # fmt: skip
    sample = data_root / "mrtydi" / "corpus-sample"
    counts = registry.count_local("MrTidyRetrieval", "telugu", "test", data_root, override=sample)
    assert counts == {"queries": 646, "documents": 4, "texts": 650}
    # the {lang} override is followed: the 4-passage sample holds none of the judged passages, so the load refuses it
    # (every score would be 0)
    with pytest.raises(DataError, match=r"qrels.mrtydi-v1.1-te.test.txt: none of the 600 judged documents .* is in "
                                        r"the corpus .*/corpus-sample/te/corpus.jsonl.gz \(4 documents"):
        registry.load_local("MrTidyRetrieval", "telugu", "test", data_root,
                            override=f"{sample}/{{lang}}/corpus.jsonl.gz")


def test_missing_corpus_names_every_place_and_the_fix(data_root):
    with pytest.raises(MissingDataError) as err:
        registry.load_local("MIRACLRetrieval", "yo", "dev", data_root)
    msg = str(err.value)
    assert "miracl/corpus/yo/corpus.jsonl, " in msg and "miracl/corpus/yo/corpus.jsonl.gz" in msg and "\n" not in msg
    assert "data.root" in msg and "data.paths.MIRACLRetrieval" in msg


def test_missing_root_and_bucc(tmp_path):
    with pytest.raises(
        MissingDataError, match=r"STS12.*looked at: .*sts/senteval/STS12-en-test. Fix: .*data.paths.STS12"
    ):
        registry.load_local("STS12", "default", "test", tmp_path)
    with pytest.raises(MissingDataError, match=r"(?s)bucc/de-en/de-en.training.de.*bucc2018/de-en/de-en.training.de"):
        registry.load_local("BUCC", "de-en", "test", tmp_path)


def test_bucc_from_bucc2018_folder(tmp_path):
    folder = tmp_path / "bucc2018" / "fr-en"
    folder.mkdir(parents=True)
    (folder / "fr-en.training.fr").write_text("fr-1\tLe chat\n")
    (folder / "fr-en.training.en").write_text("en-1\tThe cat\nen-2\tA dog\n")
    (folder / "fr-en.training.gold").write_text("fr-1\ten-1\n")
    assert registry.local_subsets("BUCC", tmp_path) == ["fr-en"]
    assert registry.load_local("BUCC", "fr-en", "test", tmp_path).gold == [(0, 0)]
    assert registry.count_local("BUCC", "fr-en", "test", tmp_path)["texts"] == 3


def test_bad_names(data_root):
    with pytest.raises(ConfigError, match="no local loader for task 'ImdbClassification'"):
        registry.load_local("ImdbClassification", "default", "test", data_root)
    with pytest.raises(ConfigError, match="unknown hf_subset 'xx'"):
        registry.load_local("MIRACLRetrieval", "xx", "dev", data_root)
    with pytest.raises(ConfigError, match=r"provide split\(s\) \['dev'\], not 'test'"):
        registry.load_local("MIRACLRetrieval", "ar", "test", data_root)
    with pytest.raises(ConfigError, match="single hf_subset 'default'"):
        registry.load_local("STS12", "en", "test", data_root)
