"""Frames resized as PIL resizes an 8-bit image (the `paper` presets' `frame_resize=pil`), compared with PIL
itself; and CAV-MAE's epoch-wise learning-rate decay in lg_cav_mae."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from avtbench_plugins.methods.lg_cav_mae import constants as C
from avtbench_plugins.methods.lg_cav_mae.config import LGCavMaeConfig
from avtbench_plugins.methods.lg_cav_mae.frontend import frame_inputs
from avtbench_plugins.methods.lg_cav_mae.training import lr_factor
from PIL import Image

from avtbench.backbones.clip import CLIP_MEAN, CLIP_STD
from avtbench.backbones.preprocess import ImagePreprocess
from avtbench.config import build


def smooth_frames(n: int = 3, height: int = 32, width: int = 32, seed: int = 0) -> np.ndarray:
    """Smooth 8-bit frames: low-frequency colour gradients (where the two resizes differ least)."""
    rng = np.random.default_rng(seed)
    y, x = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    frames = [np.stack([127 + 120 * np.sin(2 * np.pi * (a * x + b * y) + c) for a, b, c in rng.uniform(0, 1.5, (3, 3))], -1)
              for _ in range(n)]
    return np.clip(np.round(frames), 0, 255).astype(np.uint8)


def pil_pipeline(frame: np.ndarray, size: int, mean, std) -> np.ndarray:
    """torchvision's Resize(size, BICUBIC) + CenterCrop(size) + ToTensor + Normalize, spelt out with PIL."""
    image = Image.fromarray(frame)
    w, h = image.size
    short, long = min(w, h), max(w, h)
    target = (size, int(size * long / short)) if w <= h else (int(size * long / short), size)
    image = image.resize(target, Image.Resampling.BICUBIC)
    w, h = image.size
    left, top = int(round((w - size) / 2.0)), int(round((h - size) / 2.0))
    pixels = np.asarray(image.crop((left, top, left + size, top + size)), dtype=np.float32) / 255.0
    return ((pixels - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).transpose(2, 0, 1)


def clip_processor(size: int):
    from transformers import CLIPImageProcessor

    return CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size},
                              image_mean=list(CLIP_MEAN), image_std=list(CLIP_STD))


@pytest.mark.parametrize("shape", [(32, 32), (24, 40), (45, 30)])
def test_pil_mode_is_pil_bicubic_on_the_8_bit_frame(shape) -> None:
    frames = smooth_frames(2, *shape)
    processor = clip_processor(224)
    ours = ImagePreprocess(processor, "pil")(frames).numpy()
    expected = np.stack([pil_pipeline(f, 224, CLIP_MEAN, CLIP_STD) for f in frames])
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_the_torch_resize_differs_from_pils_on_smooth_frames() -> None:
    frames = smooth_frames(2)
    processor = clip_processor(224)
    gap = (ImagePreprocess(processor, "torch")(frames) - ImagePreprocess(processor, "pil")(frames)).abs()
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    assert 0.001 < float((gap * std).max()) < 0.05  # in [0, 1] pixel units: a few grey levels at most
    with pytest.raises(ValueError):
        ImagePreprocess(processor, "nearest")


def test_lg_cav_mae_pil_frames_are_cav_mae_s_pipeline() -> None:
    frames = smooth_frames(3, 24, 40)
    ours = frame_inputs(frames, 64, resize="pil").numpy()
    expected = np.stack([pil_pipeline(f, 64, C.IMAGE_MEAN, C.IMAGE_STD) for f in frames])
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    square = smooth_frames(3)
    assert not np.allclose(frame_inputs(square, 64).numpy(), frame_inputs(square, 64, resize="pil").numpy(), atol=1e-3)


def test_vip_ant_paper_frames_go_through_pil(tmp_path) -> None:
    from avtbench_plugins.methods.vip_ant.config import VipAntConfig
    from avtbench_plugins.methods.vip_ant.method import VipAnt

    method = VipAnt(build(VipAntConfig, {"frame_resize": "pil"}, "vip_ant"))
    clip = method._frozen_clip(torch.nn.Linear(1, 1), None, ImagePreprocess(clip_processor(64)))
    assert clip.preprocess.resize == "pil"


def test_cav_mae_halves_the_rate_every_5_epochs_from_epoch_10() -> None:
    paper = build(LGCavMaeConfig, {"preset": "paper"}, "lg_cav_mae")
    factors = [lr_factor(paper, 0, epoch) for epoch in range(25)]  # 0-based epochs
    assert factors == [1.0] * 10 + [0.5] * 5 + [0.25] * 5 + [0.125] * 5
    default = LGCavMaeConfig()
    assert lr_factor(default, 0, 20) == pytest.approx(1 / 50) and lr_factor(default, 49, 20) == 1.0
