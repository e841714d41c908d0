"""The AVSBench S4 vocabulary and CMG's category prompts, as data.

Sources (read, not copied as code): the 23 categories in the order of OpenNLPLab/AVSBench
`preprocess_scripts/preprocess_s4.py`; the prompts are haihuangcode/CMG's
`AVSBenchCategories2Prompts.csv` (label -> prompt), shipped by CMG apart from its repository
(CMG issue #1), one sentence per category.
"""
from __future__ import annotations

CATEGORIES: list[str] = [
    "baby_laughter",
    "female_singing",
    "male_speech",
    "dog_barking",
    "cat_meowing",
    "lions_roaring",
    "horse_clip-clop",
    "coyote_howling",
    "mynah_bird_singing",
    "playing_acoustic_guitar",
    "playing_tabla",
    "playing_violin",
    "playing_piano",
    "playing_ukulele",
    "playing_glockenspiel",
    "helicopter",
    "race_car",
    "driving_buses",
    "ambulance_siren",
    "typing_on_computer_keyboard",
    "chainsawing_trees",
    "cap_gun_shooting",
    "lawn_mowing",
]

CMG_PROMPTS: dict[str, str] = {
    "ambulance_siren": "The wailing sound of an ambulance siren",
    "chainsawing_trees": "The loud buzzing roar of a chainsaw cutting through trees",
    "female_singing": "The beautiful melodic sound of a woman singing",
    "lions_roaring": "The deep rumbling roar of lions",
    "playing_glockenspiel": "The light tinkling notes of a glockenspiel being played",
    "playing_violin": "The rich resonant sound of a violin being played skillfully",
    "baby_laughter": "The sweet joyful sound of a baby laughing happily",
    "coyote_howling": "The high yipping howl of a coyote in the distance",
    "helicopter": "The rhythmic thumping sound of a helicopter's blades chopping the air",
    "male_speech": "The low authoritative tone of a man speaking",
    "playing_piano": "The crisp flowing melody from a piano being played",
    "race_car": "The loud powerful roar of a race car engine accelerating",
    "cap_gun_shooting": "The sharp crack of a cap gun firing",
    "dog_barking": "The repetitive staccato barking of an excited dog",
    "horse_clip-clop": "The regular clip-clop of horse hooves on pavement",
    "mynah_bird_singing": "The variety of whistles and chirps of a mynah bird singing",
    "playing_tabla": "The complex rhythms of tabla drums being played skillfully",
    "typing_on_computer_keyboard": "The rapid clacking of typing on a computer keyboard",
    "cat_meowing": "The repetitive pleading meow of a hungry cat",
    "driving_buses": "The loud rumble and hiss of buses driving by",
    "lawn_mowing": "The steady buzzing drone of a lawn mower cutting grass",
    "playing_acoustic_guitar": "The bright crisp strumming of an acoustic guitar",
    "playing_ukulele": "The cheerful upbeat strumming of a ukulele",
}


def _check() -> None:
    assert len(CATEGORIES) == len(set(CATEGORIES)) == 23
    assert set(CMG_PROMPTS) == set(CATEGORIES)


_check()
