import numpy as np
import pytest

from avtbench.metrics.classification import accuracy, ave_accuracy, precision_recall_f1_pooled, threshold


def test_accuracy_percent():
    # 3 of 4 correct
    assert accuracy(np.array([0, 1, 2, 2]), np.array([0, 1, 1, 2])) == pytest.approx(75.0)


def test_accuracy_validation():
    with pytest.raises(ValueError, match="shape"):
        accuracy(np.array([0, 1]), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="integer class indices"):
        accuracy(np.array([0.5, 1.0]), np.array([0, 1]))
    with pytest.raises(ValueError, match="empty"):
        accuracy(np.array([], dtype=int), np.array([], dtype=int))


def test_threshold_strict_and_inclusive():
    probs = np.array([0.5, 0.51, 0.49])
    assert threshold(probs).tolist() == [0, 1, 0]
    assert threshold(probs, inclusive=True).tolist() == [1, 1, 0]


def _one_hot(indices: list[list[int]], classes: int) -> np.ndarray:
    return np.eye(classes, dtype=int)[np.array(indices)]


def test_ave_accuracy_segment_level_counts_background():
    # 3 classes, the last (2) is background. Predicted argmax per segment:
    # video 0: [0, 2], video 1: [1, 1]; truth: video 0: [0, 2], video 1: [1, 2]
    # 3 of 4 segments correct, the background hit counts -> 75%
    scores = np.array([[[0.9, 0.0, 0.1], [0.1, 0.2, 0.7]], [[0.1, 0.8, 0.1], [0.2, 0.5, 0.3]]])
    labels = _one_hot([[0, 2], [1, 2]], 3)
    assert ave_accuracy(scores, labels) == pytest.approx(75.0)
    assert ave_accuracy(np.array([[0, 2], [1, 1]]), np.array([[0, 2], [1, 2]])) == pytest.approx(75.0)


def test_ave_accuracy_video_level_follows_cmg():
    # CMG: per segment argmax over foreground columns (background segment -> 0), max over time.
    # video 0: segs [0, bg] -> 0 ; video 1: segs [1, bg] -> 1 ; video 2: segs [bg, 1] -> 1
    labels = _one_hot([[0, 2], [1, 2], [2, 1]], 3)
    # predicted video classes: [0, 0, 1] -> 2 of 3 correct
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])
    assert ave_accuracy(scores, labels, level="video") == pytest.approx(200.0 / 3)


def test_ave_accuracy_validation():
    not_one_hot = np.array([[[1, 1, 0]]])
    with pytest.raises(ValueError, match="one-hot"):
        ave_accuracy(np.zeros((1, 1, 3)), not_one_hot)
    with pytest.raises(ValueError, match="level"):
        ave_accuracy(np.zeros((1, 1, 3)), _one_hot([[0]], 3), level="clip")
    with pytest.raises(ValueError, match="shape"):
        ave_accuracy(np.zeros((1, 1, 1, 3)), _one_hot([[0]], 3))


def test_pooled_precision_recall_f1_hand_computed():
    # TP 1 (entry [0,0]), predicted ones 2, true ones 4 -> P 1/2, R 1/4, F1 = 2*(1/8)/(3/4) = 1/3
    pred = np.array([[1, 1, 0], [0, 0, 0]])
    gt = np.array([[1, 0, 1], [0, 1, 1]])
    out = precision_recall_f1_pooled(pred, gt)
    assert out["precision"] == pytest.approx(50.0)
    assert out["recall"] == pytest.approx(25.0)
    assert out["f1"] == pytest.approx(100.0 / 3)


def test_zero_predictions_give_zero_precision_and_recall():
    # CMG returns (0, 0) as soon as nothing is predicted, even with ground truth present
    out = precision_recall_f1_pooled(np.zeros((2, 3), dtype=int), np.ones((2, 3), dtype=int))
    assert out == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_predictions_without_ground_truth():
    out = precision_recall_f1_pooled(np.ones((2, 3), dtype=int), np.zeros((2, 3), dtype=int))
    assert out == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_batched_average_reproduces_cmg_batches():
    # batch_size=1: row 0 -> P 1/2, R 1/2 ; row 1 has no prediction -> P 0, R 0
    # mean P = mean R = 1/4, F1 from the means = 1/4
    pred = np.array([[1, 1, 0], [0, 0, 0]])
    gt = np.array([[1, 0, 1], [0, 1, 1]])
    out = precision_recall_f1_pooled(pred, gt, batch_size=1)
    assert out["precision"] == pytest.approx(25.0)
    assert out["recall"] == pytest.approx(25.0)
    assert out["f1"] == pytest.approx(25.0)


def test_batched_average_weights_by_batch_size():
    # batch_size=2 on 3 rows: batch A = rows 0-1 (weight 2), batch B = row 2 (weight 1)
    # A: TP 2, predicted 2, true 2 -> P 1, R 1 ; B: TP 0, predicted 1, true 1 -> P 0, R 0
    # P = R = (2*1 + 1*0) / 3 = 2/3
    pred = np.array([[1, 0], [0, 1], [1, 0]])
    gt = np.array([[1, 0], [0, 1], [0, 1]])
    out = precision_recall_f1_pooled(pred, gt, batch_size=2)
    assert out["precision"] == pytest.approx(200.0 / 3)
    assert out["recall"] == pytest.approx(200.0 / 3)


def test_pooled_validation():
    with pytest.raises(ValueError, match="0/1"):
        precision_recall_f1_pooled(np.array([[0.7, 0.0]]), np.array([[1, 0]]))
    with pytest.raises(ValueError, match="shape"):
        precision_recall_f1_pooled(np.array([[1, 0]]), np.array([[1, 0, 0]]))
    with pytest.raises(ValueError, match="batch_size"):
        precision_recall_f1_pooled(np.array([[1, 0]]), np.array([[1, 0]]), batch_size=0)
