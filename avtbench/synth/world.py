"""The built-in synthetic audio-visual-text world, written in the real datasets' on-disk formats.

Generative model (docs/architecture.md, "The synthetic world"):
- every event class of the world (`vocab.EVENT_CLASSES`) has a latent semantic prototype z_k (dim
  `latent_dim`); a dataset renders each of its classes as one of them, so classes two datasets
  share (by CMG's AVE<->AVVP list, say) share a prototype;
- an event instance has z = z_k + instance jitter, plus a small per-segment jitter; the same z
  drives both modalities (a big dog looks and sounds big);
- audio renders each audible event through its OWN fixed random 2-layer tanh MLP and sums them;
- visual renders each visible object as a Gaussian blob at its own place on the H x W grid times
  a channel vector from ANOTHER random MLP of z, summed over objects: a real H x W x C map;
- each modality adds nuisance (a per-clip latent, drifting per segment, through a third / fourth
  random MLP) and i.i.d. noise. A segment without events (AVE background) is nuisance + noise.
The modality maps are independent, so audio and visual features are not aligned: only a method
that learns the alignment from co-occurrence in the corpus can transfer a head across them.
How hard the world is are its knobs (`profiles.Knobs`): the rendering MLPs' nonlinearity,
audible-but-invisible and visible-but-silent events, nuisance that correlates within a modality,
background sounds of no class, and offsets between a sound and its picture. The `tiny` and `easy`
profiles use generator version 4's knobs (`EASY`); `default` and `paper` are `HARD`.
The raw level renders the offsets too; its background sounds are its nuisance tones and noise.

Raw level (`raw.py`): the same events (and their instance latents) are also rendered as 16 kHz
waveforms, S x S RGB frames and object masks, written as raw/audio/<id>.wav, raw/frames/<id>.png
and raw/masks/<id>.png next to each dataset's features, plus captions.tsv (three paraphrases per
clip), by the writers that use `writing.RawLevelWriter`; a layout that has raw files of its own
writes them where its release has them.
Videos (`video.py`), level "video" of `ensure_dataset` only: raw/video/<id>.mp4 made from those
files (H.264 + AAC through PyAV), under their own markers, in no digest (not bit-stable).

Datasets: the world writes every declared dataset whose declaration carries a synthetic copy
(`api.Dataset.synthetic`, `api.SyntheticCopy`), each into world/<name>/ through its own writer and
at its own sizes in the profile (`copies.WorldDatasets`); it names none of them. The built-in ones
are the pretraining corpus, AVE, AVVP, the held-out retrieval set and AVSBench S4 (plugins/datasets/).

Determinism: every array comes from numpy Generators seeded by (seed, stream name), .h5 datasets
are written with `track_times=False` and fixed attributes, .wav and .png files without metadata,
so (profile, seed) fixes every byte on one host. Across hosts (CPU, OpenBLAS kernel, thread count)
the feature level's arrays are the same too, by construction (`exact.py`, generator version 6; the
raw level across kernels and threads, and across AVX2 / AVX-512 CPUs as tested: `exact.py` says why);
compare contents with `digest.py`, not file bytes, which also depend on the HDF5 library. The raw
level draws from its own streams, so it leaves the feature level's numbers as they were.
Integrity: each dataset folder (and its raw/) lists its files' sizes (`integrity.py`); a truncated
or missing file in the cache is found before a reader meets it, and the folder is set aside and
written again.

Laziness: `ensure_dataset` writes one dataset at one level, on first use, with the same bytes the
whole world would have (a dataset on the shared id stream replays the ids the datasets before it
drew); a run that reads one dataset's features writes neither the raw level nor another dataset.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from avtbench.atomic import move_aside, publish_folder, remove_dead_temps
from avtbench.logs import LIBRARY_LOG
from avtbench.synth.copies import WorldDatasets
from avtbench.synth.integrity import damage, write_sizes
from avtbench.synth.model import World
from avtbench.synth.profiles import EASY, PROFILES, Knobs, ProfileSizes, WorldSizes, profile_knobs, profile_sizes

GENERATOR_VERSION = "6"
COMPLETE = "COMPLETE"
"""Marker of a complete world (every dataset, both levels), and, inside a dataset folder, of its
feature level; `raw/COMPLETE` marks a dataset's raw level, `raw/video/COMPLETE` its videos."""
LEVELS = ("features", "raw", "video")
"""What `ensure_dataset` writes: the features; the raw level (WAV, PNG) too; the raw level's videos
(raw/video/<id>.mp4, `video.py`) too. `ensure_world` writes the first two, not the videos."""
__all__ = ["GENERATOR_VERSION", "PROFILES", "ProfileSizes", "WorldSizes", "WorldDatasets", "ensure_dataset", "ensure_world",
           "generate_world", "generate_dataset", "profile_sizes"]


