"""Extractors as plugins: the card kind, the registry catalog, the contract, and each built-in extractor
run with seeded random weights on tiny inputs (a weights file loads strictly; a missing one is one line)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from avtbench.cards import ExtractorCard
from avtbench.errors import UserError
from avtbench.extractors import Extractor
from avtbench.plugins import registry


def make(name: str, **values: object) -> Extractor:
    cls = registry().extractor(name)
    return cls(cls.make_config(values), "cpu")


def test_the_registry_lists_the_extractors_by_card() -> None:
    cards = {c.name: c for c in registry().extractors.cards()}
    assert cards["vggish"].modality == "audio"
    assert all(isinstance(c, ExtractorCard) for c in cards.values())
    cls = registry().extractor("vggish")
    assert issubclass(cls, Extractor) and cls.modality == "audio" and cls.sample_rate == 16000


def test_an_unknown_extractor_is_one_line_with_a_hint() -> None:
    with pytest.raises(UserError, match="unknown extractor 'vgish'; did you mean 'vggish'"):
        registry().extractor("vgish")


def test_a_card_of_another_modality_is_refused() -> None:
    with pytest.raises(ValueError, match="modality"):
        ExtractorCard(name="x", target="a.b:C", modality="text")


def test_vggish_gives_one_128_vector_per_second_both_ways() -> None:
    wave = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32) * 0.1
    for segments in ("continuous", "aligned"):
        extractor = make("vggish", segments=segments)
        out = extractor.features(wave, 3)
        assert out.shape == (3, 128) and out.dtype == np.float32 and np.isfinite(out).all()
    # a wave shorter than the clip is padded, not refused
    assert make("vggish").features(wave[:8000], 2).shape == (2, 128)


def test_random_weights_are_seeded_and_said_in_the_provenance() -> None:
    wave = np.sin(np.arange(16000 * 2) / 7.0).astype(np.float32)
    a, b, c = make("vggish", seed=1), make("vggish", seed=1), make("vggish", seed=2)
    assert np.array_equal(a.features(wave, 2), b.features(wave, 2))
    assert not np.array_equal(a.features(wave, 2), c.features(wave, 2))
    assert a.provenance()["weights"] == "random" and a.provenance()["seed"] == 1


def test_a_weights_file_loads_strictly_and_is_hashed(tmp_path: Path) -> None:
    """The strict loading every built-in shares (`load_weights`), on the smallest network (EfficientNet-Lite0)."""
    source = make("efficientnet_lite0", seed=3)
    path = tmp_path / "lite0.pth"
    torch.save(source.net.state_dict(), path)
    loaded = make("efficientnet_lite0", weights=str(path))
    frames = np.random.default_rng(0).integers(0, 256, (1, 1, 40, 48, 3), dtype=np.uint8)
    assert np.allclose(loaded.features(frames), source.features(frames))
    assert len(loaded.provenance()["sha256"]) == 64
    state = source.net.state_dict()
    state.pop("_conv_head.weight")
    torch.save(state, path)
    with pytest.raises(UserError, match="efficientnet_lite0.weights: .* lacks parameter '_conv_head.weight'"):
        make("efficientnet_lite0", weights=str(path))
    state = {**source.net.state_dict(), "extra.weight": torch.zeros(1)}
    torch.save(state, path)
    with pytest.raises(UserError, match="unexpected parameter 'extra.weight'"):
        make("efficientnet_lite0", weights=str(path))


def test_a_missing_weights_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^vggish.weights: no file .*nope.pth"):
        make("vggish", weights=str(tmp_path / "nope.pth"))


def test_vggish_postprocessing_applies_pca_and_quantises(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors, means = np.linalg.qr(rng.standard_normal((128, 128)))[0], rng.standard_normal(128) * 0.01
    np.savez(tmp_path / "pca.npz", pca_eigen_vectors=vectors, pca_means=means)
    wave = rng.standard_normal(16000 * 2).astype(np.float32) * 0.1
    plain = make("vggish").features(wave, 2)
    quantised = make("vggish", postprocess=True, pca_params=str(tmp_path / "pca.npz")).features(wave, 2)
    expected = np.clip((plain.astype(np.float64) - means) @ vectors.T, -2, 2)
    assert quantised.min() >= 0 and quantised.max() <= 255 and np.all(quantised == np.round(quantised))
    assert np.allclose(quantised, np.floor((expected + 2) * 255 / 4), atol=1)
    with pytest.raises(UserError, match="vggish.pca_params"):
        make("vggish", postprocess=True)


def _frames(seconds: int, fps: int, size: int = 40) -> np.ndarray:
    return np.random.default_rng(seconds).integers(0, 256, (seconds, fps, size, size + 8, 3), dtype=np.uint8)


@pytest.mark.slow  # a full-size random VGG19 / ResNet-152 on the CPU: seconds, not milliseconds
def test_vgg19_pool5_averages_16_frames_a_second_to_pool5_maps(tmp_path: Path) -> None:
    extractor = make("vgg19_pool5", resize=64)
    assert extractor.frames_per_second == 16
    frames = _frames(2, 16)
    out = extractor.features(frames)
    assert out.shape == (2, 2, 2, 512) and out.dtype == np.float32  # 224 px gives 7x7
    extractor.config.average = False
    kept = extractor.features(frames)
    extractor.config.average = True
    assert kept.shape == (2, 16, 2, 2, 512) and np.allclose(kept.mean(axis=1), out, atol=1e-5)
    # torchvision's names and sizes: 16 convolutions at features.0 ... features.34, 20,024,384 parameters
    state = extractor.net.state_dict()
    assert "features.34.weight" in state and state["features.0.weight"].shape == (64, 3, 3, 3)
    assert sum(v.numel() for v in extractor.net.parameters()) == 20_024_384
    # a torchvision file carries its classifier too: read and unused
    torch.save({**state, "classifier.6.bias": torch.zeros(1000)}, tmp_path / "vgg19.pth")
    loaded = make("vgg19_pool5", resize=64, weights=str(tmp_path / "vgg19.pth"))
    assert np.allclose(loaded.features(frames), out, atol=1e-5)
    with pytest.raises(UserError, match=r"frames \[seconds, 16, H, W, 3\]"):
        extractor.features(_frames(1, 8))


@pytest.mark.slow  # a full-size random VGG19 / ResNet-152 on the CPU: seconds, not milliseconds
def test_resnet152_gives_2048_per_second_from_8_frames() -> None:
    extractor = make("resnet152", resize=32, batch_size=16)
    assert extractor.frames_per_second == 8
    frames = _frames(2, 8)
    out = extractor.features(frames)
    assert out.shape == (2, 2048) and np.isfinite(out).all()
    extractor.config.average = False
    kept = extractor.features(frames)
    assert kept.shape == (2, 8, 2048) and np.allclose(kept.mean(axis=1), out, atol=1e-4)
    state = extractor.net.state_dict()
    for key in ("conv1.weight", "layer1.0.downsample.1.running_var", "layer3.35.conv3.weight", "layer4.2.bn3.bias"):
        assert key in state, key
    assert "layer3.36.conv1.weight" not in state
    assert sum(v.numel() for v in extractor.net.parameters()) == 60_192_808 - 2048 * 1000 - 1000  # less its fc


def test_clip_frames_loads_a_local_folder_strictly_and_averages_the_second(tmp_path: Path) -> None:
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    config = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=32, patch_size=8, projection_dim=16)
    CLIPVisionModelWithProjection(config).save_pretrained(tmp_path / "clip")
    extractor = make("clip_frames", weights=str(tmp_path / "clip"), frames=2)
    assert extractor.frames_per_second == 2
    out = extractor.features(_frames(3, 2))
    assert out.shape == (3, 16) and np.isfinite(out).all()
    assert set(extractor.provenance()["sha256"]) == {"model.safetensors"}
    with pytest.raises(UserError, match=r"^clip_frames.weights: no model folder"):
        make("clip_frames", weights=str(tmp_path / "nothing"))


THIRD_PARTY = '''
import numpy as np
from avtbench.extractors import Extractor
from avtbench.hookspecs import hookimpl


class Loudness(Extractor):
    name = "loudness"
    modality = "audio"
    summary = "RMS per second"

    def features(self, wave, seconds):
        wave = np.resize(wave, seconds * self.sample_rate).reshape(seconds, -1)
        return np.sqrt((wave ** 2).mean(axis=1, keepdims=True)).astype(np.float32)


class Broken(Extractor):
    name = "broken"
    modality = "smell"

    def features(self, data):
        return data


@hookimpl
def avtbench_extractors():
    return [Loudness]
'''


def _site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, source: str) -> None:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[avtbench]\n{module} = {module}\n")
    monkeypatch.syspath_prepend(str(site))


def test_a_third_party_extractor_handed_over_whole_is_listed_and_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from avtbench.plugins import discover

    _site(tmp_path, monkeypatch, "loud_ext", THIRD_PARTY)
    _site(tmp_path, monkeypatch, "bad_ext", THIRD_PARTY.replace("return [Loudness]", "return [Broken]"))
    found = discover(importlib.metadata.entry_points(group="avtbench"))
    cls = found.extractor("loudness")
    assert {c.name: c.modality for c in found.extractors.cards()}["loudness"] == "audio"
    assert cls(cls.make_config(), "cpu").features(np.ones(16000, np.float32), 2).shape == (2, 1)
    assert any(f.plugin == "bad_ext" and "not 'audio' or 'visual'" in f.error for f in found.failures)
    assert "vggish" in found.extractors
