"""The contracts every method and task plugin implements.

The core talks to plugins only through these classes and the hook specs in
`avtbench.hookspecs`. Nothing here imports torch at module level, so that the
CLI's `--help` and `table` stay light.
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Protocol, Sequence, TypeVar, Union

import numpy as np

if TYPE_CHECKING:
    import torch

    from avtbench.data.context import DataContext

MODALITIES: tuple[str, ...] = ("audio", "visual", "text")
MODALITY_LETTERS: dict[str, str] = {"a": "audio", "v": "visual", "t": "text"}

T = TypeVar("T")


class UserError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits with code 2."""


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


@dataclass
class Clips:
    """N clips of T one-second segments, with whichever modalities a dataset has.

    Feature level (`level="features"`, what most methods take):
    audio:  float32 [N, T, Da]            (VGGish-like, Da=128 on real data)
    visual: float32 [N, T, H, W, C]       (VGG19 pool5-like, 7x7x512 on real data)
    Raw level (`level="raw"`, for methods on pretrained backbones):
    audio:  float32 [N, T * 16000]        mono waveform at 16 kHz in [-1, 1]
    visual: uint8   [N, T, S, S, 3]       one RGB frame per segment
    Both levels:
    text:   one caption per clip, or None
    captions: every caption of each clip (several per clip where a dataset has them), or None
    labels: task-specific arrays, first axis N (e.g. "segment" [N, T, K+1] for AVE,
            "audio"/"visual" [N, K, T] 0/1 for AVVP, "events" [N, T, K] for the synthetic corpus)
    """

    ids: list[str]
    audio: np.ndarray | None = None
    visual: np.ndarray | None = None
    text: list[str] | None = None
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    class_names: list[str] = field(default_factory=list)
    captions: list[list[str]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def has(self, modality: str) -> bool:
        return getattr(self, modality) is not None

    def modality(self, modality: str) -> Any:
        data = getattr(self, modality)
        if data is None:
            raise UserError(f"these clips carry no {modality} data; pick a direction over modalities the dataset has")
        return data

    def caption_lists(self) -> list[list[str]]:
        """Every caption of each clip: `captions`, else each clip's `text` as its one caption, else []."""
        if self.captions is not None:
            return self.captions
        return [[t] for t in self.text] if self.text is not None else []

    def subset(self, index: Sequence[int] | np.ndarray) -> "Clips":
        index = np.asarray(index, dtype=np.int64)
        pick = lambda a: None if a is None else a[index]  # noqa: E731
        return Clips(
            ids=[self.ids[i] for i in index],
            audio=pick(self.audio),
            visual=pick(self.visual),
            text=None if self.text is None else [self.text[i] for i in index],
            labels={k: v[index] for k, v in self.labels.items()},
            class_names=list(self.class_names),
            captions=None if self.captions is None else [self.captions[i] for i in index],
        )


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


class Method(ABC):
    """A representation method: pretrained once on a corpus, then frozen and used to encode.

    Subclasses set the class attributes and implement `pretrain`, `encode`,
    `state_dict` and `load_state_dict`. Everything a plugin needs for its configuration
    goes into its `config_class` dataclass, whose fields are settable from YAML and
    `--set <name>.<field>=value`.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "0"
    modalities: ClassVar[tuple[str, ...]] = ("audio", "visual")
    config_class: ClassVar[type] = NoConfig
    corpus: ClassVar[str] = "corpus"
    """Name of the dataset the method pretrains on (resolved by the data context)."""
    input_level: ClassVar[str] = "features"
    """"features" (pre-extracted VGGish/VGG19-like features) or "raw" (waveforms, frames); see `Clips`."""
    summary: ClassVar[str] = ""
    status: ClassVar[str] = "working"

    def __init__(self, config: Any, device: str = "cpu", seed: int = 0) -> None:
        self.config = config
        self.device = device
        self.seed = seed

    @classmethod
    def modalities_for(cls, config: Any) -> tuple[str, ...]:
        """The modalities this method can encode under `config` (a method may pretrain on a subset)."""
        return cls.modalities

    @abstractmethod
    def pretrain(self, corpus: Clips, progress: Progress) -> dict[str, float]:
        """Train on the unlabeled corpus; return a few summary numbers (final losses) for the record."""

    @abstractmethod
    def encode(self, modality: str, batch: Batch) -> "torch.Tensor":
        """Map a batch of one modality to the shared space: float tensor [B, T, D]."""

    @abstractmethod
    def state_dict(self) -> dict[str, "torch.Tensor"]:
        """Everything needed to restore the pretrained method (tensors only: saved with safetensors)."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, "torch.Tensor"]) -> None: ...

    def encode_batch_size(self) -> int:
        return 64

    def plots(self) -> dict[str, Callable[[Path], Path]]:
        """Named plots of the pretrained method (for `avtbench plot NAME`): each writes a file and returns its path."""
        return {}


class Task(ABC):
    """A downstream task: trains a head on the source modality's frozen embeddings, tests on the target's."""

    name: ClassVar[str]
    version: ClassVar[str] = "0"
    directions: ClassVar[tuple[str, ...]] = ("a2v", "v2a")
    main_metric: ClassVar[str]
    lower_is_better: ClassVar[tuple[str, ...]] = ()
    """Metrics where smaller is better (e.g. ranks): tables mark their minimum as best."""
    datasets: ClassVar[tuple[str, ...]] = ()
    config_class: ClassVar[type] = NoConfig
    summary: ClassVar[str] = ""
    status: ClassVar[str] = "working"

    def __init__(self, config: Any) -> None:
        self.config = config

    @abstractmethod
    def splits(self, data: "DataContext") -> dict[str, Clips]:
        """Load the clips this task uses, by split name (e.g. "train", "test")."""

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        """(split, modality) pairs to encode; by default every split in both modalities of the direction."""
        return [(s, m) for s in splits for m in dict.fromkeys((direction.source, direction.target))]

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
        """Fit the head and return metrics; must include `main_metric`."""


def config_fields(config_class: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(config_class)}
