"""What `vip_ant` pretraining reads per segment, kept out of RAM: the FBANK of every segment (a
float16 .npy file, or computed per batch), the frozen CLIP embedding of every segment's frame and
of every caption of the pool (float32 .npy files), all written block by block under the
pretraining's `workdir` (`avtbench.data.npyfile.NpyWriter`) and read back by the rows each batch
needs (`NpyRows`; not memory maps, whose touched pages would stay resident as the corpus grows).

Blocks are cut where one call over the whole corpus cut them before (1024 segments per FBANK pass,
`FrozenClip`'s 512 frames or captions per forward pass), so the values are those of that call.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Progress
from avtbench.backbones.frozen import FrozenClip
from avtbench.data.blocks import every_segment, read_in_blocks
from avtbench.data.npyfile import NpyRows, NpyWriter
from avtbench.data.rows import RowArray

from .config import VipAntConfig
from .frontend import fbank_images, segment_count, segment_windows

FBANK_CACHE_BYTES = 1 << 30
"""Every segment's FBANK (float16) is kept in a .npy file when it takes at most this; else it is
computed per batch (the rule of the in-memory cache before, so the same corpora are cached)."""
FBANK_BLOCK = 1024
CLIP_CHUNK = 512
"""`FrozenClip.images` / `texts`' own chunk."""


def segment_fbanks(audio: Any, config: VipAntConfig, flat: np.ndarray) -> Tensor:
    """Normalized FBANK [len(flat), frames, mel] of flat segments b * T + t of raw audio [N, T * 16000],
    reading only the clips they come from."""
    steps = segment_count(audio.shape[1], config)
    flat = np.asarray(flat, dtype=np.int64)
    clips, inverse = np.unique(flat // steps, return_inverse=True)
    waveforms = torch.from_numpy(np.ascontiguousarray(read_in_blocks(audio, clips), dtype=np.float32))
    return fbank_images(segment_windows(waveforms, config, inverse * steps + flat % steps), config)


class SegmentFbank(RowArray):
    """The FBANK of every segment [N * T, frames, mel], computed from the audio when rows are read
    (in the DataLoader's workers when there are some)."""

    def __init__(self, audio: Any, config: VipAntConfig) -> None:
        self.audio, self.config = audio, config
        self.shape = (len(audio) * segment_count(audio.shape[1], config), config.frames, config.num_mel_bins)
        self.dtype = np.dtype(np.float32)

    def read(self, rows: np.ndarray) -> np.ndarray:
        return segment_fbanks(self.audio, self.config, rows).numpy()


def fbank_source(audio: Any, config: VipAntConfig, workdir: Path, progress: Progress) -> RowArray:
    """float16 FBANK of every segment in a .npy file when it fits in FBANK_CACHE_BYTES, else a
    SegmentFbank that computes it per batch."""
    count = len(audio) * segment_count(audio.shape[1], config)
    if count * config.frames * config.num_mel_bins * 2 > FBANK_CACHE_BYTES:
        return SegmentFbank(audio, config)
    path = Path(workdir) / "vip_ant_fbank.npy"
    starts = range(0, count, FBANK_BLOCK)
    with NpyWriter(path, (count, config.frames, config.num_mel_bins), np.float16) as out:
        for start in progress.track(starts, total=len(starts), description="vip_ant FBANK"):
            index = np.arange(start, min(start + FBANK_BLOCK, count))
            out.write(start, segment_fbanks(audio, config, index).half().numpy())
    return NpyRows(path)


def frame_embeddings(clip: FrozenClip, visual: Any, workdir: Path, progress: Progress) -> NpyRows:
    """CLIP embedding of every segment's frame [N * T, D], segment-major within each clip."""
    frames = every_segment(visual, visual.shape[1])
    path = Path(workdir) / "vip_ant_frames.npy"
    starts = range(0, len(frames), CLIP_CHUNK)
    with NpyWriter(path, (len(frames), clip.dim)) as out:
        for start in progress.track(starts, total=len(starts), description="vip_ant CLIP frames"):
            out.write(start, clip.images(torch.from_numpy(frames[start:start + CLIP_CHUNK])).cpu().numpy())
    return NpyRows(path)


def text_embeddings(clip: FrozenClip, texts: list[str], workdir: Path) -> NpyRows:
    """CLIP embedding of every caption of the curation pool [P, D]."""
    path = Path(workdir) / "vip_ant_pool.npy"
    with NpyWriter(path, (len(texts), clip.dim)) as out:
        for start in range(0, len(texts), CLIP_CHUNK):
            out.write(start, clip.texts(texts[start:start + CLIP_CHUNK]).cpu().numpy())
    return NpyRows(path)
