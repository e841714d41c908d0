"""The synthetic world as a dataset provider: the plan wires it in for datasets without a real root."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from dataclasses import asdict
from typing import Any

from avtbench.synth.profiles import PROFILE_KNOBS, profile_knobs
from avtbench.data.vocab import AVVP_CLASSES
from avtbench.synth.avs import S4_PHRASES
from avtbench.synth.vocab import CORPUS_CLASSES, PHRASES, corpus_index
from avtbench.synth.world import GENERATOR_VERSION, ensure_dataset

WORLD_DATASETS = ("corpus", "ave", "avvp", "retrieval", "avs_s4")
"""The datasets the world writes, each in its real on-disk format."""


class SyntheticWorld:
    """Writes each dataset of `WORLD_DATASETS` at the level asked for, on first use, and nothing else."""

    def __init__(self, profile: str, seed: int, cache_dir: Path, knobs: dict[str, Any] | None = None) -> None:
        self.knobs = profile_knobs(profile, knobs)  # an unknown profile or knob is an error before any work
        self.profile = profile
        self.seed = seed
        tuned = self.knobs != PROFILE_KNOBS[profile]
        # the knobs' hash even for the profile's own: a world is never reused under other knobs
        self.folder = Path(cache_dir) / "synth" / f"{profile}-seed{seed}-v{GENERATOR_VERSION}-{self._knob_hash()}"
        self.name = f"synthetic world {profile}/seed {seed}{' (knobs tuned)' if tuned else ''}"

    def _knob_hash(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self.knobs), sort_keys=True).encode()).hexdigest()[:8]

    def provides(self, dataset: str) -> bool:
        return dataset in WORLD_DATASETS

    def root(self, dataset: str, level: str = "features") -> Path:
        return ensure_dataset(self.folder, dataset, self.profile, self.seed, level, self.knobs)

    def fingerprint(self, dataset: str) -> str:
        payload = {"synth": GENERATOR_VERSION, "profile": self.profile, "seed": self.seed, "name": dataset,
                   "knobs": asdict(self.knobs)}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def descriptions(self, dataset: str) -> dict[str, str]:
        """Every class as the world's captions phrase it ("a dog barking"); AVVP names of shared
        classes ("Dog") are phrased as the corpus class they stand for ("Bark")."""
        phrases = dict(PHRASES)
        phrases.update({c: PHRASES[CORPUS_CLASSES[corpus_index(c)]] for c in AVVP_CLASSES})
        phrases.update(S4_PHRASES)
        return phrases
