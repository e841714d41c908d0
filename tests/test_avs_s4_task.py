"""avs_s4 on tiny sizes: model shapes, the first-frame loss, the metric variants, directions and artefacts."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from avtbench.api import Clips, Direction, SilentProgress
from avtbench.metrics.per_class import split
from avtbench.metrics.segmentation import f_score, mask_iou
from avtbench.testing import check_task, run_cell
from avtbench_plugins.datasets.avs_s4.vocab import CATEGORIES
from avtbench_plugins.tasks.avs_s4.model import TPAVI, Segmenter
from avtbench_plugins.tasks.avs_s4.samples import MaskSamples, draw_masks
from avtbench_plugins.tasks.avs_s4.scores import segmentation_scores
from avtbench_plugins.tasks.avs_s4.task import AVSS4, AVSS4Config, steps_of
from avtbench_plugins.tasks.avs_s4.train import SegSplit, first_frame_loss, fit_segmenter

from .conftest import CountingRows, avtbench_cmd, cli_env

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("fusion", ["film", "tpavi"])
@pytest.mark.parametrize("size", [32, 40])
def test_segmenter_maps_frames_and_conditioning_to_full_size_logits(fusion: str, size: int) -> None:
    model = Segmenter(cond_dim=6, width=4, fusion=fusion)
    logits = model(torch.rand(2, 5, 3, size, size), torch.randn(2, 5, 6))
    assert logits.shape == (2, 5, size, size) and torch.isfinite(logits).all()


def test_film_frames_are_independent_and_tpavi_frames_are_not() -> None:
    torch.manual_seed(0)
    frames, cond = torch.rand(1, 5, 3, 16, 16), torch.randn(1, 5, 3)
    other = frames.clone()
    other[:, 1:] = torch.rand(1, 4, 3, 16, 16)
    for fusion, independent in (("film", True), ("tpavi", False)):
        model = Segmenter(3, 4, fusion)
        for block in model.fuse:  # leave the zero initialisation, so that the fusion does something
            for p in block.parameters():
                torch.nn.init.normal_(p, std=0.3)
        model.eval()
        same = torch.allclose(model(frames, cond)[:, 0], model(other, cond)[:, 0], atol=1e-5)
        assert same == independent and model.temporal == (not independent)
        assert torch.allclose(model(frames[:, :1], cond[:, :1])[:, 0], model(frames, cond)[:, 0], atol=1e-5) == independent


def test_tpavi_equals_the_quadratic_non_local_block() -> None:
    torch.manual_seed(0)
    block = TPAVI(cond_dim=3, channels=4)
    torch.nn.init.normal_(block.out.weight)
    b, t, c, h, w = 2, 3, 4, 5, 6
    x, cond = torch.randn(b * t, c, h, w), torch.randn(b * t, 3)
    # AVSBench's TPAVI, dot mode: f = theta(x)^T phi(audio map), y = (f / N) g(x)
    theta = block.theta(x).reshape(b, t, 2, h * w).permute(0, 1, 3, 2).reshape(b, t * h * w, 2)
    key = block.phi(block.align(cond)).reshape(b, t, 1, 2).expand(b, t, h * w, 2).reshape(b, t * h * w, 2)
    g = block.g(x).reshape(b, t, 2, h * w).permute(0, 1, 3, 2).reshape(b, t * h * w, 2)
    y = (theta @ key.transpose(1, 2)) / (t * h * w) @ g
    y = y.reshape(b, t, h * w, 2).permute(0, 1, 3, 2).reshape(b * t, 2, h, w)
    expected = block.norm((block.out(y) + x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    assert torch.allclose(block(x, cond, t), expected, atol=1e-5)


def test_loss_reads_the_first_frame_only() -> None:
    logits, masks = torch.randn(2, 5, 4, 4), (torch.rand(2, 5, 4, 4) > 0.5).to(torch.uint8)
    other = masks.clone()
    other[:, 1:] = 1 - other[:, 1:]
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, 0], masks[:, 0].float())
    assert torch.allclose(first_frame_loss(logits, masks), expected)
    assert torch.allclose(first_frame_loss(logits, other), expected)
    assert not torch.allclose(first_frame_loss(logits, 1 - masks), expected)


def _split(seed: int, n: int = 4, size: int = 16) -> SegSplit:
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, 5, size, size), dtype=np.uint8)
    masks[:, :, 4:10, 4:10] = 1
    return SegSplit(rng.integers(0, 256, (n, 5, size, size, 3), dtype=np.uint8), rng.standard_normal((n, 5, 3)).astype(np.float32),
                    masks, np.ones((n, 5), dtype=bool))


@pytest.mark.parametrize("fusion", ["film", "tpavi"])
def test_training_sees_no_mask_but_the_first_frames(fusion: str) -> None:
    train, val = _split(0), _split(1)
    fit = lambda split: fit_segmenter(split, val, width=4, fusion=fusion, epochs=2, lr=1e-3, batch_size=2, seed=3,  # noqa: E731
                                      device="cpu", progress=SilentProgress())
    first = fit(train)
    garbled = SegSplit(train.frames, train.cond, train.masks.copy(), train.annotated)
    garbled.masks[:, 1:] = 1 - garbled.masks[:, 1:]
    second = fit(garbled)
    assert len(first.val_miou) == 2 and 1 <= first.best_epoch <= 2
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values()):
        assert torch.equal(a, b)
    changed = SegSplit(train.frames, train.cond, 1 - train.masks, train.annotated)
    assert not all(torch.equal(a, b) for a, b in zip(first.model.state_dict().values(), fit(changed).model.state_dict().values()))


def test_metric_variants_follow_the_reference_batching() -> None:
    rng = np.random.default_rng(0)
    probs = rng.random((5, 5, 6, 6))
    masks = (rng.random((5, 5, 6, 6)) > 0.6).astype(np.uint8)
    masks[4] = 0  # the last clip (a batch of its own) has empty ground truth
    flat_p, flat_m = probs.reshape(25, 6, 6), masks.reshape(25, 6, 6)
    s = segmentation_scores(probs, masks, batch=4)
    assert s["miou"] == pytest.approx(100 * mask_iou(flat_p, flat_m).mean())
    assert s["f_score"] == pytest.approx(100 * f_score(flat_p, flat_m))
    batches = [slice(0, 20), slice(20, 25)]
    assert s["miou_batched"] == pytest.approx(100 * np.mean([mask_iou(flat_p[b], flat_m[b]).mean() for b in batches]))
    assert s["f_score_batched"] == pytest.approx(100 * np.mean([f_score(flat_p[b], flat_m[b]) for b in batches]))
    assert s["f_score_batched"] < s["f_score"]  # an all-empty batch scores 0 in the reference's average
    assert s["miou_batched"] != pytest.approx(s["miou"])
    even = segmentation_scores(probs[:4], masks[:4], batch=2)
    assert even["miou_batched"] == pytest.approx(even["miou"])


def test_conditioning_is_resampled_to_five_steps_by_the_nearest_step() -> None:
    ten = np.arange(10, dtype=np.float32)[None, :, None]
    assert steps_of(ten)[0, :, 0].tolist() == [0, 2, 4, 6, 8]
    assert steps_of(np.ones((2, 1, 3)))[:, :, 0].tolist() == [[1] * 5] * 2
    assert steps_of(np.arange(5.0)[None, :, None])[0, :, 0].tolist() == [0, 1, 2, 3, 4]


def _tiny_splits() -> dict[str, Clips]:
    rng = np.random.default_rng(0)

    def clips(n: int, first_only: bool) -> Clips:
        masks = np.zeros((n, 5, 16, 16), dtype=np.uint8)
        masks[:, :, 2:8, 2:8] = 1
        annotated = np.zeros((n, 5), dtype=bool)
        annotated[:, : 1 if first_only else 5] = True
        labels = {"frames": rng.integers(0, 256, (n, 5, 16, 16, 3), dtype=np.uint8), "masks": masks * annotated[:, :, None, None],
                  "annotated": annotated, "category": rng.integers(0, 23, n)}
        return Clips([f"c{i}" for i in range(n)], text=[f"caption {i}" for i in range(n)], labels=labels, class_names=[str(k) for k in range(23)])

    return {"train": clips(6, True), "val": clips(3, False), "test": clips(5, False)}


@pytest.mark.parametrize("protocol, validation", [("clean", "source"), ("cmg", "target")])
def test_directions_train_on_the_source_and_test_on_the_target(protocol: str, validation: str) -> None:
    splits = _tiny_splits()
    rng = np.random.default_rng(1)
    for name in ("a2t", "t2a"):
        d = Direction.parse(name)
        task = AVSS4(AVSS4Config(protocol=protocol, epochs=2, width=4, lr=1e-2))
        val = getattr(d, validation)
        assert task.needs(d, splits) == list(dict.fromkeys([("train", d.source), ("val", val), ("test", d.target), ("test", d.source)]))
        source = {s: rng.standard_normal((len(c), 5 if d.source == "audio" else 1, 4)).astype(np.float32) for s, c in splits.items()}
        aligned = {(s, d.source): source[s] for s in splits}
        aligned.update({(s, d.target): steps_of(source[s]) for s in splits})
        same = task.evaluate(aligned, splits, d, 0, "cpu", SilentProgress())
        assert same["miou"] == pytest.approx(same["source_miou"])  # target identical to source: transfer is free
        shifted = dict(aligned)
        shifted[("test", d.target)] = -aligned[("test", d.target)]  # (a shift would not do: the model LayerNorms it)
        moved = task.evaluate(shifted, splits, d, 0, "cpu", SilentProgress())
        assert moved["source_miou"] == pytest.approx(same["source_miou"]) and moved["miou"] != pytest.approx(same["miou"])
        assert set(moved) >= {"miou", "f_score", "miou_batched", "f_score_batched", "val_miou", "best_epoch"}


@pytest.mark.parametrize("condition", ["oracle", "none"])
def test_oracle_and_no_conditioning_encode_nothing(condition: str) -> None:
    task, splits = AVSS4(AVSS4Config(condition=condition, epochs=1, width=4)), _tiny_splits()
    d = Direction.parse("a2t")
    assert task.needs(d, splits) == []
    assert task.conditioning({}, splits["test"], "test", "text").shape == ((5, 5, 23) if condition == "oracle" else (5, 5, 1))
    metrics = task.evaluate({}, splits, d, 0, "cpu", SilentProgress())
    assert metrics["miou"] == metrics["source_miou"]


def test_lazy_frames_and_masks_are_read_by_batches_with_the_same_scores() -> None:
    """The reader hands out lazy frames and masks (RowArrays): the task reads them a batch at a time
    (CountingRows refuses a whole read) and scores exactly as on arrays in memory."""
    splits, d = _tiny_splits(), Direction.parse("a2t")
    reads: dict[str, list[int]] = {}
    lazy = {name: Clips(c.ids, text=c.text, class_names=c.class_names,
                        labels={k: CountingRows(v, reads.setdefault(f"{name}/{k}", [])) if k in ("frames", "masks") else v
                                for k, v in c.labels.items()})
            for name, c in splits.items()}
    config = AVSS4Config(condition="oracle", epochs=2, width=4, batch_size=2, keep_masks=2)
    eager, streamed = AVSS4(config), AVSS4(config)
    assert streamed.evaluate({}, lazy, d, 0, "cpu", SilentProgress()) == eager.evaluate({}, splits, d, 0, "cpu", SilentProgress())
    assert max(reads["train/frames"]) == 2 and max(reads["train/masks"]) == 2  # batch_size rows at a time
    for got, expected in zip((streamed.samples.frames, streamed.samples.masks, streamed.samples.probs),
                             (eager.samples.frames, eager.samples.masks, eager.samples.probs)):
        np.testing.assert_array_equal(got, expected)


def test_kept_masks_are_written_read_and_drawn(tmp_path: Path) -> None:
    task, splits = AVSS4(AVSS4Config(condition="oracle", epochs=1, width=4, keep_masks=2)), _tiny_splits()
    assert task.write_artifacts(tmp_path) == []
    task.evaluate({}, splits, Direction.parse("t2a"), 0, "cpu", SilentProgress())
    npz, png = task.write_artifacts(tmp_path)
    back = MaskSamples.load(npz)
    assert back.ids == ["c0", "c1"] and back.captions == ["caption 0", "caption 1"] and "t2a" in back.title
    assert back.frames.shape == (2, 5, 16, 16, 3) and back.probs.dtype == np.uint8 and back.iou.shape == (2,)
    from PIL import Image

    with Image.open(png) as image:
        assert image.size == (round(80 * (1.1 * 5 + 0.8)), round(80 * (1.1 * 3 * 2 + 0.6)))  # 5 frames, 2 clips
    assert draw_masks(back, tmp_path / "again.png", panel=0.5).is_file()


def test_keeping_no_masks_writes_no_mask_artifacts(tmp_path: Path) -> None:
    task, splits = AVSS4(AVSS4Config(condition="oracle", epochs=1, width=4, keep_masks=0)), _tiny_splits()
    metrics = task.evaluate({}, splits, Direction.parse("t2a"), 0, "cpu", SilentProgress())
    assert 0 <= metrics["miou"] <= 100 and task.write_artifacts(tmp_path) == []


def test_conformance_kit_and_one_cell_through_the_runner(session_cache: Path) -> None:
    report = check_task(AVSS4, cache_dir=session_cache)
    assert report.passed, report.lines()
    record = run_cell("unaligned", "avs_s4", "a2t", settings={"avs_s4": {"preset": "tiny"}}, cache_dir=session_cache)
    assert record.main_metric == "miou" and 0 <= record.metrics["miou"] <= 100
    assert record.config["task"]["epochs"] == 2
    assert record.artifacts == ("avs_s4_masks.npz", "avs_s4_masks.png")  # kept beside the record
    per_class = split(record.metrics)[1]["miou"]  # each category's mIoU, for the report's bars
    assert per_class and set(per_class) <= set(CATEGORIES) and all(0 <= v <= 100 for v in per_class.values())


@pytest.mark.slow
def test_cli_check(session_cache: Path) -> None:
    out = subprocess.run(avtbench_cmd("check", "avs_s4", "--cache", str(session_cache)), capture_output=True, text=True,
                         env=cli_env(session_cache), timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS  task avs_s4: main metric finite on random embeddings" in out.stdout


def test_the_masks_plot_draws_the_cell_of_the_method_named_under_the_settings_given(session_cache: Path,
                                                                                      tmp_path: Path) -> None:
    from click.testing import CliRunner
    from PIL import Image

    from avtbench.cli import main
    from avtbench.plugins import registry

    figure = registry().plots["avs_s4_masks"]
    assert figure.draws_a_cell and figure.task == "avs_s4" and figure.method == "", "a task's plot names no method"
    results, out = tmp_path / "results", tmp_path / "masks.png"
    args = ["plot", "avs_s4_masks", "-m", "unaligned", "-d", "t2a", "--results", str(results), "--cache", str(session_cache),
            "--device", "cpu", "--set", "data.profile=tiny", "--set", "avs_s4.epochs=1", "--set", "avs_s4.width=4",
            "--set", "avs_s4.keep_masks=3", "--out", str(out)]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    with Image.open(out) as image:
        assert image.height == round(80 * (1.1 * 3 * 3 + 0.6)), "3 clips of 3 rows: keep_masks=3 was honoured"
    [record] = results.rglob("seed0-*.json")
    assert "/unaligned/avs_s4/t2a/" in str(record), "the cell is recorded in the store like any grid's"
    stamp = record.stat().st_mtime_ns
    again = CliRunner().invoke(main, [*args[:-1], str(tmp_path / "again.png")])
    assert again.exit_code == 0 and record.stat().st_mtime_ns == stamp, "a recorded cell is read, not run again"
    unnamed = CliRunner().invoke(main, ["plot", "avs_s4_masks", "--out", str(tmp_path / "x.png")])
    assert unnamed.exit_code == 2 and "draws a cell of task 'avs_s4': name its method with -m" in unnamed.output
