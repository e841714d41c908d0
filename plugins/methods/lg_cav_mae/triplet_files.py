"""The generated triplets on disk: a corpus in avtbench's corpus format (avtbench_plugins.datasets.corpus),
readable at the raw level by `read_corpus(folder, "raw")`, plus what the filter decided.

    video_ids.txt        the kept clips, best CLAP score first
    captions.tsv         `video_id<TAB>caption`: each kept clip's chosen caption
    raw/audio/<id>.wav   16 kHz mono PCM_16 at soundfile's scale (x * 32768), so 16-bit clips round-trip exactly
    raw/frames/<id>.png  the clip's frames side by side
    kept.tsv             video_id, rank, score, caption of every kept triplet
    scores.tsv           video_id, score, kept (0/1), caption of every captioned clip, best score first
    frame_captions.tsv   video_id, frame, score, caption of every generated caption
    triplets.json        what made them (captioner, CLAP, keep, filter, corpus fingerprint) and the counts
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from avtbench.api import UserError

from .config import SAMPLE_RATE

RECORD = "triplets.json"


@dataclass
class Candidates:
    """Every captioned clip: its id, row in the corpus, the captions of its frames with their CLAP
    scores, and the best of them."""

    ids: list[str]
    rows: np.ndarray
    frames: np.ndarray
    frame_captions: list[list[str]]
    frame_scores: np.ndarray
    best: list[str]
    scores: np.ndarray


@dataclass
class TripletSet:
    """The kept triplets: clip ids (rank order), their chosen captions and CLAP scores, and their
    provenance (what made them: captioner, CLAP, keep, counts; the folder's `RECORD` file)."""

    folder: Path
    ids: list[str]
    captions: list[str]
    scores: np.ndarray
    provenance: dict[str, Any]


def _clean(text: str) -> str:
    return " ".join(str(text).replace("\t", " ").split())


def write_folder(folder: Path, audio: np.ndarray, visual: np.ndarray, candidates: Candidates, kept: np.ndarray,
                 record: dict[str, Any]) -> None:
    """Write the triplet corpus; `audio` / `visual` are the raw corpus arrays, `kept` indexes `candidates`."""
    import soundfile
    from PIL import Image

    folder = Path(folder)
    for sub in ("audio", "frames"):
        (folder / "raw" / sub).mkdir(parents=True, exist_ok=True)
    chosen = set(kept.tolist())
    ids = [candidates.ids[i] for i in kept]
    (folder / "video_ids.txt").write_text("".join(f"{v}\n" for v in ids))
    (folder / "captions.tsv").write_text("video_id\tcaption\n" + "".join(
        f"{candidates.ids[i]}\t{_clean(candidates.best[i])}\n" for i in kept))
    (folder / "kept.tsv").write_text("video_id\trank\tscore\tcaption\n" + "".join(
        f"{candidates.ids[i]}\t{r + 1}\t{candidates.scores[i]:.6f}\t{_clean(candidates.best[i])}\n" for r, i in enumerate(kept)))
    order = np.argsort(-candidates.scores, kind="stable")
    (folder / "scores.tsv").write_text("video_id\tscore\tkept\tcaption\n" + "".join(
        f"{candidates.ids[i]}\t{candidates.scores[i]:.6f}\t{int(i in chosen)}\t{_clean(candidates.best[i])}\n" for i in order))
    (folder / "frame_captions.tsv").write_text("video_id\tframe\tscore\tcaption\n" + "".join(
        f"{candidates.ids[i]}\t{int(t)}\t{candidates.frame_scores[i, j]:.6f}\t{_clean(c)}\n"
        for i in range(len(candidates.ids)) for j, (t, c) in enumerate(zip(candidates.frames, candidates.frame_captions[i]))))
    for i in kept:
        row, name = int(candidates.rows[i]), candidates.ids[i]
        pcm = np.clip(np.round(audio[row].astype(np.float64) * 32768), -32768, 32767).astype(np.int16)
        buffer = io.BytesIO()
        soundfile.write(buffer, pcm, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        (folder / "raw" / "audio" / f"{name}.wav").write_bytes(buffer.getvalue())
        frames = visual[row]
        strip = np.ascontiguousarray(np.swapaxes(frames, 0, 1).reshape(frames.shape[1], -1, 3))
        Image.fromarray(strip).save(folder / "raw" / "frames" / f"{name}.png", format="PNG", compress_level=1)
    (folder / RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def read_folder(folder: Path) -> TripletSet:
    """The kept triplets of a folder `write_folder` wrote."""
    folder = Path(folder)
    try:
        record = json.loads((folder / RECORD).read_text())
        lines = (folder / "kept.tsv").read_text().splitlines()
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"triplet folder {folder} is unreadable ({type(exc).__name__}); delete it to generate it again") from None
    if not lines or lines[0].split("\t") != ["video_id", "rank", "score", "caption"]:
        raise UserError(f"{folder / 'kept.tsv'} has no video_id rank score caption header; delete {folder} to generate it again")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    if any(len(r) != 4 for r in rows):
        raise UserError(f"{folder / 'kept.tsv'} has a row without 4 fields; delete {folder} to generate it again")
    return TripletSet(folder, [r[0] for r in rows], [r[3] for r in rows], np.array([float(r[2]) for r in rows]), record)
