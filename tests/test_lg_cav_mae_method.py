"""LG-CAV-MAE as a Method on the tiny world: the conformance kit, save/load, the embedding spaces,
the ablations (plain CAV-MAE, training on the triplets only) and `avtbench check`."""
import math
import subprocess

import numpy as np
import pytest
import torch
from avtbench_plugins.methods.lg_cav_mae.config import LGCavMaeConfig
from avtbench_plugins.methods.lg_cav_mae.method import LGCavMae
from safetensors.torch import load_file

from avtbench.api import SilentProgress
from avtbench.config import build
from avtbench.data.rows import MemoryRows
from avtbench.plugins import discover
from avtbench.testing import check_method, tiny_sources
from avtbench.toolkit import read_epoch_stats

from .conftest import CountingRows, avtbench_cmd, cli_env, user_error

pytestmark = pytest.mark.usefixtures("one_thread")


def _config(**change) -> LGCavMaeConfig:
    return build(LGCavMaeConfig, {"preset": "tiny", **change}, "lg_cav_mae")


@pytest.fixture(scope="module")
def data(session_cache):
    return tiny_sources(session_cache)


@pytest.fixture(scope="module")
def corpus(data):
    return data.source("corpus", "raw").read()


@pytest.fixture(scope="module")
def test_clips(data):
    return data.source("ave", "raw").read("test").subset(np.arange(4))


def _pretrained(corpus, cache, tmp_path, **change) -> tuple[LGCavMae, dict]:
    torch.manual_seed(0)
    method = LGCavMae(_config(**change), seed=0, cache_dir=cache)
    return method, method.pretrain(corpus, tmp_path, SilentProgress())


@pytest.fixture(scope="module")
def trained(corpus, session_cache, tmp_path_factory):
    return _pretrained(corpus, session_cache, tmp_path_factory.mktemp("work"))


def test_plugin_is_registered_at_the_raw_level_with_its_command():
    import importlib.metadata

    registry = discover(importlib.metadata.entry_points(group="avtbench"))
    assert registry.methods["lg_cav_mae"] is LGCavMae and LGCavMae.input_level == "raw"
    assert "triplets" in registry.commands


def test_conformance_kit_passes(session_cache):
    check_method(LGCavMae, cache_dir=session_cache).assert_passed()


def test_pretraining_reports_every_term_and_the_triplets(trained):
    method, stats = trained
    assert {"loss", "rec_a", "rec_v", "contrast", "a2t", "v2t", "triplet_seconds"} <= set(stats)
    assert stats["trained_clips"] == 30 and stats["triplets"] == method.provenance["triplets"]["kept"] == 2
    assert all(math.isfinite(v) for v in stats.values())
    assert len(method.history["rec_a"]) == method.config.epochs
    curves = read_epoch_stats(stats)  # the report's training curves
    assert set(curves) == {"loss", "rec_a", "rec_v", "contrast", "a2t", "v2t"}
    assert curves["loss"] == list(enumerate(method.history["loss"], 1))


def test_encode_shapes_and_the_concat_space(trained, test_clips):
    method, _ = trained
    audio = method.encode("audio", torch.from_numpy(np.asarray(test_clips.audio)))
    visual = method.encode("visual", torch.from_numpy(np.asarray(test_clips.visual)))
    text = method.encode("text", ["a dog barking", "a bell ringing"])
    width, text_dim = method.config.width, method.clap.dim
    assert audio.shape == (4, test_clips.visual.shape[1], width + text_dim) and visual.shape == audio.shape
    assert text.shape == (2, 1, width + text_dim) and torch.all(text[:, :, :width] == 0)
    for halves in (audio[..., :width], audio[..., width:], visual[..., width:]):
        assert torch.allclose(halves.norm(dim=-1), torch.full(halves.shape[:2], 1 / math.sqrt(2)), atol=1e-5)
    clap_text = method.clap.texts(["a dog barking"])
    assert torch.allclose(text[0, 0, width:], clap_text[0], atol=1e-6)


