"""The synthetic AVE: clips of one audio-visual event of an AVE class, in the AVE release's layout.

Each clip holds one event, heard and seen (its sound may be off its picture by the world's lag);
the annotated event is where both are on. Besides the release's files it writes labels.h5, CMG's
AVE->AVVP files (by CMG's rule: every row of a shared class) and captions.tsv.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avtbench.api import CopyRequest, SyntheticCopy
from avtbench.data.files import FEATURE_KEY
from avtbench.synth import raw
from avtbench.synth.events import EventSpec, sample_events
from avtbench.synth.vocab import EVENT_CLASSES, PHRASES, class_index
from avtbench.synth.writing import h5_write, raw_sink, write_features

from .reader import ANNOTATION_HEADER, RELEASE_SPLITS, AveAnnotation, ave_avvp_labels, ave_avvp_rows, ave_labels_from_annotations
from .vocab import AVE_CLASSES


@dataclass(frozen=True)
class AveSizes:
    splits: tuple[int, int, int] = (480, 60, 60)
    """Clips of the train, val and test splits."""


def clip_count(sizes: AveSizes) -> int:
    return sum(sizes.splits)


AVE_SPEC = EventSpec([class_index(c) for c in AVE_CLASSES], np.ones(len(AVE_CLASSES)), (1.0,), (1.0, 0.0, 0.0), 0.66, 2)


def write_ave(request: CopyRequest[AveSizes]) -> None:
    folder, world, rng, s = request.folder, request.world, request.rng, request.world.sizes
    folder.mkdir(parents=True, exist_ok=True)
    n = clip_count(request.sizes)
    ev = sample_events(rng, n, AVE_SPEC, s, world.knobs.max_lag)
    # an AVE class is named as the world's event class it is rendered as; an AVE event is where it
    # is both heard and seen
    start, end = np.maximum(ev.onset[:, 0], ev.audio_onset[:, 0]), np.minimum(ev.offset[:, 0], ev.audio_offset[:, 0])
    rows = [AveAnnotation(EVENT_CLASSES[ev.cls[i, 0]], request.ids(), "good", int(start[i]), int(end[i])) for i in range(n)]
    lines = [ANNOTATION_HEADER] + [f"{r.category}&{r.video_id}&{r.quality}&{r.start}&{r.end}" for r in rows]
    (folder / "Annotations.txt").write_text("\n".join(lines) + "\n")
    names = [r.video_id for r in rows]
    raw.write_captions(folder / "captions.tsv", names, ev)
    h5_write(folder / "labels.h5", FEATURE_KEY, ave_labels_from_annotations(rows, s.segments))
    # CMG's AVE->AVVP files, by CMG's rule (every row of a shared class; its 13-column labels); no draws
    h5_write(folder / "ave_avvp_order.h5", "order", ave_avvp_rows(rows))
    h5_write(folder / "ave_avvp_labels.h5", FEATURE_KEY, ave_avvp_labels(rows, s.segments))
    order = rng.permutation(n).astype(np.int64)
    bounds = np.cumsum((0,) + request.sizes.splits)
    for split, lo, hi in zip(RELEASE_SPLITS, bounds[:-1], bounds[1:]):
        h5_write(folder / f"{split}_order.h5", "order", order[lo:hi])
    write_features(folder, world, ev, rng, raw_sink(world, folder, names, request.raw_rng))


SIZES = {"tiny": AveSizes((280, 40, 40)), "paper": AveSizes((3339, 402, 402))}
"""AVE's sizes per world profile (the others have the default). tiny: enough clips per class to fit a
head; paper: the release's split sizes."""

COPY = SyntheticCopy(write=write_ave, default_sizes=AveSizes(), sizes=SIZES,
                     descriptions={c: PHRASES[c] for c in AVE_CLASSES}, id_order=1, ids_drawn=clip_count)
"""AVE's synthetic copy: on the shared id stream after the corpus."""
