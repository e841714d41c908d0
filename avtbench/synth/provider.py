"""The synthetic world as a dataset provider: the plan wires it in for datasets without a real root."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Mapping

from avtbench.api import Dataset
from avtbench.hashing import SPACED, hash_json
from avtbench.synth.copies import WorldDatasets
from avtbench.synth.profiles import PROFILE_KNOBS, profile_knobs
from avtbench.synth.world import GENERATOR_VERSION, ensure_dataset


class SyntheticWorld:
    """Writes each declared dataset that has a synthetic copy (`Dataset.synthetic`) at the level asked
    for, on first use, and nothing else.

    datasets: the declared datasets (the plan hands in the plugin registry's); None: the installed ones.
    """

    def __init__(self, profile: str, seed: int, cache_dir: Path, knobs: dict[str, Any] | None = None,
                 datasets: Mapping[str, Dataset] | Iterable[Dataset] | None = None) -> None:
        self.knobs = profile_knobs(profile, knobs)  # an unknown profile or knob is an error before any work
        self.profile = profile
        self.seed = seed
        self.datasets = WorldDatasets.installed() if datasets is None else WorldDatasets.of(datasets)
        tuned = self.knobs != PROFILE_KNOBS[profile]
        # the knobs' hash even for the profile's own: a world is never reused under other knobs
        self.folder = Path(cache_dir) / "synth" / f"{profile}-seed{seed}-v{GENERATOR_VERSION}-{self._knob_hash()}"
        self.name = f"synthetic world {profile}/seed {seed}{' (knobs tuned)' if tuned else ''}"

    def _knob_hash(self) -> str:
        return hash_json(asdict(self.knobs), length=8, form=SPACED)

    def provides(self, dataset: str) -> bool:
        return dataset in self.datasets

    def root(self, dataset: str, level: str = "features") -> Path:
        return ensure_dataset(self.folder, dataset, self.profile, self.seed, level, self.knobs, self.datasets)

    def fingerprint(self, dataset: str) -> str:
        payload = {"synth": GENERATOR_VERSION, "profile": self.profile, "seed": self.seed, "name": dataset,
                   "knobs": asdict(self.knobs)}
        return hash_json(payload, form=SPACED)

    def descriptions(self, dataset: str) -> dict[str, str]:
        """Every class of the copy as the world's captions phrase it ("a dog barking"), as the copy declares."""
        return dict(self.datasets.copy(dataset).descriptions)