def test_save_load_round_trip_needs_no_cache(trained, test_clips, tmp_path):
    method, _ = trained
    method.save(tmp_path)
    tensors = load_file(str(tmp_path / "tensors.safetensors"))
    assert any(k.startswith("model.blocks_u.0.norm1_a") for k in tensors) and any(k.startswith("head.") for k in tensors)
    assert (tmp_path / "clap" / "config.json").is_file() and (tmp_path / "state.json").is_file()
    restored = LGCavMae(method.config, seed=0, cache_dir=tmp_path / "empty-cache")
    restored.load(tmp_path)
    for modality, batch in (("audio", torch.from_numpy(np.asarray(test_clips.audio))), ("visual", torch.from_numpy(np.asarray(test_clips.visual))),
                            ("text", ["a cat meowing"])):
        assert torch.equal(method.encode(modality, batch), restored.encode(modality, batch))
    assert not (tmp_path / "empty-cache").exists()
    other = LGCavMae(_config(width=64), seed=0)
    assert "other model sizes" in user_error(other.load, tmp_path)


def test_plain_cav_mae_without_text_guidance(corpus, session_cache, test_clips, tmp_path):
    method, stats = _pretrained(corpus, session_cache, tmp_path / "work", text_guidance=False)
    assert method.clap is None and method.head is None and stats["triplets"] == 0 and stats["a2t"] == 0
    assert LGCavMae.modalities_for(method.config) == ("audio", "visual")
    audio = method.encode("audio", torch.from_numpy(np.asarray(test_clips.audio)))
    assert audio.shape[-1] == method.config.width
    assert "text guidance" in user_error(method.encode, "text", ["a dog"])
    method.save(tmp_path / "saved")
    assert not (tmp_path / "saved" / "clap").exists()


def test_text_space_and_training_on_the_triplets_only(corpus, session_cache, test_clips, tmp_path):
    method, stats = _pretrained(corpus, session_cache, tmp_path, embedding_space="text", pretrain_on="triplets",
                                keep=50, text_mlp="per_modality")
    assert stats["trained_clips"] == stats["triplets"] == 4
    audio = method.encode("audio", torch.from_numpy(np.asarray(test_clips.audio)))
    assert audio.shape[-1] == method.clap.dim and torch.allclose(audio.norm(dim=-1), torch.ones(audio.shape[:2]), atol=1e-5)


@pytest.mark.slow
def test_avtbench_check_passes_on_the_command_line(session_cache):
    done = subprocess.run(avtbench_cmd("check", "lg_cav_mae", "--cache", str(session_cache)), env=cli_env(session_cache),
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout and "PASS" in done.stdout


# ---------------------------------------------------------------------------------- streaming (plugin API 3)




def test_pretraining_reads_the_corpus_in_bounded_blocks(corpus, trained, session_cache, tmp_path, no_memmaps):
    assert LGCavMae.plugin_api == "3"
    clap = next((session_cache / "backbones").glob("synth-clap-*"))  # trained on the tiny corpus: a real CLAP here
    big = corpus.subset(np.resize(np.arange(len(corpus)), 300))  # the tiny corpus, repeated, cut to 2 s (quick)
    big.ids = [f"{clip}~{i}" for i, clip in enumerate(big.ids)]
    reads: list[int] = []
    big.audio, big.visual = CountingRows(big.audio[:, :32000], reads), CountingRows(big.visual[:, :2], reads)
    method, stats = _pretrained(big, tmp_path / "cache", tmp_path / "work", max_steps=3, clap=str(clap))
    assert reads and max(reads) <= 256 and sum(reads) >= 2 * 300  # the fingerprint reads every clip once
    assert len(method.history["loss"]) == 1 and stats["triplets"] > 0
    assert (tmp_path / "work" / "lg_cav_mae_captions.npy").is_file()


def test_max_steps_bounds_training_and_lazy_arrays_give_the_same_numbers(corpus, session_cache, test_clips, tmp_path):
    plain, _ = _pretrained(corpus, session_cache, tmp_path, text_guidance=False, max_steps=5)
    lazy_corpus = corpus.subset(np.arange(len(corpus)))
    lazy_corpus.audio, lazy_corpus.visual = MemoryRows(np.asarray(corpus.audio)), MemoryRows(np.asarray(corpus.visual))
    lazy, _ = _pretrained(lazy_corpus, session_cache, tmp_path, text_guidance=False, max_steps=5)
    assert len(plain.history["loss"]) == -(-5 // -(-len(corpus) // plain.config.batch_size))  # epochs begun in 5 steps
    batch = torch.from_numpy(np.asarray(test_clips.audio))
    assert torch.equal(plain.encode("audio", batch), lazy.encode("audio", batch))
