"""AVSBench-S4 as a layout of `avtbench extract` (`Dataset.extraction`): the release's `Single-source/`
layout as `reader.py` reads it, written clip by clip through the core's resumable staging folder
(`avtbench.extract_stage`).

The recipe is AVSBench's own `preprocess_scripts/preprocess_s4.py` (OpenNLPLab/AVSBench): 5-second
clips, one frame a second, the frame at index int(l * F + 15 / 16 * F) of second l (F the video's
rounded frame rate: the frame shown 15/16 s into each second), resized to 224 x 224 (the picture
squashed, not cropped; cv2.resize there, PIL's bilinear here: `--frame-size` sets the side), the
16 kHz mono wave (with --raw), and per-second audio features of the audio extractor where CMG's
pickles hold VGGish (`audio_vggish/`, the reader's feature level). No visual extractor: the frames
are the visual input of the task.

Every clip's place in the layout (its split and category) and its ground-truth masks are not in
videos: they come from the release's `Single-source/` folder, passed as `--annotations DIR`, which
must hold `s4_meta_data.csv` (each video named by its `name` column: `<name>.mp4`) and may hold
`s4_data/gt_masks/` (copied for the clips extracted, after checking each one's annotated masks are
there and of the frames' size) and `AVSBenchCategories2Prompts.csv`. Without the masks, the folder is
written without them, the summary says where they go, and the reader says so in one line when asked
for them. Videos shorter than 5 s (the release's clips that start after 5 s into their 10 s are
shorter) are skipped as short.

Written into OUT: s4_meta_data.csv (the rows of the clips extracted, their columns as given),
s4_data/visual_frames/<split>/<category>/<name>/<name>_<1..5>.png, s4_data/audio_vggish/<split>/
<category>/<name>.npy [5, D], s4_data/audio_wav/<split>/<category>/<name>.wav (--raw),
s4_data/gt_masks/... (when given), provenance.json, skipped.tsv, extraction.json last.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import UserError
from avtbench.data.raw import save_png, wav_bytes
from avtbench.extract_stage import ClipStage, done_before
from avtbench.extraction import ExtractionLayout, ExtractJob, FrameRecipe, RawClip

from .reader import FEATURES, FRAMES, META, PROMPTS, S4Row, _annotated, read_meta, read_prompts

RECORD = "extraction.json"
PROVENANCE = "provenance.json"
MASKS = "gt_masks"
S4_FRAMES = FrameRecipe(15 / 16, False, (
    "AVSBench preprocess_scripts/preprocess_s4.py (OpenNLPLab/AVSBench): of 16 evenly spaced frames a second the "
    "16th (index int(l*F + 15/16*F)), cv2.resize to 224x224 (squashed); here PIL's bilinear resize"))
MISSING_MASKS = ("s4_data/gt_masks/<split>/<category>/<name>/<name>_<k>.png, the ground-truth masks, which videos do "
                 "not carry: copy the release's s4_data/gt_masks/ there (or pass --annotations a Single-source/ folder "
                 "that holds it)")


@dataclass(frozen=True)
class S4Annotations:
    """`--annotations`: the meta rows of the videos (by video id, in the meta file's order), the meta
    file's header and each video's line as fields, the masks folder (None: none given) and the prompts
    file's text."""

    rows: dict[str, S4Row]
    header: list[str]
    lines: dict[str, list[str]]
    masks: Path | None
    prompts: str | None


def read_annotations(folder: Path, video_ids: list[str]) -> S4Annotations:
    """The release's s4_meta_data.csv (and masks, prompts) in `folder`, each video matched to its row."""
    folder = Path(folder)
    if not (folder / META).is_file():
        raise UserError(f"--annotations {folder}: no {META}; pass the AVSBench release's Single-source/ folder "
                        f"(it holds {META} and s4_data/gt_masks/)")
    rows = read_meta(folder / META)
    fields = list(csv.reader(io.StringIO((folder / META).read_text(encoding="utf-8-sig"))))
    header, lines = fields[0], [f for f in fields[1:] if any(x.strip() for x in f)]
    by_name: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        by_name.setdefault(row.name, []).append(i)
    unknown = [v for v in video_ids if v not in by_name]
    if unknown:
        raise UserError(f"--annotations {folder}: {len(unknown):,} of the videos are not rows of {META} (first: "
                        f"{unknown[0]!r}); name each video <name>.mp4 after its row, or leave it out of --videos")
    twice = [v for v in video_ids if len(by_name[v]) > 1]
    if twice:
        raise UserError(f"--annotations {folder}: {twice[0]!r} is a row of several splits in {META}; keep one")
    masks = folder / "s4_data" / MASKS
    chosen = {v: by_name[v][0] for v in video_ids}
    if masks.is_dir():
        for v, i in chosen.items():
            for k in range(1, _annotated(rows[i]) + 1):
                if not rows[i].frame(folder, MASKS, k).is_file():
                    raise UserError(f"--annotations {folder}: {rows[i].frame(folder, MASKS, k)}: mask not found; the "
                                    "release has one for the first frame of a train clip and all five of a val or test "
                                    "clip; restore it, or leave the video out")
    prompts = None
    if (folder / PROMPTS).is_file():
        read_prompts(folder / PROMPTS)
        prompts = (folder / PROMPTS).read_text(encoding="utf-8-sig")
    chosen = dict(sorted(chosen.items(), key=lambda item: item[1]))  # the meta file's order, which the written one keeps
    return S4Annotations({v: rows[i] for v, i in chosen.items()}, header, {v: lines[i] for v, i in chosen.items()},
                         masks if masks.is_dir() else None, prompts)


class S4Sink:
    """An `avtbench.extraction.ExtractSink` writing AVSBench-S4's files (module docstring)."""

    def __init__(self, out: Path, job: ExtractJob) -> None:
        annotations: S4Annotations = job.annotations
        self.job, self.annotations = job, annotations
        self.stage = ClipStage(out, job, RECORD)
        self.tally = self.stage.tally
        self.missing = "" if annotations.masks is not None else MISSING_MASKS

    def handled(self, video_id: str) -> bool:
        return self.stage.handled(video_id)

    def add(self, video_id: str, rows: dict[str, np.ndarray], raw: RawClip | None = None) -> None:
        row = self.annotations.rows[video_id]
        here = Path("")
        self.stage.write_npy(str(row.path(here, FEATURES, ".npy")), rows["audio"])
        if raw is None:
            raise ValueError("the avs_s4 layout holds frames: a clip came without them")
        for k in range(1, FRAMES + 1):
            self.stage.write(str(row.frame(here, "visual_frames", k)), lambda tmp, k=k: save_png(tmp, raw.frames[k - 1]))
        if raw.wave is not None:
            self.stage.write(str(row.path(here, "audio_wav", ".wav")), lambda tmp: tmp.write_bytes(wav_bytes(raw.wave)))
        masks = self.annotations.masks
        if masks is not None:
            source = masks.parent.parent
            for k in range(1, _annotated(row) + 1):
                self.stage.write(str(row.frame(here, MASKS, k)),
                                 lambda tmp, k=k: shutil.copyfile(row.frame(source, MASKS, k), tmp))
        self.stage.ok(video_id)

    def skip(self, video_id: str, status: str, message: str) -> None:
        self.stage.skip(video_id, status, message)

    def finish(self) -> Path:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.annotations.header)
        written = set(self.stage.written())
        for video_id, line in self.annotations.lines.items():
            if video_id in written:
                writer.writerow(line)
        texts = {META: buffer.getvalue(), PROVENANCE: json.dumps(self.job.provenance, indent=1, sort_keys=True)}
        if self.annotations.prompts is not None:
            texts[PROMPTS] = self.annotations.prompts
        return self.stage.finish(texts)

    def close(self) -> None:
        self.stage.close()


