"""The built-in synthetic audio-visual-text world, written in the real datasets' on-disk formats.

Generative model (DESIGN.md, "The synthetic world"):
- every class of CORPUS_CLASSES has a latent semantic prototype z_k (dim `latent_dim`); the AVE
  and AVVP classes use the prototype of their corpus class, so the 12 shared classes share it;
- an event instance has z = z_k + instance jitter, plus a small per-segment jitter; the same z
  drives both modalities (a big dog looks and sounds big);
- audio renders each audible event through its OWN fixed random 2-layer tanh MLP and sums them;
- visual renders each visible object as a Gaussian blob at its own place on the H x W grid times
  a channel vector from ANOTHER random MLP of z, summed over objects: a real H x W x C map;
- each modality adds nuisance (a per-clip latent, drifting per segment, through a third / fourth
  random MLP) and i.i.d. noise. A segment without events (AVE background) is nuisance + noise.
The modality maps are independent, so audio and visual features are not aligned: only a method
that learns the alignment from co-occurrence in the corpus can transfer a head across them.

Raw level (`raw.py`): the same events (and their instance latents) are also rendered as 16 kHz
waveforms, S x S RGB frames and object masks, written as raw/audio/<id>.wav, raw/frames/<id>.png
and raw/masks/<id>.png next to each dataset's features, plus captions.tsv (three paraphrases per
clip). AVE, AVVP and retrieval get the raw level for every clip; the corpus only for its first
`raw_clips` clips (listed in corpus/raw/video_ids.txt), because a waveform costs 320 kB per clip;
the default 1000 gives the synthetic CLIP and CLAP 500 clips each (disjoint halves).
Datasets: corpus/ (pretraining), ave/, avvp/, and retrieval/ (held-out clips in the corpus
format, never in the corpus, for clip <-> clip and clip <-> caption retrieval).

Determinism: every array comes from numpy Generators seeded by (seed, stream name), .h5 datasets
are written with `track_times=False` and fixed attributes, .wav and .png files without metadata,
so (profile, seed) fixes every byte. The raw level draws from its own streams, so it leaves the
feature level's numbers as they were.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from avtbench.atomic import publish_folder, remove_dead_temps
from avtbench.synth.events import stream_rng
from avtbench.synth.model import World
from avtbench.synth.profiles import PROFILES, WorldSizes, profile_sizes
from avtbench.synth.writers import IdMaker, write_ave, write_avvp, write_corpus, write_retrieval

GENERATOR_VERSION = "3"
COMPLETE = "COMPLETE"
__all__ = ["GENERATOR_VERSION", "PROFILES", "WorldSizes", "ensure_world", "generate_world", "profile_sizes"]


def ensure_world(directory: Path, profile: str, seed: int) -> Path:
    """The world folder for (profile, seed), generating it first if needed.

    Generation happens in a temporary sibling that is renamed to `directory` once complete, so a
    killed run leaves no half world, and when two processes race the first rename wins.
    """
    from filelock import FileLock

    directory = Path(directory)
    if (directory / COMPLETE).exists():
        return directory
    sizes = profile_sizes(profile)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory.parent / f".{directory.name}.lock")):  # a second process waits, then reuses it
        if (directory / COMPLETE).exists():
            return directory
        return _generate(directory, profile, seed, sizes)


def _generate(directory: Path, profile: str, seed: int, sizes: WorldSizes) -> Path:
    remove_dead_temps(directory)

    def write(tmp: Path) -> None:
        generate_world(tmp, sizes, seed)
        about = {"generator": GENERATOR_VERSION, "profile": profile, "seed": seed, "sizes": asdict(sizes)}
        (tmp / COMPLETE).write_text(json.dumps(about, sort_keys=True) + "\n")

    return publish_folder(directory, write, complete=COMPLETE)


def generate_world(root: Path, sizes: WorldSizes, seed: int, raw_level: bool = True) -> None:
    """Write corpus/, ave/, avvp/ and retrieval/ into `root` (no COMPLETE marker).

    raw_level=False skips the raw level (for feature-only uses such as tests; `ensure_world`
    always writes it); the feature level is the same either way.
    """
    world = World.create(sizes, seed)
    ids = IdMaker(stream_rng(seed, "ids"))
    for name, write in (("corpus", write_corpus), ("ave", write_ave), ("avvp", write_avvp), ("retrieval", write_retrieval)):
        write(root / name, world, ids, stream_rng(seed, name), stream_rng(seed, f"raw-{name}") if raw_level else None)
