import numpy as np
import pytest

from avtbench.metrics.segmentation import f_score, mask_iou, miou


def test_mask_iou_cases():
    pred = np.array(
        [
            [[0.9, 0.6], [0.2, 0.5]],  # binarised [[1,1],[0,0]] (0.5 is not > 0.5)
            [[0.7, 0.0], [0.0, 0.0]],  # one false-positive pixel
            [[0.0, 0.0], [0.0, 0.0]],
            [[0.0, 0.0], [0.0, 0.0]],
        ]
    )
    gt = np.array(
        [
            [[1, 0], [1, 0]],  # inter 1, union 3 -> 1/3
            [[0, 0], [0, 0]],  # empty gt: 3 of 4 pixels correctly empty -> 3/4
            [[0, 0], [0, 0]],  # both empty -> 4/4
            [[0, 1], [0, 0]],  # missed object -> 0
        ]
    )
    assert mask_iou(pred, gt) == pytest.approx([1 / 3, 3 / 4, 1.0, 0.0], abs=1e-6)
    assert miou(pred, gt) == pytest.approx((1 / 3 + 3 / 4 + 1.0 + 0.0) / 4, abs=1e-6)


# One image as a 1x4 strip: scores [0.9, 0.6, 0.3, 0.0], truth [1, 0, 1, 0].
# With 3 thresholds (0, ~0.5, ~1):
#   t=0:   4 predicted, TP 2 -> P 1/2, R 1   -> F = 1.3*0.5/(0.15+1)   = 13/23
#   t~0.5: {0.9, 0.6}, TP 1 -> P 1/2, R 1/2 -> F = 1.3*0.25/(0.15+0.5) = 1/2
#   t~1:   nothing predicted -> P = R = 0   -> F = 0
STRIP_PRED = np.array([[[0.9, 0.6, 0.3, 0.0]]])
STRIP_GT = np.array([[[1, 0, 1, 0]]])


def test_f_score_hand_computed():
    assert f_score(STRIP_PRED, STRIP_GT, num_thresholds=3) == pytest.approx(13 / 23)


def test_f_score_beta2_changes_weighting():
    # beta2 = 1: t=0 -> 2*0.5/1.5 = 2/3 ; t~0.5 -> 0.5
    assert f_score(STRIP_PRED, STRIP_GT, beta2=1.0, num_thresholds=3) == pytest.approx(2 / 3)


def test_f_score_skips_empty_ground_truth():
    pred = np.concatenate([STRIP_PRED, np.full((1, 1, 4), 0.9)])
    gt = np.concatenate([STRIP_GT, np.zeros((1, 1, 4), dtype=int)])
    assert f_score(pred, gt, num_thresholds=3) == pytest.approx(13 / 23)
    # per video of one frame: the empty-gt video scores 0 -> (13/23 + 0) / 2
    assert f_score(pred, gt, num_thresholds=3, frames_per_video=1) == pytest.approx(13 / 46)


def test_f_score_per_video_maximum_differs_from_dataset_maximum():
    # image A: scores [0.9, 0.1], truth [1, 0] -> curve [13/23, 1, 0]
    # image B: scores [0.3, 0.2], truth [1, 1] -> curve [1, 0, 0]
    # one group: mean curve [18/23, 1/2, 0] -> 18/23 ; one group per image: (1 + 1) / 2 = 1
    pred = np.array([[[0.9, 0.1]], [[0.3, 0.2]]])
    gt = np.array([[[1, 0]], [[1, 1]]])
    assert f_score(pred, gt, num_thresholds=3) == pytest.approx(18 / 23)
    assert f_score(pred, gt, num_thresholds=3, frames_per_video=1) == pytest.approx(1.0)


def test_f_score_perfect_binary_mask_default_thresholds():
    mask = np.array([[[1, 0], [0, 1]]])
    assert f_score(mask.astype(float), mask) == pytest.approx(1.0)


def test_validation_errors():
    ok = np.zeros((1, 2, 2))
    with pytest.raises(ValueError, match="sigmoid"):
        miou(np.full((1, 2, 2), 1.5), ok)
    with pytest.raises(ValueError, match="0/1 mask"):
        miou(ok, np.full((1, 2, 2), 255))
    with pytest.raises(ValueError, match="same shape"):
        f_score(ok, np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        miou(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="frames_per_video"):
        f_score(np.zeros((3, 2, 2)), np.zeros((3, 2, 2)), frames_per_video=2)
