"""The AVE vocabulary, and the classes CMG's AVE->AVVP protocol shares with AVVP, as data.

Sources (read, not copied):
- AVE: the 28 categories in the label-index order of YapengTian/AVE-ECCV18. That order is
  the order of first appearance in its `data/Annotations.txt` and is what its
  `mil_labels.h5` one-hot columns use (checked in tests/test_readers_real.py); background
  is index 28, the last column of the 29-way segment labels.
- AVE <-> AVVP shared classes: the 12 AVVP names of haihuangcode/CMG's AVE->AVVP protocol,
  listed in its `data/AVE_AVVP/AVE_AVVP_Categories.txt` (read from the copy in
  EMuLeMultimodal/CoDAAR `src_cvpr/data/AVE_AVVP/AVE_AVVP_Categories.txt`, in that file's
  order), each paired with the AVE category it stands for. Note that speech is NOT shared:
  AVE's male/female speech and AVVP's Speech stay distinct classes. The AVVP names are checked
  against the AVVP vocabulary in `avtbench_plugins.datasets.avvp.vocab`.
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


def _check() -> None:
    assert len(AVE_CLASSES) == 28 and len(set(AVE_CLASSES)) == 28
    assert len(AVE_AVVP_SHARED) == 12
    assert all(a in AVE_CLASSES for a, _ in AVE_AVVP_SHARED)


_check()