def check(job: ExtractJob) -> None:
    """One audio vector a second; masks (copied as they are) of the frames' size, as the reader checks."""
    if len(job.shapes["audio"]) != 2:
        raise UserError(f"--layout avs_s4: the audio extractor gives rows of shape {job.shapes['audio'][1:]} a second; "
                        "AVSBench's audio features are one vector a second ([5, D]); pick an audio extractor that gives one")
    if job.annotations.masks is not None:
        _check_mask_size(job.annotations, job.frame_size)


def _check_mask_size(annotations: S4Annotations, size: int) -> None:
    from PIL import Image

    row = next(iter(annotations.rows.values()))
    path = row.frame(annotations.masks.parent.parent, MASKS, 1)
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (OSError, ValueError) as exc:
        raise UserError(f"--annotations: {path}: unreadable mask ({type(exc).__name__}); restore it") from None
    if width != height:
        raise UserError(f"--annotations: {path} is {width}x{height}, not square; AVSBench's masks are 224x224")
    if width != size:
        raise UserError(f"--frame-size {size}: the masks of --annotations are {width}x{height} ({path}); frames and "
                        f"masks must be of one size: pass --frame-size {width}")


def _done_before(out: Path, job: ExtractJob):
    return done_before(out, job, RECORD)


EXTRACTION = ExtractionLayout(
    open=S4Sink, done_before=_done_before, seconds=FRAMES, features=("audio",), frames=S4_FRAMES, frames_always=True,
    annotations=read_annotations, annotations_required=True, check=check,
    annotations_help="the AVSBench release's Single-source/ folder (s4_meta_data.csv: each video's split and category; "
                     "s4_data/gt_masks/: the masks, optional; AVSBenchCategories2Prompts.csv, optional)")
"""`avtbench extract --layout avs_s4`: the module docstring."""
