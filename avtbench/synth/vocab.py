"""The synthetic world's event classes and the caption phrase of each.

Every class has a latent prototype (`model.World.prototypes`, one row per class in the order of
EVENT_CLASSES, which therefore fixes the world's bytes). The classes are those of the real datasets the
world was made for, named as there (the 28 AVE classes, then the 13 AVVP classes AVE lacks, in AVVP's
spelling), and 20 everyday classes no real dataset here labels (distractors a method must not confuse).
Datasets name their own classes; their synthetic copies map them to these (`class_index`).
"""
from __future__ import annotations

PHRASES: dict[str, str] = {
    # the 28 AVE classes, in AVE's label order
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
    # the 13 AVVP classes AVE lacks, in AVVP's order
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
    # everyday classes of no real dataset here
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
"""Caption phrase of each event class, in the order of the classes."""

EVENT_CLASSES: list[str] = list(PHRASES)
"""The world's event classes; an event's class is an index into this list."""


def class_index(name: str) -> int:
    """Index in EVENT_CLASSES of an event class."""
    return EVENT_CLASSES.index(name)
