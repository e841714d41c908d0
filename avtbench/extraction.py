"""The contract of a dataset's extraction layout: how `avtbench extract` writes per-second features of
videos in a declared dataset's on-disk format (`Dataset.extraction`).

The command reads the videos, runs the extractors and hands each clip's rows to a sink the dataset
plugin opens; it never names a dataset or a file of one. A sink is resumable: `handled(video_id)` says
whether an earlier (killed) run already wrote or skipped a video, so a rerun does no video twice.
Nothing here imports numpy or a plugin.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ExtractJob", "ExtractSink", "ExtractionLayout", "ExtractTally"]


@dataclass(frozen=True)
class ExtractJob:
    """What an extraction is; a resumed run must be the same job.

    inputs:  option -> value (the videos' digest, the extractors and their settings, the clip length);
    clips:   how many videos it handles (at most that many clips);
    shapes:  modality -> the shape of one clip's rows ([seconds, D] audio, [seconds, ...] visual);
    provenance: what the dataset's provenance file records (extractors, settings, weights).
    """

    inputs: dict[str, str]
    clips: int
    shapes: dict[str, list[int]]
    provenance: dict[str, Any] = field(default_factory=dict)


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

    def add(self, video_id: str, rows: "dict[str, np.ndarray]") -> None:
        """Write one clip's rows (`{"audio": [seconds, D], "visual": [seconds, ...]}`), then journal it."""

    def skip(self, video_id: str, status: str, message: str) -> None: ...

    def finish(self) -> Path:
        """Publish the dataset (its id list last); a UserError when no clip was written."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class ExtractionLayout:
    """How a dataset is written from videos (`Dataset.extraction`).

    open:        `open(out, job) -> ExtractSink`, made afresh or reopened to resume;
    done_before: `done_before(out, job) -> ExtractTally | None`: the tally of a finished extraction of
                 `job` in `out`, None when there is none yet; a UserError when `out` holds something else;
    seconds:     the clip length the format fixes (AVE's and AVVP's 10 s), None when any `--seconds` fits;
    missing:     what extraction cannot give and the dataset needs beyond features (annotations), said
                 in the summary; "" when the written folder is the whole dataset.
    """

    open: Callable[[Path, ExtractJob], ExtractSink]
    done_before: Callable[[Path, ExtractJob], ExtractTally | None]
    seconds: int | None = None
    missing: str = ""
