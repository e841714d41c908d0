"""The contract of a dataset's synthetic copy: how the synthetic world writes a dataset it has no files of.

A dataset plugin that can render itself from the synthetic world's events declares a `SyntheticCopy`
in its `Dataset` (`Dataset.synthetic`); the world (`avtbench.synth`) then writes it, in the dataset's
real on-disk format, wherever no real root is configured, so the dataset's own reader is the only
reader. Nothing here imports the world: a writer is handed the world in its `CopyRequest`.

Ids. Clip ids come from an id stream (`CopyRequest.ids`). A dataset that declares no `id_order` (any
new dataset) draws from a stream of its own, `stream_rng(seed, f"ids-{name}")`, so its ids, and hence
its bytes, never depend on which other datasets are installed. `id_order` exists for the datasets
whose bytes were fixed before datasets were plugins: they share one stream (`stream_rng(seed, "ids")`)
in ascending `id_order`, each taking `ids_drawn(sizes)` ids after those of the datasets before it,
whether or not those are written (the built-in datasets, plugins/datasets/, take 0 to 4). Two
datasets never declare the same `id_order`. Ids drawn from different streams are not checked
against each other (eleven characters of 64 symbols: a clash is not expected).

Other draws. A dataset named `name` draws its features from `stream_rng(seed, name)` and its raw level
from `stream_rng(seed, f"raw-{name}")` (`CopyRequest.rng`, `raw_rng`), and renders with the world of
(profile, seed, knobs). The cache keys a written copy by those and the generator version only: a
plugin that changes what its writer writes should take a new dataset name (or its users clear the
cache's synth/ folder).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Generic, Mapping, TypeVar

if TYPE_CHECKING:
    import numpy as np

S = TypeVar("S")
"""A dataset's own sizes (clip counts, splits, frame size...), one value per world profile."""


@dataclass(frozen=True)
class CopyRequest(Generic[S]):
    """What the synthetic world hands a dataset's writer.

    folder:  where to write the dataset (created by the writer); the raw level goes under folder/raw.
    world:   the world's generative model (`avtbench.synth.model.World`: its sizes, knobs, renderers).
    sizes:   the dataset's own sizes in the profile being written (`SyntheticCopy.sizes_for`).
    ids:     a new unique clip id per call (see the module docstring for which stream).
    rng:     the dataset's feature-level generator; every feature-level draw comes from it.
    raw_rng: the raw level's generator, or None when the raw level is not wanted. The raw level must
             draw only from it, so that the feature level is the same with or without it.
    """

    folder: Path
    world: Any
    sizes: S
    ids: Callable[[], str]
    rng: "np.random.Generator"
    raw_rng: "np.random.Generator | None" = None

    @property
    def raw_level(self) -> bool:
        return self.raw_rng is not None


@dataclass(frozen=True)
class SyntheticCopy(Generic[S]):
    """How the synthetic world writes a dataset (`Dataset.synthetic`); see the module docstring.

    write:         `write(request)` writes the dataset into `request.folder`, deterministically from
                   the request's generators and ids.
    default_sizes: the dataset's sizes in a profile `sizes` does not list.
    sizes:         profile name -> the dataset's sizes in that profile (`tiny` for tests, `paper` at
                   the real sizes, ...).
    descriptions:  how the world's captions phrase each class of the copy ("a dog barking"): what a
                   `DatasetSource` of the copy describes its classes by.
    id_order:      place in the shared id stream, for the datasets whose bytes predate this contract;
                   None (the default, for any new dataset): ids from the dataset's own stream.
    ids_drawn:     how many ids `write` draws given its sizes; required with `id_order`, so that the
                   datasets after it can skip them.
    """

    write: Callable[[CopyRequest[S]], None]
    default_sizes: S
    sizes: Mapping[str, S] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    id_order: int | None = None
    ids_drawn: Callable[[S], int] | None = None

    def __post_init__(self) -> None:
        if not callable(self.write):
            raise TypeError(f"SyntheticCopy.write must be callable, got {self.write!r}")
        if self.id_order is not None and self.ids_drawn is None:
            raise TypeError("a SyntheticCopy with an id_order must say how many ids it draws (ids_drawn)")

    def sizes_for(self, profile: str) -> S:
        """The dataset's sizes in world profile `profile`."""
        return self.sizes.get(profile, self.default_sizes)
