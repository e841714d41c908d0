"""The contracts every method, task and dataset plugin implements (plugin API version `API_VERSION`).

The core talks to plugins only through these classes and the hook specs in
`avtbench.hookspecs`. Nothing here imports torch at module level, so that the
CLI's `--help` and `table` stay light.

Lifecycle of a method, as the runner drives it:
1. plan time, for every cell before anything trains: `Method.validate(config)` raises `UserError`
   on a bad setting (the config dataclass itself was built from YAML / `--set` and type-checked);
2. `method = Cls(config, device=..., seed=..., cache_dir=...)`; `cache_dir` is the artifact cache
   (`--cache`), under which a method keeps the pretrained backbones it builds;
3. either `method.pretrain(corpus, workdir, progress)` on the unlabeled corpus (`workdir` is an
   empty scratch folder that is deleted afterwards) and then `method.save(directory)`, or, when the
   checkpoint is cached, `method.load(directory)`; or, when `Method.released_checkpoint(config)`
   names a file (a checkpoint its authors released), `method.load_released(path)` instead of both:
   nothing is pretrained, the file's sha256 is the checkpoint key (computed at plan time, where a
   missing file is a one-line error) and the embeddings are cached under it as usual;
4. `method.encode(modality, batch)` -> float tensor [B, T, D], in eval mode, for each split.

`save`/`load` write and read `MethodState`: tensors (safetensors, `tensors.safetensors`) plus a
JSON side file (`state.json`) for everything that is not a tensor (sizes, vocabularies, captions,
histories). A method that also keeps a pretrained backbone may override `save`/`load` to add its
`save_pretrained` folder (safetensors weights) under `directory`, calling the base class too.
Nothing is ever unpickled.

Streaming (plugin API 3): a corpus can be far larger than memory, so the arrays of `Clips` that a
reader returns are lazy `avtbench.data.rows.RowArray`s. A plugin of API 3 (`plugin_api = "3"`):
- reads rows in bounded batches: `clips.audio[rows]`, `clips.audio[a:b]`, or, for training,
  `avtbench.data.loader.batches(...)` (a torch DataLoader: workers, pinned memory on CUDA);
  never `np.asarray(clips.audio)` or another whole-array read;
- accumulates corpus statistics in streaming passes (`avtbench.data.moments.Moments`), and keeps
  per-clip derived data it needs again (features of every caption, say) in a .npy file under
  `workdir` (`avtbench.data.npyfile`: written and read by rows; not a `numpy.memmap`, whose touched
  pages count as resident memory), not in RAM;
- as a task, gets embeddings as read-only memory maps (`numpy.memmap`, an ndarray).
A plugin that states no API (API 2) runs unchanged: the core reads its corpus and splits into
memory first and says in one line that it does not stream.

Fine-tuning (optional, `avtbench.finetune`): a method may hand over a trainable copy of an encoder
(`Method.trainable_modalities`, `Method.trainable_encoder`), and a task may train it with its head
(`Task.finetuned_modalities`; `evaluate` then gets `encoders=`). Plugins that do neither run unchanged.

Cards (`avtbench.cards`, hook `avtbench_cards`): a plugin's entry-point module may hand over cards
instead of classes: `MethodCard(name=, target="pkg.method:MyMethod", version=, summary=, status=,
modalities=)`, `TaskCard(..., directions=, main_metric=, datasets=)`, `DatasetCard(name=, target=,
format=, splits=, classes=)`, `PlotCard(name=, target=, method=, summary=)`, `CommandCard(name=,
target=, summary=)`, `ConverterCard(name=, target=, dataset=, summary=)` (a `Converter`). `avtbench list` and `--help` read only the cards; the target is imported when
the method, task, ... is first used, and must then say what its card says (a mismatch is a one-line
error naming the field). A `Method` or `Task` class takes name, version, summary, status and its
modalities (directions, main metric, datasets) from its card when its body sets `card = CARD`, so
they are written once. Handing over classes (`avtbench_methods`, ...) still works; such a plugin is
imported whole at discovery.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Mapping, Protocol, TypeVar, Union

from avtbench.cards import FromCard
from avtbench.clips import Clips
from avtbench.errors import DamagedArtifact, UserError, saved_part
from avtbench.extraction import ExtractionLayout, ExtractJob
from avtbench.layout import ArrayFile, ClipFiles, SplitLayout
from avtbench.method_state import MethodState
from avtbench.synthetic_copy import CopyRequest, SyntheticCopy

if TYPE_CHECKING:
    import click
    import torch

    from avtbench.cards import MethodCard, TaskCard

API_VERSION = "3"
"""Version of the plugin API: 3 streams (the arrays of `Clips` are lazy `RowArray`s read by rows, and
embeddings reach tasks memory-mapped); 2 added `validate`, `pretrain(corpus, workdir, progress)`,
`MethodState` with `save`/`load`, `cache_dir`, declared `Dataset`s and `DatasetSource`s handed to
`Task.splits`. A class states its API in `plugin_api`; API 2 classes still run (see `Clips`)."""

MODALITY_LETTERS: dict[str, str] = {"a": "audio", "v": "visual", "t": "text"}
LEVELS: tuple[str, ...] = ("features", "raw")
"""Input levels a method reads: pre-extracted features, or raw waveforms and frames (see `Clips`)."""

T = TypeVar("T")

__all__ = ["DEFAULT_CORPUS", "SyntheticCopy", "CopyRequest", "API_VERSION", "UserError", "DamagedArtifact", "saved_part", "Direction", "Clips", "Method", "MethodState", "Task", "Dataset",
           "DatasetSource", "Progress", "SilentProgress", "NoConfig", "SplitLayout", "ClipFiles", "ArrayFile", "Converter", "ExtractionLayout", "ExtractJob"]


@dataclass(frozen=True)
class Direction:
    """A transfer direction: the head is trained on `source` and tested on `target`."""

    source: str
    target: str

    @classmethod
    def parse(cls, text: str) -> "Direction":
        parts = text.split("2")
        if len(parts) != 2 or any(p not in MODALITY_LETTERS for p in parts) or parts[0] == parts[1]:
            raise UserError(
                f"bad direction {text!r}: write <source>2<target> with letters a (audio), "
                "v (visual), t (text), e.g. v2a"
            )
        return cls(MODALITY_LETTERS[parts[0]], MODALITY_LETTERS[parts[1]])

    @property
    def name(self) -> str:
        return f"{self.source[0]}2{self.target[0]}"

    def __str__(self) -> str:
        return self.name


Batch = Union["torch.Tensor", list]
"""What `Method.encode` receives: a float tensor slice of `Clips.audio`/`Clips.visual`, or a list of captions."""

Embeddings = dict
"""(split, modality) -> float32 array [N, T, D] in the method's shared space."""


