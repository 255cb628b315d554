"""protocol=mteb reproduces what mteb's own wrappers feed the model, checked by running those wrappers.

mteb's registry loads mE5 with SentenceTransformerEncoderWrapper(model_prompts=...) and large-instruct with
InstructSentenceTransformerModel(...). Both are run here on all-MiniLM (the weights do not matter) with the
registry's loader kwargs, recording the exact strings sentence-transformers tokenises.
"""

from __future__ import annotations

import pytest

from evaluation.config import ModelConfig
from evaluation.models.prompts import format_inputs

TEXTS = ["short text", "a somewhat longer second text"]

CASES = [  # (task, role); role None = mteb passes no prompt type
    ("STS12", None),
    ("Banking77Classification", None),
    ("BiorxivClusteringS2S", None),
    ("TwitterURLCorpus", None),
    ("SummEval", None),
    ("BUCC", None),
    ("AskUbuntuDupQuestions", "query"),
    ("AskUbuntuDupQuestions", "document"),
    ("QuoraRetrieval", "query"),
    ("QuoraRetrieval", "document"),
    ("MIRACLRetrieval", "query"),
    ("MIRACLRetrieval", "document"),
    ("MrTidyRetrieval", "query"),
    ("CQADupstackGisRetrieval", "query"),
]


def _record_inputs(st_model) -> list[str]:
    """Make the SentenceTransformer record each text as it is tokenised (prompt included)."""
    seen: list[str] = []
    module = st_model[0]
    original = module.preprocess

    def preprocess(inputs, prompt=None, **kwargs):
        texts = list(inputs)
        seen.extend(module.input_formatter.prepend_prompt_to_texts(texts, prompt) if prompt else texts)
        return original(inputs, prompt=prompt, **kwargs)

    module.preprocess = preprocess
    return seen


def _run(wrapper, seen: list[str], task: str, role: str | None) -> list[str]:
    import mteb
    from datasets import Dataset
    from mteb.types import PromptType
    from torch.utils.data import DataLoader

    seen.clear()
    loader = DataLoader(Dataset.from_dict({"text": TEXTS}), batch_size=2)
    wrapper.encode(
        loader,
        task_metadata=mteb.get_task(task).metadata,
        hf_split="test",
        hf_subset="default",
        prompt_type=PromptType(role) if role else None,
        batch_size=2,
        show_progress_bar=False,
    )
    # sentence-transformers also tokenises a prompt alone (to know its length for pooling); skip that.
    return sorted(s for s in seen if s.endswith(tuple(TEXTS)))


@pytest.fixture(scope="module")
def e5_wrapper(minilm_dir):
    import mteb
    from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper
    from sentence_transformers import SentenceTransformer

    kwargs = mteb.get_model_meta("intfloat/multilingual-e5-small").loader_kwargs
    wrapper = SentenceTransformerEncoderWrapper(SentenceTransformer(str(minilm_dir), device="cpu"), **kwargs)
    return wrapper, _record_inputs(wrapper.model)


@pytest.fixture(scope="module")
def instruct_wrapper(minilm_dir):
    import mteb
    from mteb.models.instruct_wrapper import InstructSentenceTransformerModel

    kwargs = dict(mteb.get_model_meta("intfloat/multilingual-e5-large-instruct").loader_kwargs)
    kwargs.pop("model_kwargs")  # fp16 weights: irrelevant to the text, and slow on CPU
    wrapper = InstructSentenceTransformerModel(str(minilm_dir), revision=None, device="cpu", **kwargs)
    return wrapper, _record_inputs(wrapper.model)


@pytest.mark.parametrize(("task", "role"), CASES)
def test_query_passage_matches_mteb(e5_wrapper, task, role):
    ours = _ours(task, role, ModelConfig(name="m", prompt_style="query_passage"))
    assert _run(*e5_wrapper, task, role) == ours


@pytest.mark.parametrize(("task", "role"), CASES)
def test_instruction_matches_mteb(instruct_wrapper, task, role):
    ours = _ours(task, role, ModelConfig(name="m", prompt_style="instruction"))
    assert _run(*instruct_wrapper, task, role) == ours


def _ours(task: str, role: str | None, cfg: ModelConfig) -> list[str]:
    import mteb

    task_type = mteb.get_task(task).metadata.type
    return sorted(format_inputs(TEXTS, role=role, task_name=task, task_type=task_type, model_cfg=cfg, protocol="mteb"))
