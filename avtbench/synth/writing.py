"""Writers of each synthetic dataset in its real on-disk format (AVE, AVVP, corpus, retrieval)."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from avtbench.data.ave import ANNOTATION_HEADER, AveAnnotation, ave_avvp_labels, ave_avvp_rows, ave_labels_from_annotations
from avtbench.data.avvp import CMG_LISTS
from avtbench.synth import exact, raw
from avtbench.synth.events import Events, EventSpec, sample_events
from avtbench.synth.model import RawSink, Sink, World, render_into
from avtbench.data.vocab import AVE_AVVP_SHARED, AVE_CLASSES, AVVP_CLASSES
from avtbench.synth.vocab import CORPUS_CLASSES, corpus_index

_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


class RawLevelWriter:
    """Renders and writes the raw level of the first `limit` clips, one chunk at a time.

    It draws only from its own generator, so the feature level is the same with or without it.
    """

    def __init__(self, world: World, folder: Path, names: list[str], rng: np.random.Generator, limit: int | None = None) -> None:
        self.world, self.names, self.rng = world, names, rng
        self.limit = len(names) if limit is None else min(limit, len(names))
        self.writer = raw.RawWriter(folder)

    def __call__(self, rows: slice, ev: Events, instance: np.ndarray) -> None:
        count = min(rows.stop, self.limit) - rows.start
        if count <= 0:
            return
        ev, instance = ev.take(slice(0, count)), instance[:count]
        w, s = self.world, self.world.sizes
        waves = raw.render_audio(w.looks, ev, instance, w.prototypes, s.segments, self.rng)
        frames, masks = raw.render_frames(w.looks, ev, instance, w.prototypes, s.segments, s.grid, s.frame_size, self.rng)
        for i, name in enumerate(self.names[rows.start : rows.start + count]):
            self.writer.write(name, waves[i], frames[i], masks[i])


class _LatentSink:
    """Keeps, per segment and modality, the sum of the instance latents (times gain) of the events
    heard / seen there (`latents.h5`, for the oracle), then hands the chunk to the raw level."""

    def __init__(self, latents: dict[str, np.ndarray], raw_sink: "RawLevelWriter | None") -> None:
        self.latents, self.raw_sink = latents, raw_sink

    def __call__(self, rows: slice, ev: Events, instance: np.ndarray) -> None:
        T = self.latents["audio"].shape[1]
        heard = ev.audio_active(T) * ev.gain[:, :, None]
        seen = (ev.active(T) & ev.visible[:, :, None]) * ev.gain[:, :, None]
        self.latents["audio"][rows] = exact.slot_sum(heard, instance[:, :, None, :]).astype(np.float32)
        self.latents["visual"][rows] = exact.slot_sum(seen, instance[:, :, None, :]).astype(np.float32)
        if self.raw_sink is not None:
            self.raw_sink(rows, ev, instance)


def _raw_sink(world: World, folder: Path, names: list[str], rng: np.random.Generator | None, limit: int | None = None) -> RawLevelWriter | None:
    return None if rng is None else RawLevelWriter(world, folder, names, rng, limit)


class IdMaker:
    """Unique 11-character YouTube-like ids."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self) -> str:
        while True:
            vid = "".join(self.rng.choice(_ID_ALPHABET, size=11))
            if vid not in self.used:
                self.used.add(vid)
                return vid

    def skip(self, count: int) -> None:
        """Draw `count` ids and drop them: what the datasets written before this one took."""
        for _ in range(count):
            self()


def _h5_create(path: Path, key: str, shape: tuple[int, ...], dtype: Any = np.float32, attrs: dict | None = None) -> tuple[Any, Any]:
    """An open h5py file and its one dataset, chunked by clip and written without timestamps (for identical bytes)."""
    import h5py

    f = h5py.File(path, "w", track_order=False)
    chunks = (1, *shape[1:]) if len(shape) >= 2 and shape[0] > 0 else None  # one clip per chunk: rows read alone
    ds = f.create_dataset(key, shape=shape, dtype=dtype, track_times=False, fillvalue=0, chunks=chunks)
    for name, value in (attrs or {}).items():
        ds.attrs[name] = value
    return f, ds


def _h5_write(path: Path, key: str, data: np.ndarray, attrs: dict | None = None) -> None:
    f, ds = _h5_create(path, key, data.shape, data.dtype, attrs)
    with f:
        ds[...] = data


