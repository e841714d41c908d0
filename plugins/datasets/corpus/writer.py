"""A corpus in the corpus format (`reader.py`) written clip by clip, resumable after a kill, for converters.

While it runs, everything lives in OUT/.convert/: `job.json` (what is converted, compared on resume),
`journal.tsv` (one line per video handled: `video_id<TAB>status<TAB>message`, status `ok` or why it was
skipped) and the two feature files, created at once for every clip of the job (HDF5 chunked by clip,
every chunk allocated up front, nothing filled: a sparse file). A clip's rows are written into the next
free row and flushed before its journal line is: so the journal's `ok` lines are the rows that hold
data, a killed run loses at most the video it was on, and a resumed one writes the next row again
without reading any video twice. Since the chunks are allocated when the files are made, writing a row
changes no HDF5 metadata: a kill in the middle of a write tears nothing but that uncommitted row.

When every video is handled, `finish` cuts the files to the rows written, moves them into OUT beside
captions.tsv, skipped.tsv and conversion.json, and writes video_ids.txt last: a folder without it is
never read as a corpus. Memory holds one clip's arrays and the ids, never the features.
"""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from avtbench.api import UserError
from avtbench.atomic import atomic_path, publish_folder, remove_dead_temps, write_text_atomic
from avtbench.data.captions import CAPTION_HEADER, CAPTIONS_FILE
from avtbench.data.files import FEATURE_KEY
from avtbench.extraction import ExtractTally
from avtbench.journal import JOURNAL, VideoJournal

STAGING = ".convert"
JOB = "job.json"
RECORD = "conversion.json"
SKIPPED = "skipped.tsv"
FEATURE_FILES = {"audio": "audio_feature.h5", "visual": "visual_feature.h5"}
SYNC_EVERY = 256
"""Rows between two fsyncs (a killed process loses nothing flushed; an fsync guards against a lost machine)."""


@dataclass(frozen=True)
class CorpusJob:
    """What a conversion is: its converter, its inputs (option -> path or digest), how many clips it
    handles and the shape of a clip's rows. A resumed run must be the same job."""

    converter: str
    inputs: dict[str, str]
    clips: int
    shapes: dict[str, list[int]]

    def difference(self, other: dict[str, Any]) -> str | None:
        """The first field in which a stored job differs from this one, as words; None when equal."""
        mine = asdict(self)
        for key, value in mine.items():
            if key == "inputs":
                for option, given in value.items():
                    if other.get("inputs", {}).get(option) != given:
                        return f"its {option} was {other.get('inputs', {}).get(option)!r}, now {given!r}"
            elif other.get(key) != value:
                return f"its {key} was {other.get(key)!r}, now {value!r}"
        return None


def done_before(out: Path, job: CorpusJob) -> ExtractTally | None:
    """The tally of a finished conversion of `job` in `out`; None when `out` holds none; a UserError when
    `out` holds something else (another job's corpus, other files)."""
    out = Path(out)
    if (out / STAGING).exists():
        return None
    if (out / "video_ids.txt").exists():
        record = _json(out / RECORD) if (out / RECORD).exists() else {}
        difference = job.difference(record.get("job", {}))
        if difference:
            raise UserError(f"--out {out} already holds a corpus, of another conversion ({difference}); pass another --out")
        return ExtractTally(Counter(record.get("statuses", {})))
    others = [p.name for p in out.iterdir() if not p.name.startswith(("convert.log", "extract.log", ".convert"))] if out.is_dir() else []
    if others:
        raise UserError(f"--out {out} is not empty and holds no conversion (it has {', '.join(sorted(others)[:3])}); "
                        "pass a new or empty folder")
    return None


