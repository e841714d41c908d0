"""VIP-ANT's curated audio-text pairs, without any audio-text data.

VIP-ANT's audio-text stage (zhaoyanpeng/vipant `bash/run_bimodal_at.sh`) fine-tunes the audio
encoder on audio-caption pairs; the paper builds such pairs without parallel data by letting CLIP
retrieve, for a video's frame, captions from a caption pool, and compares them with random
captions (the control). Here the pool is every caption of the pretraining corpus and retrieval is
per segment: the caption whose frozen CLIP text embedding is closest (cosine) to the segment's
frame embedding, or one of the `top_k` closest drawn uniformly each epoch.

Both the frame embeddings and the pool's are read from disk a block of rows at a time (`retrieve`),
so that neither they nor their similarity matrix are ever held whole.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Clips, UserError

FRAME_CHUNK = 4096
"""Frames per retrieval pass."""
POOL_BLOCK = 1024
"""Pool captions per similarity block (a short last block joins the one before it, see `spans`)."""


def caption_pool(corpus: Clips) -> list[str]:
    """Distinct captions of the corpus (all of `captions`, else `text`), in first-seen order."""
    texts = [c for clip in corpus.caption_lists() for c in clip]
    pool = list(dict.fromkeys(str(t).strip() for t in texts if str(t).strip()))
    if not pool:
        raise UserError("vip_ant.curation needs a corpus with captions (the caption pool); set vip_ant.curation=none")
    return pool


def spans(count: int, size: int) -> list[tuple[int, int]]:
    """[start, stop) of consecutive blocks of `size` rows, a shorter last block joined to the one
    before it: a matrix product with only a few columns takes another kernel, whose sums can differ
    in the last bit from the same columns of one wider product."""
    starts = list(range(0, count, size))
    if len(starts) > 1 and count - starts[-1] < size:
        starts.pop()
    return list(zip(starts, starts[1:] + [count]))


def retrieve(frames: Any, pool: Any, top_k: int = 1, device: Any = None, chunk: int = FRAME_CHUNK,
             block: int = POOL_BLOCK) -> Tensor:
    """Indices [M, k] of the `top_k` pool captions most similar to each frame (both L2-normalized;
    [M, D] and [P, D] tensors or lazy arrays, read `chunk` frames and `block` captions at a time):
    the top k of each block, merged with those of the blocks before it."""
    k = min(top_k, pool.shape[0])
    pool_spans = spans(pool.shape[0], block)
    out = []
    for s in range(0, frames.shape[0], chunk):
        part = _tensor(frames[s:s + chunk], device)
        best: tuple[Tensor, Tensor] | None = None
        for a, b in pool_spans:
            values, index = (part @ _tensor(pool[a:b], part.device).T).topk(min(k, b - a), dim=1)
            index = index + a
            if best is not None:
                values, index = torch.cat([best[0], values], dim=1), torch.cat([best[1], index], dim=1)
                values, pick = values.topk(min(k, values.shape[1]), dim=1)
                index = index.gather(1, pick)
            best = (values, index)
        assert best is not None
        out.append(best[1])
    return torch.cat(out) if out else torch.zeros(0, k, dtype=torch.long)


def _tensor(rows: Any, device: Any) -> Tensor:
    rows = torch.from_numpy(rows) if isinstance(rows, np.ndarray) else rows
    return rows if device is None else rows.to(device)


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
