"""The synthetic corpus: clips of every event class of the world, in the corpus format (`reader.py`).

Each clip holds one or two events (audio-visual, audible only or visible only, in the shares of the
`paired_share` knob) of any of the world's event classes; the files are the corpus format's, with
events.h5 (what is heard and seen where, over the world's classes) and latents.h5 (for the oracle).
`write_corpus_format` writes any dataset in this format at its own `CorpusSizes` (the retrieval set too).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import CopyRequest, SyntheticCopy
from avtbench.synth import raw
from avtbench.synth.events import Events, EventSpec, sample_events
from avtbench.synth.vocab import EVENT_CLASSES, PHRASES
from avtbench.synth.writing import LatentSink, h5_create, h5_write, raw_sink, write_features


@dataclass(frozen=True)
class CorpusSizes:
    """Clips of a dataset in the corpus format, and how many of them (the first ones) have a raw level
    (None: all); a waveform costs 320 kB, so a large corpus renders only some."""

    clips: int
    raw_clips: int | None = None


def clip_count(sizes: CorpusSizes) -> int:
    """The ids a corpus-format writer draws: one per clip."""
    return sizes.clips


CORPUS_SPEC = EventSpec(list(range(len(EVENT_CLASSES))), np.ones(len(EVENT_CLASSES)), (0.5, 0.35, 0.15), (0.7, 0.15, 0.15), 0.4, 2)


def corpus_spec(paired_share: float) -> EventSpec:
    """The corpus's (and retrieval's) events with `paired_share` of them audio-visual."""
    if paired_share == CORPUS_SPEC.kinds[0]:
        return CORPUS_SPEC
    unpaired = (1.0 - paired_share) / 2
    return dataclasses.replace(CORPUS_SPEC, kinds=(paired_share, unpaired, unpaired))


def write_corpus_format(request: CopyRequest[CorpusSizes]) -> None:
    """`request.sizes.clips` clips drawn like the corpus, with ids no other dataset has."""
    folder, world, rng = request.folder, request.world, request.rng
    count, s = request.sizes.clips, world.sizes
    folder.mkdir(parents=True, exist_ok=True)
    ev = sample_events(rng, count, corpus_spec(world.knobs.paired_share), s, world.knobs.max_lag)
    names = [request.ids() for _ in range(count)]
    (folder / "video_ids.txt").write_text("".join(f"{v}\n" for v in names))
    raw.write_captions(folder / "captions.tsv", names, ev)
    _write_events(folder, ev, len(names), s.segments)
    raw_level = raw_sink(world, folder, names, request.raw_rng, request.sizes.raw_clips)
    if raw_level is not None:
        (folder / "raw" / "video_ids.txt").write_text("".join(f"{v}\n" for v in names[: raw_level.limit]))
    latents = {m: np.zeros((count, s.segments, s.latent_dim), dtype=np.float32) for m in ("audio", "visual")}
    write_features(folder, world, ev, rng, LatentSink(latents, raw_level))
    fl, _ = h5_create(folder / "latents.h5", "audio", latents["audio"].shape)
    with fl:
        fl["audio"][...] = latents["audio"]
        fl.create_dataset("visual", data=latents["visual"], track_times=False)


def _write_events(folder: Path, ev: Events, n: int, segments: int) -> None:
    """events.h5: per clip, segment and class, bit 0 if the class is heard there, bit 1 if seen."""
    events = np.zeros((n, segments, len(EVENT_CLASSES)), dtype=np.uint8)
    for active, bit in ((ev.audio_active(segments), 1), (ev.active(segments) & ev.visible[:, :, None], 2)):
        for e in range(ev.cls.shape[1]):
            n_idx, t_idx = np.nonzero(active[:, e])
            events[n_idx, t_idx, ev.cls[n_idx, e]] |= np.uint8(bit)
    attrs = {"class_names": np.array(EVENT_CLASSES, dtype=object), "encoding": "bit 0: audible, bit 1: visible, 0: inactive"}
    h5_write(folder / "events.h5", "events", events, attrs)


SIZES = {"tiny": CorpusSizes(120, raw_clips=30), "paper": CorpusSizes(10000, raw_clips=2000)}
"""The corpus's sizes per world profile; the others (default, easy) have `DEFAULT_SIZES`. The default's
1000 raw clips give the synthetic CLIP and CLAP 500 clips each (disjoint halves)."""
DEFAULT_SIZES = CorpusSizes(2000, raw_clips=1000)

COPY = SyntheticCopy(write=write_corpus_format, default_sizes=DEFAULT_SIZES, sizes=SIZES, descriptions=dict(PHRASES),
                     id_order=0, ids_drawn=clip_count)
"""The corpus's synthetic copy: first on the shared id stream."""
