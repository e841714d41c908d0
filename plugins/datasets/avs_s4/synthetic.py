"""The synthetic AVSBench S4 (single-source audio-visual segmentation), in the release's layout.

Files under the dataset folder (the AVSBench release's `Single-source/` layout, as
OpenNLPLab/AVSBench `avs_scripts/avs_s4/dataloader.py` reads it, plus two files it lacks):
    s4_meta_data.csv                                         name,start_time,category,split
    s4_data/visual_frames/{split}/{category}/{name}/{name}_{1..5}.png   S x S RGB, one per second
    s4_data/audio_wav/{split}/{category}/{name}.wav                     16 kHz mono int16, 5 s
    s4_data/gt_masks/{split}/{category}/{name}/{name}_{k}.png           0/255 grey (mode L) mask of
                                                             the sounding object; train: k = 1 only,
                                                             val and test: k = 1..5
    s4_data/audio_vggish/{split}/{category}/{name}.npy       float32 [5, audio_dim]: the feature level
                                                             (the world's VGGish-like audio features)
    AVSBenchCategories2Prompts.csv                           label,prompt: the caption of each
                                                             category, as the world's captions phrase
                                                             its stand-in class (CMG ships such a file)

Each clip holds one sounding object (audible and visible for all 5 s) and 1 to MAX_DISTRACTORS
silent distractors of other categories, visible for all 5 s. Every object, target or distractor,
draws its category uniformly, its size (gain) from the same range and its place from a distinct
cell of a FRAME_GRID x FRAME_GRID grid (jittered), so that nothing but the sound (or a caption)
tells which object sounds. The features, waveform, frames and masks all render the same events
and instance latents through the world's models (`avtbench.synth.model`, `raw`); the features carry the
world's nuisance, noise, background sounds and nonlinearity knobs, no audio-visual lag.

Categories are rendered as the world's event classes (`S4_STAND_INS`), which the corpus draws from,
so a method pretrained on the corpus has seen them; the world has no lion, coyote, glockenspiel or
cap gun, and an unused class of a similar sound stands in. The layout is written at both levels (frames and masks serve every
method); `raw/` holds nothing, because the S4 layout is its own raw level.
"""
from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avtbench.api import CopyRequest, SyntheticCopy
from avtbench.synth import raw
from avtbench.synth.events import Events
from avtbench.synth.model import World, render_into
from avtbench.synth.vocab import PHRASES, class_index

from .reader import FEATURES, FRAMES, META, PROMPTS, SPLITS
from .vocab import CATEGORIES

SEGMENTS = FRAMES
MAX_DISTRACTORS = 3
FRAME_GRID = 3
OBJECT_SCALE = 0.6
"""Object radius is 0.3 * S * gain in `raw.render_frames`; scaled by this, up to four objects fit a frame."""
META_HEADER = ("name", "start_time", "category", "split")

S4_STAND_INS: dict[str, str] = {
    "baby_laughter": "Baby_laughter",
    "female_singing": "Singing",
    "male_speech": "Male speech, man speaking",
    "dog_barking": "Bark",
    "cat_meowing": "Cat",
    "lions_roaring": "Cow",
    "horse_clip-clop": "Horse",
    "coyote_howling": "Goat",
    "mynah_bird_singing": "Bird song",
    "playing_acoustic_guitar": "Acoustic guitar",
    "playing_tabla": "Drum kit",
    "playing_violin": "Violin, fiddle",
    "playing_piano": "Piano",
    "playing_ukulele": "Ukulele",
    "playing_glockenspiel": "Church bell",
    "helicopter": "Helicopter",
    "race_car": "Race car, auto racing",
    "driving_buses": "Bus",
    "ambulance_siren": "Siren",
    "typing_on_computer_keyboard": "Typing",
    "chainsawing_trees": "Chainsaw",
    "cap_gun_shooting": "Glass breaking",
    "lawn_mowing": "Lawn_mower",
}
"""Each of the 23 S4 categories (in AVSBench's `preprocess_s4.py` order) and the world's event class it is rendered as."""
S4_CATEGORIES: list[str] = list(S4_STAND_INS)
S4_PHRASES: dict[str, str] = {c: PHRASES[k] for c, k in S4_STAND_INS.items()}
"""Each S4 category as the world's captions phrase it."""


@dataclass(frozen=True)
class S4Sizes:
    splits: tuple[int, int, int] = (200, 40, 40)
    """Clips (5 s each) of the train, val and test splits."""
    frame_size: int = 64
    """Frames and masks are S x S (224 in the release)."""


def clip_count(sizes: S4Sizes) -> int:
    return sum(sizes.splits)


