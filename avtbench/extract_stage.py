"""A resumable staging folder for extraction layouts that write files per clip (a `.npy` of features
per video, a PNG per frame), as `avtbench extract`'s sinks of such layouts use it (`extraction.py`).

While it runs, everything lives in OUT/.convert/, as the corpus writer keeps it: `job.json` (what is
extracted, compared on resume), `journal.tsv` (one line per video handled: `video_id<TAB>status<TAB>
message`, status `ok` or why it was skipped) and `files/`, the clips' files at their final relative
paths. A clip's files are each written under a hidden temporary name and renamed, then its journal
line is written and flushed: the journal's `ok` lines are the clips whose files are complete, a
killed run loses at most the video it was on, and a resumed one writes that video's files again.

`finish` moves every staged file into OUT (a file at a time, so a finish killed half way is finished
by the next run), writes the layout's text files and skipped.tsv, then the record (`record`, e.g.
`extraction.json`) last: a folder without its record is an unfinished extraction, never a dataset.
"""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from avtbench.atomic import write_text_atomic
from avtbench.errors import UserError
from avtbench.extraction import ExtractJob, ExtractTally
from avtbench.journal import JOURNAL, VideoJournal

STAGING = ".convert"
JOB = "job.json"
FILES = "files"
SKIPPED = "skipped.tsv"
SYNC_EVERY = 256
"""Videos between two fsyncs of the journal (a killed process loses nothing flushed)."""


def job_record(job: ExtractJob) -> dict[str, Any]:
    """What a resumed or finished run is compared on."""
    return {"inputs": dict(job.inputs), "clips": job.clips, "shapes": {m: list(s) for m, s in job.shapes.items()}}


def _difference(mine: dict[str, Any], stored: dict[str, Any]) -> str | None:
    """The first field in which a stored job differs, as words; None when equal."""
    for option, given in mine["inputs"].items():
        if stored.get("inputs", {}).get(option) != given:
            return f"its {option} was {stored.get('inputs', {}).get(option)!r}, now {given!r}"
    for key in ("clips", "shapes"):
        if stored.get(key) != mine[key]:
            return f"its {key} was {stored.get(key)!r}, now {mine[key]!r}"
    return None


def done_before(out: Path, job: ExtractJob, record: str) -> ExtractTally | None:
    """The tally of a finished extraction of `job` in `out` (its `record` file holds it); None when there
    is none yet; a UserError when `out` holds another job's dataset or other files."""
    out = Path(out)
    if (out / STAGING).exists():
        return None
    if (out / record).exists():
        stored = _json(out / record)
        difference = _difference(job_record(job), stored.get("job", {}))
        if difference:
            raise UserError(f"--out {out} already holds an extraction of another job ({difference}); pass another --out")
        return ExtractTally(Counter(stored.get("statuses", {})))
    others = [p.name for p in out.iterdir() if not p.name.startswith(("extract.log", ".convert"))] if out.is_dir() else []
    if others:
        raise UserError(f"--out {out} is not empty and holds no extraction (it has {', '.join(sorted(others)[:3])}); "
                        "pass a new or empty folder")
    return None


class ClipStage:
    """The staging folder of `job` in `out`: made afresh, or opened again to resume."""

    def __init__(self, out: Path, job: ExtractJob, record: str) -> None:
        self.out, self.record = Path(out), record
        self.staging = self.out / STAGING
        self.mine = job_record(job)
        if not (self.staging / JOB).exists():
            (self.staging / FILES).mkdir(parents=True, exist_ok=True)
            (self.staging / JOURNAL).touch()
            write_text_atomic(self.staging / JOB, json.dumps(self.mine, indent=1, sort_keys=True))
        difference = _difference(self.mine, _json(self.staging / JOB))
        if difference:
            raise UserError(f"{self.staging} holds an unfinished extraction of another job ({difference}); pass the "
                            "same options to resume it, or another --out")
        self.journal = VideoJournal(self.staging / JOURNAL)
        self.statuses = self.journal.statuses
        self.tally = ExtractTally(Counter(self.statuses.values()), earlier=len(self.statuses))
        self.since_sync = 0

    def handled(self, video_id: str) -> bool:
        return video_id in self.statuses

    def write(self, relative: str, write: Callable[[Path], None]) -> None:
        """Stage one file at `relative` (its path in OUT): `write(tmp)` writes it, then it is renamed."""
        target = self.staging / FILES / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        write(tmp)
        os.replace(tmp, target)

    def write_npy(self, relative: str, array: Any) -> None:
        """Stage `array` as float32 .npy at `relative`."""
        import numpy as np

        def save(tmp: Path) -> None:
            with open(tmp, "wb") as handle:
                np.save(handle, np.asarray(array, dtype=np.float32))

        self.write(relative, save)

    def ok(self, video_id: str) -> None:
        """Journal a video whose files are all staged."""
        self._journal(video_id, "ok", "")

    def skip(self, video_id: str, status: str, message: str) -> None:
        self._journal(video_id, status, message)

    def _journal(self, video_id: str, status: str, message: str) -> None:
        self.journal.record(video_id, status, message)
        self.tally.statuses[status] += 1
        self.since_sync += 1
        if self.since_sync >= SYNC_EVERY:
            self.journal.sync()
            self.since_sync = 0

    def written(self) -> list[str]:
        """The ids of the videos written, in the order they were."""
        return [v for v, status in self.statuses.items() if status == "ok"]

    def finish(self, texts: dict[str, str]) -> Path:
        """Publish: every staged file into OUT, then `texts` (relative path -> text) and skipped.tsv, the
        record last. A UserError when no video was written."""
        if not self.written():
            skipped = ", ".join(f"{n:,} {s}" for s, n in self.tally.skipped.items()) or "none skipped"
            raise UserError(f"no video could be extracted ({skipped}); see {self.staging / JOURNAL}")
        self.close()
        files = self.staging / FILES
        for path in sorted(files.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                target = self.out / path.relative_to(files)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
        for relative, text in texts.items():
            write_text_atomic(self.out / relative, text)
        lines = ["video_id\tstatus\tmessage"] + self.journal.lines()[1]
        write_text_atomic(self.out / SKIPPED, "".join(f"{line}\n" for line in lines))
        record = {"job": self.mine, "statuses": dict(self.tally.statuses)}
        write_text_atomic(self.out / self.record, json.dumps(record, indent=1, sort_keys=True))
        shutil.rmtree(self.staging)
        return self.out

    def close(self) -> None:
        self.journal.close()


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(f"{path}: unreadable ({detail}); delete {path.parent} to start over") from None