class CorpusWriter:
    """The staging folder of `job` in `out`: made afresh, or opened again (`open`)."""

    def __init__(self, out: Path, job: CorpusJob) -> None:
        import h5py

        self.out, self.job = Path(out), job
        self.staging = self.out / STAGING
        if not (self.staging / JOB).exists():
            remove_dead_temps(self.staging)  # what a run killed while making the staging folder left
            publish_folder(self.staging, self._create)
        stored = _json(self.staging / JOB)
        difference = job.difference(stored)
        if difference:
            raise UserError(f"{self.staging} holds an unfinished conversion of another job ({difference}); pass the "
                            "same options to resume it, or another --out")
        self.journal = VideoJournal(self.staging / JOURNAL)
        self.statuses = self.journal.statuses
        self.rows = sum(status == "ok" for status in self.statuses.values())
        self.tally = ExtractTally(Counter(self.statuses.values()), earlier=len(self.statuses))
        self.files, self.arrays = {}, {}
        for modality, name in FEATURE_FILES.items():
            path = self.staging / name
            try:
                self.files[modality] = h5py.File(path, "r+")
                self.arrays[modality] = self.files[modality][FEATURE_KEY]
            except (OSError, KeyError, ValueError) as exc:
                self.close()
                raise UserError(f"{path} cannot be opened ({_first_line(exc)}): the unfinished conversion is damaged; "
                                f"delete {self.staging} to start over") from None

    def _create(self, folder: Path) -> None:
        import h5py

        for modality, name in FEATURE_FILES.items():
            shape = (self.job.clips, *self.job.shapes[modality])
            with h5py.File(folder / name, "w", track_order=False) as handle:
                plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
                plist.set_chunk((1, *shape[1:]))  # one clip per chunk: rows read alone
                plist.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)  # every chunk placed now: a row write touches no metadata
                plist.set_fill_time(h5py.h5d.FILL_TIME_NEVER)  # nothing written now: a sparse file
                plist.set_obj_track_times(False)
                space = h5py.h5s.create_simple(shape, shape)
                h5py.h5d.create(handle.id, FEATURE_KEY.encode(), h5py.h5t.IEEE_F32LE, space, dcpl=plist)
        (folder / JOURNAL).write_text("")
        (folder / JOB).write_text(json.dumps(asdict(self.job), indent=1, sort_keys=True))

    def handled(self, video_id: str) -> bool:
        return video_id in self.statuses

    def add(self, video_id: str, rows: dict[str, np.ndarray]) -> None:
        """Write one clip's rows (`{"audio": ..., "visual": ...}`) into the next free row, then journal it."""
        for modality, array in self.arrays.items():
            array[self.rows] = rows[modality]
        for handle in self.files.values():
            handle.flush()
        self._journal(video_id, "ok", "")
        self.rows += 1
        if self.rows % SYNC_EVERY == 0:
            self.sync()

    def skip(self, video_id: str, status: str, message: str) -> None:
        self._journal(video_id, status, message)

    def _journal(self, video_id: str, status: str, message: str) -> None:
        self.journal.record(video_id, status, message)
        self.tally.statuses[status] += 1

    def sync(self) -> None:
        for handle in self.files.values():
            os.fsync(handle.id.get_vfd_handle())
        self.journal.sync()

    def finish(self, caption: Callable[[str], str] | None, extra: dict[str, str] | None = None) -> Path:
        """Publish the corpus into `out` (captions from `caption(video_id)`, none when None; `extra`: more
        files, name -> text); video_ids.txt comes last."""
        if self.rows == 0:
            raise UserError(f"no video could be converted ({_skips(self.tally)}); see {self.staging / JOURNAL}")
        self.sync()
        for modality, array in self.arrays.items():
            array.resize(self.rows, axis=0)
        self.close()
        ok, skipped = self.journal.lines()
        if caption is not None:
            _write_lines(self.out / CAPTIONS_FILE, ["\t".join(CAPTION_HEADER)] + [f"{v}\t{caption(v)}" for v in ok])
        for name, text in (extra or {}).items():
            write_text_atomic(self.out / name, text)
        _write_lines(self.out / SKIPPED, ["video_id\tstatus\tmessage"] + skipped)
        for name in FEATURE_FILES.values():
            os.replace(self.staging / name, self.out / name)
        record = {"job": asdict(self.job), "statuses": dict(self.tally.statuses)}
        write_text_atomic(self.out / RECORD, json.dumps(record, indent=1, sort_keys=True))
        _write_lines(self.out / "video_ids.txt", ok)
        shutil.rmtree(self.staging)
        return self.out

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()
        self.files = {}
        self.journal.close()


def _write_lines(path: Path, lines: list[str]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")


def _skips(tally: ExtractTally) -> str:
    return ", ".join(f"{n:,} {status}" for status, n in tally.skipped.items()) or "none skipped"


def _json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: unreadable ({_first_line(exc)}); delete {path.parent} to start over") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
