"""vip_ant's image-caption pairs for `synth://clip`: clip captions (default) or latent event labels."""
import numpy as np
import pytest

from avtbench.api import Clips, UserError
from avtbench_plugins.methods.vip_ant.pairs import class_descriptions, half_rows, image_caption_pairs

NAMES = ["Bark", "Church bell", "Made-up class"]
DESCRIPTIONS = ["a dog barking", "a church bell ringing", ""]


class NoEvents(dict):
    """Labels that fail the test when anything asks for the latent event labels."""

    def __getitem__(self, key):
        if key == "events":
            raise AssertionError("labels['events'] was read")
        return super().__getitem__(key)

    def __contains__(self, key):
        if key == "events":
            raise AssertionError("labels['events'] was looked for")
        return super().__contains__(key)

    def get(self, key, default=None):
        if key == "events":
            raise AssertionError("labels['events'] was read")
        return super().get(key, default)


def _events(n: int = 4, t: int = 3) -> np.ndarray:
    events = np.zeros((n, t, len(NAMES)), np.uint8)
    events[0, 1, 0] = 2          # clip 0, second 1: a dog seen only
    events[1, 0, 1] = 3          # clip 1, second 0: a bell seen and heard
    events[1, 0, 2] = 2          # ... and the made-up class seen
    events[2, 2, 0] = 2          # clip 2 (second half): a dog seen
    events[3, :, 1] = 1          # clip 3: a bell heard throughout
    return events


def _clips(labels=None, descriptions=DESCRIPTIONS) -> Clips:
    n, t = 4, 3
    visual = np.arange(n * t)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3).reshape(n, t, 2, 2, 3)
    captions = [[f"clip {i} first", f"clip {i} second"] for i in range(n)]
    return Clips(ids=[f"c{i}" for i in range(n)], visual=visual.astype(np.uint8),
                 labels={"events": _events()} if labels is None else labels, class_names=list(NAMES),
                 captions=captions, descriptions=list(descriptions))


def test_halves_are_disjoint_and_cover_every_clip():
    for n in (1, 2, 5, 6):
        first, second = half_rows(n, "first"), half_rows(n, "second")
        assert sorted([*first, *second]) == list(range(n)) and len(first) >= len(second)


def test_captions_pair_every_caption_of_the_first_half_with_its_middle_frame():
    clips = _clips()
    frames, captions = image_caption_pairs(clips, clips.visual)
    assert captions == ["clip 0 first", "clip 0 second", "clip 1 first", "clip 1 second"]
    assert frames.shape == (4, 2, 2, 3)
    assert np.array_equal(frames[0], clips.visual[0, 1]) and np.array_equal(frames[2], clips.visual[1, 1])


def test_captions_never_read_the_latent_event_labels():
    with_events = _clips()
    guarded = _clips(labels=NoEvents())
    frames, captions = image_caption_pairs(guarded, guarded.visual, "captions")
    expected_frames, expected_captions = image_caption_pairs(with_events, with_events.visual, "captions")
    assert captions == expected_captions and np.array_equal(frames, expected_frames)


def test_latent_events_pair_frames_with_the_events_they_show():
    clips = _clips()
    frames, captions = image_caption_pairs(clips, clips.visual, "latent_events")
    assert captions == ["a video of a dog barking", "a video of a church bell ringing and made-up class"]
    assert np.array_equal(frames[0], clips.visual[0, 1]) and np.array_equal(frames[1], clips.visual[1, 0])


def test_classes_without_a_description_are_named_in_lower_case():
    assert class_descriptions(_clips()) == ["a dog barking", "a church bell ringing", "made-up class"]
    assert class_descriptions(_clips(descriptions=[])) == ["bark", "church bell", "made-up class"]
    clips = _clips(descriptions=[])
    _, captions = image_caption_pairs(clips, clips.visual, "latent_events")
    assert captions == ["a video of bark", "a video of church bell and made-up class"]


def test_latent_events_without_event_labels_is_a_user_error():
    clips = _clips(labels={})
    with pytest.raises(UserError, match="synth_clip_pairs=captions"):
        image_caption_pairs(clips, clips.visual, "latent_events")


def test_event_labels_that_do_not_match_the_class_names_are_refused():
    clips = _clips()
    clips.class_names = NAMES[:2]
    with pytest.raises(UserError, match="3 classes"):
        image_caption_pairs(clips, clips.visual, "latent_events")


def test_an_unknown_pair_source_is_refused():
    clips = _clips()
    with pytest.raises(UserError, match="captions, latent_events"):
        image_caption_pairs(clips, clips.visual, "labels")


def test_caption_lists_fall_back_to_the_one_text_per_clip():
    assert _clips().caption_lists()[3] == ["clip 3 first", "clip 3 second"]
    assert Clips(ids=["a", "b"], text=["x", "y"]).caption_lists() == [["x"], ["y"]]
    assert Clips(ids=["a"]).caption_lists() == []
