"""What C-MCR trains on, from the raw corpus, with no audio ever paired with a frame.

The corpus is split into two halves of clips (`half_rows`; the first takes the extra clip of an
odd count). Everything image-side comes from the first half, everything audio-side from the
second:

- `synth://clip` is trained on each caption of a first-half clip with the clip's middle frame
  (index ceil(T/2) - 1; vip_ant's pairs, so the two methods share one cached CLIP);
- `synth://clap` on each caption of a second-half clip with the clip's middle second of audio;
- the image memory holds the CLIP embedding of every segment's frame of the first half, the audio
  memory the CLAP embedding of every one-second segment of the second half (`memories`);
- the text corpus is every distinct caption of the corpus, encoded by both text towers: text is
  the overlapping modality C-MCR connects through, and text-image and text-audio pairs are each
  inside one MCR.

`Memories` records the clip id of every memory entry, and `check_disjoint` refuses memories that
share a clip, so no audio-visual pair ever reaches training.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from avtbench.api import Clips, UserError
from avtbench.data.blocks import SegmentRows, every_segment

from .config import SAMPLE_RATE


def half_rows(n: int, half: Literal["first", "second"]) -> np.ndarray:
    """Clip indices of the first or second half (the first half takes the extra clip of an odd n)."""
    middle = (n + 1) // 2
    return np.arange(middle) if half == "first" else np.arange(middle, n)


def middle_segment(steps: int) -> int:
    return int(np.ceil(steps / 2)) - 1


def text_corpus(clips: Clips) -> list[str]:
    """Every distinct caption of the corpus (case and surrounding space ignored), in corpus order."""
    seen: dict[str, str] = {}
    for captions in clips.caption_lists():
        for caption in captions:
            text = str(caption).strip()
            if text:
                seen.setdefault(text.lower(), text)
    return list(seen.values())


def vocabulary(clips: Clips) -> list[str]:
    """Every caption of the corpus: the words the synthetic text towers know."""
    return [str(c) for captions in clips.caption_lists() for c in captions]


def clip_pairs(clips: Clips, frames: Any) -> tuple[SegmentRows, list[str]]:
    """`synth://clip`'s training pairs: (middle frames uint8 [M, S, S, 3], M captions) of the first half.
    The frames are a lazy view of the corpus's visual (`avtbench.data.blocks.SegmentRows`), read when indexed."""
    captions = clips.caption_lists()
    pairs = [(int(i), str(c)) for i in half_rows(len(clips), "first") for c in captions[i] if str(c).strip()]
    if len(pairs) < 2:
        raise UserError("cmcr with clip=synth://clip needs at least 2 captions in the first half of the corpus; "
                        "pass a pretrained CLIP: --set cmcr.clip=/path/to/clip-vit-base-patch32")
    return SegmentRows(frames, np.array([i for i, _ in pairs]), middle_segment(frames.shape[1])), [c for _, c in pairs]


def clap_pairs(clips: Clips, audio: Any) -> tuple[SegmentRows, list[str]]:
    """`synth://clap`'s training pairs: (middle seconds float32 [M, 16000], M captions) of the second
    half, the seconds a lazy view of the corpus's audio."""
    captions = clips.caption_lists()
    steps = audio.shape[1] // SAMPLE_RATE
    pairs = [(int(i), str(c)) for i in half_rows(len(clips), "second") for c in captions[i] if str(c).strip()]
    if len(pairs) < 2:
        raise UserError("cmcr with clap=synth://clap needs at least 2 captions in the second half of the corpus; "
                        "pass a pretrained CLAP: --set cmcr.clap=/path/to/clap-htsat-unfused")
    waves = SegmentRows(audio, np.array([i for i, _ in pairs]), middle_segment(steps), SAMPLE_RATE, np.float32)
    return waves, [c for _, c in pairs]


@dataclass
class Memories:
    """Rows of the corpus whose frames form the image memory and whose audio forms the audio memory,
    one memory entry per segment, with the clip id of every entry."""

    image_rows: np.ndarray
    audio_rows: np.ndarray
    steps: int
    image_ids: list[str]
    audio_ids: list[str]

    def frames(self, visual: Any) -> SegmentRows:
        """uint8 [len(image_rows) * T, S, S, 3], segment-major within each clip (a lazy view)."""
        return every_segment(visual, self.steps, self.image_rows)

    def waveforms(self, audio: Any) -> SegmentRows:
        """float32 [len(audio_rows) * T, 16000]: each one-second segment of the audio memory's clips
        (a lazy view)."""
        return every_segment(audio, self.steps, self.audio_rows, SAMPLE_RATE, np.float32)


def memories(clips: Clips, steps: int) -> Memories:
    """Image memory from the first half's frames, audio memory from the second half's audio."""
    image_rows, audio_rows = half_rows(len(clips), "first"), half_rows(len(clips), "second")
    found = Memories(image_rows, audio_rows, steps,
                     [clips.ids[i] for i in image_rows for _ in range(steps)],
                     [clips.ids[i] for i in audio_rows for _ in range(steps)])
    check_disjoint(found)
    return found


def check_disjoint(found: Memories) -> None:
    """No clip gives both a frame and a sound: the memories share no row and no clip id."""
    shared_rows = set(found.image_rows.tolist()) & set(found.audio_rows.tolist())
    shared_ids = set(found.image_ids) & set(found.audio_ids)
    if shared_rows or shared_ids:
        example = min(shared_ids) if shared_ids else f"row {min(shared_rows)}"
        raise AssertionError(f"the image and audio memories share clip {example}: C-MCR must never see a paired "
                             "audio and frame")
