"""AVVP as a layout of `avtbench extract` (`Dataset.extraction`): the release's per-video feature files,
written clip by clip through the core's resumable staging folder (`avtbench.extract_stage`).

Written into OUT, for each video `<id>` (its file name without the suffix):
    feats/vggish/<id>.npy        float32 [10, D]: the audio extractor's rows (the reader reads audio
                                 features from feats/vggish/, whichever extractor made them;
                                 provenance.json names it)
    feats/<visual>/<id>.npy      the visual extractor's rows, in a folder named after it (read with
                                 `--set avvp.visual_features=<visual>`): [10, D] or [10, H, W, C] as
                                 they come, [10, k, D] (k frames a second, e.g. resnet152's
                                 `average=false`) as [10 * k, D], the release's frame-level layout
    raw/audio/<id>.wav, raw/frames/<id>.png   with --raw (`avtbench.data.raw`)
    provenance.json, skipped.tsv, extraction.json (last: the extraction is complete)
Labels are not in videos. They come from the release's CSVs (its `data/` folder: AVVP_train.csv,
AVVP_val_pd.csv, AVVP_test_pd.csv, AVVP_eval_audio.csv, AVVP_eval_visual.csv, and CMG's
`*_checked_combined.csv` lists where the folder holds them), passed as `--annotations DIR`: checked
before any video is read, every video named in them (a video `<id>` is the row whose filename is
`<id>`, or whose first 11 characters, the YouTube id, are), and written into OUT with the rows of
the videos extracted only, so the folder is a dataset the reader reads whole. Without them, the
features are written and the summary says which files the folder still needs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import UserError
from avtbench.data.raw import film_strip, save_png, wav_bytes
from avtbench.extract_stage import ClipStage, done_before
from avtbench.extraction import ExtractionLayout, ExtractJob, RawClip
from avtbench_plugins.datasets.corpus.extraction import RAW_FRAMES

from .reader import (CMG_LISTS, EVAL_FILES, FRAMES_PER_SECOND, RELEASE_SPLIT_FILES, SEGMENTS, check_headers,
                     read_avvp_csv, read_avvp_eval_csv, read_combined_csv)

RECORD = "extraction.json"
PROVENANCE = "provenance.json"
AUDIO_FOLDER = "vggish"
CSV_FILES = (*RELEASE_SPLIT_FILES.values(), *EVAL_FILES.values())
MISSING = (f"{', '.join(CSV_FILES)} (the AVVP release's data/ folder: each video's labels; pass --annotations DIR "
           "to have them written for the videos extracted)")


@dataclass(frozen=True)
class AvvpAnnotations:
    """The annotation files of `--annotations`: file name -> (header line, data lines), and the
    filename of each video id."""

    files: dict[str, tuple[str, list[str]]]
    filename_of: dict[str, str]


def read_annotations(folder: Path, video_ids: list[str]) -> AvvpAnnotations:
    """The release's CSVs in `folder`, checked as the reader checks them, each video matched to its row."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"--annotations {folder}: not a folder; pass the AVVP release's data/ folder "
                        f"(it holds {', '.join(CSV_FILES)})")
    check_headers(folder)
    names: list[str] = []
    for file in RELEASE_SPLIT_FILES.values():
        names += [name for name, _ in read_avvp_csv(folder / file)]
    for file in EVAL_FILES.values():
        read_avvp_eval_csv(folder / file)
    lists = [file for file, _ in CMG_LISTS.values() if (folder / file).is_file()]
    for file in lists:
        read_combined_csv(folder / file)
    by_id: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        by_id.setdefault(name, []).append(name)
        if name[:11] != name:
            by_id.setdefault(name[:11], []).append(name)
    unknown = [v for v in video_ids if v not in by_id]
    if unknown:
        raise UserError(f"--annotations {folder}: {len(unknown):,} of the videos are in none of its CSVs (first: "
                        f"{unknown[0]!r}); name each video <filename>.mp4 or <11-character id>.mp4 as the CSVs do, "
                        "or leave it out of --videos")
    twice = [v for v in video_ids if len(by_id[v]) > 1]
    if twice:
        raise UserError(f"--annotations {folder}: video {twice[0]!r} matches the rows of {', '.join(by_id[twice[0]][:2])}; "
                        "name the video by its full filename")
    files = {}
    for file in (*CSV_FILES, *lists):
        lines = (folder / file).read_text(encoding="utf-8-sig").splitlines()
        files[file] = (lines[0], [line for line in lines[1:] if line.strip()])
    return AvvpAnnotations(files, {v: by_id[v][0] for v in video_ids})


