"""`resnet152`: ResNet-152's 2048-d pooled features, 8 frames per second, as AVVP's released visual features.

Recipe (AVVP / LLP, Tian, Li & Xu ECCV 2020): 8 frames sampled per 1-second segment, each resized to 224x224
and normalised (ImageNet mean and std), through an ImageNet ResNet-152 to its global average pool, 2048-d.
AVVP releases the 8 per-frame vectors of each second ([80, 2048] for a 10-second clip) and its HAN model
averages each second's 8 (an average pool of 8 along time): `average` true gives that per-second mean,
[seconds, 2048]; false keeps the frames, [seconds, 8, 2048] (reshape to [seconds * 8, 2048] for the
released file's layout).

Weights: torchvision's `resnet152-*.pth` as it is (torchvision names: conv1, bn1, layer1-4, with the
stride on the 3x3 convolution; its `fc.*` is read and unused).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from avtbench.config import setting
from avtbench.extractors import Extractor, ExtractorConfig

from . import CARDS
from .common import build_network, check_frames, per_frame


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        width, out = planes, planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(nn.Conv2d(inplanes, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
                           if stride != 1 or inplanes != out else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + identity)


class ResNetTrunk(nn.Module):
    """torchvision's ResNet up to its average pool (names as torchvision's): [B, 3, H, W] -> [B, 2048]."""

    def __init__(self, blocks: tuple[int, int, int, int] = (3, 8, 36, 3)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = 64
        for index, (planes, count) in enumerate(zip((64, 128, 256, 512), blocks)):
            layers = []
            for block in range(count):
                layers.append(Bottleneck(inplanes, planes, stride=2 if block == 0 and index > 0 else 1))
                inplanes = planes * Bottleneck.expansion
            setattr(self, f"layer{index + 1}", nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return x.mean(dim=(2, 3))


@dataclass
class ResNetConfig(ExtractorConfig):
    resize: int = setting(224, low=32, high=1024)
    """Frames are resized to resize x resize."""
    average: bool = True
    """Average the second's 8 vectors ([seconds, 2048], as HAN pools them); false keeps them ([seconds, 8, 2048])."""


class ResNet152(Extractor):
    card = CARDS["resnet152"]
    config_class = ResNetConfig
    frames_per_second = 8

    def __init__(self, config: Any, device: str = "cpu") -> None:
        super().__init__(config, device)
        self.net = build_network(self, ResNetTrunk, unused=("fc.",))

    def features(self, frames: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """[seconds, 8, H, W, 3] uint8 -> [seconds, 2048] float32 (averaged over the second's frames)."""
        check_frames(self.name, frames, self.frames_per_second)
        vectors = per_frame(self, self.net, frames, int(self.config.resize))
        return vectors.mean(axis=1) if self.config.average else vectors