def write_avs_s4(request: CopyRequest[S4Sizes]) -> None:
    """Write the dataset into `request.folder`; its raw-level generator only says whether the raw level is
    wanted (see the module doc)."""
    folder, world, rng, sizes = request.folder, request.world, request.rng, request.sizes
    n = clip_count(sizes)
    world5 = dataclasses.replace(world, sizes=dataclasses.replace(world.sizes, segments=SEGMENTS))
    names = [request.ids() for _ in range(n)]
    split_of = np.empty(n, dtype=object)
    split_of[rng.permutation(n)] = np.repeat(SPLITS, sizes.splits)
    starts = rng.integers(0, 26, size=n)
    ev, target = s4_events(rng, n)
    categories = [S4_CATEGORIES[k] for k in target.tolist()]
    layout_rng = np.random.default_rng(rng.integers(0, 2**63))
    folder.mkdir(parents=True, exist_ok=True)
    rows = zip(names, starts.tolist(), categories, split_of.tolist())
    with open(folder / META, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([META_HEADER, *rows])
    with open(folder / PROMPTS, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([("label", "prompt"), *S4_PHRASES.items()])
    files = _LayoutWriter(folder / "s4_data", world5, sizes.frame_size, names, categories, list(split_of), layout_rng)
    render_into(world5, ev, rng, files.features, files.raw)
    if request.raw_level:
        (folder / "raw").mkdir()


def s4_events(rng: np.random.Generator, n: int) -> tuple[Events, np.ndarray]:
    """The events of n clips and the S4 category index of each clip's sounding object. Slot 0 sounds;
    slots 1.. are silent distractors of other categories; every object is on for the whole clip."""
    slots = 1 + MAX_DISTRACTORS
    k = len(S4_CATEGORIES)
    stand_in = np.array([class_index(S4_STAND_INS[c]) for c in S4_CATEGORIES])
    category = np.full((n, slots), -1, dtype=np.int64)
    category[:, 0] = rng.integers(0, k, size=n)
    distractors = rng.integers(1, MAX_DISTRACTORS + 1, size=n)
    for i in range(n):
        others = np.delete(np.arange(k), category[i, 0])
        category[i, 1 : 1 + distractors[i]] = rng.choice(others, size=distractors[i], replace=False)
    cells = np.argsort(rng.random((n, FRAME_GRID * FRAME_GRID)), axis=1)[:, :slots]
    where = np.stack([cells // FRAME_GRID, cells % FRAME_GRID], -1) + rng.uniform(-0.2, 0.2, size=(n, slots, 2))
    filled = category >= 0
    events = Events(
        cls=np.where(filled, stand_in[np.maximum(category, 0)], -1),
        audible=filled & (np.arange(slots) == 0),
        visible=filled,
        onset=np.zeros((n, slots), dtype=np.int64),
        offset=np.full((n, slots), SEGMENTS, dtype=np.int64),
        gain=rng.uniform(0.75, 1.25, size=(n, slots)).astype(np.float32),
        where=where.astype(np.float32),
        lag=np.zeros((n, slots), dtype=np.int64),
    )
    return events, category[:, 0]


class _LayoutWriter:
    """Receives each rendered chunk: audio features, then waveforms, frames and masks, and writes the files."""

    def __init__(self, root: Path, world: World, frame_size: int, names: list[str], categories: list[str], splits: list[str],
                 rng: np.random.Generator) -> None:
        self.root, self.world, self.frame_size = root, world, frame_size
        self.names, self.categories, self.splits, self.rng = names, categories, splits, rng
        for kind in ("visual_frames", "audio_wav", "gt_masks", FEATURES):
            for split in SPLITS:
                for category in S4_CATEGORIES:
                    (root / kind / split / category).mkdir(parents=True, exist_ok=True)

    def _folder(self, kind: str, i: int) -> Path:
        return self.root / kind / self.splits[i] / self.categories[i]

    def features(self, rows: slice, audio: np.ndarray, visual: np.ndarray) -> None:
        for i, a in zip(range(rows.start, rows.stop), audio):
            np.save(self._folder(FEATURES, i) / f"{self.names[i]}.npy", a.astype(np.float32))

    def raw(self, rows: slice, ev: Events, instance: np.ndarray) -> None:
        w, size = self.world, self.frame_size
        waves = raw.render_audio(w.looks, ev, instance, w.prototypes, SEGMENTS, self.rng)
        smaller = dataclasses.replace(ev, gain=ev.gain * np.float32(OBJECT_SCALE))
        frames, masks = raw.render_frames(w.looks, smaller, instance, w.prototypes, SEGMENTS, FRAME_GRID, size, self.rng)
        target = masks == raw.object_order(ev)[:, 0, None, None, None].astype(np.uint8)
        for j, i in enumerate(range(rows.start, rows.stop)):
            name = self.names[i]
            (self._folder("audio_wav", i) / f"{name}.wav").write_bytes(raw.wav_bytes(waves[j]))
            for kind in ("visual_frames", "gt_masks"):
                (self._folder(kind, i) / name).mkdir()
            for t in range(SEGMENTS):
                _save_png(self._folder("visual_frames", i) / name / f"{name}_{t + 1}.png", frames[j, t])
                if t == 0 or self.splits[i] != "train":
                    _save_png(self._folder("gt_masks", i) / name / f"{name}_{t + 1}.png", target[j, t].astype(np.uint8) * 255)


def _save_png(path: Path, image: np.ndarray) -> None:
    """PNG without ancillary chunks (no time, no text), so that equal pixels give equal bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=False, compress_level=1)
    path.write_bytes(buffer.getvalue())


def _check() -> None:
    assert S4_CATEGORIES == CATEGORIES  # the reader's vocabulary, in its order


_check()

SIZES = {"tiny": S4Sizes((24, 8, 8), frame_size=32), "paper": S4Sizes((3452, 740, 740), frame_size=224)}
"""S4's sizes per world profile (the others have the default); paper: the S4 split sizes commonly quoted
(4932 clips) at the release's frame size."""

COPY = SyntheticCopy(write=write_avs_s4, default_sizes=S4Sizes(), sizes=SIZES, descriptions=S4_PHRASES,
                     id_order=4, ids_drawn=clip_count)
"""S4's synthetic copy: last on the shared id stream."""
