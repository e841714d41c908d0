"""The image-caption pairs `synth://clip` is trained on, from the first half of the corpus.

VIP-ANT stands on a CLIP pretrained elsewhere; the synthetic stand-in is trained on the corpus's
first half (`half_rows`), so that a future audio-text backbone can take the other half. What
each frame is paired with is `VipAntConfig.synth_clip_pairs`:

- "captions" (default, what a real CLIP corresponds to): each caption of a clip with the clip's
  middle frame (VIP-ANT's evaluation frame, index ceil(T/2) - 1, zhaoyanpeng/vipant
  `cvap/dataset/audioset_cap.py`). Only what a real corpus has is read: no labels.
- "latent_events": every segment in which some event is visible gives one pair, its frame with a
  caption naming exactly those events. This reads the corpus's latent per-segment event labels
  (`labels["events"]` [N, T, K], bit 0 audible, bit 1 visible, as the synthetic corpus's
  `events.h5` stores them), which no real corpus has: it is an oracle-flavoured backbone.
  Classes are named by `clips.descriptions` (the dataset's per-class descriptions, parallel to
  `clips.class_names`), else by the class name in lower case. On the default synthetic corpus,
  pairing frames with their clip's caption instead (which also names events off screen) gave the
  synthetic CLIP 23 % zero-shot accuracy on frames against 37 % with these pairs (61 classes).
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np

from avtbench.api import Clips, UserError
from avtbench.data.blocks import SegmentRows
from avtbench.data.rows import BLOCK_ROWS


PairSource = Literal["captions", "latent_events"]
PAIR_SOURCES: tuple[str, ...] = ("captions", "latent_events")
CAPTION_STYLES = ("{}", "a video of {}", "a short clip with {}")
"""Paraphrases taken in turn for "latent_events" captions (the synthetic world phrases its
captions these three ways): with bare phrases only, words that prompts use ("a video of ...") were
never trained and the synthetic CLIP's zero-shot accuracy on frames fell from 39 % to 31 %."""
VISIBLE = 2
"""Bit of a visible event in `labels["events"]` (bit 1: audible)."""


def half_rows(n: int, half: Literal["first", "second"] = "first") -> np.ndarray:
    """Clip indices of the first or second half (the first half takes the extra clip of an odd n)."""
    middle = (n + 1) // 2
    return np.arange(middle) if half == "first" else np.arange(middle, n)


def class_descriptions(clips: Clips) -> list[str]:
    """How captions name each of `clips.class_names`: its description, else the name in lower case."""
    given = list(clips.descriptions or [])
    return [given[k] if k < len(given) and given[k] else name.lower() for k, name in enumerate(clips.class_names)]


def event_captions(clips: Clips, rows: np.ndarray, cue: int = VISIBLE) -> list[tuple[int, int, str]]:
    """(clip, segment, caption) for every segment of `rows` in which some event has bit `cue`."""
    if "events" not in clips.labels or not clips.class_names:
        raise UserError("vip_ant.synth_clip_pairs=latent_events needs a corpus with per-segment event labels "
                        "(the synthetic corpus has them, a real one does not); set vip_ant.synth_clip_pairs=captions")
    events = clips.labels["events"]
    names = class_descriptions(clips)
    if len(names) != events.shape[-1]:
        raise UserError(f"the corpus's event labels have {events.shape[-1]} classes but it names {len(names)}")
    out = []
    for start in range(0, len(rows), BLOCK_ROWS):
        block = rows[start:start + BLOCK_ROWS]
        for i, labels in zip(block, np.asarray(events[block])):
            for t in range(labels.shape[0]):
                active = np.flatnonzero(labels[t] & cue)
                if len(active):
                    listed = " and ".join(names[k] for k in active)
                    out.append((int(i), t, CAPTION_STYLES[(int(i) + t) % len(CAPTION_STYLES)].format(listed)))
    return out


def clip_captions(clips: Clips, rows: np.ndarray, steps: int) -> list[tuple[int, int, str]]:
    """(clip, middle segment, caption) for every caption of `rows`."""
    captions = clips.caption_lists()
    if not captions:
        return []
    middle = int(np.ceil(steps / 2)) - 1
    return [(int(i), middle, str(c)) for i in rows for c in captions[i] if str(c).strip()]


def image_caption_pairs(clips: Clips, frames: Any, source: PairSource = "captions") -> tuple[SegmentRows, list[str]]:
    """Frames uint8 [M, S, S, 3] and their M captions from the first half of `clips`, paired as
    `source` says (`frames` is the corpus's raw visual [N, T, S, S, 3]). The frames are a lazy view
    (`avtbench.data.blocks.SegmentRows`): indexing it, or `np.asarray`, reads them."""
    if source not in PAIR_SOURCES:
        raise UserError(f"vip_ant.synth_clip_pairs must be one of {', '.join(PAIR_SOURCES)}, got {source!r}")
    rows = half_rows(len(clips))
    pairs = event_captions(clips, rows) if source == "latent_events" else clip_captions(clips, rows, frames.shape[1])
    picked = np.array([(i, t) for i, t, _ in pairs], dtype=np.int64).reshape(-1, 2)
    return SegmentRows(frames, picked[:, 0], picked[:, 1]), [c for _, _, c in pairs]
