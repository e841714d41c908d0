"""Class vocabularies of the real datasets and of the synthetic pretraining corpus.

Sources (read, not copied):
- AVE: the 28 categories in the label-index order of YapengTian/AVE-ECCV18. That order is
  the order of first appearance in its `data/Annotations.txt` and is what its
  `mil_labels.h5` one-hot columns use (checked in tests/test_readers_real.py); background
  is index 28, the last column of the 29-way segment labels.
- AVVP: the 25 categories in the order of the `categories` list in YapengTian/AVVP-ECCV20
  `dataloader.py` / `main_avvp.py`, spelled as in its CSV files.
- AVE <-> AVVP shared classes: the 12 AVVP names of haihuangcode/CMG's AVE->AVVP protocol,
  listed in its `data/AVE_AVVP/AVE_AVVP_Categories.txt` (read from the copy in
  EMuLeMultimodal/CoDAAR `src_cvpr/data/AVE_AVVP/AVE_AVVP_Categories.txt`, in that file's
  order), each paired with the AVE category it stands for. Note that speech is NOT shared:
  AVE's male/female speech and AVVP's Speech stay distinct classes.
"""
from __future__ import annotations

AVE_CLASSES: list[str] = [
    "Church bell",
    "Male speech, man speaking",
    "Bark",
    "Fixed-wing aircraft, airplane",
    "Race car, auto racing",
    "Female speech, woman speaking",
    "Helicopter",
    "Violin, fiddle",
    "Flute",
    "Ukulele",
    "Frying (food)",
    "Truck",
    "Shofar",
    "Motorcycle",
    "Acoustic guitar",
    "Train horn",
    "Clock",
    "Banjo",
    "Goat",
    "Baby cry, infant cry",
    "Bus",
    "Chainsaw",
    "Cat",
    "Horse",
    "Toilet flush",
    "Rodents, rats, mice",
    "Accordion",
    "Mandolin",
]
AVE_BACKGROUND = "background"
AVE_LABEL_NAMES: list[str] = AVE_CLASSES + [AVE_BACKGROUND]
"""The 29 columns of AVE segment labels: 28 events, then background."""

AVVP_CLASSES: list[str] = [
    "Speech",
    "Car",
    "Cheering",
    "Dog",
    "Cat",
    "Frying_(food)",
    "Basketball_bounce",
    "Fire_alarm",
    "Chainsaw",
    "Cello",
    "Banjo",
    "Singing",
    "Chicken_rooster",
    "Violin_fiddle",
    "Vacuum_cleaner",
    "Baby_laughter",
    "Accordion",
    "Lawn_mower",
    "Motorcycle",
    "Helicopter",
    "Acoustic_guitar",
    "Telephone_bell_ringing",
    "Baby_cry_infant_cry",
    "Blender",
    "Clapping",
]

AVE_AVVP_SHARED: list[tuple[str, str]] = [
    ("Bark", "Dog"),
    ("Race car, auto racing", "Car"),
    ("Helicopter", "Helicopter"),
    ("Violin, fiddle", "Violin_fiddle"),
    ("Frying (food)", "Frying_(food)"),
    ("Motorcycle", "Motorcycle"),
    ("Acoustic guitar", "Acoustic_guitar"),
    ("Banjo", "Banjo"),
    ("Baby cry, infant cry", "Baby_cry_infant_cry"),
    ("Chainsaw", "Chainsaw"),
    ("Cat", "Cat"),
    ("Accordion", "Accordion"),
]
"""(AVE name, AVVP name) of the 12 classes CMG's AVE->AVVP protocol evaluates, in CMG's order."""

EXTRA_CORPUS_CLASSES: list[str] = [
    "Door knock",
    "Footsteps",
    "Rain",
    "Thunder",
    "Wind",
    "Bird song",
    "Siren",
    "Car horn",
    "Typing",
    "Laughter",
    "Piano",
    "Drum kit",
    "Doorbell",
    "Glass breaking",
    "Microwave oven",
    "Hair dryer",
    "Cow",
    "Sheep",
    "Water tap",
    "Crowd",
]
"""Everyday classes only the synthetic corpus has (distractors a method must not confuse)."""

