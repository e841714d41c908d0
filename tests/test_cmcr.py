"""C-MCR on tiny raw clips: projectors, memory retrieval, losses, unpaired memories, pretraining,
save/load, the official projector file, ablation switches and the conformance kit."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from avtbench.api import Clips, DamagedArtifact, MethodState, SilentProgress
from avtbench.config import build, unranged_fields
from avtbench.data.npyfile import NpyRows, NpyWriter
from avtbench.data.rows import MemoryRows
from avtbench.plugins import discover
from avtbench.testing import check_method
from avtbench.toolkit import read_epoch_stats
from avtbench_plugins.methods.cmcr import data as cmcr_data
from avtbench_plugins.methods.cmcr import training as cmcr_training
from avtbench_plugins.methods.cmcr.config import CMCRConfig
from avtbench_plugins.methods.cmcr.losses import add_noise, info_nce, intra_l2, retrieval_weights, retrieve
from avtbench_plugins.methods.cmcr.method import CMCR
from avtbench_plugins.methods.cmcr.projector import Heads, load_official_heads

from .conftest import CountingRows, user_error

N, T, K = 12, 2, 3
NAMES = ["Dog", "Bell", "Car"]
TINY = {"synth_clip_hidden": 16, "synth_clip_layers": 1, "synth_clip_epochs": 2, "synth_clip_image_size": 64,
        "synth_clap_hidden": 16, "synth_clap_layers": 1, "synth_clap_epochs": 2, "epochs": 4, "batch_size": 8}
OFFICIAL_KEYS = [f"{head}.{net}.{i}.{p}" for head in ("Head_A", "Head_B") for net in ("net1", "net2")
                 for i, params in ((0, ("weight", "bias")),
                                   (1, ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")))
                 for p in params]
"""The keys of C-MCR's checkpoints/clap_clip.pt as MCR-PEFT/C-MCR change_pt_key.ipynb prints them."""

pytestmark = pytest.mark.usefixtures("one_thread")


def _clips(seed: int = 0, n: int = N, steps: int = T) -> Clips:
    """Each segment holds one of K classes: a pure tone for audio, a flat colour for its frame."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, K, (n, steps))
    t = np.arange(16000) / 16000
    audio = np.concatenate([0.3 * np.sin(2 * np.pi * (300 + 900 * classes[:, s, None]) * t) for s in range(steps)], axis=1)
    audio += 0.01 * rng.standard_normal(audio.shape)
    colours = np.array([[220, 30, 30], [30, 220, 30], [30, 30, 220]], dtype=np.uint8)
    visual = np.broadcast_to(colours[classes][:, :, None, None, :], (n, steps, 32, 32, 3)).copy()
    captions = [[f"a {NAMES[c].lower()}" for c in dict.fromkeys(classes[i])] + [f"clip {i} sounds"] for i in range(n)]
    return Clips(ids=[f"c{i}" for i in range(n)], audio=audio.astype(np.float32), visual=visual,
                 text=[c[0] for c in captions], captions=captions, labels={"classes": classes}, class_names=list(NAMES))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The artifact cache handed to every method; the default cache points elsewhere and must stay empty."""
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("cmcr-cache")
    default = tmp_path_factory.mktemp("default-cache")
    mp.setenv("AVTBENCH_CACHE", str(default / "unused"))
    yield path
    assert not (default / "unused").exists()
    mp.undo()


def _pretrain(cache, tmp_path, clips=None, seed=0, **changes):
    method = CMCR(CMCRConfig(**{**TINY, **changes}), seed=seed, cache_dir=cache)
    stats = method.pretrain(clips if clips is not None else _clips(), tmp_path, SilentProgress())
    return method, stats


@pytest.fixture(scope="module")
def trained(cache, tmp_path_factory):
    method, stats = _pretrain(cache, tmp_path_factory.mktemp("work"))
    return method, stats


def _batches(clips):
    return {"audio": torch.from_numpy(clips.audio[:3]), "visual": torch.from_numpy(clips.visual[:3]),
            "text": list(clips.text[:3])}


# ---------------------------------------------------------------------------------- projector