def _write_features(folder: Path, world: World, ev: Events, rng: np.random.Generator, raw_sink: "RawSink | None" = None) -> None:
    s = world.sizes
    n = ev.cls.shape[0]
    fa, da = _h5_create(folder / "audio_feature.h5", "avadataset", (n, s.segments, s.audio_dim))
    fv, dv = _h5_create(folder / "visual_feature.h5", "avadataset", (n, s.segments, s.grid, s.grid, s.channels))
    with fa, fv:

        def sink(rows: slice, audio: np.ndarray, visual: np.ndarray) -> None:
            da[rows] = audio
            dv[rows] = visual

        render_into(world, ev, rng, sink, raw_sink)


CORPUS_SPEC = EventSpec(list(range(len(CORPUS_CLASSES))), np.ones(len(CORPUS_CLASSES)), (0.5, 0.35, 0.15), (0.7, 0.15, 0.15), 0.4, 2)


def corpus_spec(paired_share: float) -> EventSpec:
    """The corpus's (and retrieval's) events with `paired_share` of them audio-visual."""
    if paired_share == CORPUS_SPEC.kinds[0]:
        return CORPUS_SPEC
    unpaired = (1.0 - paired_share) / 2
    return dataclasses.replace(CORPUS_SPEC, kinds=(paired_share, unpaired, unpaired))
AVE_SPEC = EventSpec([corpus_index(c) for c in AVE_CLASSES], np.ones(len(AVE_CLASSES)), (1.0,), (1.0, 0.0, 0.0), 0.66, 2)
AVVP_SPEC = EventSpec(
    [corpus_index(c) for c in AVVP_CLASSES],
    np.array([4.0 if c == "Speech" else 1.0 for c in AVVP_CLASSES]),  # speech is everywhere in LLP
    (0.45, 0.4, 0.15),
    (0.5, 0.35, 0.15),
    0.5,
    1,
)


