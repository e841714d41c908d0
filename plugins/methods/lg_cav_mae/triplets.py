"""Automatic audio-visual-text triplets (paper Sec. 2.3), a step of its own (`avtbench triplets`) that
`lg_cav_mae` runs, cached, before pretraining.

1. caption the frames of every clip to be captioned (`splits.py`) with the image captioner;
2. score each caption against the clip's audio with CLAP (cosine of the normalised embeddings) and
   keep the clip's best caption;
3. rank the clips by that score and keep the top k % (`select_top`; all of them with
   `triplets_filter=false`).

The result is written as a corpus (`triplet_files.py`) into `<cache>/lg_cav_mae/triplets-<key>/`,
the key hashing the captioner, the CLAP, k, the filter switch, the captioning settings and the
corpus fingerprint (ids, raw audio, frames and captions), published atomically under a lock so that
concurrent runs share one copy. The corpus is read in blocks of at most 256 clips (a pass over the
whole corpus for the fingerprint, the captioned clips' frames and audio for the scores).
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avtbench.api import Clips, Progress, SilentProgress
from avtbench.atomic import publish_folder
from avtbench.backbones.synthetic import cache_root
from avtbench.data.blocks import SegmentRows, hash_blocks
from avtbench.data.npyfile import NpyRows, NpyWriter
from avtbench.hashing import SPACED, hash_json

from . import captioner as cap
from . import splits
from .backbones import captioner_identity, load_clap_for
from .config import LGCavMaeConfig
from .text import FrozenClap
from .triplet_files import RECORD, Candidates, TripletSet, read_folder, write_folder

TRIPLETS_VERSION = 1
"""Bump when what a triplet folder holds changes, so that old folders are not reused."""
CAPTION_BATCH = 256
"""Frames captioned per call (and `captioner.caption`'s own batch)."""
AUDIO_BLOCK = 256
"""Clips whose audio CLAP scores per pass: a multiple of `FrozenClap.audio`'s chunk of 256 windows
in clips, so that the windows are batched as in one call over every clip."""
TEXT_CHUNK = 512
"""Captions per pass of CLAP's text tower (`FrozenClap.texts`' own chunk)."""


def keep_count(n: int, keep_percent: float) -> int:
    """How many of n ranked clips the top `keep_percent` % is: n * k / 100 rounded half up, at least one."""
    return 0 if n == 0 else min(n, max(1, int(np.floor(n * keep_percent / 100 + 0.5))))


def select_top(scores: np.ndarray, keep_percent: float, filter_on: bool = True) -> np.ndarray:
    """Indices of the kept clips, best score first (ties: the earlier clip first); all with the filter off."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return order if not filter_on else order[:keep_count(len(order), keep_percent)]


def frame_indices(steps: int, count: int) -> np.ndarray:
    """`count` frames spread evenly over `steps` (0 or count >= steps: every frame)."""
    if count == 0 or count >= steps:
        return np.arange(steps)
    return np.unique(np.round(np.linspace(0, steps - 1, count)).astype(np.int64))


def corpus_fingerprint(corpus: Clips) -> str:
    """Hash of what the triplets are made from: ids, raw audio, frames (read block by block) and captions."""
    digest = hashlib.sha256("\n".join(corpus.ids).encode())
    for array in (corpus.modality("audio"), corpus.modality("visual")):
        digest.update(f"|{np.dtype(array.dtype)}|{tuple(int(d) for d in array.shape)}|".encode())
        hash_blocks(digest, array)
    digest.update(json.dumps(corpus.caption_lists()).encode())
    return digest.hexdigest()[:16]


@dataclass
class Generated:
    """The triplets and the CLAP that scored them (which also encodes text for the guidance)."""

    triplets: TripletSet
    clap: FrozenClap
    clap_provenance: dict[str, Any]
    cached: bool


def score_candidates(corpus: Clips, rows: np.ndarray, model: Any, processor: Any, clap: FrozenClap,
                     config: LGCavMaeConfig, device: str, progress: Progress, scratch: Path) -> Candidates:
    """Caption the chosen frames of `rows`, score every caption against its clip's audio, pick the best.
    Frames and audio are read CAPTION_BATCH and AUDIO_BLOCK clips at a time; the caption embeddings
    wait in a .npy file in `scratch`, read by the rows each block of clips needs."""
    visual = corpus.modality("visual")
    frames = frame_indices(visual.shape[1], config.caption_frames)
    flat = SegmentRows(visual, np.repeat(rows, len(frames)), np.tile(frames, len(rows)))
    texts: list[str] = []
    chunks = range(0, len(flat), CAPTION_BATCH)
    for start in progress.track(chunks, total=len(chunks), description="lg_cav_mae captioning"):
        texts += cap.caption(model, processor, flat[start:start + CAPTION_BATCH], config.caption_tokens, device=device)
    per_clip = [texts[i * len(frames):(i + 1) * len(frames)] for i in range(len(rows))]
    distinct = sorted({t for t in texts if t})
    text_embedded = _text_embeddings(clap, distinct, scratch / "captions.npy")
    where = {t: i for i, t in enumerate(distinct)}
    scores = np.full((len(rows), len(frames)), -np.inf)
    audio = corpus.modality("audio")
    for start in range(0, len(rows), AUDIO_BLOCK):
        waveforms = np.ascontiguousarray(audio[rows[start:start + AUDIO_BLOCK]], dtype=np.float32)
        audio_embedded = clap.audio(torch.from_numpy(waveforms))
        block = per_clip[start:start + AUDIO_BLOCK]
        needed = sorted({where[text] for captions in block for text in captions if text})
        text_rows = torch.from_numpy(text_embedded[np.array(needed, dtype=np.int64)])
        row_of = {k: r for r, k in enumerate(needed)}
        for i, captions in enumerate(block):
            for j, text in enumerate(captions):
                if text:
                    scores[start + i, j] = float(audio_embedded[i] @ text_rows[row_of[where[text]]])
    return _best_captions(corpus, rows, frames, per_clip, scores)


def _text_embeddings(clap: FrozenClap, captions: list[str], path: Path) -> NpyRows:
    """CLAP text embeddings [len(captions), D] in a .npy file at `path` (a lazy array over it)."""
    with NpyWriter(path, (len(captions), clap.dim)) as out:
        for start in range(0, len(captions), TEXT_CHUNK):
            out.write(start, clap.texts(captions[start:start + TEXT_CHUNK]).cpu().numpy())
    return NpyRows(path)


def _best_captions(corpus: Clips, rows: np.ndarray, frames: np.ndarray, per_clip: list[list[str]],
                   scores: np.ndarray) -> Candidates:
    """The clips with at least one caption, each with its best-scoring caption."""
    usable = np.isfinite(scores).any(axis=1)
    best_index = np.where(usable, np.argmax(np.where(np.isfinite(scores), scores, -np.inf), axis=1), 0)
    keep = np.flatnonzero(usable)
    return Candidates(ids=[corpus.ids[rows[i]] for i in keep], rows=rows[keep], frames=frames,
                      frame_captions=[per_clip[i] for i in keep], frame_scores=scores[keep],
                      best=[per_clip[i][best_index[i]] for i in keep], scores=scores[keep, best_index[keep]])


def generate(corpus: Clips, config: LGCavMaeConfig, cache_dir: Path | None, device: str = "cpu",
             progress: Progress | None = None) -> Generated:
    """The triplets of `corpus` under `config` (from the cache when made before) and the CLAP."""
    from avtbench.cache import ArtifactCache

    progress = progress or SilentProgress()
    rows = splits.assign_rows(len(corpus), config.clap.startswith("synth://"), config.captioner.startswith("synth://"),
                              config.synth_captioner_share)
    clap, clap_record = load_clap_for(config, corpus, rows, cache_dir, device)
    captioner_record, load = captioner_identity(config, corpus, rows)
    identity = {"captioner": captioner_record["key"], "clap": clap_record["key"], "keep": float(config.keep),
                "filter": config.triplets_filter, "caption_frames": config.caption_frames,
                "caption_tokens": config.caption_tokens, "captioned": [corpus.ids[i] for i in rows.captioned],
                "corpus": corpus_fingerprint(corpus), "v": TRIPLETS_VERSION}
    key = hash_json(identity, length=20, form=SPACED)
    root = cache_root(cache_dir)
    target = root / "lg_cav_mae" / f"triplets-{key}"
    with ArtifactCache(root).lock(f"lg_cav_mae-triplets-{key}"):
        if (target / RECORD).is_file():
            return Generated(read_folder(target), clap, clap_record, True)
        model, processor = load(cache_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".scores-", dir=target.parent) as scratch:
            candidates = score_candidates(corpus, rows.captioned, model, processor, clap, config, device, progress,
                                          Path(scratch))
        kept = select_top(candidates.scores, config.keep, config.triplets_filter)
        record = {"key": key, "captioner": captioner_record, "clap": clap_record, "keep": config.keep,
                  "filter": config.triplets_filter, "corpus": identity["corpus"], "corpus_clips": len(corpus),
                  "captioned": len(rows.captioned), "candidates": len(candidates.ids), "kept": int(len(kept)),
                  "caption_frames": candidates.frames.tolist(),
                  "rows": {"clap": _span(rows.clap), "captioner": _span(rows.captioner), "captioned": _span(rows.captioned)}}
        publish_folder(target, lambda folder: write_folder(folder, corpus.modality("audio"), corpus.modality("visual"),
                                                           candidates, kept, record), complete=RECORD)
    return Generated(read_folder(target), clap, clap_record, False)


def _span(rows: np.ndarray) -> str:
    """Rows as "a-b" ranges, e.g. "0-14, 30-59" (empty: "none")."""
    if len(rows) == 0:
        return "none"
    parts, start = [], int(rows[0])
    for previous, current in zip(rows[:-1], rows[1:]):
        if current != previous + 1:
            parts.append(f"{start}-{int(previous)}")
            start = int(current)
    parts.append(f"{start}-{int(rows[-1])}")
    return ", ".join(parts)
