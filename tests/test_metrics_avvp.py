import numpy as np
import pytest

from avtbench.metrics.avvp import avvp_f1, event_f1, extract_events, segment_f1


def _video(**runs: list[tuple[int, int]]) -> np.ndarray:
    """A (25, 10) 0/1 matrix; keyword c<k> lists half-open segment runs of class k."""
    out = np.zeros((25, 10), dtype=int)
    for key, spans in runs.items():
        for start, end in spans:
            out[int(key[1:]), start:end] = 1
    return out


EMPTY = _video()


@pytest.mark.parametrize(
    "vector, events",
    [
        ([0, 1, 1, 0, 1, 0, 0, 0, 1, 1], [(1, 3), (4, 5), (8, 10)]),
        ([1] * 10, [(0, 10)]),
        ([0] * 10, []),
        ([0] * 9 + [1], [(9, 10)]),
        ([1] + [0] * 9, [(0, 1)]),
    ],
)
def test_extract_events_returns_half_open_runs(vector, events):
    assert extract_events(np.array(vector)) == events


def test_segment_f1_hand_computed():
    # class 0: pred 0-3, gt 2-5 -> TP 2, FP 2, FN 2 -> F1 = 4 / 8 = 0.5
    # class 1: pred at 0, no gt -> F1 0 ; class 2: gt at 9, no pred -> F1 0
    # other 22 classes have neither and are left out -> (0.5 + 0 + 0) / 3
    pred = _video(c0=[(0, 4)], c1=[(0, 1)])
    gt = _video(c0=[(2, 6)], c2=[(9, 10)])
    assert segment_f1(pred, gt) == pytest.approx(0.5 / 3)


def test_empty_video_scores_one():
    assert segment_f1(EMPTY, EMPTY) == 1.0
    assert event_f1(EMPTY, EMPTY) == 1.0


def test_prediction_without_ground_truth_scores_zero():
    pred = _video(c4=[(3, 5)])
    assert segment_f1(pred, EMPTY) == 0.0
    assert event_f1(pred, EMPTY) == 0.0
    assert event_f1(EMPTY, pred) == 0.0


@pytest.mark.parametrize(
    "pred_span, gt_span, expected",
    [
        ((0, 2), (0, 4), 1.0),  # IoU 2/4 = 0.5 exactly: counts as a match
        ((8, 10), (6, 10), 1.0),  # IoU 2/4 = 0.5 with both events touching the last segment
        ((0, 2), (0, 5), 0.0),  # IoU 2/5 < 0.5: one FP and one FN
        ((2, 5), (0, 4), 0.0),  # IoU 2/5
        ((7, 10), (8, 10), 1.0),  # IoU 2/3
    ],
)
def test_event_f1_iou_threshold_is_inclusive(pred_span, gt_span, expected):
    assert event_f1(_video(c3=[pred_span]), _video(c3=[gt_span])) == expected


def test_event_f1_several_events_in_one_class():
    # gt events [0,2) and [5,8); pred events [0,2), [6,7), [9,10)
    # [0,2) matches (IoU 1); [6,7) vs [5,8) IoU 1/3 -> FP; [9,10) -> FP; gt [5,8) unmatched -> FN
    # TP 1, FP 2, FN 1 -> 2 / (2 + 3) = 0.4
    pred = _video(c7=[(0, 2), (6, 7), (9, 10)])
    gt = _video(c7=[(0, 2), (5, 8)])
    assert event_f1(pred, gt) == pytest.approx(0.4)


def test_segment_f1_event_touching_end():
    # gt 7-9, pred 8-9 -> TP 2, FP 0, FN 1 -> 4 / 5
    assert segment_f1(_video(c3=[(8, 10)]), _video(c3=[(7, 10)])) == pytest.approx(0.8)


