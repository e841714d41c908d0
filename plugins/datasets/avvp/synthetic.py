"""The synthetic AVVP (LLP): clips of one to three events of AVVP classes, in the AVVP release's layout.

Events are audio-visual, audible only or visible only; speech is four times as likely as another
class, as it is everywhere in LLP. Besides the release's files (weak labels, the evaluation CSVs of
val and test, per-video .npy features) it writes CMG's `*_checked_combined.csv` lists and captions.tsv.
An AVVP class AVE shares is rendered as its AVE class (`AVE_AVVP_SHARED`), so they share a prototype.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import CopyRequest, SyntheticCopy
from avtbench.synth import raw
from avtbench.synth.events import Events, EventSpec, sample_events
from avtbench.synth.model import Sink, render_into
from avtbench.synth.vocab import PHRASES, class_index
from avtbench.synth.writing import raw_sink
from avtbench_plugins.datasets.ave.vocab import AVE_AVVP_SHARED

from .reader import CMG_LISTS, EVAL_FILES, EVAL_HEADER, RELEASE_SPLIT_FILES, WEAK_HEADER
from .vocab import AVVP_CLASSES

STAND_INS = {avvp: ave for ave, avvp in AVE_AVVP_SHARED}
"""An AVVP class shared with AVE -> the AVE (and world) class it is rendered as; the others are world classes."""


def world_name(avvp_class: str) -> str:
    """The world's event class an AVVP class is rendered as."""
    return STAND_INS.get(avvp_class, avvp_class)


@dataclass(frozen=True)
class AvvpSizes:
    splits: tuple[int, int, int] = (800, 120, 200)
    """Clips of the train, val and test splits."""


def clip_count(sizes: AvvpSizes) -> int:
    return sum(sizes.splits)


AVVP_SPEC = EventSpec(
    [class_index(world_name(c)) for c in AVVP_CLASSES],
    np.array([4.0 if c == "Speech" else 1.0 for c in AVVP_CLASSES]),  # speech is everywhere in LLP
    (0.45, 0.4, 0.15),
    (0.5, 0.35, 0.15),
    0.5,
    1,
)


def write_avvp(request: CopyRequest[AvvpSizes]) -> None:
    folder, world, rng, s = request.folder, request.world, request.rng, request.world.sizes
    for sub in ("vggish", "vgg19"):
        (folder / "feats" / sub).mkdir(parents=True)
    eval_rows: dict[str, list[str]] = {"audio": [], "visual": []}
    caption_rows: list[str] = []
    for (split, file), count in zip(RELEASE_SPLIT_FILES.items(), request.sizes.splits):
        ev = sample_events(rng, count, AVVP_SPEC, s, world.knobs.max_lag)
        names = [f"{request.ids()}_{start}_{start + s.segments}" for start in (10 * rng.integers(0, 30, size=count)).tolist()]
        weak, audio_rows, visual_rows = _avvp_rows(ev, names)
        (folder / file).write_text("\t".join(WEAK_HEADER) + "\n" + "".join(f"{w}\n" for w in weak))
        if split != "train":
            eval_rows["audio"] += audio_rows
            eval_rows["visual"] += visual_rows
        caption_rows += [f"{name}\t{c}\n" for i, name in enumerate(names) for c in raw.captions(ev, i)]
        # raw files are named by the 11-char id, like the feature files
        render_into(world, ev, rng, _npy_sink(folder / "feats", names), raw_sink(world, folder, [v[:11] for v in names], request.raw_rng))
    (folder / "captions.tsv").write_text("video_id\tcaption\n" + "".join(caption_rows))
    for modality, rows in eval_rows.items():
        (folder / EVAL_FILES[modality]).write_text("\t".join(EVAL_HEADER) + "\n" + "".join(f"{r}\n" for r in rows))
    _write_cmg_lists(folder, eval_rows)


_SHARED_WITH_AVE = {avvp for _, avvp in AVE_AVVP_SHARED}


def _write_cmg_lists(folder: Path, eval_rows: dict[str, list[str]]) -> None:
    """CMG's `*_checked_combined.csv` lists from the evaluation rows (the synthetic world needs no label
    corrections): one row per val/test video with at least one event of that modality (of a class shared
    with AVE, for the AVE_AVVP lists), its events comma-joined in the order of the evaluation file."""
    for split, (file, modality) in CMG_LISTS.items():
        keep = (lambda label: label in _SHARED_WITH_AVE) if "ave_avvp" in split else (lambda label: True)
        videos: dict[str, list[list[str]]] = {}
        for row in eval_rows[modality]:
            name, onset, offset, label = row.split("\t")
            if keep(label):
                videos.setdefault(name, []).append([onset, offset, label])
        lines = ["\t".join([name, *(",".join(column) for column in zip(*events))]) for name, events in videos.items()]
        (folder / file).write_text("\t".join(EVAL_HEADER) + "\n" + "".join(f"{line}\n" for line in lines))


def _avvp_rows(ev: Events, names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Weak-label rows and audio / visual evaluation rows (one per event) of the clips."""
    avvp_name = {class_index(world_name(c)): c for c in AVVP_CLASSES}
    weak, audio, visual = [], [], []
    for i, name in enumerate(names):
        filled = [e for e in range(ev.cls.shape[1]) if ev.cls[i, e] >= 0]
        weak.append(f"{name}\t{','.join(avvp_name[ev.cls[i, e]] for e in filled)}")
        for e in filled:
            label = avvp_name[ev.cls[i, e]]
            if ev.audible[i, e]:
                audio.append(f"{name}\t{ev.audio_onset[i, e]}\t{ev.audio_offset[i, e]}\t{label}")
            if ev.visible[i, e]:
                visual.append(f"{name}\t{ev.onset[i, e]}\t{ev.offset[i, e]}\t{label}")
    return weak, audio, visual


def _npy_sink(feats: Path, names: list[str]) -> Sink:
    """Writes per-video features named by the 11-char id, as the official AVVP loader expects."""

    def sink(rows: slice, audio: np.ndarray, visual: np.ndarray) -> None:
        for name, a, v in zip(names[rows], audio, visual):
            np.save(feats / "vggish" / f"{name[:11]}.npy", a)
            np.save(feats / "vgg19" / f"{name[:11]}.npy", v)

    return sink


SIZES = {"tiny": AvvpSizes((40, 12, 12)), "paper": AvvpSizes((10000, 649, 1200))}
"""AVVP's sizes per world profile (the others have the default); paper: LLP's 11,849 videos."""

COPY = SyntheticCopy(write=write_avvp, default_sizes=AvvpSizes(), sizes=SIZES,
                     descriptions={c: PHRASES[world_name(c)] for c in AVVP_CLASSES}, id_order=2, ids_drawn=clip_count)
"""AVVP's synthetic copy: on the shared id stream after the corpus and AVE."""
