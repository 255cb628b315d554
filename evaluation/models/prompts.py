"""What text each input gets before tokenisation, under the authors' protocol or mteb's.

Pure functions of (texts, role, task, model config, protocol); the encoder only calls them.

protocol "paper" (the authors' evaluation code, https://github.com/microsoft/unilm/tree/master/e5:
  mteb_beir_eval.py, mteb_except_retrieval_eval.py, utils.py; the paper, arXiv 2402.05672):
  query_passage: "query: " on queries and on every text of non-retrieval tasks (issue unilm#1325: "For MTEB
                 evaluation (except its BEIR subset), we simply prepend 'query: ' to all texts"), including both
                 sides of Reranking; "passage: " on retrieval documents, except QuoraRetrieval whose documents
                 are questions (mteb_beir_eval.py `--doc-as-query`).
  instruction:   the task instruction on queries and on every text of non-retrieval tasks; retrieval documents
                 get nothing ("no need to add prefix for instruct models"), Quora included (doc-as-query is
                 only set for query_or_passage models).
protocol "mteb" (mteb 2.26 registry: e5_models.py / e5_instruct.py): only what mteb itself adds, see
  `_mteb_prefix`. mteb passes a prompt type only for Retrieval/Reranking, so "query: "/"passage: " appear there
  alone, and the instruct model gets mteb's own instruction (TaskMetadata.prompt, else the abstask default).
prompt_style "none" (all-MiniLM): no prefix under either protocol.
prompt_style "named" (a sentence-transformers checkpoint's own prompts, models/st.py): under either protocol, the
  prompt mteb's SentenceTransformerEncoderWrapper picks from model.prompts (`_named_prefix`), else the checkpoint's
  default prompt, as sentence-transformers applies it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from evaluation.errors import ConfigError
from evaluation.models.instructions import instruction_for
from evaluation.suites import mteb_task
from evaluation.validation import PROMPT_STYLES, PROTOCOLS, check_choice

if TYPE_CHECKING:
    from evaluation.config import ModelConfig

Role = Literal["query", "document"]

# Retrieval tasks whose documents the authors encode as queries (symmetric question-question retrieval).
DOC_AS_QUERY_TASKS = frozenset({"QuoraRetrieval"})
# Task types whose mteb evaluators pass prompt_type (AbsTaskRetrieval); all others pass None
# (STS/PairClassification have input*_prompt_type=None for every task we evaluate).
MTEB_PROMPT_TYPED_TASK_TYPES = frozenset({"Retrieval", "Reranking"})


def format_inputs(
    texts: list[str],
    *,
    role: Role | None,
    task_name: str,
    task_type: str,
    model_cfg: ModelConfig,
    protocol: str,
) -> list[str]:
    """The model input for each text. role None = mteb gave no prompt type (a symmetric task)."""
    check_choice("protocol", protocol, PROTOCOLS)
    check_choice("model.prompt_style", model_cfg.prompt_style, PROMPT_STYLES)
    if model_cfg.prompt_style == "none":
        return list(texts)
    if model_cfg.prompt_style == "named":
        prefix = _named_prefix(role, task_name, task_type, model_cfg)
    elif protocol == "paper":
        prefix = _paper_prefix(role, task_name, task_type, model_cfg)
    else:
        prefix = _mteb_prefix(role, task_name, task_type, model_cfg)
    if prefix is None:
        return list(texts)
    if model_cfg.prompt_style == "instruction":
        return [model_cfg.instruction_template.format(instruction=prefix, text=t) for t in texts]
    return [prefix + t for t in texts]


def should_normalize(task_type: str, model_cfg: ModelConfig, protocol: str) -> bool:
    """L2-normalise, except Classification under the paper protocol (unless the model config keeps it).

    unilm mteb_except_retrieval_eval.py: "disable l2 normalize for classification tasks, as it achieves
    slightly better results". mteb's sentence-transformers path keeps the checkpoint's Normalize module, and so
    does a model whose own protocol normalises (model.normalize_classification=true, e.g. all-MiniLM).
    """
    check_choice("protocol", protocol, PROTOCOLS)
    if protocol == "paper" and task_type == "Classification":
        return model_cfg.normalize and model_cfg.normalize_classification
    return model_cfg.normalize


def join_title_text(title: str | None, text: str) -> str:
    """The authors' corpus text, `'{} {}'.format(doc.get('title', ''), doc['text']).strip()`.

    unilm e5/mteb_beir_eval.py `encode_corpus`; used for MIRACL / Mr.TyDi, which have no released script.
    A None title counts as "" (the authors' `.get` would print "None" for an explicit None).
    """
    return "{} {}".format(title or "", text).strip()


def mteb_join_title_text(title: str | None, text: str) -> str:
    """mteb's corpus text (mteb/_create_dataloaders.py `_corpus_to_dict`), for tasks run through mteb.

    Equal to `join_title_text` for every str title; kept separate so a change in mteb is caught by a test.
    """
    if title is not None and len(title) > 0:
        return (title + " " + text).strip()
    return text.strip()


def _paper_prefix(role: Role | None, task_name: str, task_type: str, model_cfg: ModelConfig) -> str | None:
    """Prefix (query_passage) or instruction (instruction style) under the authors' protocol; None = none."""
    is_document = task_type == "Retrieval" and role == "document"
    if model_cfg.prompt_style == "instruction":
        return None if is_document else instruction_for(task_name, task_type)
    if is_document and task_name not in DOC_AS_QUERY_TASKS:
        return model_cfg.passage_prefix
    return model_cfg.query_prefix


def _mteb_prefix(role: Role | None, task_name: str, task_type: str, model_cfg: ModelConfig) -> str | None:
    """What mteb 2.x adds for the registry's e5 entries.

    query_passage: SentenceTransformerEncoderWrapper(model_prompts={"query": "query: ", "document": "passage: "})
      resolves the prompt with mteb's `get_prompt`; no prompt type -> no prompt (the issue mteb#2400).
    instruction: InstructSentenceTransformerModel(instruction_template="Instruct: {instruction}\\nQuery: ",
      apply_instruction_to_passages=False): mteb's `get_task_instruction`; documents get none.
    """
    from mteb.models.abs_encoder import get_prompt
    from mteb.types import PromptType

    if role is None and task_type in MTEB_PROMPT_TYPED_TASK_TYPES:
        raise ConfigError(f"{task_name} ({task_type}) needs role 'query' or 'document' under protocol=mteb")
    prompt_type = PromptType(role) if role and task_type in MTEB_PROMPT_TYPED_TASK_TYPES else None
    metadata = _mteb_task_metadata(task_name)
    if model_cfg.prompt_style == "instruction":
        if prompt_type == PromptType.document:
            return None
        instruction = _mteb_instruction_resolver().get_instruction(metadata, prompt_type)
        return instruction or None  # mteb formats the template only for a non-empty instruction
    prompts = {PromptType.query.value: model_cfg.query_prefix, PromptType.document.value: model_cfg.passage_prefix}
    return get_prompt(prompts, metadata, prompt_type)


def _named_prefix(role: Role | None, task_name: str, task_type: str, model_cfg: ModelConfig) -> str | None:
    """mteb's choice among a SentenceTransformer's prompts (sentence_transformer_wrapper.py `_resolve_prompt`: task
    name + type, task name, task type + type, task type, prompt type), else its default prompt (sentence-transformers
    applies default_prompt_name when no prompt is given)."""
    default = model_cfg.prompts.get(model_cfg.default_prompt_name or "") or None
    if not model_cfg.prompts:
        return default
    from mteb.models.abs_encoder import get_prompt
    from mteb.types import PromptType

    prompt_type = PromptType(role) if role and task_type in MTEB_PROMPT_TYPED_TASK_TYPES else None
    return get_prompt(model_cfg.prompts, _mteb_task_metadata(task_name), prompt_type) or default


def _mteb_task_metadata(task_name: str):
    try:
        return mteb_task(task_name).metadata
    except ConfigError as e:  # say which setting asked for an mteb task
        raise ConfigError(
            f"protocol=mteb needs an mteb task, and mteb has no task {task_name!r}; use protocol=paper"
        ) from e


@lru_cache(maxsize=1)
def _mteb_instruction_resolver():
    """mteb's own instruction lookup (AbsEncoder.get_instruction), as e5_instruct runs it: no prompts_dict,
    default priority (task metadata prompt, else the abstask default)."""
    from mteb.models.abs_encoder import AbsEncoder

    class _Resolver(AbsEncoder):
        def encode(self, *args, **kwargs):
            raise NotImplementedError("instruction lookup only")

    return _Resolver()

