"""The corpus as a layout of `avtbench extract` (`Dataset.extraction`): one clip per video, its
per-second features written clip by clip through the converters' resumable writer (`writer.py`):
audio [N, T, D], visual [N, T, ...], chunked by clip, video_ids.txt published last, and
`provenance.json` naming the extractors, their settings and weights. No captions: a video has none."""
from __future__ import annotations

import json
from pathlib import Path

from avtbench.extraction import ExtractionLayout, ExtractJob, ExtractTally

from .writer import CorpusJob, CorpusWriter, done_before

PROVENANCE = "provenance.json"


def _corpus_job(job: ExtractJob) -> CorpusJob:
    return CorpusJob("extract", dict(job.inputs), job.clips, {m: list(s) for m, s in job.shapes.items()})


class CorpusSink:
    """An `avtbench.extraction.ExtractSink` over a `CorpusWriter`."""

    def __init__(self, out: Path, job: ExtractJob) -> None:
        self.job = job
        self.writer = CorpusWriter(out, _corpus_job(job))
        self.tally = ExtractTally(self.writer.tally.statuses, self.writer.tally.earlier)

    def handled(self, video_id: str) -> bool:
        return self.writer.handled(video_id)

    def add(self, video_id: str, rows) -> None:
        self.writer.add(video_id, rows)

    def skip(self, video_id: str, status: str, message: str) -> None:
        self.writer.skip(video_id, status, message)

    def finish(self) -> Path:
        return self.writer.finish(None, {PROVENANCE: json.dumps(self.job.provenance, indent=1, sort_keys=True)})

    def close(self) -> None:
        self.writer.close()


def _done_before(out: Path, job: ExtractJob) -> ExtractTally | None:
    tally = done_before(out, _corpus_job(job))
    return None if tally is None else ExtractTally(tally.statuses)


EXTRACTION = ExtractionLayout(open=CorpusSink, done_before=_done_before)


def features_only(seconds: int, missing: str) -> ExtractionLayout:
    """The layout of a dataset whose feature files are the corpus's (audio_feature.h5 and
    visual_feature.h5, key `avadataset`, rows in video_ids.txt's order) but which needs more than
    videos give (`missing`: its annotations), with clips of `seconds` s."""
    return ExtractionLayout(open=CorpusSink, done_before=_done_before, seconds=seconds, missing=missing)