class Progress(Protocol):
    """Progress reporting handed to long-running plugin code (rich bars in the CLI, silent in tests)."""

    def track(self, iterable: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]: ...


class SilentProgress:
    def track(self, iterable: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        return iter(iterable)


@dataclass
class NoConfig:
    """Config of a plugin that has no options."""


DEFAULT_CORPUS = "corpus"
"""The dataset a method pretrains on unless it names another (`Method.corpus`): the one dataset name
the core knows, as the default of a contract."""


class Method(FromCard, ABC):
    """A representation method: pretrained once on a corpus, then frozen and used to encode.

    Subclasses set the class attributes and implement `pretrain`, `encode`, `state` and
    `load_state` (see the module docstring for the lifecycle). Everything a plugin needs for its
    configuration goes into its `config_class` dataclass, whose fields are settable from YAML and
    `--set <name>.<field>=value`.
    """

    card: ClassVar["MethodCard | None"] = None
    """Its card (`avtbench.cards.MethodCard`), from which name, version, summary, status and modalities are
    taken when the class body sets it; None: the class states them itself."""
    name: ClassVar[str]
    plugin_api: ClassVar[str | None] = None
    """The plugin API this class implements (`API_VERSION`); None means "2", the API before it could be stated."""
    version: ClassVar[str] = "0"
    modalities: ClassVar[tuple[str, ...]] = ("audio", "visual")
    config_class: ClassVar[type] = NoConfig
    corpus: ClassVar[str] = DEFAULT_CORPUS
    """Name of the dataset the method pretrains on (resolved like any task dataset)."""
    input_level: ClassVar[str] = "features"
    """"features" (pre-extracted VGGish/VGG19-like features) or "raw" (waveforms, frames); see `Clips`."""
    summary: ClassVar[str] = ""
    status: ClassVar[str] = "working"
    """One word or phrase of readiness ("working", "experimental"); measured standings go in the README."""

    def __init__(self, config: Any, device: str = "cpu", seed: int = 0, cache_dir: Path | None = None) -> None:
        self.config = config
        self.device = device
        self.seed = seed
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        """The artifact cache (`--cache`); pretrained backbones a method builds belong under it."""

    @classmethod
    def validate(cls, config: Any) -> None:
        """Raise `UserError` on a config this method cannot run; called at plan time for every cell."""

    @classmethod
    def modalities_for(cls, config: Any) -> tuple[str, ...]:
        """The modalities this method can encode under `config` (a method may pretrain on a subset)."""
        return cls.modalities

    @abstractmethod
    def pretrain(self, corpus: Clips, workdir: Path, progress: Progress) -> dict[str, float]:
        """Train on the unlabeled corpus; return a few summary numbers (final losses) for the record, and
        the training curve as `epoch<e>.<key>` entries (`avtbench.toolkit.epoch_stats`; the report draws them).

        `workdir` is an empty folder for scratch files, removed once the checkpoint is saved."""

    @abstractmethod
    def encode(self, modality: str, batch: Batch) -> "torch.Tensor":
        """Map a batch of one modality to the shared space: float tensor [B, T, D]."""

    @abstractmethod
    def state(self) -> MethodState:
        """Everything needed to restore the pretrained method: tensors plus JSON extras."""

    @abstractmethod
    def load_state(self, state: MethodState) -> None:
        """Restore what `state` returned (possibly in another process, on another device)."""

    @classmethod
    def released_checkpoint(cls, config: Any) -> str | None:
        """The path of a released checkpoint that `config` names (a `checkpoint` setting, say), to be
        evaluated as it is instead of pretraining this method; None (the default): pretrain on the corpus."""
        return None

    def load_released(self, path: Path) -> dict[str, float]:
        """Load the released checkpoint at `path` (what `released_checkpoint` named) into this instance,
        ready to `encode`; return a few summary numbers for the record (its `pretrain.stats`). Called
        instead of `pretrain` and `load`; a file of another layout is a one-line `UserError` naming the
        first key that does not fit. By default a method loads no released checkpoint."""
        raise UserError(f"method {self.name!r} loads no released checkpoints; drop the checkpoint setting to pretrain it")

    @classmethod
    def trainable_modalities(cls, config: Any) -> tuple[str, ...]:
        """The modalities whose encoder `trainable_encoder` hands over under `config`, read at plan time
        (a task asking to fine-tune another is a one-line error there). By default none."""
        return ()

    def trainable_encoder(self, modality: str) -> "torch.nn.Module | None":
        """A fresh trainable copy of the pretrained encoder of `modality`, on this method's device, for a task
        to train with its head: `module(batch)` takes a batch as `encode` takes it and returns, until
        trained, what `encode(modality, batch)` returns, with gradients to its parameters. A copy: training
        it changes neither this method nor its cached checkpoint. None (the default): no trainable encoder."""
        return None

    def save(self, directory: Path) -> None:
        self.state().save(directory)

    def load(self, directory: Path) -> None:
        self.load_state(MethodState.load(directory))

    def encode_batch_size(self) -> int:
        return 64


@dataclass(frozen=True)
class Dataset:
    """A dataset as plugins declare it (hook `avtbench_datasets`).

    name:    what tasks list in `Task.datasets` and users set roots for (`data.<name>_root`).
    format:  one line on the on-disk format a real root must hold.
    reader:  `reader(root, split, level, **options) -> Clips`; every bad file a `UserError`.
    splits:  the split names the reader accepts.
    class_names: the label vocabulary (empty for unlabeled data).
    descriptions: how prompts describe each class (default: the name in lower case).
    synthetic: how the synthetic world writes the dataset (`SyntheticCopy`: writer, sizes per world
             profile, the descriptions its captions use); a dataset that declares one runs with no data
             root, like the built-ins. None: only real roots.
    layout:  optional, `layout(root, split) -> SplitLayout` (`avtbench.layout`): the files a split reads,
             listed without reading them, for `avtbench data check`; None: it checks through the reader only.
    extraction: optional `ExtractionLayout` (`avtbench.extraction`): how `avtbench extract` writes it from videos.
    """

    name: str
    format: str
    reader: Callable[..., Clips]
    splits: tuple[str, ...] = ("all",)
    class_names: tuple[str, ...] = ()
    descriptions: Mapping[str, str] = field(default_factory=dict)
    synthetic: SyntheticCopy | None = None
    layout: Callable[[Path, str], SplitLayout] | None = None
    extraction: ExtractionLayout | None = None

    def __post_init__(self) -> None:
        if self.synthetic is not None and not isinstance(self.synthetic, SyntheticCopy):
            raise TypeError(f"dataset {self.name!r}: synthetic must be an avtbench.api.SyntheticCopy, got {self.synthetic!r}")

    def describe(self, class_name: str) -> str:
        return self.descriptions.get(class_name, class_name.lower())


@dataclass(frozen=True)
class Converter:
    """A command writing a declared dataset's on-disk format from files released in another layout:
    `avtbench convert <command name> ...` (card `avtbench.cards.ConverterCard`, whose target this is)."""

    dataset: str
    """The dataset whose format it writes (what `data.<dataset>_root` then points at)."""
    command: "click.Command"

    @property
    def name(self) -> str:
        return str(self.command.name)


# The contracts of `Dataset.synthetic`, `.layout`, `.extraction` live in their own modules, re-exported here.


@dataclass
class DatasetSource:
    """A dataset resolved for one run: where its files are and who made them. Tasks read only these."""

    dataset: Dataset
    root: Path
    level: str = "features"
    origin: str = "real"
    """"real", or the name of the provider that wrote the files (e.g. "synthetic world default/seed 0")."""
    descriptions: Mapping[str, str] = field(default_factory=dict)
    """Class descriptions of this copy (a provider describes its classes as its captions do)."""

    @property
    def name(self) -> str:
        return self.dataset.name

    def at_level(self, level: str) -> "DatasetSource":
        if level not in LEVELS:
            raise UserError(f"unknown input level {level!r}; a method's input_level is one of {', '.join(LEVELS)}")
        return DatasetSource(self.dataset, self.root, level, self.origin, self.descriptions)

    def describe(self, class_name: str) -> str:
        return self.descriptions.get(class_name) or self.dataset.describe(class_name)

    def read(self, split: str = "all", **options: Any) -> Clips:
        if split not in self.dataset.splits:
            raise UserError(f"dataset {self.name!r} has no split {split!r}; its splits: {', '.join(self.dataset.splits)}")
        clips = self.dataset.reader(self.root, split, level=self.level, **options)
        clips.descriptions = [self.describe(c) for c in clips.class_names]
        return clips


class Task(FromCard, ABC):
    """A downstream task: trains a head on the source modality's frozen embeddings, tests on the target's."""

    card: ClassVar["TaskCard | None"] = None
    """Its card (`avtbench.cards.TaskCard`), from which name, version, summary, status, directions, main
    metric and datasets are taken when the class body sets it; None: the class states them itself."""
    name: ClassVar[str]
    plugin_api: ClassVar[str | None] = None
    """The plugin API this class implements (`API_VERSION`); None means "2", the API before it could be stated."""
    version: ClassVar[str] = "0"
    directions: ClassVar[tuple[str, ...]] = ("a2v", "v2a")
    main_metric: ClassVar[str]
    lower_is_better: ClassVar[tuple[str, ...]] = ()
    """Metrics where smaller is better (e.g. ranks): tables mark their minimum as best."""
    datasets: ClassVar[tuple[str, ...]] = ()
    """The datasets `splits` reads: it is handed exactly these, so the cell hash covers them all."""
    config_class: ClassVar[type] = NoConfig
    summary: ClassVar[str] = ""
    status: ClassVar[str] = "working"

    def __init__(self, config: Any) -> None:
        self.config = config

    @classmethod
    def validate(cls, config: Any) -> None:
        """Raise `UserError` on a config this task cannot run; called at plan time."""

    @abstractmethod
    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        """Load the clips this task uses, by split name (e.g. "train", "test"), from its `datasets`."""

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        """(split, modality) pairs to encode; by default every split in both modalities of the direction."""
        return [(s, m) for s in splits for m in dict.fromkeys((direction.source, direction.target))]

    finetune_setting: ClassVar[str] = "finetune_encoder"
    """The setting that makes `finetuned_modalities` name any (what a plan-time error names)."""

    @classmethod
    def finetuned_modalities(cls, config: Any, direction: Direction) -> tuple[str, ...]:
        """The modalities whose encoder this task trains with its head under `config` (the method's
        `trainable_encoder` copies, handed to `evaluate` as `encoders={modality: module}`; `needs` should
        then leave those modalities out). By default none: the task reads frozen embeddings only."""
        return ()

    @abstractmethod
    def evaluate(
        self,
        embeddings: Embeddings,
        splits: dict[str, Clips],
        direction: Direction,
        seed: int,
        device: str,
        progress: Progress,
    ) -> dict[str, float]:
        """Fit the head and return metrics; must include `main_metric`. A task whose `finetuned_modalities`
        names any also takes `encoders` (keyword; read its clips through them, `avtbench.finetune.EncodedRows`).
        Per-class scores as `<metric>[<class name>]` (`avtbench.metrics.per_class`: the report's bars)."""

    def write_artifacts(self, folder: Path) -> list[Path]:
        """Files the last `evaluate` wants kept beside the cell's record (predicted masks, say):
        written into `folder` (empty; the runner publishes it as `<record>.artifacts/` once
        complete) and returned. By default none."""
        return []