def test_projector_shapes_keys_and_batchnorm_in_eval_for_one_sample():
    heads = Heads(clap_dim=6, clip_dim=8, d_out=5)
    assert heads.Head_A.dims == (6, 12, 5) and heads.Head_B.dims == (8, 16, 5)
    assert [type(m).__name__ for m in heads.Head_A.net1] == ["Linear", "BatchNorm1d", "ReLU"]
    assert [type(m).__name__ for m in heads.Head_A.net2] == ["Linear", "BatchNorm1d"]
    assert sorted(heads.state_dict()) == sorted(OFFICIAL_KEYS)
    x = torch.randn(3, 6)
    out = heads.Head_A(x)
    assert out.shape == (3, 5) and torch.allclose(out.norm(dim=-1), torch.ones(3), atol=1e-6)
    with pytest.raises(ValueError):
        heads.Head_B.train()(torch.randn(1, 8))  # BatchNorm in training mode needs more than one row
    heads.eval()
    one = heads.Head_B(torch.randn(1, 8))
    assert one.shape == (1, 5) and torch.isfinite(one).all()
    # no residual: with zeroed second linear and fresh BN stats, the output is the normalised BN bias
    with torch.no_grad():
        heads.Head_B.net2[0].weight.zero_()
        heads.Head_B.net2[0].bias.zero_()
        heads.Head_B.net2[1].bias.copy_(torch.arange(1.0, 6.0))
    assert torch.allclose(heads.Head_B(torch.randn(2, 8)), F.normalize(torch.arange(1.0, 6.0), dim=0).expand(2, 5))


def test_eye_init_makes_each_weight_an_identity():
    heads = Heads(4, 4, 4)
    heads.init_weights("eye")
    assert torch.equal(heads.Head_A.net1[0].weight, torch.eye(8, 4)) and torch.equal(heads.Head_B.net2[0].weight, torch.eye(4, 8))


# ---------------------------------------------------------------------------------- enhancement and losses


def test_memory_retrieval_is_a_softmax_over_cosines_at_tau_mem():
    memory = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    query = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    weights = retrieval_weights(query, memory, 1.0)
    e = math.e
    assert torch.allclose(weights[0], torch.tensor([e / (e + 1), 1 / (e + 1)]))
    expected = torch.softmax(torch.tensor([0.6, 0.8]) / 0.5, dim=0)
    assert torch.allclose(retrieval_weights(query, memory, 0.5)[1], expected)
    assert torch.allclose(retrieve(query, memory, 1.0)[0], F.normalize(torch.tensor([e, 1.0]), dim=0))
    sharp = retrieve(query, memory, 0.01)  # the default tau_mem: nearly the nearest entry
    assert torch.allclose(sharp, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), atol=1e-6)
    assert torch.allclose(retrieve(query, memory, 0.01, chunk=1), sharp)


