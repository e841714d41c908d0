"""VIP-ANT on tiny raw clips: loss, audio front end, encoders, pretraining, curation, save/load."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from avtbench.api import Clips, SilentProgress, UserError
from avtbench.audio.fbank import fbank
from avtbench.audio.vit import grid_shape
from avtbench.backbones.resolve import symmetric_info_nce
from avtbench.config import build
from avtbench.plugins import discover
from avtbench_plugins.methods.vip_ant import curation
from avtbench_plugins.methods.vip_ant.config import VipAntConfig
from avtbench_plugins.methods.vip_ant.frontend import batched_fbank, fbank_images, segment_windows, window_starts
from avtbench_plugins.methods.vip_ant.method import VipAnt

N, T, K = 12, 2, 3
NAMES = ["dog", "bell", "car"]
TINY = dict(synth_clip_hidden=16, synth_clip_layers=1, synth_clip_epochs=2, synth_clip_image_size=64, epochs=6,
            batch_size=8, lr=2e-3)


pytestmark = pytest.mark.usefixtures("one_thread")


def _clips(seed: int = 0) -> Clips:
    """Each segment shows one of K classes: a pure tone for audio, a flat colour for its frame."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, K, (N, T))
    t = np.arange(16000) / 16000
    audio = np.concatenate([0.3 * np.sin(2 * np.pi * (300 + 900 * classes[:, s, None]) * t) for s in range(T)], axis=1)
    audio += 0.01 * rng.standard_normal(audio.shape)
    colours = np.array([[220, 30, 30], [30, 220, 30], [30, 30, 220]], dtype=np.uint8)
    visual = np.broadcast_to(colours[classes][:, :, None, None, :], (N, T, 32, 32, 3)).copy()
    captions = [[f"a {NAMES[c]}" for c in dict.fromkeys(classes[i])] + ["something"] for i in range(N)]
    return Clips(ids=[f"c{i}" for i in range(N)], audio=audio.astype(np.float32), visual=visual,
                 text=[c[0] for c in captions], captions=captions, labels={"classes": classes})


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("vip-ant-cache")
    mp.setenv("AVTBENCH_CACHE", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def trained(cache):
    clips = _clips()
    method = VipAnt(VipAntConfig(**TINY), seed=0)
    stats = method.pretrain(clips, SilentProgress())
    return method, clips, stats


# ---------------------------------------------------------------------------------- loss


def test_info_nce_on_a_hand_made_pair_of_pairs():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # cosine similarities [[1, s], [0, s]] with s = 1/sqrt(2)
    s = 1 / math.sqrt(2)
    ab = (math.log(1 + math.exp(s - 1)) + math.log(1 + math.exp(-s))) / 2
    ba = (math.log(1 + math.exp(-1)) + math.log(2)) / 2
    loss = symmetric_info_nce(a, b, torch.tensor(0.0))
    assert loss.item() == pytest.approx(ab + ba, rel=1e-6)
    assert symmetric_info_nce(b, a, torch.tensor(0.0)).item() == pytest.approx(ab + ba, rel=1e-6)
    scale = math.log(1 / 0.07)
    logits = torch.exp(torch.tensor(scale)) * F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T
    expected = F.cross_entropy(logits, torch.arange(2)) + F.cross_entropy(logits.T, torch.arange(2))
    assert symmetric_info_nce(a, b, torch.tensor(scale)).item() == pytest.approx(expected.item(), rel=1e-6)


def test_info_nce_groups_drop_duplicate_positives():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert symmetric_info_nce(a, a, torch.tensor(0.0), groups=torch.tensor([0, 0])).item() == pytest.approx(0.0)
    assert symmetric_info_nce(a, a, torch.tensor(0.0)).item() == pytest.approx(2 * math.log(2))


def test_temperature_is_learnable_and_starts_at_clip_value(trained):
    method, _, _ = trained
    net = method.net
    fresh = type(net)(net.audio, VipAntConfig())
    assert isinstance(fresh.logit_scale_va, torch.nn.Parameter) and fresh.logit_scale_va.requires_grad
    assert fresh.logit_scale_va.item() == pytest.approx(math.log(1 / 0.07))
    x = F.normalize(torch.randn(4, 8), dim=-1)
    fresh.loss_va(x, x.flip(0)).backward()
    assert fresh.logit_scale_va.grad is not None and fresh.logit_scale_va.grad.abs() > 0
    assert any(p is net.logit_scale_va for p in net.parameters())


# ---------------------------------------------------------------------------------- front end


def test_batched_fbank_matches_the_reference_fbank():
    waveforms = torch.from_numpy(_clips().audio[:2])
    windows = segment_windows(waveforms, VipAntConfig())
    ours = batched_fbank(windows)
    reference = torch.stack([fbank(w, subtract_waveform_mean=True) for w in windows])
    assert ours.shape == reference.shape == (4, 98, 128)
    assert torch.allclose(ours, reference, atol=2e-3)
    images = fbank_images(windows, VipAntConfig())
    assert images.shape == (4, 100, 128)


def test_segment_windows_are_segments_or_centred_contexts():
    waveforms = torch.arange(2 * 3 * 16000, dtype=torch.float32).reshape(2, 3 * 16000)
    one = segment_windows(waveforms, VipAntConfig())
    assert one.shape == (6, 16000) and torch.equal(one[4], waveforms[1, 16000:32000])
    assert list(window_starts(3, VipAntConfig(window_seconds=2.0))) == [0, 8000, 16000]
    long = segment_windows(waveforms, VipAntConfig(window_seconds=4.0))
    assert long.shape == (6, 64000) and torch.equal(long[0, :48000], waveforms[0]) and long[0, 48000:].abs().sum() == 0


# ---------------------------------------------------------------------------------- the method


def test_plugin_is_registered_at_the_raw_level():
    method = discover().method("vip_ant")
    assert method is VipAnt and method.input_level == "raw" and method.modalities == ("audio", "visual", "text")


def test_paper_preset_restores_the_reference_settings():
    config = build(VipAntConfig, {"preset": "paper"}, "vip_ant")
    assert config.batch_size == 432 and config.lr == 5e-4 and config.weight_decay == 1e-6 and config.grad_clip == 0.5
    assert config.frames == 1000 and tuple(config.stride) == (16, 24) and config.num_mel_bins == 128
    default = VipAntConfig()
    assert default.frames == 100 and default.clip == "synth://clip" and default.normalization == "vip-ant"


def test_audio_vit_is_built_from_the_clip_image_tower(trained):
    method, _, _ = trained
    vision = method.clip.model.vision_model.embeddings
    audio = method.net.audio
    assert audio.kernel == (32, 32) and audio.stride == (16, 24)
    assert audio.grid == grid_shape(100, 128, 32, (16, 24)) == (5, 5)
    assert audio.position_embedding.shape == (1 + 5 * 5, vision.position_embedding.weight.shape[1])
    # trained weights moved; the initial ones are checked on a fresh build from the same frozen tower
    fresh = type(method.net).from_clip(method.clip.model, VipAntConfig()).audio
    assert torch.equal(fresh.position_embedding[0], vision.position_embedding.weight[0])
    assert torch.equal(fresh.class_embedding, vision.class_embedding)
    assert torch.equal(fresh.patch_embedding.weight, vision.patch_embedding.weight.mean(dim=1, keepdim=True))
    assert fresh.patch_embedding.weight.shape[1] == 1
    assert not any(p.requires_grad for p in method.clip.model.parameters())


def test_encode_shapes_per_modality(trained):
    method, clips, _ = trained
    audio = method.encode("audio", torch.from_numpy(clips.audio[:3]))
    visual = method.encode("visual", torch.from_numpy(clips.visual[:3]))
    text = method.encode("text", clips.text[:3])
    dim = method.clip.dim
    assert audio.shape == (3, T, dim) and visual.shape == (3, T, dim) and text.shape == (3, 1, dim)
    for x in (audio, visual, text):
        assert torch.allclose(x.norm(dim=-1), torch.ones(x.shape[:2]), atol=1e-5)


def test_pretraining_lowers_the_loss(trained):
    method, _, stats = trained
    losses = method.history["loss_va"]
    assert len(losses) == TINY["epochs"] and all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0]
    assert stats["loss_va"] == pytest.approx(losses[-1]) and stats["logit_scale_va"] > 0


