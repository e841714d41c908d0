"""What the built-in extractors share: networks built with seeded random weights or loaded strictly from a
file, image preprocessing (resize, ImageNet normalisation) and running frames through a network in batches."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from avtbench.errors import UserError
from avtbench.extractors import Extractor, load_weights

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
"""torchvision's normalisation of the ImageNet-trained VGG19 and ResNet-152 weights."""


def build_network(extractor: Extractor, make: Callable[[], torch.nn.Module], unused: tuple[str, ...] = ()) -> torch.nn.Module:
    """`make()` with seeded random weights (weights=random) or the config's weights file, in eval mode on the device."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(extractor.config.seed))
        net = make()
    path = extractor.weights_path()
    if path is not None:
        load_weights(net, path, f"{extractor.name}.weights", unused=unused)
    return net.eval().to(extractor.device)


def check_frames(name: str, frames: np.ndarray, fps: int) -> None:
    if frames.ndim != 5 or frames.shape[-1] != 3 or frames.shape[1] != fps:
        raise UserError(f"{name} takes frames [seconds, {fps}, H, W, 3], got shape {tuple(frames.shape)}")


def preprocess(frames: np.ndarray, size: int, mean: tuple[float, ...] = IMAGENET_MEAN,
               std: tuple[float, ...] = IMAGENET_STD, scale: float = 255.0) -> torch.Tensor:
    """uint8 frames [N, H, W, 3] -> float [N, 3, size, size]: resized (bilinear, antialiased) to size x size, then
    (x / scale - mean) / std per channel."""
    frames = np.ascontiguousarray(frames)
    if not frames.flags.writeable:
        frames = frames.copy()
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    x = x / scale
    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    return (x - mean_t) / std_t


def per_frame(extractor: Any, net: Callable[[torch.Tensor], torch.Tensor], frames: np.ndarray, size: int,
              **norm: Any) -> np.ndarray:
    """Every frame of [seconds, fps, H, W, 3] through `net` in batches: [seconds, fps, ...] float32."""
    seconds, fps = frames.shape[:2]
    flat = frames.reshape(seconds * fps, *frames.shape[2:])
    outs = []
    with torch.inference_mode():
        for start in range(0, len(flat), int(extractor.config.batch_size)):
            x = preprocess(flat[start:start + int(extractor.config.batch_size)], size, **norm).to(extractor.device)
            outs.append(net(x).float().cpu())
    out = torch.cat(outs).numpy() if outs else np.zeros((0,), np.float32)
    return out.reshape(seconds, fps, *out.shape[1:]).astype(np.float32)
