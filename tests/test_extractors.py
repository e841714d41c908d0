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
    source = make("vggish", seed=3)
    path = tmp_path / "vggish.pth"
    torch.save(source.net.state_dict(), path)
    loaded = make("vggish", weights=str(path))
    wave = np.cos(np.arange(16000) / 5.0).astype(np.float32)
    assert np.allclose(loaded.features(wave, 1), source.features(wave, 1))
    assert len(loaded.provenance()["sha256"]) == 64
    state = source.net.state_dict()
    state.pop("embeddings.4.bias")
    torch.save(state, path)
    with pytest.raises(UserError, match="vggish.weights: .* lacks parameter 'embeddings.4.bias'"):
        make("vggish", weights=str(path))
    state = {**source.net.state_dict(), "extra.weight": torch.zeros(1)}
    torch.save(state, path)
    with pytest.raises(UserError, match="unexpected parameter 'extra.weight'"):
        make("vggish", weights=str(path))


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
