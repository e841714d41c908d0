"""The feature extractor contract (hook `avtbench_extractors`, cards `avtbench.cards.ExtractorCard`).

An extractor turns one video's decoded audio or frames into per-second features, the way a released
dataset's features were made. It is a class with a `name`, a `modality` ("audio" or "visual"), a
`config_class` (a dataclass deriving from `ExtractorConfig`, settable with `--set <name>.<field>=...`)
and, built as `Extractor(config, device)`:

- audio: `sample_rate` (samples per second it expects) and
  `features(wave [S] float32 mono at sample_rate, seconds) -> [seconds, D]`, one row per 1-second segment;
- visual: `frames_per_second` (the rate it samples frames at) and
  `features(frames [seconds, fps, H, W, 3] uint8) -> [seconds, ...]`, one entry per second;
- `provenance()`: where its weights came from (a file and its sha256, or "random" and the seed), for the
  provenance file of the dataset it writes.

Weights come from a local file (`weights=PATH`, read with `torch.load(..., weights_only=True)` or
safetensors) or are seeded random (`weights=random`, for tests and dry runs); nothing downloads.
`load_weights` loads a file strictly into a module: a missing or unexpected key is one line naming it.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from avtbench.cards import FromCard
from avtbench.config import build, setting
from avtbench.errors import UserError

if TYPE_CHECKING:
    import torch

__all__ = ["Extractor", "ExtractorConfig", "MODALITIES", "RANDOM", "load_weights", "read_weights", "sha256_of"]

MODALITIES = ("audio", "visual")
RANDOM = "random"
"""The `weights` value that builds the network with seeded random weights."""


@dataclass
class ExtractorConfig:
    """Settings every extractor has; an extractor's `config_class` derives from this one."""

    weights: str = RANDOM
    """A local weights file (torch or safetensors), or "random" for seeded random weights (tests, dry runs)."""
    seed: int = setting(0, low=0)
    """Seed of the random weights (weights=random)."""
    batch_size: int = setting(32, low=1, high=4096)
    """How many network inputs go through at once."""


class Extractor(FromCard, ABC):
    """Per-second features of one modality of a video (see the module docstring). A class that sets
    `card` (an `ExtractorCard`) takes its name, modality and summary from it."""

    name: ClassVar[str]
    modality: ClassVar[str]
    """"audio" or "visual"."""
    summary: ClassVar[str] = ""
    config_class: ClassVar[type] = ExtractorConfig
    sample_rate: ClassVar[int] = 16000
    """Audio extractors: samples per second of the wave `features` takes."""
    frames_per_second: ClassVar[int] = 1
    """Visual extractors: frames per second `features` takes."""

    def __init__(self, config: Any, device: str = "cpu") -> None:
        self.config = config
        self.device = device

    @classmethod
    def make_config(cls, values: dict[str, Any] | None = None) -> Any:
        """Its config from `--set <name>.<field>=...` values, checked against the declared ranges."""
        return build(cls.config_class, dict(values or {}), cls.name)

    @abstractmethod
    def features(self, data: np.ndarray, *args: Any) -> np.ndarray:
        """Audio: `features(wave, seconds)` -> [seconds, D]; visual: `features(frames)` -> [seconds, ...]."""

    def provenance(self) -> dict[str, Any]:
        """{"extractor", "weights", "sha256" | "seed"}: what its features were computed with."""
        weights = self.config.weights
        if weights == RANDOM:
            return {"extractor": self.name, "weights": RANDOM, "seed": int(self.config.seed)}
        return {"extractor": self.name, "weights": str(Path(weights).resolve()), "sha256": sha256_of(Path(weights))}

    def weights_path(self) -> Path | None:
        """The weights file the config names (None for random weights); a missing one is one line naming the setting."""
        weights = self.config.weights
        if weights == RANDOM:
            return None
        path = Path(weights).expanduser()
        if not path.is_file():
            raise UserError(f"{self.name}.weights: no file {str(path)!r}; name a local weights file or "
                            f"--set {self.name}.weights=random")
        return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_weights(path: Path, setting_name: str) -> dict[str, "torch.Tensor"]:
    """The tensors of a torch (`weights_only=True`) or safetensors file; unreadable: one line naming `setting_name`."""
    import torch

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise UserError(f"{setting_name}: cannot read {str(path)!r} as torch or safetensors weights "
                        f"({type(exc).__name__}: {first[:200]})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{setting_name}: {str(path)!r} holds no mapping of parameter names to tensors")
    return dict(state)


def load_weights(module: "torch.nn.Module", path: Path, setting_name: str, unused: tuple[str, ...] = ()) -> None:
    """Load `path` into `module` strictly: a missing, unexpected or misshapen key is one line naming it.
    Keys starting with any of `unused` (a classifier the extractor stops before, say) may be in the file;
    BatchNorm's `num_batches_tracked` may be absent."""
    state = read_weights(path, setting_name)
    own = module.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in own and not k.startswith(unused) and not k.endswith("num_batches_tracked")]
    if missing:
        raise UserError(f"{setting_name}: {str(path)!r} lacks parameter {missing[0]!r} ({len(missing)} missing); "
                        f"it is not a weights file of this network")
    if extra:
        raise UserError(f"{setting_name}: {str(path)!r} has unexpected parameter {extra[0]!r} ({len(extra)} extra); "
                        f"it is not a weights file of this network")
    for key, value in own.items():
        if key in state and tuple(state[key].shape) != tuple(value.shape):
            raise UserError(f"{setting_name}: parameter {key!r} in {str(path)!r} has shape {tuple(state[key].shape)}, "
                            f"the network needs {tuple(value.shape)}")
    module.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)