def test_save_load_round_trip_needs_no_cache(trained, tmp_path, monkeypatch):
    method, clips, _ = trained
    path = tmp_path / "state.safetensors"
    save_file(method.state_dict(), str(path))
    monkeypatch.setenv("AVTBENCH_CACHE", str(tmp_path / "fresh-cache"))
    restored = VipAnt(VipAntConfig(**TINY), seed=0)
    restored.load_state_dict(load_file(str(path)))
    assert not (tmp_path / "fresh-cache").exists()
    for modality, batch in (("audio", torch.from_numpy(clips.audio[:4])), ("visual", torch.from_numpy(clips.visual[:4])),
                            ("text", clips.text[:4])):
        assert torch.equal(method.encode(modality, batch), restored.encode(modality, batch)), modality
    assert restored.history["loss_va"] == pytest.approx(method.history["loss_va"])


def test_load_rejects_a_different_audio_geometry(trained):
    method, _, _ = trained
    other = VipAnt(VipAntConfig(**{**TINY, "stride": (16, 16)}))
    with pytest.raises(UserError, match="stride"):
        other.load_state_dict(method.state_dict())


def test_synth_clip_trains_on_the_first_half_only(trained, cache):
    method, clips, _ = trained
    frames, captions = VipAnt._clip_pairs(clips, clips.visual)
    assert len(frames) == sum(len(c) for c in clips.captions[:N // 2]) == len(captions)
    assert np.array_equal(frames[0], clips.visual[0, 0])  # ceil(T/2) - 1 = 0 for T = 2
    assert len(list((cache / "backbones").glob("synth-clip-*"))) == 1


@pytest.mark.parametrize("mode", ["retrieved", "random"])
def test_curation_adds_an_audio_text_loss(cache, mode):
    clips = _clips()
    method = VipAnt(VipAntConfig(**{**TINY, "epochs": 1, "curation": mode, "curation_epochs": 2}), seed=0)
    stats = method.pretrain(clips, SilentProgress())
    assert len(method.history["loss_at"]) == 2 and math.isfinite(stats["loss_at"])
    assert 0.0 <= stats["curation_own_caption"] <= 1.0


def test_retrieval_picks_the_closest_captions():
    frames = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dim=-1)
    pool = F.normalize(torch.tensor([[0.0, 1.0], [1.0, 0.1], [1.0, 0.9]]), dim=-1)
    assert curation.retrieve(frames, pool)[:, 0].tolist() == [1, 0, 2]
    assert curation.retrieve(frames, pool, top_k=2).shape == (3, 2)
    generator = torch.Generator().manual_seed(0)
    assert set(curation.random_captions(50, 3, generator).tolist()) <= {0, 1, 2}


def test_curation_without_captions_is_a_user_error():
    clips = _clips()
    clips.captions, clips.text = None, None
    with pytest.raises(UserError, match="captions"):
        VipAnt(VipAntConfig(**{**TINY, "curation": "retrieved"})).pretrain(clips, SilentProgress())


def test_feature_level_corpus_is_rejected_in_one_line():
    clips = _clips()
    clips.audio = np.zeros((N, T, 128), np.float32)
    with pytest.raises(UserError, match="raw"):
        VipAnt(VipAntConfig(**TINY)).pretrain(clips, SilentProgress())


def test_pretraining_is_deterministic(trained):
    method, clips, _ = trained
    again = VipAnt(VipAntConfig(**TINY), seed=0)
    again.pretrain(clips, SilentProgress())
    batch = torch.from_numpy(clips.audio[:4])
    assert torch.equal(method.encode("audio", batch), again.encode("audio", batch))


def test_a_local_clip_folder_is_used_as_is(trained, cache):
    _, clips, _ = trained
    folder = next((cache / "backbones").glob("synth-clip-*"))
    method = VipAnt(VipAntConfig(**{**TINY, "clip": str(folder), "epochs": 1}), seed=0)
    method.pretrain(clips, SilentProgress())
    assert method.encode("visual", torch.from_numpy(clips.visual[:2])).shape == (2, T, method.clip.dim)
    assert len(list((cache / "backbones").glob("synth-clip-*"))) == 1


def test_method_seeds_share_one_synthetic_clip(trained, cache):
    _, clips, _ = trained
    VipAnt(VipAntConfig(**{**TINY, "epochs": 1}), seed=1).pretrain(clips, SilentProgress())
    assert len(list((cache / "backbones").glob("synth-clip-*"))) == 1