def test_noise_is_gaussian_then_renormalised_and_off_at_zero():
    x = F.normalize(torch.randn(2000, 16), dim=-1)
    assert add_noise(x, 0.0) is x
    noisy = add_noise(x, 0.025, torch.Generator().manual_seed(0))
    assert torch.allclose(noisy.norm(dim=-1), torch.ones(2000), atol=1e-5)
    again = add_noise(x, 0.025, torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)
    raw = torch.randn(x.shape, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(noisy, F.normalize(x + 0.025 * raw, dim=-1))
    assert 0.01 < float((noisy - x).norm(dim=-1).mean()) < 0.2


def test_info_nce_is_symmetric_and_averages_both_directions():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # cosines [[1, s], [0, s]] with s = 1/sqrt(2)
    s = 1 / math.sqrt(2)
    ab = (math.log(1 + math.exp(s - 1)) + math.log(1 + math.exp(-s))) / 2
    ba = (math.log(1 + math.exp(-1)) + math.log(2)) / 2
    assert info_nce(a, b, 1.0).item() == pytest.approx((ab + ba) / 2, rel=1e-6)
    assert info_nce(b, a, 1.0).item() == pytest.approx((ab + ba) / 2, rel=1e-6)
    ab2 = (math.log(1 + math.exp(2 * (s - 1))) + math.log(1 + math.exp(-2 * s))) / 2
    ba2 = (math.log(1 + math.exp(-2)) + math.log(2)) / 2
    assert info_nce(a, b, 0.5).item() == pytest.approx((ab2 + ba2) / 2, rel=1e-6)


def test_intra_loss_is_the_mean_l2_distance_averaged_over_the_mcrs():
    x1, y1 = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    x2, y2 = torch.tensor([[1.0, 0.0]]), torch.tensor([[-1.0, 0.0]])
    assert intra_l2((x1, y1)).item() == pytest.approx(math.sqrt(2) / 2, abs=1e-5)
    assert intra_l2((x1, y1), (x2, y2)).item() == pytest.approx((math.sqrt(2) / 2 + 2) / 2, abs=1e-5)


def _batch(seed=0, b=4, d=4):
    g = torch.Generator().manual_seed(seed)
    return {k: F.normalize(torch.randn(b, d, generator=g), dim=-1) for k in ("clip_text", "clap_text", "image", "audio")}


def test_the_loss_adds_inter_text_inter_pseudo_and_weighted_intra():
    method = CMCR(CMCRConfig(noise=False, intra_weight=0.1, tau=0.01))
    method.heads = Heads(4, 4, 4).eval()
    batch = _batch()
    terms = method.losses(batch)
    b_out = method.heads.Head_B(torch.cat([batch["clip_text"], batch["image"]]))
    a_out = method.heads.Head_A(torch.cat([batch["clap_text"], batch["audio"]]))
    inter_text = info_nce(b_out[:4], a_out[:4], 0.01)
    inter_pseudo = info_nce(b_out[4:], a_out[4:], 0.01)
    intra = ((b_out[:4] - b_out[4:]).norm(dim=-1).mean() + (a_out[:4] - a_out[4:]).norm(dim=-1).mean()) / 2
    assert terms["inter_text"].item() == pytest.approx(inter_text.item(), rel=1e-5)
    assert terms["inter_pseudo"].item() == pytest.approx(inter_pseudo.item(), rel=1e-5)
    assert terms["intra"].item() == pytest.approx(intra.item(), rel=1e-4)
    assert terms["loss"].item() == pytest.approx((inter_text + inter_pseudo + 0.1 * intra).item(), rel=1e-5)
    method.config.intra_weight = 0.0
    assert method.losses(batch)["loss"].item() == pytest.approx((inter_text + inter_pseudo).item(), rel=1e-5)
    text_only = method.losses({k: batch[k] for k in ("clip_text", "clap_text")})
    assert set(text_only) == {"loss", "inter_text"}
    expected = info_nce(method.heads.Head_B(batch["clip_text"]), method.heads.Head_A(batch["clap_text"]), 0.01)
    assert text_only["loss"].item() == pytest.approx(expected.item(), rel=1e-5)


# ---------------------------------------------------------------------------------- unpaired data


def test_audio_and_frames_never_come_from_the_same_clip(trained):
    clips = _clips()
    found = cmcr_data.memories(clips, T)
    assert set(found.image_ids) == {f"c{i}" for i in range(N // 2)}
    assert set(found.audio_ids) == {f"c{i}" for i in range(N // 2, N)}
    assert not set(found.image_ids) & set(found.audio_ids)
    assert found.frames(clips.visual).shape == (N // 2 * T, 32, 32, 3) and len(found.image_ids) == N // 2 * T
    assert np.array_equal(found.waveforms(clips.audio)[1], clips.audio[N // 2, 16000:32000])
    overlapping = cmcr_data.Memories(np.array([0, 1]), np.array([1, 2]), T, ["c0", "c1"], ["c1", "c2"])
    with pytest.raises(AssertionError, match="share clip c1"):
        cmcr_data.check_disjoint(overlapping)
    method, _ = trained
    memory = method.state().extra["memory"]
    assert memory["image_clips"] == [f"c{i}" for i in range(N // 2)]
    assert memory["audio_clips"] == [f"c{i}" for i in range(N // 2, N)]
    assert memory["image_entries"] == memory["audio_entries"] == N // 2 * T


def test_synthetic_trunks_train_on_disjoint_halves():
    clips = _clips()
    frames, clip_captions = cmcr_data.clip_pairs(clips, clips.visual)
    waves, clap_captions = cmcr_data.clap_pairs(clips, clips.audio)
    assert clip_captions == [c for cs in clips.captions[:N // 2] for c in cs]
    assert clap_captions == [c for cs in clips.captions[N // 2:] for c in cs]
    assert np.array_equal(frames[0], clips.visual[0, 0]) and np.array_equal(waves[0], clips.audio[N // 2, :16000])
    texts = cmcr_data.text_corpus(clips)
    assert len(texts) == len({c.lower() for cs in clips.captions for c in cs}) and "a dog" in texts


# ---------------------------------------------------------------------------------- the method


def test_plugin_is_registered_at_the_raw_level():
    method = discover().method("cmcr")
    assert method is CMCR and method.input_level == "raw" and method.modalities == ("audio", "visual", "text")
    assert method.version == "1"
    assert unranged_fields(CMCRConfig) == []
    default = CMCRConfig()
    assert (default.tau_mem, default.sigma, default.tau, default.intra_weight) == (0.01, 0.025, 0.01, 0.1)
    assert default.clip == "synth://clip" and default.clap == "synth://clap" and default.connect


@pytest.mark.parametrize("change, words", [
    ({"clip": "synth://clap"}, "synth://clip"),
    ({"clap": "synth://clip"}, "synth://clap"),
    ({"synth_clap_hidden": 15}, "even"),
    ({"heads": "/no/such/heads.pt"}, "there is no file /no/such/heads.pt"),
])
def test_validate_rejects_settings_that_cannot_work(change, words):
    assert words in user_error(CMCR.validate, CMCRConfig(**{**TINY, **change}))


def test_build_rejects_out_of_range_and_heads_without_connection(tmp_path):
    assert "cmcr.tau must be > 0" in user_error(build, CMCRConfig, {"tau": 0}, "cmcr")
    assert "cmcr.text_side must be one of 'clip', 'clap'" in user_error(build, CMCRConfig, {"text_side": "both"}, "cmcr")
    path = tmp_path / "h.pt"
    path.write_bytes(b"x")
    assert "connect=false uses no heads" in user_error(CMCR.validate, CMCRConfig(heads=str(path), connect=False))


def test_encode_shapes_one_embedding_per_second_in_the_connected_space(trained):
    method, stats = trained
    clips = _clips()
    out = {m: method.encode(m, b) for m, b in _batches(clips).items()}
    dim = method.clip.dim
    assert out["audio"].shape == (3, T, dim) and out["visual"].shape == (3, T, dim) and out["text"].shape == (3, 1, dim)
    for x in out.values():
        assert torch.allclose(x.norm(dim=-1), torch.ones(x.shape[:2]), atol=1e-5)
    # one second at a time through the frozen CLAP, then Head_A; each frame through CLIP, then Head_B
    second = method.clap.audio(torch.from_numpy(clips.audio[1:2, 16000:32000]))
    assert torch.allclose(out["audio"][1, 1], method.heads.Head_A(second)[0], atol=1e-5)
    frame = method.clip.images(torch.from_numpy(clips.visual[2:3, 0]))
    assert torch.allclose(out["visual"][2, 0], method.heads.Head_B(frame)[0], atol=1e-5)
    assert method.encode("text", ["a dog"]).shape == (1, 1, dim)  # BatchNorm in eval: one sample is fine
    assert "not 'depth'" in user_error(method.encode, "depth", torch.zeros(1, 2))
    assert "whole seconds" in user_error(method.encode, "audio", torch.zeros(1, 1000))
    assert all(math.isfinite(v) for v in stats.values()) and stats["texts"] == len(cmcr_data.text_corpus(clips))
    assert len(method.history["loss"]) == TINY["epochs"]
    assert read_epoch_stats(stats)["loss"] == list(enumerate(method.history["loss"], 1))  # the report's curve


def test_text_side_clap_uses_the_clap_text_tower_and_head_a(trained):
    method, _ = trained
    method.config.text_side = "clap"
    try:
        got = method.encode("text", ["a bell", "a car"])
    finally:
        method.config.text_side = "clip"
    expected = method.heads.Head_A(method.clap.texts(["a bell", "a car"]))
    assert torch.allclose(got[:, 0], expected, atol=1e-6)


def test_save_load_round_trip_gives_identical_encodings(trained, tmp_path):
    method, _ = trained
    folder = tmp_path / "cmcr"
    method.save(folder)
    names = {p.name for p in folder.iterdir()}
    assert names == {MethodState.TENSORS, MethodState.EXTRA, "clip", "clap"}
    state = MethodState.load(folder)
    assert {k[len("heads."):] for k in state.tensors} == set(OFFICIAL_KEYS)
    restored = CMCR(CMCRConfig(**TINY), cache_dir=tmp_path / "fresh-cache")
    restored.load(folder)
    assert not (tmp_path / "fresh-cache").exists()
    for modality, batch in _batches(_clips()).items():
        assert torch.equal(method.encode(modality, batch), restored.encode(modality, batch)), modality
    assert restored.history == method.history
    unconnected = CMCR(CMCRConfig(**{**TINY, "connect": False}))
    assert "connect=True" in user_error(unconnected.load, folder)
    weights = next(p for p in (folder / "clap").iterdir() if p.suffix == ".safetensors")
    weights.write_bytes(weights.read_bytes()[:100])  # a truncated backbone: damaged, so the runner rebuilds it
    with pytest.raises(DamagedArtifact, match="the CLAP folder of the saved cmcr"):
        CMCR(CMCRConfig(**TINY), cache_dir=tmp_path / "fresh-cache").load(folder)


def test_corpus_embeddings_are_cached_and_training_is_seeded(trained, cache, tmp_path, no_memmaps):
    method, _ = trained
    again, _ = _pretrain(cache, tmp_path)
    assert again.provenance["embeddings"] == "cached"
    assert len([p for p in (cache / "cmcr").glob("embeddings-*") if (p / "embeddings.json").is_file()]) == 1
    batch = _batches(_clips())["visual"]
    assert torch.equal(method.encode("visual", batch), again.encode("visual", batch))
    other, _ = _pretrain(cache, tmp_path, seed=1)
    assert not torch.equal(method.encode("visual", batch), other.encode("visual", batch))


def test_ablations_unconnected_and_without_enhancement(cache, tmp_path):
    clips = _clips()
    plain, stats = _pretrain(cache, tmp_path, connect=False)
    assert plain.heads is None and plain.state().tensors == {} and stats["trained"] == 0
    audio = torch.from_numpy(clips.audio[:2])
    expected = plain.clap.audio(audio.reshape(-1, 16000)).reshape(2, T, -1)
    assert torch.equal(plain.encode("audio", audio), expected)
    bare, _ = _pretrain(cache, tmp_path, semantic_enhancement=False, noise=False)
    assert set(bare.history) == {"loss", "inter_text"}


# ---------------------------------------------------------------------------------- the official projector file


def _official_file(path, clap_dim, clip_dim, d_out=None, native=False):
    torch.manual_seed(3)
    heads = Heads(clap_dim, clip_dim, d_out or clip_dim)
    with torch.no_grad():
        for module in heads.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_()
    state = heads.state_dict()
    if native:
        state = {k[:7] + "mlp1." + k[7:]: v for k, v in state.items()}
    torch.save(state, path)
    return heads.eval()


@pytest.mark.parametrize("native", [False, True])
def test_official_heads_load_and_encode_without_training(trained, cache, tmp_path, native):
    method, _ = trained
    path = tmp_path / "clap_clip.pt"
    written = _official_file(path, method.clap.dim, method.clip.dim, native=native)
    loaded, stats = _pretrain(cache, tmp_path, heads=str(path))
    assert stats["trained"] == 0 and loaded.history == {}
    assert loaded.state().extra["heads"]["file"] == str(path)
    for key, value in written.state_dict().items():
        assert torch.equal(loaded.heads.state_dict()[key], value), key
    audio = torch.from_numpy(_clips().audio[:1])
    clap = loaded.clap.audio(audio.reshape(-1, 16000))
    by_hand = F.normalize(written.Head_A.net2(written.Head_A.net1(clap)), dim=-1)
    assert torch.allclose(loaded.encode("audio", audio)[0], by_hand, atol=1e-6)


def test_bad_official_heads_files_are_one_line_user_errors(trained, tmp_path):
    method, _ = trained
    clap_dim, clip_dim = method.clap.dim, method.clip.dim
    assert "there is no file" in user_error(load_official_heads, tmp_path / "missing.pt", clap_dim, clip_dim)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    assert "is not a readable PyTorch state dict" in user_error(load_official_heads, garbage, clap_dim, clip_dim)
    pickled = tmp_path / "pickled.pt"
    torch.save({"Head_A.net1.0.weight": _Opaque()}, pickled)
    assert "is not a readable PyTorch state dict" in user_error(load_official_heads, pickled, clap_dim, clip_dim)
    wrong_keys = tmp_path / "wrong.pt"
    torch.save({"CLIP_proj.net.0.weight": torch.zeros(2, 2)}, wrong_keys)
    assert "has no Head_A.net1.0.weight" in user_error(load_official_heads, wrong_keys, clap_dim, clip_dim)
    wide = tmp_path / "wide.pt"
    _official_file(wide, clap_dim + 1, clip_dim)
    message = user_error(load_official_heads, wide, clap_dim, clip_dim)
    assert f"takes {clap_dim + 1}-d embeddings but cmcr.clap gives {clap_dim}-d" in message
    other_dim = tmp_path / "dim.pt"
    _official_file(other_dim, clap_dim, clip_dim, d_out=7)
    assert "set cmcr.dim=0" in user_error(load_official_heads, other_dim, clap_dim, clip_dim, 5)


class _Opaque:
    """An object `torch.load(weights_only=True)` refuses to unpickle."""


# ---------------------------------------------------------------------------------- conformance kit


def test_conformance_kit_passes(session_cache):
    check_method(CMCR, cache_dir=session_cache).assert_passed()


# ---------------------------------------------------------------------------------- streaming (plugin API 3)




def test_pretraining_reads_the_corpus_in_bounded_blocks(tmp_path, no_memmaps):
    assert CMCR.plugin_api == "3"
    clips, reads = _clips(n=300, steps=1), []
    clips.audio, clips.visual = CountingRows(clips.audio, reads), CountingRows(clips.visual, reads)
    method, stats = _pretrain(tmp_path / "cache", tmp_path / "work", clips, max_steps=3)
    assert reads and max(reads) <= 256 and sum(reads) >= 300
    assert stats["image_memory"] == stats["audio_memory"] == 150 and len(method.history["loss"]) == 1
    assert {p.name for p in (tmp_path / "work").glob("*.npy")} == {"cmcr_retrieved_image.npy", "cmcr_retrieved_audio.npy"}


def test_max_steps_bounds_training_and_lazy_arrays_give_the_same_numbers(cache, tmp_path):
    plain, _ = _pretrain(cache, tmp_path, max_steps=5)
    lazy_clips = _clips()
    lazy_clips.audio, lazy_clips.visual = MemoryRows(lazy_clips.audio), MemoryRows(lazy_clips.visual)
    lazy, _ = _pretrain(cache, tmp_path, lazy_clips, max_steps=5)
    texts = len(cmcr_data.text_corpus(_clips()))
    assert len(plain.history["loss"]) == -(-5 // -(-texts // 8))  # epochs begun within 5 steps of batch 8
    batch = _batches(_clips())["visual"]
    assert torch.equal(plain.encode("visual", batch), lazy.encode("visual", batch))


def test_retrieval_in_chunks_of_queries_gives_what_one_pass_gives(tmp_path, monkeypatch):
    generator = torch.Generator().manual_seed(0)
    arrays = {"queries": F.normalize(torch.randn(50, 8, generator=generator), dim=-1),
              "memory": F.normalize(torch.randn(30, 8, generator=generator), dim=-1)}
    for name, array in arrays.items():
        with NpyWriter(tmp_path / f"{name}.npy", tuple(array.shape)) as out:
            out.write(0, array.numpy())
    whole = retrieve(arrays["queries"], arrays["memory"], 0.05)
    monkeypatch.setattr(cmcr_training, "RETRIEVE_ELEMENTS", 30 * 16)  # chunks of 16 queries, the last one 18
    assert cmcr_training.chunks(50, 16) == [(0, 16), (16, 32), (32, 50)]
    found = cmcr_training.retrieved(NpyRows(tmp_path / "queries.npy"), NpyRows(tmp_path / "memory.npy"), 0.05,
                                    tmp_path / "out.npy", "cpu")
    assert isinstance(found, NpyRows) and torch.equal(torch.from_numpy(found[:]), whole)
