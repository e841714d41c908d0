"""`vgg19_pool5`: VGG19's pool5 maps, 7x7x512 per second, as AVE's and CMG's visual features.

Recipe (AVE, Tian et al. ECCV 2018; CMG, Xia & Zhao NeurIPS 2023, which reuses AVE's features): 16 frames
sampled per 1-second segment, each resized to 224x224 and normalised, through VGG19's convolutional part to
its last max-pool (pool5, [512, 7, 7]), the 16 maps averaged over the second, laid out channel-last:
[seconds, 7, 7, 512]. (AVE ran Keras' VGG19 with Caffe-style BGR mean subtraction; with torchvision's
weights the normalisation those weights were trained with is used: RGB, ImageNet mean and std.)

Weights: torchvision's `vgg19-dcbb9e9d.pth` as it is (`features.*`; its `classifier.*` is read and unused).
`resize` other than 224 (tests) changes the map size accordingly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from avtbench.config import setting
from avtbench.extractors import Extractor, ExtractorConfig

from . import CARDS
from .common import build_network, check_frames, per_frame

VGG19_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


class VGG19Features(nn.Module):
    """torchvision's `vgg19().features` (same indices, so `features.N.weight` names match): [B, 3, H, W] -> pool5."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in VGG19_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=True)]
                channels = int(item)
        self.features = nn.Sequential(*layers)

    def forward(self, x: Any) -> Any:
        return self.features(x).permute(0, 2, 3, 1)  # channel-last, as the released features


@dataclass
class VGG19Config(ExtractorConfig):
    resize: int = setting(224, low=32, high=1024)
    """Frames are resized to resize x resize (224: pool5 is 7x7)."""
    average: bool = True
    """Average the second's 16 maps ([seconds, 7, 7, 512]); false keeps them ([seconds, 16, 7, 7, 512])."""


class VGG19Pool5(Extractor):
    card = CARDS["vgg19_pool5"]
    config_class = VGG19Config
    frames_per_second = 16

    def __init__(self, config: Any, device: str = "cpu") -> None:
        super().__init__(config, device)
        self.net = build_network(self, VGG19Features, unused=("classifier.",))

    def features(self, frames: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """[seconds, 16, H, W, 3] uint8 -> [seconds, 7, 7, 512] float32 (averaged over the second's frames)."""
        check_frames(self.name, frames, self.frames_per_second)
        maps = per_frame(self, self.net, frames, int(self.config.resize))
        return maps.mean(axis=1) if self.config.average else maps