class AvvpSink:
    """An `avtbench.extraction.ExtractSink` writing AVVP's per-video files (module docstring)."""

    def __init__(self, out: Path, job: ExtractJob) -> None:
        self.job = job
        self.visual = job.provenance["extractors"]["visual"]["name"]
        self.stage = ClipStage(out, job, RECORD)
        self.tally = self.stage.tally
        self.missing = "" if job.annotations is not None else MISSING
        self.next_settings = [f"avvp.visual_features={self.visual}"]

    def handled(self, video_id: str) -> bool:
        return self.stage.handled(video_id)

    def add(self, video_id: str, rows: dict[str, np.ndarray], raw: RawClip | None = None) -> None:
        visual = rows["visual"]
        if visual.ndim == 3:
            visual = visual.reshape(-1, visual.shape[-1])  # [10, k, D] -> [10 k, D], frames in time order
        self.stage.write_npy(f"feats/{AUDIO_FOLDER}/{video_id}.npy", rows["audio"])
        self.stage.write_npy(f"feats/{self.visual}/{video_id}.npy", visual)
        if raw is not None:
            if raw.wave is not None:
                self.stage.write(f"raw/audio/{video_id}.wav", lambda tmp: tmp.write_bytes(wav_bytes(raw.wave)))
            self.stage.write(f"raw/frames/{video_id}.png", lambda tmp: save_png(tmp, film_strip(raw.frames)))
        self.stage.ok(video_id)

    def skip(self, video_id: str, status: str, message: str) -> None:
        self.stage.skip(video_id, status, message)

    def finish(self) -> Path:
        texts = {PROVENANCE: json.dumps(self.job.provenance, indent=1, sort_keys=True)}
        annotations: AvvpAnnotations | None = self.job.annotations
        if annotations is not None:
            written = set(self.stage.written())
            kept = {annotations.filename_of[v] for v in written}

            def keep(line: str) -> bool:  # the video's row; by the 11-char id too where the video is named so
                name = line.split("\t")[0].strip()  # (CMG's lists have a filename with a stray backtick)
                return name in kept or name[:11] in written

            for file, (header, lines) in annotations.files.items():
                texts[file] = "".join(f"{line}\n" for line in [header, *filter(keep, lines)])
        return self.stage.finish(texts)

    def close(self) -> None:
        self.stage.close()


def check(job: ExtractJob) -> None:
    """Rows the reader can read: one audio vector a second; visual [D], [H, W, C] or 8 frames' [8, D] a second."""
    audio, visual = job.shapes["audio"], job.shapes["visual"]
    if len(audio) != 2:
        raise UserError(f"--layout avvp: the audio extractor gives rows of shape {audio[1:]} a second; AVVP's "
                        "feats/vggish/<id>.npy holds one vector a second ([10, D]); pick an audio extractor that gives one")
    if len(visual) == 3 and visual[1] != FRAMES_PER_SECOND:
        raise UserError(f"--layout avvp: the visual extractor gives {visual[1]} vectors a second; the AVVP reader reads "
                        f"[10, D], [10, H, W, C] or {FRAMES_PER_SECOND} frames a second ([80, D]); average them "
                        "(e.g. --set resnet152.average=true)")


def _done_before(out: Path, job: ExtractJob):
    return done_before(out, job, RECORD)


EXTRACTION = ExtractionLayout(
    open=AvvpSink, done_before=_done_before, seconds=SEGMENTS, missing=MISSING, frames=RAW_FRAMES, check=check,
    annotations=read_annotations,
    annotations_help="the AVVP release's data/ folder (AVVP_train.csv, AVVP_val_pd.csv, AVVP_test_pd.csv, "
                     "AVVP_eval_audio.csv, AVVP_eval_visual.csv; CMG's *_checked_combined.csv lists too where it has them)")
"""`avtbench extract --layout avvp`: the module docstring."""
