"""What each input looks like, per protocol, prompt style, role and task type (read as examples)."""

from __future__ import annotations

import pytest

from evaluation.config import ModelConfig
from evaluation.errors import ConfigError
from evaluation.models.prompts import format_inputs, join_title_text, mteb_join_title_text, should_normalize

SMALL = ModelConfig(name="intfloat/multilingual-e5-small", prompt_style="query_passage")
INSTRUCT = ModelConfig(name="intfloat/multilingual-e5-large-instruct", prompt_style="instruction")
MINILM = ModelConfig(name="sentence-transformers/all-MiniLM-L6-v2", prompt_style="none")
MODELS = {"small": SMALL, "instruct": INSTRUCT, "minilm": MINILM}

WIKI = "Instruct: Given a question, retrieve Wikipedia passages that answer the question\nQuery: "
STS = "Instruct: Retrieve semantically similar text.\nQuery: "
BANKING = "Instruct: Given a online banking query, find the corresponding intents\nQuery: "
ASKUBUNTU = "Instruct: Retrieve duplicate questions from AskUbuntu forum\nQuery: "
SUMM = "Instruct: Given a news summary, retrieve other semantically similar summaries\nQuery: "
BITEXT = "Instruct: Retrieve parallel sentences.\nQuery: "
QUORA = "Instruct: Given a question, retrieve questions that are semantically equivalent to the given question\nQuery: "
TWEETS = "Instruct: Retrieve tweets that are semantically similar to the given tweet\nQuery: "
BIORXIV = "Instruct: Identify the main category of Biorxiv papers based on the titles\nQuery: "
GENERIC = "Instruct: Retrieve text based on user query.\nQuery: "

# (protocol, model, task, task type, role) -> prefix the text "x" gets
CASES = [
    # --- paper protocol, mE5 small/base/large: "query: " everywhere except retrieval documents
    ("paper", "small", "MIRACLRetrieval", "Retrieval", "query", "query: "),
    ("paper", "small", "MIRACLRetrieval", "Retrieval", "document", "passage: "),
    ("paper", "small", "MrTidyRetrieval", "Retrieval", "document", "passage: "),
    ("paper", "small", "QuoraRetrieval", "Retrieval", "document", "query: "),  # --doc-as-query
    ("paper", "small", "STS12", "STS", None, "query: "),
    ("paper", "small", "Banking77Classification", "Classification", None, "query: "),
    ("paper", "small", "BiorxivClusteringS2S", "Clustering", None, "query: "),
    ("paper", "small", "TwitterURLCorpus", "PairClassification", None, "query: "),
    ("paper", "small", "AskUbuntuDupQuestions", "Reranking", "query", "query: "),
    ("paper", "small", "AskUbuntuDupQuestions", "Reranking", "document", "query: "),
    ("paper", "small", "SummEval", "Summarization", None, "query: "),
    ("paper", "small", "Tatoeba", "BitextMining", None, "query: "),
    # --- paper protocol, large-instruct: the instruction on everything except retrieval documents
    ("paper", "instruct", "MIRACLRetrieval", "Retrieval", "query", WIKI),
    ("paper", "instruct", "MIRACLRetrieval", "Retrieval", "document", ""),
    ("paper", "instruct", "MrTidyRetrieval", "Retrieval", "query", WIKI),
    ("paper", "instruct", "QuoraRetrieval", "Retrieval", "query", QUORA),
    ("paper", "instruct", "QuoraRetrieval", "Retrieval", "document", ""),  # doc-as-query is query_passage only
    ("paper", "instruct", "STS12", "STS", None, STS),
    ("paper", "instruct", "Banking77Classification", "Classification", None, BANKING),
    ("paper", "instruct", "BiorxivClusteringS2S", "Clustering", None, BIORXIV),
    ("paper", "instruct", "TwitterURLCorpus", "PairClassification", None, TWEETS),
    ("paper", "instruct", "AskUbuntuDupQuestions", "Reranking", "query", ASKUBUNTU),
    ("paper", "instruct", "AskUbuntuDupQuestions", "Reranking", "document", ASKUBUNTU),
    ("paper", "instruct", "SummEval", "Summarization", None, SUMM),
    ("paper", "instruct", "BUCC", "BitextMining", None, BITEXT),
    # --- mteb protocol: prefixes only where mteb passes a prompt type (Retrieval, Reranking)
    ("mteb", "small", "MIRACLRetrieval", "Retrieval", "query", "query: "),
    ("mteb", "small", "MIRACLRetrieval", "Retrieval", "document", "passage: "),
    ("mteb", "small", "QuoraRetrieval", "Retrieval", "document", "passage: "),
    ("mteb", "small", "AskUbuntuDupQuestions", "Reranking", "document", "passage: "),
    ("mteb", "small", "STS12", "STS", None, ""),
    ("mteb", "small", "STS12", "STS", "query", ""),  # mteb's STS evaluator passes no prompt type
    ("mteb", "small", "Banking77Classification", "Classification", None, ""),
    ("mteb", "small", "SummEval", "Summarization", None, ""),
    ("mteb", "small", "Tatoeba", "BitextMining", None, ""),
    ("mteb", "instruct", "MIRACLRetrieval", "Retrieval", "query", WIKI),
    ("mteb", "instruct", "MIRACLRetrieval", "Retrieval", "document", ""),
    ("mteb", "instruct", "MrTidyRetrieval", "Retrieval", "query", GENERIC),  # mteb has no Mr.TyDi prompt
    ("mteb", "instruct", "AskUbuntuDupQuestions", "Reranking", "document", ""),
    ("mteb", "instruct", "SummEval", "Summarization", None, SUMM.replace("summaries\n", "summaries.\n")),
    ("mteb", "instruct", "STS12", "STS", None, STS),
    # --- all-MiniLM: never a prefix
    ("paper", "minilm", "MIRACLRetrieval", "Retrieval", "query", ""),
    ("paper", "minilm", "STS12", "STS", None, ""),
    ("mteb", "minilm", "MIRACLRetrieval", "Retrieval", "document", ""),
]