def ensure_dataset(world_dir: Path, name: str, profile: str, seed: int, level: str = "features", knobs: Knobs | None = None,
                   datasets: WorldDatasets | None = None) -> Path:
    """`world_dir/name` holding dataset `name` at `level` (each level includes the ones before it),
    written on first use under a lock, so that a second process waits for it and reuses it.
    knobs: None for the profile's own; datasets: None for the installed plugins' datasets."""
    from filelock import FileLock

    datasets = WorldDatasets.given(datasets)
    datasets.copy(name)
    if level not in LEVELS:
        raise ValueError(f"the synthetic world writes datasets at {' or '.join(LEVELS)}, not at {level}")
    world_dir = Path(world_dir)
    target = world_dir / name
    if level == "video":
        ensure_dataset(world_dir, name, profile, seed, "raw", knobs, datasets)
        return _ensure_videos(world_dir, name)
    if _complete(world_dir, name, level) and _damaged(world_dir, name, level) is None:
        return target
    sizes, knobs = profile_sizes(profile), knobs or profile_knobs(profile)
    world_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(world_dir / f".{name}-{level}.lock")):
        with FileLock(str(world_dir / f".{name}-repair.lock")):  # both levels' writers may find the same damage
            _set_aside_damaged(world_dir, name, level)
        if not _complete(world_dir, name, "features"):
            remove_dead_temps(target)
            raw_level = level == "raw"

            def write(tmp: Path) -> None:
                generate_dataset(tmp, name, sizes, seed, raw_level=raw_level, knobs=knobs, datasets=datasets)
                write_sizes(tmp)
                if raw_level:
                    write_sizes(tmp / "raw", skip=())
                    (tmp / "raw" / COMPLETE).write_text("")
                (tmp / COMPLETE).write_text("")

            publish_folder(target, write, complete=COMPLETE)
        if level == "raw" and not _complete(world_dir, name, "raw"):
            remove_dead_temps(target / "raw")
            publish_folder(target / "raw", lambda tmp: _write_raw_level(tmp, name, sizes, seed, knobs, datasets), complete=COMPLETE)
    return target


def _ensure_videos(world_dir: Path, name: str) -> Path:
    """raw/video/ of a dataset whose raw level is complete, made from its raw files under a lock."""
    from filelock import FileLock

    from avtbench.synth.video import write_videos

    folder = world_dir / name / "raw" / "video"
    with FileLock(str(world_dir / f".{name}-video.lock")):
        if (folder / COMPLETE).exists():
            problem = damage(folder)
            if problem is None:
                return world_dir / name
            LIBRARY_LOG.warning(f"damaged cache: {problem}; moved {folder.name} to {move_aside(folder)} and writing it again")
        remove_dead_temps(folder)

        def write(tmp: Path) -> None:
            write_videos(world_dir / name, tmp)
            write_sizes(tmp, skip=())
            (tmp / COMPLETE).write_text("")

        publish_folder(folder, write, complete=COMPLETE)
    return world_dir / name


def _complete(world_dir: Path, name: str, level: str) -> bool:
    folder = world_dir / name if level == "features" else world_dir / name / "raw"
    if (world_dir / COMPLETE).exists() and folder.is_dir():  # a whole world, as `ensure_world` writes it
        return True
    return (folder / COMPLETE).exists()


def _damaged(world_dir: Path, name: str, level: str) -> tuple[Path, str] | None:
    """(folder, problem) of a complete dataset whose files at `level` are not as written (the dataset's
    folder for its features, its raw/ for the raw level), or None."""
    if not _complete(world_dir, name, "features"):
        return None
    folders = [world_dir / name] + ([world_dir / name / "raw"] if level == "raw" and _complete(world_dir, name, "raw") else [])
    for folder in folders:
        problem = damage(folder)
        if problem is not None:
            return folder, problem
    return None


