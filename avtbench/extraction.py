"""The contract of a dataset's extraction layout: how `avtbench extract` writes per-second features of
videos in a declared dataset's on-disk format (`Dataset.extraction`).

The command reads the videos, runs the extractors and hands each clip's rows to a sink the dataset
plugin opens; it never names a dataset or a file of one. A sink is resumable: `handled(video_id)` says
whether an earlier (killed) run already wrote or skipped a video, so a rerun does no video twice.

Besides features, a clip may come with its raw level (`RawClip`: the 16 kHz wave and one frame a
second, square, with `--raw`, or the frames alone where the layout always holds them) and the
layout may read annotations the videos do not carry (`--annotations PATH`, read and checked by the
layout before any video is, and handed to its sink in `ExtractJob.annotations`).
Nothing here imports numpy or a plugin.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ExtractJob", "ExtractSink", "ExtractionLayout", "ExtractTally", "FrameRecipe", "RawClip"]


@dataclass(frozen=True)
class ExtractJob:
    """What an extraction is; a resumed run must be the same job.

    inputs:  option -> value (the videos' digest, the extractors and their settings, the clip length);
    clips:   how many videos it handles (at most that many clips);
    shapes:  modality -> the shape of one clip's rows ([seconds, D] audio, [seconds, ...] visual);
    provenance: what the dataset's provenance file records (extractors, settings, weights);
    raw:     whether the raw level is written (`--raw`);
    frame_size: the side of the square frames written (the raw level's, or the layout's own);
    annotations: what the layout's `annotations` reader made of `--annotations`, None without it
             (its path's digest is in `inputs`, so a resumed run reads the same).
    """

    inputs: dict[str, str]
    clips: int
    shapes: dict[str, list[int]]
    provenance: dict[str, Any] = field(default_factory=dict)
    raw: bool = False
    frame_size: int = 224
    annotations: Any = None


@dataclass(frozen=True)
class FrameRecipe:
    """How a layout takes one frame a second: the frame shown `phase` seconds into each second, made
    square by a centre crop to the shorter side (`crop`, then resized) or by resizing alone (the
    picture squashed); `source` names the recipe (for provenance.json)."""

    phase: float
    crop: bool
    source: str




@dataclass
class RawClip:
    """A clip's raw level: `wave` float32 [seconds * 16000] in [-1, 1] (None without `--raw`) and
    `frames` uint8 [seconds, S, S, 3] (one a second, by the layout's `FrameRecipe`)."""

    wave: "np.ndarray | None"
    frames: "np.ndarray"


@dataclass
class ExtractTally:
    """Videos handled, by status (`ok` or why skipped), and how many an earlier run handled."""

    statuses: Counter = field(default_factory=Counter)
    earlier: int = 0

    @property
    def written(self) -> int:
        return self.statuses["ok"]

    @property
    def skipped(self) -> dict[str, int]:
        return {s: n for s, n in sorted(self.statuses.items()) if s != "ok"}


class ExtractSink(Protocol):
    """Where one extraction's clips go, opened by `ExtractionLayout.open`."""

    tally: ExtractTally

    def handled(self, video_id: str) -> bool: ...

    def add(self, video_id: str, rows: "dict[str, np.ndarray]", raw: RawClip | None = None) -> None:
        """Write one clip's rows (`{"audio": [seconds, D], "visual": [seconds, ...]}`, the layout's
        `features` only) and its raw level (with `--raw`, or where the layout holds frames), then journal it."""

    def skip(self, video_id: str, status: str, message: str) -> None: ...

    def finish(self) -> Path:
        """Publish the dataset (its id list last); a UserError when no clip was written."""

    def close(self) -> None: ...

    # optional: `missing`, a str: what the written folder still lacks (replaces the layout's `missing`
    # in the summary; "" when nothing)


@dataclass(frozen=True)
class ExtractionLayout:
    """How a dataset is written from videos (`Dataset.extraction`).

    open:        `open(out, job) -> ExtractSink`, made afresh or reopened to resume;
    done_before: `done_before(out, job) -> ExtractTally | None`: the tally of a finished extraction of
                 `job` in `out`, None when there is none yet; a UserError when `out` holds something else;
    seconds:     the clip length the format fixes (AVE's and AVVP's 10 s), None when any `--seconds` fits;
    missing:     what extraction cannot give and the dataset needs beyond features (annotations), said
                 in the summary; "" when the written folder is the whole dataset;
    features:    the modalities it writes features of (`--audio`, `--visual`: one extractor each);
    frames:      how its frames are taken (`FrameRecipe`): its raw level's, or the layout's own; None:
                 it has no raw level (`--raw` is refused);
    frames_always: whether it holds frames without `--raw` (a format whose frames are its input);
    annotations: `annotations(path, video_ids) -> Any`, reading and checking `--annotations PATH` before
                 any video is read (a UserError naming the problem); None: the layout takes none;
    annotations_help: what `--annotations` names for this layout (said when it is missing or refused);
    annotations_required: whether the layout cannot be written without it;
    check:       `check(job)`, a UserError for a job the layout cannot write (the rows' shapes, the frame
                 size against the annotations), called before anything is written; None: none.
    """

    open: Callable[[Path, ExtractJob], ExtractSink]
    done_before: Callable[[Path, ExtractJob], ExtractTally | None]
    seconds: int | None = None
    missing: str = ""
    features: tuple[str, ...] = ("audio", "visual")
    frames: FrameRecipe | None = None
    frames_always: bool = False
    annotations: Callable[[Path, list[str]], Any] | None = None
    annotations_help: str = ""
    annotations_required: bool = False
    check: Callable[[ExtractJob], None] | None = None
