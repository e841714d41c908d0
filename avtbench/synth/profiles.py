"""The synthetic world's profiles: sizes, and the knobs of its generative model (how hard it is)."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from avtbench import config as cfg
from avtbench.config import setting

from avtbench.errors import UserError


@dataclass(frozen=True)
class WorldSizes:
    """Sizes of one profile. Splits are (train, val, test) clip counts."""

    audio_dim: int
    grid: int  # visual H = W
    channels: int  # visual C
    corpus_clips: int
    ave_splits: tuple[int, int, int]
    avvp_splits: tuple[int, int, int]
    segments: int = 10
    latent_dim: int = 16
    hidden: int = 64
    nuisance_dim: int = 8
    retrieval_clips: int = 300
    frame_size: int = 32  # raw frames are S x S RGB
    raw_clips: int | None = None  # corpus clips (the first ones) with a raw level; None: all
    avs_splits: tuple[int, int, int] = (200, 40, 40)  # AVSBench S4 clips (5 s each)
    avs_frame_size: int = 64  # S4 frames are S x S RGB (224 in the release)


DEFAULT_SIZES = WorldSizes(
    audio_dim=128, grid=3, channels=32, corpus_clips=2000, ave_splits=(480, 60, 60), avvp_splits=(800, 120, 200), raw_clips=1000
)

PROFILES: dict[str, WorldSizes] = {
    # for tests: enough AVE clips per class to fit a head; features in ~0.2 s, with the raw level
    # ~2 s and 160 MB (its 360 AVE waveforms dominate)
    "tiny": WorldSizes(
        audio_dim=32, grid=2, channels=16, corpus_clips=120, ave_splits=(280, 40, 40), avvp_splits=(40, 12, 12), retrieval_clips=30, raw_clips=30,
        avs_splits=(24, 8, 8), avs_frame_size=32,
    ),
    # the default grid: small and fast on 2 CPU cores; features ~70 MB; raw level ~0.78 GB, as it
    # holds 2320 waveforms of 320 kB (AVE, AVVP, retrieval complete, 300 corpus clips); ~12-20 s
    "default": DEFAULT_SIZES,
    # the default sizes with generator version 4's knobs (EASY): a world a linear map nearly solves
    "easy": DEFAULT_SIZES,
    # real feature dims (VGGish 128, VGG19 pool5 7x7x512) and the real AVE / AVVP split sizes;
    # about 4 GB (AVE) + 12 GB (AVVP) + 10 GB (corpus) of float32 features, ~8 GB of raw level
    # (19000 waveforms of 320 kB, film strips of ~95 kB).
    # Frames are 64 x 64, not the 224 x 224 of real backbones: 12x less disk and rendering, and a
    # backbone resizes them anyway.
    "paper": WorldSizes(
        audio_dim=128,
        grid=7,
        channels=512,
        corpus_clips=10000,
        ave_splits=(3339, 402, 402),
        avvp_splits=(10000, 649, 1200),
        retrieval_clips=1000,
        frame_size=64,
        raw_clips=2000,
        avs_splits=(3452, 740, 740),  # the S4 split sizes commonly quoted (4932 clips)
        avs_frame_size=224,
    ),
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


def profile_sizes(profile: str) -> WorldSizes:
    if profile not in PROFILES:
        raise UserError(f"unknown synthetic-world profile {profile!r}; use one of {', '.join(PROFILES)} (data.profile)")
    return PROFILES[profile]
