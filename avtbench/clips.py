"""`Clips`: what a reader hands out and a method or task reads (re-exported by `avtbench.api`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from avtbench.errors import UserError


@dataclass
class Clips:
    """N clips of T one-second segments, with whichever modalities a dataset has.

    Feature level (`level="features"`, what most methods take):
    audio:  float32 [N, T, Da]            (VGGish-like, Da=128 on real data)
    visual: float32 [N, T, H, W, C]       (VGG19 pool5-like, 7x7x512 on real data)
    Raw level (`level="raw"`, for methods on pretrained backbones):
    audio:  float32 [N, T * 16000]        mono waveform at 16 kHz in [-1, 1]
    visual: uint8   [N, T, S, S, 3]       one RGB frame per segment
    Plugin API 3: audio, visual and labels may be lazy `RowArray`s (shape, dtype, len and indexing
    by rows as numpy arrays have; rows are read on indexing; `np.asarray` reads all): index them in
    batches. `subset` keeps them lazy; `materialized` reads them into memory.
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
    descriptions: list[str] = field(default_factory=list)
    """How captions and prompts describe each of `class_names` (filled from the dataset's declaration
    or its provider when read through a `DatasetSource`; empty when unknown)."""

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
        """The clips at `index`; lazy arrays stay lazy (nothing is read)."""
        index = np.asarray(index, dtype=np.int64)
        pick = lambda a: None if a is None else a.take(index) if _lazy(a) else a[index]  # noqa: E731
        return Clips(
            ids=[self.ids[i] for i in index],
            audio=pick(self.audio),
            visual=pick(self.visual),
            text=None if self.text is None else [self.text[i] for i in index],
            labels={k: pick(v) for k, v in self.labels.items()},
            class_names=list(self.class_names),
            captions=None if self.captions is None else [self.captions[i] for i in index],
            descriptions=list(self.descriptions),
        )

    def materialized(self) -> "Clips":
        """These clips with every lazy array read into memory (what an API 2 plugin is handed)."""
        read = lambda a: np.asarray(a) if _lazy(a) else a  # noqa: E731
        return Clips(ids=self.ids, audio=read(self.audio), visual=read(self.visual), text=self.text,
                     labels={k: read(v) for k, v in self.labels.items()}, class_names=self.class_names,
                     captions=self.captions, descriptions=self.descriptions)

    def is_lazy(self) -> bool:
        return any(_lazy(a) for a in (self.audio, self.visual, *self.labels.values()))


def _lazy(array: Any) -> bool:
    """A RowArray (duck-typed, so that api.py does not import avtbench.data)."""
    return hasattr(array, "take") and hasattr(array, "read") and not isinstance(array, np.ndarray)
