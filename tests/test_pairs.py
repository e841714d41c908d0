"""The corpus's image-caption and audio-caption pairs for the synthetic CLIP and CLAP."""
import numpy as np
import pytest

from avtbench.api import Clips
from avtbench.backbones.pairs import audio_caption_pairs, half_rows, image_caption_pairs

NAMES = ["Bark", "Church bell", "Made-up class"]
RATE = 100


def _clips(with_events: bool = True) -> Clips:
    n, t = 4, 3
    events = np.zeros((n, t, len(NAMES)), np.uint8)
    events[0, 1, 0] = 2          # clip 0, second 1: a dog seen only
    events[1, 0, 1] = 3          # clip 1, second 0: a bell seen and heard
    events[1, 0, 2] = 2          # ... and the made-up class seen
    events[2, 2, 0] = 1          # clip 2, second 2: a dog heard only
    events[3, :, 1] = 1          # clip 3: a bell heard throughout
    visual = np.arange(n * t)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3).reshape(n, t, 2, 2, 3)
    audio = np.repeat(np.arange(n * t, dtype=np.float32), RATE).reshape(n, t * RATE)
    captions = [[f"clip {i} first", f"clip {i} second"] for i in range(n)]
    return Clips(ids=[f"c{i}" for i in range(n)], audio=audio, visual=visual.astype(np.uint8),
                 labels={"events": events} if with_events else {}, class_names=NAMES, captions=captions)


def test_halves_are_disjoint_and_cover_every_clip():
    for n in (1, 2, 5, 6):
        first, second = half_rows(n, "first"), half_rows(n, "second")
        assert sorted([*first, *second]) == list(range(n)) and len(first) >= len(second)


def test_frames_are_paired_with_the_events_they_show_from_the_first_half():
    clips = _clips()
    frames, captions = image_caption_pairs(clips, clips.visual)
    assert captions == ["a video of a dog barking", "a video of a church bell ringing and made-up class"]
    assert np.array_equal(frames[0], clips.visual[0, 1]) and np.array_equal(frames[1], clips.visual[1, 0])


def test_seconds_of_audio_are_paired_with_the_events_heard_from_the_second_half():
    clips = _clips()
    seconds, captions = audio_caption_pairs(clips, clips.audio, RATE)
    assert captions == ["a video of a dog barking", "a church bell ringing", "a video of a church bell ringing",
                        "a short clip with a church bell ringing"]
    assert seconds.shape == (4, RATE) and seconds.dtype == np.float32
    assert np.all(seconds[0] == 2 * 3 + 2) and np.all(seconds[3] == 3 * 3 + 2)


def test_without_event_labels_every_caption_takes_the_middle_frame():
    clips = _clips(with_events=False)
    frames, captions = image_caption_pairs(clips, clips.visual)
    assert captions == ["clip 0 first", "clip 0 second", "clip 1 first", "clip 1 second"]
    assert np.array_equal(frames[2], clips.visual[1, 1])
    _, audio_captions = audio_caption_pairs(clips, clips.audio, RATE)
    assert audio_captions == ["clip 2 first", "clip 2 second", "clip 3 first", "clip 3 second"]


def test_event_labels_that_do_not_match_the_class_names_are_refused():
    clips = _clips()
    clips.class_names = NAMES[:2]
    with pytest.raises(ValueError, match="3 classes"):
        image_caption_pairs(clips, clips.visual)


def test_caption_lists_fall_back_to_the_one_text_per_clip():
    assert _clips().caption_lists()[3] == ["clip 3 first", "clip 3 second"]
    assert Clips(ids=["a", "b"], text=["x", "y"]).caption_lists() == [["x"], ["y"]]
    assert Clips(ids=["a"]).caption_lists() == []