_AVVP_TO_AVE: dict[str, str] = {avvp: ave for ave, avvp in AVE_AVVP_SHARED}

CORPUS_CLASSES: list[str] = (
    AVE_CLASSES + [c for c in AVVP_CLASSES if c not in _AVVP_TO_AVE] + EXTRA_CORPUS_CLASSES
)
"""AVE classes (AVE spelling), then AVVP-only classes (AVVP spelling), then the extras."""

PHRASES: dict[str, str] = {
    "Church bell": "a church bell ringing",
    "Male speech, man speaking": "a man speaking",
    "Bark": "a dog barking",
    "Fixed-wing aircraft, airplane": "an airplane flying over",
    "Race car, auto racing": "a race car speeding by",
    "Female speech, woman speaking": "a woman speaking",
    "Helicopter": "a helicopter hovering",
    "Violin, fiddle": "someone playing the violin",
    "Flute": "someone playing the flute",
    "Ukulele": "someone strumming a ukulele",
    "Frying (food)": "food sizzling in a pan",
    "Truck": "a truck rumbling past",
    "Shofar": "a shofar being blown",
    "Motorcycle": "a motorcycle revving",
    "Acoustic guitar": "someone playing an acoustic guitar",
    "Train horn": "a train horn blaring",
    "Clock": "a clock ticking",
    "Banjo": "someone picking a banjo",
    "Goat": "a goat bleating",
    "Baby cry, infant cry": "a baby crying",
    "Bus": "a bus driving by",
    "Chainsaw": "a chainsaw cutting wood",
    "Cat": "a cat meowing",
    "Horse": "a horse neighing",
    "Toilet flush": "a toilet flushing",
    "Rodents, rats, mice": "mice squeaking",
    "Accordion": "someone playing the accordion",
    "Mandolin": "someone playing a mandolin",
    "Speech": "people talking",
    "Cheering": "a crowd cheering",
    "Basketball_bounce": "a basketball bouncing",
    "Fire_alarm": "a fire alarm going off",
    "Cello": "someone playing the cello",
    "Singing": "someone singing",
    "Chicken_rooster": "a rooster crowing",
    "Vacuum_cleaner": "a vacuum cleaner running",
    "Baby_laughter": "a baby laughing",
    "Lawn_mower": "a lawn mower running",
    "Telephone_bell_ringing": "a telephone ringing",
    "Blender": "a blender whirring",
    "Clapping": "people clapping",
    "Door knock": "someone knocking on a door",
    "Footsteps": "footsteps on a wooden floor",
    "Rain": "rain falling",
    "Thunder": "thunder rumbling",
    "Wind": "wind blowing",
    "Bird song": "birds singing",
    "Siren": "a siren wailing",
    "Car horn": "a car horn honking",
    "Typing": "someone typing on a keyboard",
    "Laughter": "people laughing",
    "Piano": "someone playing the piano",
    "Drum kit": "someone playing drums",
    "Doorbell": "a doorbell ringing",
    "Glass breaking": "glass shattering",
    "Microwave oven": "a microwave oven humming",
    "Hair dryer": "a hair dryer blowing",
    "Cow": "a cow mooing",
    "Sheep": "sheep bleating",
    "Water tap": "water running from a tap",
    "Crowd": "a crowd murmuring",
}
"""Caption phrase of each corpus class."""


def corpus_index(name: str) -> int:
    """Index in CORPUS_CLASSES of an AVE, AVVP or corpus class name (shared AVVP names map to AVE's)."""
    return CORPUS_CLASSES.index(_AVVP_TO_AVE.get(name, name))


def _check() -> None:
    assert len(AVE_CLASSES) == 28 and len(set(AVE_CLASSES)) == 28
    assert len(AVVP_CLASSES) == 25 and len(set(AVVP_CLASSES)) == 25
    assert len(AVE_AVVP_SHARED) == 12
    assert all(a in AVE_CLASSES and v in AVVP_CLASSES for a, v in AVE_AVVP_SHARED)
    assert len(set(CORPUS_CLASSES)) == len(CORPUS_CLASSES) == 28 + 13 + len(EXTRA_CORPUS_CLASSES)
    assert set(PHRASES) == set(CORPUS_CLASSES)


_check()
