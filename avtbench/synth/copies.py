"""The datasets the synthetic world writes: every declared dataset with a synthetic copy.

The world names no dataset: it is handed the declared datasets (the plan passes the plugin registry's)
and writes those whose declaration carries a `SyntheticCopy`, each through its own writer. Library
callers that pass none get the installed plugins' datasets.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from avtbench.api import CopyRequest, Dataset, SyntheticCopy, UserError
from avtbench.synth.events import stream_rng
from avtbench.synth.model import World
from avtbench.synth.profiles import ProfileSizes
from avtbench.synth.writing import IdMaker

SHARED_IDS = "ids"
"""The id stream the datasets with an `id_order` share (see `avtbench.synthetic_copy`)."""


@dataclass(frozen=True)
class WorldDatasets:
    """Synthetic copies by dataset name, in writing order: those sharing the id stream by `id_order`,
    then the others by name."""

    copies: Mapping[str, SyntheticCopy]

    @classmethod
    def of(cls, datasets: Mapping[str, Dataset] | Iterable[Dataset]) -> "WorldDatasets":
        """The copies of `datasets` (a registry's mapping, or declarations); an `id_order` declared
        twice is an error."""
        declared = list(datasets.values()) if isinstance(datasets, Mapping) else list(datasets)
        copies = {d.name: d.synthetic for d in declared if d.synthetic is not None}
        _check_orders(copies)
        ordered = sorted(copies, key=lambda n: (copies[n].id_order is None, copies[n].id_order or 0, n))
        return cls({name: copies[name] for name in ordered})

    @classmethod
    def installed(cls) -> "WorldDatasets":
        """The copies of the datasets the installed plugins declare."""
        from avtbench.plugins import registry

        return cls.of(registry().datasets.loaded())

    @classmethod
    def given(cls, datasets: "WorldDatasets | None") -> "WorldDatasets":
        """`datasets`, or the installed ones when None."""
        return cls.installed() if datasets is None else datasets

    def names(self) -> list[str]:
        return list(self.copies)

    def __contains__(self, name: object) -> bool:
        return name in self.copies

    def copy(self, name: str) -> SyntheticCopy:
        if name not in self.copies:
            raise ValueError(f"the synthetic world writes {', '.join(self.copies) or 'no dataset'}, not {name!r}")
        return self.copies[name]

    def ids(self, name: str, sizes: ProfileSizes, seed: int) -> IdMaker:
        """The id stream of dataset `name` alone, positioned where its writer starts drawing: the shared
        stream after the ids of the datasets before it, or the dataset's own stream."""
        copy = self.copy(name)
        if copy.id_order is None:
            return _own_ids(name, seed)
        ids = IdMaker(stream_rng(seed, SHARED_IDS))
        for earlier, other in self.copies.items():
            if other.id_order is not None and other.id_order < copy.id_order:
                assert other.ids_drawn is not None  # SyntheticCopy checks it
                ids.skip(other.ids_drawn(sizes.of(earlier, other)))
        return ids

    def all_ids(self, seed: int) -> dict[str, IdMaker]:
        """Every dataset's id stream, for writing them all in order: one stream shared by those with an
        `id_order`, one of its own for each other."""
        shared = IdMaker(stream_rng(seed, SHARED_IDS))
        return {name: shared if copy.id_order is not None else _own_ids(name, seed) for name, copy in self.copies.items()}

    def write(self, root: Path, name: str, world: World, sizes: ProfileSizes, ids: IdMaker, seed: int,
              raw_level: bool) -> None:
        """Write dataset `name` into `root` (its own folder) with its streams, and raw/ when asked for."""
        copy = self.copy(name)
        raw_rng = stream_rng(seed, f"raw-{name}") if raw_level else None
        copy.write(CopyRequest(Path(root), world, sizes.of(name, copy), ids, stream_rng(seed, name), raw_rng))
        if raw_level:  # the raw level has a folder even where the layout is its own raw level
            (Path(root) / "raw").mkdir(parents=True, exist_ok=True)

    def sizes(self, sizes: ProfileSizes) -> dict[str, Any]:
        """Each dataset's sizes in `sizes`, for the record of a written world."""
        return {name: sizes.of(name, copy) for name, copy in self.copies.items()}


def _own_ids(name: str, seed: int) -> IdMaker:
    return IdMaker(stream_rng(seed, f"ids-{name}"))


def _check_orders(copies: Mapping[str, SyntheticCopy]) -> None:
    seen: dict[int, str] = {}
    for name, copy in sorted(copies.items()):
        if copy.id_order is None:
            continue
        if copy.id_order in seen:
            raise UserError(f"datasets {seen[copy.id_order]!r} and {name!r} both declare id_order {copy.id_order} "
                            "for their synthetic copies; a new dataset leaves id_order unset (its own id stream)")
        seen[copy.id_order] = name
