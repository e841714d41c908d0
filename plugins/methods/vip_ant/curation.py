"""VIP-ANT's curated audio-text pairs, without any audio-text data.

VIP-ANT's audio-text stage (zhaoyanpeng/vipant `bash/run_bimodal_at.sh`) fine-tunes the audio
encoder on audio-caption pairs; the paper builds such pairs without parallel data by letting CLIP
retrieve, for a video's frame, captions from a caption pool, and compares them with random
captions (the control). Here the pool is every caption of the pretraining corpus and retrieval is
per segment: the caption whose frozen CLIP text embedding is closest (cosine) to the segment's
frame embedding, or one of the `top_k` closest drawn uniformly each epoch.
"""
from __future__ import annotations

import torch
from torch import Tensor

from avtbench.api import Clips, UserError


def caption_pool(corpus: Clips) -> list[str]:
    """Distinct captions of the corpus (all of `captions`, else `text`), in first-seen order."""
    texts = [c for clip in corpus.caption_lists() for c in clip]
    pool = list(dict.fromkeys(str(t).strip() for t in texts if str(t).strip()))
    if not pool:
        raise UserError("vip_ant.curation needs a corpus with captions (the caption pool); set vip_ant.curation=none")
    return pool


def retrieve(frames: Tensor, pool: Tensor, top_k: int = 1, chunk: int = 4096) -> Tensor:
    """Indices [M, k] of the `top_k` pool captions most similar to each frame (both L2-normalized)."""
    k = min(top_k, pool.shape[0])
    out = [(frames[s:s + chunk] @ pool.T).topk(k, dim=1).indices for s in range(0, frames.shape[0], chunk)]
    return torch.cat(out) if out else torch.zeros(0, k, dtype=torch.long)


def draw(candidates: Tensor, generator: torch.Generator) -> Tensor:
    """One candidate per row, uniformly ([M, k] -> [M])."""
    pick = torch.randint(candidates.shape[1], (candidates.shape[0],), generator=generator)
    return candidates.gather(1, pick[:, None].to(candidates.device))[:, 0]


def random_captions(count: int, pool_size: int, generator: torch.Generator) -> Tensor:
    """The control: a uniformly random pool caption for each of `count` segments."""
    return torch.randint(pool_size, (count,), generator=generator)


def own_caption_rate(chosen: Tensor, pool: list[str], corpus: Clips, segments: int) -> float:
    """Fraction of segments paired with one of their own clip's captions (a diagnostic of retrieval)."""
    own = corpus.caption_lists()
    if not own:
        return float("nan")
    index = {c: i for i, c in enumerate(pool)}
    sets = [{index.get(str(c).strip(), -1) for c in clip} for clip in own]
    hits = sum(int(chosen[i]) in sets[i // segments] for i in range(len(chosen)))
    return hits / max(len(chosen), 1)
