"""The AVVP (LLP) vocabulary, as data.

Source (read, not copied): the 25 categories in the order of the `categories` list in
YapengTian/AVVP-ECCV20 `dataloader.py` / `main_avvp.py`, spelled as in its CSV files. The 12 classes
CMG's AVE->AVVP protocol shares with AVE are listed with the AVE vocabulary (`AVE_AVVP_SHARED`).
"""
from __future__ import annotations

from avtbench_plugins.datasets.ave.vocab import AVE_AVVP_SHARED

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


def _check() -> None:
    assert len(AVVP_CLASSES) == 25 and len(set(AVVP_CLASSES)) == 25
    assert all(v in AVVP_CLASSES for _, v in AVE_AVVP_SHARED)


_check()