def write_corpus(folder: Path, world: World, ids: IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    _write_corpus_format(folder, world, ids, rng, raw_rng, world.sizes.corpus_clips, world.sizes.raw_clips)


def write_retrieval(folder: Path, world: World, ids: IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    """Held-out clips in the corpus format: drawn like the corpus, with ids no other dataset has."""
    _write_corpus_format(folder, world, ids, rng, raw_rng, world.sizes.retrieval_clips, None)


def _write_corpus_format(
    folder: Path, world: World, ids: IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None, count: int, raw_limit: int | None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    s = world.sizes
    ev = sample_events(rng, count, corpus_spec(world.knobs.paired_share), s, world.knobs.max_lag)
    names = [ids() for _ in range(count)]
    (folder / "video_ids.txt").write_text("".join(f"{v}\n" for v in names))
    raw.write_captions(folder / "captions.tsv", names, ev)
    events = np.zeros((len(names), s.segments, len(CORPUS_CLASSES)), dtype=np.uint8)
    for active, bit in ((ev.audio_active(s.segments), 1), (ev.active(s.segments) & ev.visible[:, :, None], 2)):
        for e in range(ev.cls.shape[1]):
            n_idx, t_idx = np.nonzero(active[:, e])
            events[n_idx, t_idx, ev.cls[n_idx, e]] |= np.uint8(bit)
    attrs = {"class_names": np.array(CORPUS_CLASSES, dtype=object), "encoding": "bit 0: audible, bit 1: visible, 0: inactive"}
    _h5_write(folder / "events.h5", "events", events, attrs)
    raw_sink = _raw_sink(world, folder, names, raw_rng, raw_limit)
    if raw_sink is not None:
        (folder / "raw" / "video_ids.txt").write_text("".join(f"{v}\n" for v in names[: raw_sink.limit]))
    latents = {m: np.zeros((count, s.segments, s.latent_dim), dtype=np.float32) for m in ("audio", "visual")}
    _write_features(folder, world, ev, rng, _LatentSink(latents, raw_sink))
    fl, _ = _h5_create(folder / "latents.h5", "audio", latents["audio"].shape)
    with fl:
        fl["audio"][...] = latents["audio"]
        fl.create_dataset("visual", data=latents["visual"], track_times=False)


def write_ave(folder: Path, world: World, ids: IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    s = world.sizes
    n = sum(s.ave_splits)
    ev = sample_events(rng, n, AVE_SPEC, s, world.knobs.max_lag)
    # AVE classes are the first 28 corpus classes, so a corpus index is also the AVE label; an
    # AVE event is where it is both heard and seen
    start, end = np.maximum(ev.onset[:, 0], ev.audio_onset[:, 0]), np.minimum(ev.offset[:, 0], ev.audio_offset[:, 0])
    rows = [AveAnnotation(CORPUS_CLASSES[ev.cls[i, 0]], ids(), "good", int(start[i]), int(end[i])) for i in range(n)]
    lines = [ANNOTATION_HEADER] + [f"{r.category}&{r.video_id}&{r.quality}&{r.start}&{r.end}" for r in rows]
    (folder / "Annotations.txt").write_text("\n".join(lines) + "\n")
    names = [r.video_id for r in rows]
    raw.write_captions(folder / "captions.tsv", names, ev)
    _h5_write(folder / "labels.h5", "avadataset", ave_labels_from_annotations(rows, s.segments))
    # CMG's AVE->AVVP files, by CMG's rule (every row of a shared class; its 13-column labels); no draws
    _h5_write(folder / "ave_avvp_order.h5", "order", ave_avvp_rows(rows))
    _h5_write(folder / "ave_avvp_labels.h5", "avadataset", ave_avvp_labels(rows, s.segments))
    order = rng.permutation(n).astype(np.int64)
    bounds = np.cumsum((0,) + s.ave_splits)
    for split, lo, hi in zip(("train", "val", "test"), bounds[:-1], bounds[1:]):
        _h5_write(folder / f"{split}_order.h5", "order", order[lo:hi])
    _write_features(folder, world, ev, rng, _raw_sink(world, folder, names, raw_rng))


def write_avvp(folder: Path, world: World, ids: IdMaker, rng: np.random.Generator, raw_rng: np.random.Generator | None) -> None:
    s = world.sizes
    for sub in ("vggish", "vgg19"):
        (folder / "feats" / sub).mkdir(parents=True)
    eval_rows: dict[str, list[str]] = {"audio": [], "visual": []}
    caption_rows: list[str] = []
    for split, count in zip(("train", "val", "test"), s.avvp_splits):
        ev = sample_events(rng, count, AVVP_SPEC, s, world.knobs.max_lag)
        names = [f"{ids()}_{start}_{start + s.segments}" for start in (10 * rng.integers(0, 30, size=count)).tolist()]
        weak, audio_rows, visual_rows = _avvp_rows(ev, names)
        (folder / _AVVP_FILES[split]).write_text("filename\tevent_labels\n" + "".join(f"{w}\n" for w in weak))
        if split != "train":
            eval_rows["audio"] += audio_rows
            eval_rows["visual"] += visual_rows
        caption_rows += [f"{name}\t{c}\n" for i, name in enumerate(names) for c in raw.captions(ev, i)]
        # raw files are named by the 11-char id, like the feature files
        render_into(world, ev, rng, _npy_sink(folder / "feats", names), _raw_sink(world, folder, [v[:11] for v in names], raw_rng))
    (folder / "captions.tsv").write_text("video_id\tcaption\n" + "".join(caption_rows))
    for modality, rows in eval_rows.items():
        (folder / f"AVVP_eval_{modality}.csv").write_text("filename\tonset\toffset\tevent_labels\n" + "".join(f"{r}\n" for r in rows))
    _write_cmg_lists(folder, eval_rows)


_AVE_AVVP_CLASSES = {v for _, v in AVE_AVVP_SHARED}


def _write_cmg_lists(folder: Path, eval_rows: dict[str, list[str]]) -> None:
    """CMG's `*_checked_combined.csv` lists from the evaluation rows (the synthetic world needs no label
    corrections): one row per val/test video with at least one event of that modality (of a class shared
    with AVE, for the AVE_AVVP lists), its events comma-joined in the order of the evaluation file."""
    for split, (file, modality) in CMG_LISTS.items():
        keep = (lambda label: label in _AVE_AVVP_CLASSES) if "ave_avvp" in split else (lambda label: True)
        videos: dict[str, list[list[str]]] = {}
        for row in eval_rows[modality]:
            name, onset, offset, label = row.split("\t")
            if keep(label):
                videos.setdefault(name, []).append([onset, offset, label])
        lines = ["\t".join([name, *(",".join(column) for column in zip(*events))]) for name, events in videos.items()]
        (folder / file).write_text("filename\tonset\toffset\tevent_labels\n" + "".join(f"{line}\n" for line in lines))


_AVVP_FILES = {"train": "AVVP_train.csv", "val": "AVVP_val_pd.csv", "test": "AVVP_test_pd.csv"}


def _avvp_rows(ev: Events, names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Weak-label rows and audio / visual evaluation rows (one per event) of the clips."""
    avvp_name = {corpus_index(c): c for c in AVVP_CLASSES}
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