def _set_aside_damaged(world_dir: Path, name: str, level: str) -> None:
    """Move a damaged dataset folder (or only its raw level) aside, saying so, so that it is written again."""
    found = _damaged(world_dir, name, level)
    if found is not None:
        folder, problem = found
        moved = move_aside(folder)
        LIBRARY_LOG.warning(f"damaged cache: {problem}; moved {folder.name} to {moved} and "
                            "generating it again")


def _write_raw_level(tmp: Path, name: str, sizes: ProfileSizes, seed: int, knobs: Knobs, datasets: WorldDatasets) -> None:
    """The raw level of a dataset whose features exist: rendered again from the same events in a
    scratch folder (same bytes), of which only raw/ is kept."""
    scratch = tmp / ".scratch"  # inside the temporary folder, so a killed run's leftovers go with it
    generate_dataset(scratch, name, sizes, seed, raw_level=True, knobs=knobs, datasets=datasets)
    for item in (scratch / "raw").iterdir():
        shutil.move(str(item), str(tmp / item.name))
    shutil.rmtree(scratch)
    write_sizes(tmp, skip=())
    (tmp / COMPLETE).write_text("")


def ensure_world(directory: Path, profile: str, seed: int, knobs: Knobs | None = None, datasets: WorldDatasets | None = None) -> Path:
    """The whole world folder for (profile, seed): every dataset at both levels, generated first if needed.

    Generation happens in a temporary sibling that is renamed to `directory` once complete, so a
    killed run leaves no half world, and when two processes race the first rename wins.
    datasets: None for the installed plugins' datasets.
    """
    from filelock import FileLock

    directory = Path(directory)
    if (directory / COMPLETE).exists():
        return directory
    sizes, knobs = profile_sizes(profile), knobs or profile_knobs(profile)
    datasets = WorldDatasets.given(datasets)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory.parent / f".{directory.name}.lock")):  # a second process waits, then reuses it
        if (directory / COMPLETE).exists():
            return directory
        return _generate(directory, profile, seed, sizes, knobs, datasets)


def _generate(directory: Path, profile: str, seed: int, sizes: ProfileSizes, knobs: Knobs, datasets: WorldDatasets) -> Path:
    remove_dead_temps(directory)

    def write(tmp: Path) -> None:
        generate_world(tmp, sizes, seed, knobs=knobs, datasets=datasets)
        for dataset in datasets.names():
            write_sizes(tmp / dataset)
            write_sizes(tmp / dataset / "raw", skip=())
        about = {"generator": GENERATOR_VERSION, "profile": profile, "seed": seed, "knobs": asdict(knobs),
                 "sizes": {"world": asdict(sizes.world), "datasets": {n: _plain(v) for n, v in datasets.sizes(sizes).items()}}}
        (tmp / COMPLETE).write_text(json.dumps(about, sort_keys=True, default=str) + "\n")

    return publish_folder(directory, write, complete=COMPLETE)


def _plain(sizes: Any) -> Any:
    return asdict(sizes) if is_dataclass(sizes) and not isinstance(sizes, type) else sizes


def generate_world(root: Path, sizes: ProfileSizes, seed: int, raw_level: bool = True, knobs: Knobs = EASY,
                   datasets: WorldDatasets | None = None) -> None:
    """Write every dataset of `datasets` (None: the installed plugins') into root/<name>/ (no COMPLETE marker).

    raw_level=False skips the raw level (for feature-only uses such as tests; `ensure_world`
    always writes it); the feature level is the same either way.
    """
    datasets = WorldDatasets.given(datasets)
    world = World.create(sizes.world, seed, knobs)
    for name, ids in datasets.all_ids(seed).items():
        datasets.write(root / name, name, world, sizes, ids, seed, raw_level)


def generate_dataset(root: Path, name: str, sizes: ProfileSizes, seed: int, raw_level: bool = True, knobs: Knobs = EASY,
                     datasets: WorldDatasets | None = None) -> None:
    """Write only dataset `name` into `root` (its folder itself), with the bytes `generate_world` gives it."""
    datasets = WorldDatasets.given(datasets)
    world = World.create(sizes.world, seed, knobs)
    datasets.write(Path(root), name, world, sizes, datasets.ids(name, sizes, seed), seed, raw_level)
