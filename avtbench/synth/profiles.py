"""The synthetic world's profiles: sizes, and the knobs of its generative model (how hard it is).

A profile's sizes are the world model's (`WorldSizes`) and, under the profile's name, each dataset's
own (clip counts, splits), which the dataset's synthetic copy declares (`api.SyntheticCopy.sizes`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from avtbench import config as cfg
from avtbench.config import setting

from avtbench.errors import UserError

if TYPE_CHECKING:
    from avtbench.api import SyntheticCopy


@dataclass(frozen=True)
class WorldSizes:
    """Sizes of the world model in one profile: feature dimensions, segments, latents, raw frames."""

    audio_dim: int
    grid: int  # visual H = W
    channels: int  # visual C
    segments: int = 10
    latent_dim: int = 16
    hidden: int = 64
    nuisance_dim: int = 8
    frame_size: int = 32  # raw frames are S x S RGB


@dataclass(frozen=True)
class ProfileSizes:
    """The sizes of one profile: the world model's, and the profile's name, under which each dataset's
    synthetic copy finds its own (`SyntheticCopy.sizes_for`). `datasets` replaces the sizes of some
    datasets (dataset name -> its sizes), for a test or benchmark that wants a world of other sizes."""

    profile: str
    world: WorldSizes
    datasets: Mapping[str, Any] = field(default_factory=dict)

    def of(self, name: str, copy: "SyntheticCopy") -> Any:
        """The sizes of dataset `name`, whose synthetic copy is `copy`, in this profile."""
        return self.datasets[name] if name in self.datasets else copy.sizes_for(self.profile)

    def replacing(self, **datasets: Any) -> "ProfileSizes":
        """These sizes with some datasets' replaced: `sizes.replacing(corpus=CorpusSizes(1000))`."""
        return dataclasses.replace(self, datasets={**self.datasets, **datasets})


DEFAULT_SIZES = WorldSizes(audio_dim=128, grid=3, channels=32)

PROFILES: dict[str, ProfileSizes] = {
    # for tests: features in ~0.2 s, with the raw level ~2 s and 160 MB (its 360 AVE waveforms dominate)
    "tiny": ProfileSizes("tiny", WorldSizes(audio_dim=32, grid=2, channels=16)),
    # the default grid: small and fast on 2 CPU cores; features ~70 MB; raw level ~0.78 GB, as it
    # holds 2320 waveforms of 320 kB (AVE, AVVP, retrieval complete, 300 corpus clips); ~12-20 s
    "default": ProfileSizes("default", DEFAULT_SIZES),
    # the default sizes with generator version 4's knobs (EASY): a world a linear map nearly solves
    "easy": ProfileSizes("easy", DEFAULT_SIZES),
    # real feature dims (VGGish 128, VGG19 pool5 7x7x512) and, in the datasets' own sizes, the real
    # AVE / AVVP split sizes; about 4 GB (AVE) + 12 GB (AVVP) + 10 GB (corpus) of float32 features,
    # ~8 GB of raw level (19000 waveforms of 320 kB, film strips of ~95 kB).
    # Frames are 64 x 64, not the 224 x 224 of real backbones: 12x less disk and rendering, and a
    # backbone resizes them anyway.
    "paper": ProfileSizes("paper", WorldSizes(audio_dim=128, grid=7, channels=512, frame_size=64)),
}


@dataclass(frozen=True)
class Knobs:
    """How hard the world is: the strengths of its generative model, each settable as
    `--set data.world.<name>=value` (YAML: `data: {world: {name: value}}`).

    instance_jitter / segment_jitter: spread of an event's latent around its class prototype,
        per event and per segment.
    modality_jitter: spread of an instance's latent that is each modality's own (how this dog's
        bark differs from how it looks): instance detail that no cross-modal map can recover.
    nuisance / nuisance_drift: strength of each modality's nuisance (a per-clip latent drifting per
        segment, through its own random MLP), so nuisance correlates within a modality, never across.
    noise: i.i.d. Gaussian noise on every feature.
    blob_width / visual_gain: size (a fraction of the grid side) and peak strength of an object.
    nonlinearity: gain inside the tanh of the audio and visual rendering MLPs; at 1 a rendering is
        nearly linear in the latent, higher values saturate it, so that no linear map inverts it.
    paired_share: share of corpus and retrieval events both audible and visible; the rest are split
        evenly between audible-but-invisible and visible-but-silent (AVVP's are its own: 50 / 35 / 15 %).
    background: probability that a clip carries a background sound (one of BACKGROUNDS latents that
        are no class, audible for the whole clip, never visible, never labelled or captioned).
    background_gain: its level, relative to an event's.
    max_lag: largest offset, in segments, of an event's sound from its picture (uniform in
        [-max_lag, max_lag], kept inside the clip and overlapping the picture by a segment at least);
        labels follow each modality (AVE's audio-visual segments are where both are on).
    """

    instance_jitter: float = setting(0.4, low=0)
    segment_jitter: float = setting(0.2, low=0)
    modality_jitter: float = setting(0.0, low=0)
    nuisance: float = setting(0.6, low=0)
    nuisance_drift: float = setting(0.3, low=0)
    noise: float = setting(0.35, low=0)
    blob_width: float = setting(0.25, above=0, high=4)
    visual_gain: float = setting(2.0, above=0)
    nonlinearity: float = setting(1.0, above=0, high=100)
    paired_share: float = setting(0.7, low=0, high=1)
    background: float = setting(0.0, low=0, high=1)
    background_gain: float = setting(1.0, low=0)
    max_lag: int = setting(0, low=0, high=4)


EASY = Knobs()
"""The knobs of generator version 4's world: renderings close to linear, no background sounds, no
offsets (its numbers changed in version 6, which computes them the same way on every host). The
`tiny` and `easy` profiles use it, for quick tests."""
HARD = Knobs(nonlinearity=3.0, background=0.3, max_lag=1)
"""The default: renderings no linear map inverts, background sounds in 30 % of the clips and sounds
up to a segment off their pictures, on top of version 4's unpaired events (30 % of the corpus's)
and within-modality nuisance (the values are ours). Half the events unpaired (paired_share=0.5)
or nuisance 0.8 left unified_vq's 6-epoch default near chance on AVE v2a and AVVP a2v."""
PROFILE_KNOBS: dict[str, Knobs] = {"tiny": EASY, "easy": EASY, "default": HARD, "paper": HARD}


def profile_knobs(profile: str, overrides: dict | None = None) -> Knobs:
    """The knobs of `profile`, with `overrides` (checked against each knob's range) applied."""
    profile_sizes(profile)
    base = PROFILE_KNOBS[profile]
    if not overrides:
        return base
    values = {**dataclasses.asdict(base), **overrides}
    return cfg.build(Knobs, values, "data.world")


def profile_sizes(profile: str) -> ProfileSizes:
    """The sizes of `profile`: the world model's and, by the profile's name, each dataset's."""
    if profile not in PROFILES:
        raise UserError(f"unknown synthetic-world profile {profile!r}; use one of {', '.join(PROFILES)} (data.profile)")
    return PROFILES[profile]
