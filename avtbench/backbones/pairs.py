"""The corpus's own image-caption and audio-caption pairs, on which `synth://clip` and `synth://clap`
are trained.

A real CLIP learned from images whose captions name what they show. When the corpus carries
per-segment event labels (the synthetic corpus's `events.h5`: bit 0 audible, bit 1 visible),
every segment in which some event is visible (for audio: audible) gives one pair: its frame (its
one-second waveform) and a caption naming exactly those events, phrased as the world's captions
phrase each class ("a video of a dog barking and a church bell ringing"). Pairing a frame with its clip's
caption instead names events that are off screen in that frame: on the default synthetic corpus
that halved the synthetic CLIP's zero-shot accuracy on frames (23 % against 37 %, 61 classes).
Without event labels (a real corpus), each caption of a clip is paired with the clip's middle
frame (VIP-ANT's evaluation frame, index ceil(T/2) - 1, zhaoyanpeng/vipant
`cvap/dataset/audioset_cap.py`) or, for audio, its middle second.

CLIP takes the first half of the clips and CLAP the second, so the two never see the same clip.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from avtbench.api import Clips
from avtbench.synth.vocab import PHRASES

Half = Literal["first", "second"]
CAPTION_STYLES = ("{}", "a video of {}", "a short clip with {}")
"""The three paraphrases of the synthetic world's captions (`avtbench.synth.raw.captions`), taken in
turn: with bare phrases only, words that prompts use ("the sound of ...") were never trained and
the synthetic CLIP's zero-shot accuracy on frames fell from 39 % to 31 % with such prompts."""
AUDIBLE, VISIBLE = 1, 2
"""Bits of the corpus event labels (`events.h5`'s `encoding` attribute)."""


def half_rows(n: int, half: Half) -> np.ndarray:
    """Clip indices of the first or second half (the first half takes the extra clip of an odd n)."""
    middle = (n + 1) // 2
    return np.arange(middle) if half == "first" else np.arange(middle, n)


def phrase(class_name: str) -> str:
    """How captions name a class: the synthetic world's phrase, else the class name in lower case."""
    return PHRASES.get(class_name, class_name.lower())


def segment_captions(clips: Clips, rows: np.ndarray, cue: int) -> list[tuple[int, int, str]]:
    """(clip, segment, caption) for every segment of `rows` in which some event has bit `cue`."""
    events = np.asarray(clips.labels["events"])
    names = list(clips.class_names or [])
    if len(names) != events.shape[-1]:
        raise ValueError(f"event labels have {events.shape[-1]} classes but the corpus names {len(names)}")
    out = []
    for i in rows:
        for t in range(events.shape[1]):
            active = np.flatnonzero(events[i, t] & cue)
            if len(active):
                listed = " and ".join(phrase(names[k]) for k in active)
                out.append((int(i), t, CAPTION_STYLES[(int(i) + t) % len(CAPTION_STYLES)].format(listed)))
    return out


def clip_captions(clips: Clips, rows: np.ndarray, steps: int) -> list[tuple[int, int, str]]:
    """(clip, middle segment, caption) for every caption of `rows`."""
    captions = clips.caption_lists()
    middle = int(np.ceil(steps / 2)) - 1
    return [(int(i), middle, str(c)) for i in rows for c in captions[i] if str(c).strip()]


def caption_pairs(clips: Clips, steps: int, half: Half, cue: int) -> list[tuple[int, int, str]]:
    rows = half_rows(len(clips), half)
    if "events" in clips.labels and clips.class_names:
        found = segment_captions(clips, rows, cue)
        if len(found) >= 2:
            return found
    return clip_captions(clips, rows, steps)


def image_caption_pairs(clips: Clips, frames: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Frames uint8 [N, S, S, 3] and their captions from the first half of `clips`
    (`frames` is the corpus's raw visual [clips, T, S, S, 3])."""
    pairs = caption_pairs(clips, frames.shape[1], "first", VISIBLE)
    if not pairs:
        return frames[:0, 0], []
    return np.stack([frames[i, t] for i, t, _ in pairs]), [c for _, _, c in pairs]


def audio_caption_pairs(clips: Clips, waveforms: np.ndarray, sample_rate: int) -> tuple[np.ndarray, list[str]]:
    """One-second waveforms float32 [N, sample_rate] and their captions from the second half of
    `clips` (`waveforms` is the corpus's raw audio [clips, T * sample_rate])."""
    steps = waveforms.shape[1] // sample_rate
    pairs = caption_pairs(clips, steps, "second", AUDIBLE)
    if not pairs:
        return np.zeros((0, sample_rate), np.float32), []
    seconds = [waveforms[i, t * sample_rate:(t + 1) * sample_rate] for i, t, _ in pairs]
    return np.stack(seconds).astype(np.float32), [c for _, _, c in pairs]
