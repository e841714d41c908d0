"""Sizes of the synthetic world's profiles and the strengths of its generative model."""
from __future__ import annotations

from dataclasses import dataclass

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


PROFILES: dict[str, WorldSizes] = {
    # for tests: enough AVE clips per class to fit a head; features in ~0.2 s, with the raw level
    # ~2 s and 160 MB (its 360 AVE waveforms dominate)
    "tiny": WorldSizes(
        audio_dim=32, grid=2, channels=16, corpus_clips=120, ave_splits=(280, 40, 40), avvp_splits=(40, 12, 12), retrieval_clips=30, raw_clips=30
    ),
    # the default grid: small and fast on 2 CPU cores; features ~70 MB; raw level ~0.78 GB, as it
    # holds 2320 waveforms of 320 kB (AVE, AVVP, retrieval complete, 300 corpus clips); ~12-20 s
    "default": WorldSizes(
        audio_dim=128, grid=3, channels=32, corpus_clips=2000, ave_splits=(480, 60, 60), avvp_splits=(800, 120, 200), raw_clips=1000
    ),
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
    ),
}


@dataclass(frozen=True)
class Noise:
    """Strengths of the generative model (shared by all profiles)."""

    instance_jitter: float = 0.4
    segment_jitter: float = 0.2
    nuisance: float = 0.6
    nuisance_drift: float = 0.3
    noise: float = 0.35
    blob_width: float = 0.25  # Gaussian sigma as a fraction of the grid side
    visual_gain: float = 2.0  # peak strength of an object's blob


def profile_sizes(profile: str) -> WorldSizes:
    if profile not in PROFILES:
        raise UserError(f"unknown synthetic-world profile {profile!r}; use one of {', '.join(PROFILES)} (data.profile)")
    return PROFILES[profile]
