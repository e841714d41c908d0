import numpy as np
import pytest

from avtbench.api import Clips, Direction, SilentProgress
from avtbench_plugins.tasks.heads.pooling import pooled
from avtbench_plugins.tasks.retrieval.task import CAPTIONS, CLIPS, Retrieval, RetrievalConfig, caption_clips
from avtbench_plugins.tasks.zeroshot.task import ZeroShot, ZeroShotConfig


def _clips():
    return Clips(ids=["a", "b", "c"], text=["x0", "y0", "z0"], captions=[["x0", "x1"], ["y0"], ["z0", "z1"]])


def test_captions_are_flattened_with_their_owner():
    items, owner = caption_clips(_clips())
    assert items.text == ["x0", "x1", "y0", "z0", "z1"]
    assert owner.tolist() == [0, 0, 1, 2, 2]


def test_pooled_is_mean_then_unit_norm():
    emb = np.array([[[3.0, 0.0], [3.0, 8.0]]])
    assert np.allclose(pooled(emb), [[0.6, 0.8]])


def _run(direction, embeddings):
    task = Retrieval(RetrievalConfig())
    splits = {CLIPS: _clips(), CAPTIONS: caption_clips(_clips())[0]}
    assert set(embeddings) == set(task.needs(Direction.parse(direction), splits))
    return task.evaluate(embeddings, splits, Direction.parse(direction), 0, "cpu", SilentProgress())


def test_audio_to_text_takes_the_best_ranked_caption():
    e = np.eye(3)[:, None, :]  # clip i -> unit vector i
    # captions: x0 points at clip 1 (wrong), x1 at clip 0 (right); y0 at clip 2 (wrong); z0, z1 at clip 2
    caps = np.stack([e[1], e[0], e[2], e[2], e[2]])
    m = _run("a2t", {(CLIPS, "audio"): e, (CAPTIONS, "text"): caps})
    # clip a: best caption x1 scores 1, no irrelevant caption scores >= 1 -> rank 1.
    # clip b: its only caption y0 scores 0; x0 (1) and x1, z0, z1 (0, ties count against) are ahead -> rank 5.
    # clip c: z0/z1 score 1; y0 (irrelevant, 1) ties ahead -> rank 2.
    assert m["r1"] == pytest.approx(100 / 3)
    assert m["median_rank"] == 2 and m["mean_rank"] == pytest.approx((1 + 5 + 2) / 3)
    assert m["median_rank_lower"] == 2


def test_text_to_audio_scores_every_caption():
    e = np.eye(3)[:, None, :]
    caps = np.stack([e[0], e[0], e[1], e[2], e[0]])  # z1 points at the wrong clip
    m = _run("t2a", {(CLIPS, "audio"): e, (CAPTIONS, "text"): caps})
    assert m["r1"] == pytest.approx(80.0) and m["r5"] == 100.0
    # ranks [1, 1, 1, 1, 3]: z1 finds clip 0 (1), then clips 1 and 2 tied at 0, the tie against it
    assert m["median_rank"] == m["median_rank_lower"] == 1 and m["mean_rank"] == pytest.approx(7 / 5)


def test_audio_to_visual_perfect_and_shuffled():
    e = np.eye(3)[:, None, :]
    assert _run("a2v", {(CLIPS, "audio"): e, (CLIPS, "visual"): e})["r1"] == 100.0
    assert _run("a2v", {(CLIPS, "audio"): e, (CLIPS, "visual"): e[[1, 2, 0]]})["r1"] == 0.0


def test_zeroshot_argmax_over_prompts():
    labels = np.zeros((2, 10, 29), dtype=np.float32)
    labels[:, :, 28] = 1
    labels[0, 2:5, 28], labels[0, 2:5, 3] = 0, 1
    labels[1, :, 28], labels[1, :, 7] = 0, 1
    test = Clips(ids=["p", "q"], labels={"segment": labels}, class_names=[f"c{i}" for i in range(28)])
    prompts = np.eye(28)[:, None, :]
    audio = np.stack([np.eye(28)[3], np.eye(28)[5]])[:, None, :]
    out = ZeroShot(ZeroShotConfig()).evaluate({("test", "audio"): audio, ("prompts", "text"): prompts},
                                             {"test": test}, Direction.parse("a2t"), 0, "cpu", SilentProgress())
    assert out["accuracy"] == 50.0
