"""Which corpus clips each synthetic backbone learns from and which clips are captioned.

A real captioner and a real CLAP were trained elsewhere, so with both real every clip is captioned
and scored. Their synthetic stand-ins are trained on this corpus, so they must not see the clips
they judge. With N raw clips, first half = rows [0, ceil(N/2)), second half = the rest (the split
of every synthetic backbone here: `synth://clip` learns from the first half, `synth://clap` from
the second, as vip_ant and cmcr train them):

- `synth://clap`: each caption of a second-half clip with that clip's middle second of audio
  (cmcr's pairs and recipe, so the two methods share one cached CLAP);
- `synth://captioner`: the first `synth_captioner_share` of the first half (a third subset,
  disjoint from the CLAP's clips and from the captioned ones), each frame with one of its clip's
  captions in turn (frame t of clip i takes caption t mod the clip's caption count); no labels;
- captioned: every clip neither synthetic backbone learnt from. With both synthetic (the default)
  that is the rest of the first half, a quarter of the corpus by default.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avtbench.api import Clips, UserError
from avtbench.data.blocks import SegmentRows

from .config import SAMPLE_RATE


def half_rows(n: int, half: str) -> np.ndarray:
    middle = (n + 1) // 2
    return np.arange(middle) if half == "first" else np.arange(middle, n)


@dataclass(frozen=True)
class Rows:
    clap: np.ndarray
    captioner: np.ndarray
    captioned: np.ndarray


def assign_rows(n: int, synth_clap: bool, synth_captioner: bool, captioner_share: float) -> Rows:
    """The three disjoint row sets (empty for a backbone that is not synthetic)."""
    first = half_rows(n, "first")
    clap = half_rows(n, "second") if synth_clap else np.arange(0)
    cut = min(len(first) - 1, max(1, int(round(len(first) * captioner_share)))) if synth_captioner else 0
    captioner = first[:cut]
    taken = set(clap.tolist()) | set(captioner.tolist())
    captioned = np.array([i for i in range(n) if i not in taken], dtype=np.int64)
    if len(captioned) < 2 or (synth_captioner and len(captioner) < 1):
        raise UserError(f"lg_cav_mae: {n} raw corpus clips are too few to train the synthetic backbones on clips apart "
                        "from those captioned; use a larger corpus or pretrained backbones (lg_cav_mae.captioner, "
                        "lg_cav_mae.clap)")
    return Rows(clap, captioner, captioned)


def clap_pairs(clips: Clips, rows: np.ndarray) -> tuple[SegmentRows, list[str]]:
    """(middle seconds float32 [M, 16000], M captions): every caption of `rows`; the seconds are a lazy
    view of the corpus's audio (`avtbench.data.blocks.SegmentRows`), read when indexed."""
    captions = clips.caption_lists()
    audio = clips.modality("audio")
    steps = audio.shape[1] // SAMPLE_RATE
    middle = int(np.ceil(steps / 2)) - 1
    pairs = [(int(i), str(c)) for i in rows for c in captions[i] if str(c).strip()]
    if len(pairs) < 2:
        raise UserError("lg_cav_mae with clap=synth://clap needs captions in the second half of the corpus; pass a "
                        "pretrained CLAP: --set lg_cav_mae.clap=/path/to/clap-htsat-unfused")
    return SegmentRows(audio, np.array([i for i, _ in pairs]), middle, SAMPLE_RATE, np.float32), [c for _, c in pairs]


def captioner_pairs(clips: Clips, rows: np.ndarray) -> tuple[SegmentRows, list[str]]:
    """(frames uint8 [M, S, S, 3], M captions): every frame of `rows` with one caption of its clip; the
    frames are a lazy view of the corpus's visual."""
    captions = clips.caption_lists()
    visual = clips.modality("visual")
    pairs = []
    for i in rows:
        own = [str(c) for c in captions[i] if str(c).strip()] if captions else []
        pairs += [(int(i), t, own[t % len(own)]) for t in range(visual.shape[1])] if own else []
    if len(pairs) < 2:
        raise UserError("lg_cav_mae with captioner=synth://captioner trains it on corpus captions, but its clips have "
                        "none; pass a pretrained captioner: --set lg_cav_mae.captioner=/path/to/blip2-opt-2.7b")
    picked = np.array([(i, t) for i, t, _ in pairs], dtype=np.int64)
    return SegmentRows(visual, picked[:, 0], picked[:, 1]), [c for _, _, c in pairs]


def vocabulary(clips: Clips) -> list[str]:
    """Every caption of the corpus: the words the synthetic text towers know (cmcr's vocabulary)."""
    return [str(c) for captions in clips.caption_lists() for c in captions]