@pytest.mark.parametrize(("protocol", "model", "task_name", "task_type", "role", "prefix"), CASES)
def test_prefix(protocol, model, task_name, task_type, role, prefix):
    out = format_inputs(
        ["x", "y z"], role=role, task_name=task_name, task_type=task_type, model_cfg=MODELS[model], protocol=protocol
    )
    assert out == [prefix + "x", prefix + "y z"]


def test_custom_prefixes_and_template_are_used():
    cfg = ModelConfig(name="c", query_prefix="q> ", passage_prefix="p> ")
    assert format_inputs(
        ["x"], role="document", task_name="NQ", task_type="Retrieval", model_cfg=cfg, protocol="paper"
    ) == ["p> x"]
    cfg = ModelConfig(name="c", prompt_style="instruction", instruction_template="<{instruction}> {text} </s>")
    assert format_inputs(
        ["x"], role="query", task_name="NQ", task_type="Retrieval", model_cfg=cfg, protocol="paper"
    ) == ["<Given a question, retrieve Wikipedia passages that answer the question> x </s>"]


@pytest.mark.parametrize(
    ("task_type", "protocol", "normalize"),
    [
        ("Classification", "paper", False),  # "disable l2 normalize for classification tasks"
        ("Classification", "mteb", True),
        ("Retrieval", "paper", True),
        ("STS", "paper", True),
        ("Clustering", "paper", True),
        ("BitextMining", "paper", True),
    ],
)
def test_should_normalize(task_type, protocol, normalize):
    assert should_normalize(task_type, SMALL, protocol) is normalize


def test_normalize_false_in_config_wins():
    assert should_normalize("Retrieval", ModelConfig(name="c", normalize=False), "paper") is False


@pytest.mark.parametrize(
    ("title", "text", "joined"),
    [
        ("Paris", "is the capital of France.", "Paris is the capital of France."),
        ("", "no title", "no title"),
        (None, "none title", "none title"),
        ("  ", " padded ", "padded"),
        ("T", "", "T"),
    ],
)
def test_join_title_text(title, text, joined):
    assert join_title_text(title, text) == joined
    assert mteb_join_title_text(title, text) == joined


@pytest.mark.parametrize(("title", "text"), [("Paris", "text "), ("", " x"), ("  ", "y"), ("A", "")])
def test_mteb_join_equals_mteb_corpus_to_dict(title, text):
    from mteb._create_dataloaders import _corpus_to_dict

    assert mteb_join_title_text(title, text) == _corpus_to_dict({"id": "d", "title": title, "text": text})["text"]


def test_errors_name_the_choices():
    with pytest.raises(ConfigError, match="protocol='beir' is not one of paper, mteb"):
        format_inputs(["x"], role="query", task_name="NQ", task_type="Retrieval", model_cfg=SMALL, protocol="beir")
    with pytest.raises(ConfigError, match="prompt_style='e5'"):
        format_inputs(
            ["x"],
            role="query",
            task_name="NQ",
            task_type="Retrieval",
            model_cfg=ModelConfig(name="c", prompt_style="e5"),
            protocol="paper",
        )
    with pytest.raises(ConfigError, match="NoSuchTask"):
        format_inputs(
            ["x"], role="query", task_name="NoSuchTask", task_type="Retrieval", model_cfg=INSTRUCT, protocol="paper"
        )


def test_a_model_with_its_own_normalising_protocol_keeps_l2_for_classification():
    minilm_like = ModelConfig(name="m", prompt_style="none", normalize_classification=True)
    assert should_normalize("Classification", minilm_like, "paper") is True
    assert should_normalize("Classification", ModelConfig(name="m", normalize=False,
                                                           normalize_classification=True), "paper") is False
