"""The corpus as a layout of `avtbench extract` (`Dataset.extraction`): one clip per video, its
per-second features written clip by clip through the converters' resumable writer (`writer.py`):
audio [N, T, D], visual [N, T, ...], chunked by clip, video_ids.txt published last, and
`provenance.json` naming the extractors, their settings and weights. No captions: a video has none.
With `--raw`, each clip's raw level (raw/audio/<id>.wav, raw/frames/<id>.png, `avtbench.data.raw`) is
staged in OUT/.convert/raw/ before its journal line and moved into OUT/raw/ when the corpus is
published (a file at a time, before video_ids.txt)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from avtbench.data.raw import write_raw_clip
from avtbench.extraction import ExtractionLayout, ExtractJob, ExtractTally, FrameRecipe, RawClip

from .writer import CorpusJob, CorpusWriter, done_before

PROVENANCE = "provenance.json"
RAW_FRAMES = FrameRecipe(0.0, True, (
    "CAV-MAE's src/preprocess/extract_video_frame.py (YuanGongND/cav-mae): frame i of a 10 s clip at i s, Resize(224) "
    "of the shorter side then CenterCrop(224); that script seeks to frame index i*fps - 1, one frame before the "
    "instant, ours takes the frame shown at it"))
"""The raw level's frames (raw/frames/<id>.png, `avtbench.data.raw`) as `--raw` takes them: CAV-MAE's
recipe, the raw-input methods' reference (its script reads the frame one before each second's start:
one frame's difference, and for the first second the same frame)."""


def _corpus_job(job: ExtractJob) -> CorpusJob:
    return CorpusJob("extract", dict(job.inputs), job.clips, {m: list(s) for m, s in job.shapes.items()})


class CorpusSink:
    """An `avtbench.extraction.ExtractSink` over a `CorpusWriter`."""

    def __init__(self, out: Path, job: ExtractJob) -> None:
        self.job = job
        self.writer = CorpusWriter(out, _corpus_job(job))
        self.tally = self.writer.tally

    def handled(self, video_id: str) -> bool:
        return self.writer.handled(video_id)

    def add(self, video_id: str, rows, raw: RawClip | None = None) -> None:
        if raw is not None:
            write_raw_clip(self.writer.staging / "raw", video_id, raw.wave, raw.frames)
        self.writer.add(video_id, rows)

    def skip(self, video_id: str, status: str, message: str) -> None:
        self.writer.skip(video_id, status, message)

    def finish(self) -> Path:
        if self.writer.rows:
            written = {v for v, status in self.writer.statuses.items() if status == "ok"}
            _move_tree(self.writer.staging / "raw", self.writer.out / "raw", written)
        return self.writer.finish(None, {PROVENANCE: json.dumps(self.job.provenance, indent=1, sort_keys=True)})

    def close(self) -> None:
        self.writer.close()


def _move_tree(source: Path, target: Path, written: set[str]) -> None:
    """Every file of a video written under `source` to the same place under `target` (one rename each:
    a move killed half way is finished by the next run); what a killed run left of others stays behind."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and path.stem in written:
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination)


def _done_before(out: Path, job: ExtractJob) -> ExtractTally | None:
    return done_before(out, _corpus_job(job))


EXTRACTION = ExtractionLayout(open=CorpusSink, done_before=_done_before, frames=RAW_FRAMES)


def features_only(seconds: int, missing: str) -> ExtractionLayout:
    """The layout of a dataset whose feature files are the corpus's (audio_feature.h5 and
    visual_feature.h5, key `avadataset`, rows in video_ids.txt's order) but which needs more than
    videos give (`missing`: its annotations), with clips of `seconds` s."""
    return ExtractionLayout(open=CorpusSink, done_before=_done_before, seconds=seconds, missing=missing,
                            frames=RAW_FRAMES)
