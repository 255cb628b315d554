"""evaluation/data/types.py: a corpus window is a shard's documents; an empty corpus is one clear error."""

from __future__ import annotations

import pytest

from evaluation.data.types import Corpus, require_documents
from evaluation.errors import DataError


def test_a_window_is_a_range_of_documents_in_file_order():
    corpus = Corpus(["d0", "d1", "d2", "d3"], ["", "T1", "", ""], ["a", "b", "c", "d"])
    part = corpus.window(1, 3)
    assert (part.ids, part.titles, part.texts) == (["d1", "d2"], ["T1", ""], ["b", "c"])
    assert len(corpus) == 4 and len(part) == 2


def test_an_empty_corpus_names_where_it_came_from():
    require_documents(1, "SciFact/default")  # one document is enough
    with pytest.raises(DataError, match=r"^SciFact/default: the corpus is empty; check the corpus file or data.paths"):
        require_documents(0, "SciFact/default")