def test_avvp_f1_two_videos_hand_computed():
    # Video A
    #  audio  gt c0 [0,5)          pred c0 [0,3), c1 [9,10)
    #  visual gt c0 [2,6)          pred c0 [2,6)
    #  av     gt c0 [2,5)          pred c0 [2,3)   (products of audio and visual)
    # segment: audio  c0 TP3 FP0 FN2 -> 6/8, c1 -> 0          => 0.375
    #          visual c0 perfect                               => 1
    #          av     c0 TP1 FP0 FN2 -> 2/4                    => 0.5
    #          Event@AV c0 TP7 FP0 FN2 -> 14/16, c1 -> 0       => 0.4375
    # event:   audio  c0 IoU 3/5 -> TP; c1 FP                  => 0.5
    #          visual c0 identical                             => 1
    #          av     [2,3) vs [2,5) IoU 1/3 -> FP + FN        => 0
    #          Event@AV c0 TP2, c1 FP1                         => 0.5
    # Video B is empty everywhere -> 1 for every score.
    pa = np.stack([_video(c0=[(0, 3)], c1=[(9, 10)]), EMPTY])
    pv = np.stack([_video(c0=[(2, 6)]), EMPTY])
    ga = np.stack([_video(c0=[(0, 5)]), EMPTY])
    gv = np.stack([_video(c0=[(2, 6)]), EMPTY])
    out = avvp_f1(pa, pv, ga, gv)
    seg, evt = out["segment"], out["event"]
    assert seg["audio"] == pytest.approx(68.75)
    assert seg["visual"] == pytest.approx(100.0)
    assert seg["audio_visual"] == pytest.approx(75.0)
    assert seg["type_av"] == pytest.approx((68.75 + 100.0 + 75.0) / 3)
    assert seg["event_av"] == pytest.approx(71.875)
    assert evt["audio"] == pytest.approx(75.0)
    assert evt["visual"] == pytest.approx(100.0)
    assert evt["audio_visual"] == pytest.approx(50.0)
    assert evt["type_av"] == pytest.approx(75.0)
    assert evt["event_av"] == pytest.approx(75.0)


def test_event_av_adds_modality_counts_instead_of_merging_streams():
    # audio has only ground truth, visual only a prediction, on the same class and span.
    # Official Event@AV: audio FN + visual FP -> F1 0. A union of streams would score 100.
    pa = np.stack([EMPTY])
    pv = np.stack([_video(c0=[(0, 5)])])
    ga = np.stack([_video(c0=[(0, 5)])])
    gv = np.stack([EMPTY])
    out = avvp_f1(pa, pv, ga, gv)
    assert out["segment"]["event_av"] == 0.0
    assert out["event"]["event_av"] == 0.0


def test_all_empty_dataset_scores_100():
    z = np.zeros((3, 25, 10), dtype=int)
    out = avvp_f1(z, z, z, z)
    assert all(v == 100.0 for level in out.values() for v in level.values())


def test_bad_shape_raises():
    good = np.zeros((2, 25, 10), dtype=int)
    with pytest.raises(ValueError, match=r"\(videos, 25, 10\)"):
        avvp_f1(np.zeros((2, 10, 25), dtype=int), good, good, good)


def test_non_binary_values_raise():
    good = np.zeros((1, 25, 10))
    bad = good.copy()
    bad[0, 0, 0] = 0.7
    with pytest.raises(ValueError, match="0/1"):
        avvp_f1(good, good, bad, good)
    with pytest.raises(ValueError, match="0/1"):
        segment_f1(bad[0], good[0])


def test_mismatched_video_counts_raise():
    with pytest.raises(ValueError, match="number of videos"):
        avvp_f1(*(np.zeros((n, 25, 10), dtype=int) for n in (2, 2, 3, 2)))


def test_per_video_shape_mismatch_raises():
    with pytest.raises(ValueError, match="same shape"):
        event_f1(np.zeros((25, 10), dtype=int), np.zeros((25, 9), dtype=int))
    with pytest.raises(ValueError, match="1-D"):
        extract_events(np.zeros((2, 10), dtype=int))
