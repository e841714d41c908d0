"""Class vocabulary of the synthetic pretraining corpus and the caption phrase of every class.

The real datasets' vocabularies (AVE, AVVP, their shared classes) live with the readers in
`avtbench.data.vocab`; the corpus adds everyday distractor classes only the synthetic world has.
"""
from __future__ import annotations

from avtbench.data.vocab import AVE_AVVP_SHARED, AVE_CLASSES, AVVP_CLASSES

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
    assert len(set(CORPUS_CLASSES)) == len(CORPUS_CLASSES) == 28 + 13 + len(EXTRA_CORPUS_CLASSES)
    assert set(PHRASES) == set(CORPUS_CLASSES)


_check()
