"""`retrieval`: zero-training cross-modal retrieval between clips and captions.

Each clip is one embedding (the mean of its segment embeddings, L2-normalized); captions likewise
(the mean over whatever steps the method returns for a caption). Similarity is the cosine.
With several captions per clip: audio->text ranks all captions and a query's rank is that of its
best-ranked caption; text->audio scores every caption as its own query. Metrics from
`avtbench.metrics.retrieval`: R@1/5/10 and mAP in percent, median and mean rank (1-based).
The median rank is reported twice: `median_rank`, numpy's median (the mean of the two middle ranks
for an even number of queries, as CMG's code), and `median_rank_lower`, the lower of the two middle
ranks, as VIP-ANT computes it (`torch.median`); both lower-is-better.
Ties rank pessimistically: a query's relevant item is ranked behind every irrelevant item that scores
the same (a model giving every item one score gets the worst rank, not R@1 = 100).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task
from avtbench.config import setting
from avtbench.metrics.retrieval import mean_average_precision, mean_rank, median_rank, median_rank_lower, recall_at_k
from avtbench_plugins.tasks.heads.pooling import pooled

from . import CARD

CAPTIONS = "captions"
CLIPS = "test"


@dataclass
class RetrievalConfig:
    max_clips: int = setting(0, low=0)
    """Use only the first N clips of the retrieval set (0: all)."""


def caption_clips(clips: Clips) -> tuple[Clips, np.ndarray]:
    """Every caption as its own item, and the index of the clip it describes."""
    captions = clips.caption_lists()
    owner = np.array([i for i, caps in enumerate(captions) for _ in caps], dtype=np.int64)
    texts = [c for caps in captions for c in caps]
    return Clips(ids=[clips.ids[i] for i in owner], text=texts), owner


def relevance(query_owner: np.ndarray, gallery_owner: np.ndarray) -> np.ndarray:
    return query_owner[:, None] == gallery_owner[None, :]


def retrieval_scores(queries: np.ndarray, gallery: np.ndarray, relevant: np.ndarray) -> dict[str, float]:
    sim = queries @ gallery.T
    recalls = recall_at_k(sim, relevant, ks=(1, 5, 10))
    return {
        "r1": recalls[1], "r5": recalls[5], "r10": recalls[10],
        "median_rank": median_rank(sim, relevant), "median_rank_lower": median_rank_lower(sim, relevant),
        "mean_rank": mean_rank(sim, relevant),
        "map": mean_average_precision(sim, relevant),
    }


class Retrieval(Task):
    card = CARD
    plugin_api = "3"
    lower_is_better = ("median_rank", "median_rank_lower", "mean_rank")
    config_class = RetrievalConfig

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        clips = data["retrieval"].read()
        if self.config.max_clips:
            clips = clips.subset(np.arange(min(self.config.max_clips, len(clips))))
        splits = {CLIPS: clips}
        if clips.has("text"):
            splits[CAPTIONS] = caption_clips(clips)[0]
        return splits

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        return [(CAPTIONS if m == "text" else CLIPS, m) for m in (direction.source, direction.target)]

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress) -> dict[str, float]:
        owners = {CLIPS: np.arange(len(splits[CLIPS])), CAPTIONS: None}
        if CAPTIONS in splits:
            owners[CAPTIONS] = caption_clips(splits[CLIPS])[1]
        (q_split, q_mod), (g_split, g_mod) = self.needs(direction, splits)
        queries = pooled(embeddings[(q_split, q_mod)])
        gallery = pooled(embeddings[(g_split, g_mod)])
        return retrieval_scores(queries, gallery, relevance(owners[q_split], owners[g_split]))
