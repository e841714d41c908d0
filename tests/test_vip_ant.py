"""VIP-ANT on tiny raw clips: loss, audio front end, encoders, pretraining, curation, save/load."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from avtbench.api import Clips, MethodState, SilentProgress, UserError
from avtbench.audio.fbank import fbank
from avtbench.backbones.contrastive import symmetric_info_nce
from avtbench.config import build, unranged_fields
from avtbench.data.npyfile import NpyRows, NpyWriter
from avtbench.data.rows import MemoryRows
from avtbench.plugins import discover
from avtbench.toolkit import read_epoch_stats
from avtbench_plugins.methods.vip_ant import curation
from avtbench_plugins.methods.vip_ant.audio_vit import grid_shape
from avtbench_plugins.methods.vip_ant.config import VipAntConfig
from avtbench_plugins.methods.vip_ant.constants import FBANK_MEAN, FBANK_STD
from avtbench_plugins.methods.vip_ant.frontend import batched_fbank, fbank_images, segment_windows, window_starts
from avtbench_plugins.methods.vip_ant.method import VipAnt

from .conftest import CountingRows, user_error

N, T, K = 12, 2, 3
NAMES = ["Dog", "Bell", "Car"]
TINY = dict(synth_clip_hidden=16, synth_clip_layers=1, synth_clip_epochs=2, synth_clip_image_size=64, epochs=6,
            batch_size=8, lr=2e-3)


pytestmark = pytest.mark.usefixtures("one_thread")


def _clips(seed: int = 0, n: int = N, steps: int = T) -> Clips:
    """Each segment shows one of K classes: a pure tone for audio, a flat colour for its frame."""
    rng = np.random.default_rng(seed)
    classes = rng.integers(0, K, (n, steps))
    t = np.arange(16000) / 16000
    audio = np.concatenate([0.3 * np.sin(2 * np.pi * (300 + 900 * classes[:, s, None]) * t) for s in range(steps)], axis=1)
    audio += 0.01 * rng.standard_normal(audio.shape)
    colours = np.array([[220, 30, 30], [30, 220, 30], [30, 30, 220]], dtype=np.uint8)
    visual = np.broadcast_to(colours[classes][:, :, None, None, :], (n, steps, 32, 32, 3)).copy()
    captions = [[f"a {NAMES[c].lower()}" for c in dict.fromkeys(classes[i])] + ["something"] for i in range(n)]
    events = np.zeros((n, steps, K), np.uint8)
    events[np.arange(n)[:, None], np.arange(steps)[None, :], classes] = 3  # heard and seen
    return Clips(ids=[f"c{i}" for i in range(n)], audio=audio.astype(np.float32), visual=visual,
                 text=[c[0] for c in captions], captions=captions, labels={"classes": classes, "events": events},
                 class_names=list(NAMES), descriptions=[f"a {name.lower()} on screen" for name in NAMES])


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The artifact cache handed to every method; the default cache points elsewhere and must stay empty."""
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("vip-ant-cache")
    default = tmp_path_factory.mktemp("default-cache")
    mp.setenv("AVTBENCH_CACHE", str(default / "unused"))
    yield path
    assert not (default / "unused").exists()
    mp.undo()


def _pretrain(config: VipAntConfig, clips: Clips, workdir, cache, seed: int = 0) -> tuple[VipAnt, dict]:
    method = VipAnt(config, seed=seed, cache_dir=cache)
    return method, method.pretrain(clips, workdir, SilentProgress())


@pytest.fixture(scope="module")
def trained(cache, tmp_path_factory):
    clips = _clips()
    method, stats = _pretrain(VipAntConfig(**TINY), clips, tmp_path_factory.mktemp("work"), cache)
    return method, clips, stats


@pytest.fixture(scope="module")
def saved(trained, tmp_path_factory):
    method, _, _ = trained
    directory = tmp_path_factory.mktemp("saved") / "vip_ant"
    method.save(directory)
    return directory


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
    assert config.batch_size == 432 and config.lr == 5e-4 and config.weight_decay == 1e-6 and config.grad_clip == 0
    assert (config.optimizer, config.lars_lr_weights, config.lars_lr_biases, config.warmup_epochs) == ("lars", 0.2, 4.8e-3, 10)
    assert config.epochs == 25 and config.frame_resize == "pil"
    assert config.frames == 1000 and tuple(config.stride) == (16, 24) and config.num_mel_bins == 128
    default = VipAntConfig()
    assert default.frames == 100 and default.clip == "synth://clip" and default.synth_clip_pairs == "captions"
    assert default.grad_clip == 0 and default.optimizer == "adam" and default.frame_resize == "torch"
    assert (default.fbank_mean, default.fbank_std) == (FBANK_MEAN, FBANK_STD) == (-4.93839311, 5.75751113)


def test_fbank_images_are_normalized_with_vipant_statistics():
    windows = segment_windows(torch.from_numpy(_clips().audio[:1]), VipAntConfig())
    raw = torch.nn.functional.pad(batched_fbank(windows), (0, 0, 0, 2))
    torch.testing.assert_close(fbank_images(windows, VipAntConfig()), (raw + 4.93839311) / 5.75751113)
    other = VipAntConfig(fbank_mean=0.0, fbank_std=2.0)
    torch.testing.assert_close(fbank_images(windows, other), raw / 2.0)


@pytest.mark.parametrize("change, words", [
    ({"segment_frames": 16}, "32 FBANK frames"),
    ({"clip": "synth://clap"}, "synth://clip"),
    ({"synth_clip_pairs": "labels"}, "captions, latent_events"),
])
def test_validate_rejects_settings_that_cannot_work(change, words):
    assert words in user_error(VipAnt.validate, VipAntConfig(**{**TINY, **change}))


@pytest.mark.parametrize("change, words", [
    ({"window_seconds": 0.0}, "vip_ant.window_seconds must be > 0"),
    ({"batch_size": 1}, "vip_ant.batch_size must be >= 2"),
    ({"fbank_std": 0.0}, "vip_ant.fbank_std must be > 0"),
    ({"stride": [16, 0]}, "vip_ant.stride must be >= 1"),
    ({"synth_clip_pairs": "labels"}, "vip_ant.synth_clip_pairs must be one of 'captions', 'latent_events'"),
])
def test_build_rejects_settings_out_of_range(change, words):
    assert words in user_error(build, VipAntConfig, {**TINY, **change}, "vip_ant")


def test_every_numeric_setting_declares_its_range():
    assert unranged_fields(VipAntConfig) == []
    message = user_error(build, VipAntConfig, {"curation_top_k": 0}, "vip_ant")
    assert message.startswith("vip_ant.curation_top_k must be >= 1, got 0")


def test_validate_accepts_the_defaults_and_the_paper_preset():
    VipAnt.validate(VipAntConfig())
    VipAnt.validate(build(VipAntConfig, {"preset": "paper"}, "vip_ant"))


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


def test_save_writes_safetensors_json_and_a_pretrained_clip_folder(trained, saved):
    method, _, _ = trained
    names = {p.name for p in saved.iterdir()}
    assert names == {MethodState.TENSORS, MethodState.EXTRA, "clip"}
    assert {"config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json"} <= {
        p.name for p in (saved / "clip").iterdir()}
    tensors = load_file(str(saved / MethodState.TENSORS))
    assert tensors and all(k.startswith("net.") and v.is_floating_point() for k, v in tensors.items())
    extra = MethodState.load(saved).extra
    assert extra["geometry"] == {"frames": 100, "mels": 128, "stride": [16, 24]}
    assert extra["history"]["loss_va"] == pytest.approx(method.history["loss_va"])
    assert extra["clip"]["name"] == "synth://clip" and extra["clip"]["synth_clip_pairs"] == "captions"
    clip_weights = load_file(str(saved / "clip" / "model.safetensors"))
    weights = method.clip.model.state_dict()
    shared = set(weights) & set(clip_weights)
    assert len(shared) >= 0.9 * len(weights)  # safetensors drops tied duplicates only
    for name in shared:
        assert torch.equal(clip_weights[name], weights[name]), name


def test_a_fresh_instance_loads_identical_embeddings_without_any_cache(trained, saved, tmp_path):
    method, clips, _ = trained
    restored = VipAnt(VipAntConfig(**TINY), seed=0, cache_dir=tmp_path / "fresh-cache")
    restored.load(saved)
    assert not (tmp_path / "fresh-cache").exists()
    for modality, batch in (("audio", torch.from_numpy(clips.audio[:4])), ("visual", torch.from_numpy(clips.visual[:4])),
                            ("text", clips.text[:4])):
        assert torch.equal(method.encode(modality, batch), restored.encode(modality, batch)), modality
    assert restored.history["loss_va"] == pytest.approx(method.history["loss_va"])


def test_load_state_needs_the_clip_and_restores_the_audio_vit_on_top_of_it(trained, saved):
    method, clips, _ = trained
    with pytest.raises(RuntimeError, match="load"):
        VipAnt(VipAntConfig(**TINY)).load_state(method.state())
    restored = VipAnt(VipAntConfig(**TINY))
    restored.load(saved)
    restored.net = None
    restored.load_state(MethodState.load(saved))
    batch = torch.from_numpy(clips.audio[:2])
    assert torch.equal(method.encode("audio", batch), restored.encode("audio", batch))


def test_load_rejects_a_different_audio_geometry(saved):
    other = VipAnt(VipAntConfig(**{**TINY, "stride": (16, 16)}))
    with pytest.raises(UserError, match="stride"):
        other.load(saved)


def test_load_without_a_clip_folder_is_a_user_error(trained, tmp_path):
    method, _, _ = trained
    method.state().save(tmp_path)
    assert "no CLIP folder" in user_error(VipAnt(VipAntConfig(**TINY)).load, tmp_path)


def test_synth_clip_trains_on_captions_of_the_first_half_only(trained, cache):
    method, clips, _ = trained
    frames, captions = method.clip_pairs(clips, clips.visual)
    assert captions == [c for clip in clips.captions[:N // 2] for c in clip]
    assert np.array_equal(frames[0], clips.visual[0, 0])  # ceil(T/2) - 1 = 0 for T = 2
    assert len(list(cache.glob("backbones/synth-clip-*"))) == 1


def test_caption_pairs_never_look_at_the_event_labels(trained):
    method, clips, _ = trained
    without = _clips()
    without.labels = {"classes": without.labels["classes"]}
    frames, captions = method.clip_pairs(clips, clips.visual)
    frames2, captions2 = method.clip_pairs(without, without.visual)
    assert captions == captions2 and np.array_equal(frames, frames2)


def test_latent_event_pairs_train_another_clip_and_are_recorded(trained, cache, tmp_path):
    _, clips, _ = trained
    config = VipAntConfig(**{**TINY, "epochs": 1, "synth_clip_pairs": "latent_events"})
    method, _ = _pretrain(config, clips, tmp_path, cache)
    frames, captions = method.clip_pairs(clips, clips.visual)
    assert len(captions) == (N // 2) * T and all("on screen" in c for c in captions)
    assert np.array_equal(frames[1], clips.visual[0, 1])
    assert len(list(cache.glob("backbones/synth-clip-*"))) == 2
    assert method.state().extra["clip"]["synth_clip_pairs"] == "latent_events"
    no_events = _clips()
    no_events.labels = {}
    assert "synth_clip_pairs=captions" in user_error(method.clip_pairs, no_events, no_events.visual)


@pytest.mark.parametrize("mode", ["retrieved", "random"])
def test_curation_adds_an_audio_text_loss(cache, mode, tmp_path):
    clips = _clips()
    method, stats = _pretrain(VipAntConfig(**{**TINY, "epochs": 1, "curation": mode, "curation_epochs": 2}), clips,
                              tmp_path, cache)
    assert len(method.history["loss_at"]) == 2 and math.isfinite(stats["loss_at"])
    curves = read_epoch_stats(stats)  # loss_va over all 3 epochs, loss_at over the 2 curation epochs, after the first
    assert [e for e, _ in curves["loss_va"]] == [1, 2, 3] and [e for e, _ in curves["loss_at"]] == [2, 3]
    assert [v for _, v in curves["loss_at"]] == method.history["loss_at"]
    assert 0.0 <= stats["curation_own_caption"] <= 1.0


def test_retrieval_picks_the_closest_captions():
    frames = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), dim=-1)
    pool = F.normalize(torch.tensor([[0.0, 1.0], [1.0, 0.1], [1.0, 0.9]]), dim=-1)
    assert curation.retrieve(frames, pool)[:, 0].tolist() == [1, 0, 2]
    assert curation.retrieve(frames, pool, top_k=2).shape == (3, 2)
    generator = torch.Generator().manual_seed(0)
    assert set(curation.random_captions(50, 3, generator).tolist()) <= {0, 1, 2}


def test_curation_without_captions_is_a_user_error(cache, tmp_path):
    clips = _clips()
    clips.captions, clips.text = None, None
    assert "captions" in user_error(_pretrain, VipAntConfig(**{**TINY, "curation": "retrieved"}), clips, tmp_path, cache)


def test_feature_level_corpus_is_rejected_in_one_line(cache, tmp_path):
    clips = _clips()
    clips.audio = np.zeros((N, T, 128), np.float32)
    assert "raw" in user_error(_pretrain, VipAntConfig(**TINY), clips, tmp_path, cache)


def test_pretraining_is_deterministic(trained, cache, tmp_path):
    method, clips, _ = trained
    again, _ = _pretrain(VipAntConfig(**TINY), clips, tmp_path, cache)
    batch = torch.from_numpy(clips.audio[:4])
    assert torch.equal(method.encode("audio", batch), again.encode("audio", batch))


def test_a_local_clip_folder_is_used_as_is(trained, cache, tmp_path):
    _, clips, _ = trained
    folder = next((cache / "backbones").glob("synth-clip-*"))
    count = len(list(cache.glob("backbones/synth-clip-*")))
    method, _ = _pretrain(VipAntConfig(**{**TINY, "clip": str(folder), "epochs": 1}), clips, tmp_path, cache)
    assert method.encode("visual", torch.from_numpy(clips.visual[:2])).shape == (2, T, method.clip.dim)
    assert len(list(cache.glob("backbones/synth-clip-*"))) == count
    assert method.state().extra["clip"] == {"name": str(folder), "synth_clip_pairs": None, "dim": method.clip.dim}


def test_method_seeds_share_one_synthetic_clip(trained, cache, tmp_path):
    method, clips, _ = trained
    count = len(list(cache.glob("backbones/synth-clip-*")))
    other, _ = _pretrain(VipAntConfig(**{**TINY, "epochs": 1}), clips, tmp_path, cache, seed=1)
    assert len(list(cache.glob("backbones/synth-clip-*"))) == count
    assert torch.equal(other.encode("text", clips.text[:3]), method.encode("text", clips.text[:3]))


def test_logit_scale_is_unclamped_by_default_and_clamped_in_the_loss_when_asked() -> None:
    import math

    from torch import nn

    from avtbench_plugins.methods.vip_ant.model import VipAntAudio

    audio, image = torch.randn(6, 8), torch.randn(6, 8)
    free = VipAntAudio(nn.Identity(), VipAntConfig(logit_scale_init=math.log(300.0)))
    capped = VipAntAudio(nn.Identity(), VipAntConfig(logit_scale_init=math.log(300.0), logit_scale_max=50.0))
    reference = VipAntAudio(nn.Identity(), VipAntConfig(logit_scale_init=math.log(50.0)))
    assert not torch.allclose(free.loss_va(audio, image), capped.loss_va(audio, image))
    assert torch.allclose(capped.loss_va(audio, image), reference.loss_va(audio, image))
    capped.loss_va(audio, image).backward()
    assert capped.logit_scale_va.grad == 0, "beyond the cap the scale gets no gradient, as with torch's clamp"


# ---------------------------------------------------------------------------------- streaming (plugin API 3)



def _counted(clips: Clips) -> list[int]:
    reads: list[int] = []
    clips.audio, clips.visual = CountingRows(clips.audio, reads), CountingRows(clips.visual, reads)
    clips.labels = {k: CountingRows(v, reads) for k, v in clips.labels.items()}
    return reads



def test_pretraining_reads_the_corpus_in_bounded_blocks(cache, tmp_path, no_memmaps):
    assert VipAnt.plugin_api == "3"
    clips = _clips(n=300, steps=1)
    reads = _counted(clips)
    config = VipAntConfig(**{**TINY, "synth_clip_pairs": "latent_events", "curation": "retrieved", "max_steps": 3})
    method, stats = _pretrain(config, clips, tmp_path, cache)
    assert reads and max(reads) <= 256 and sum(reads) >= 300
    assert len(method.history["loss_va"]) == 1 and not method.history["loss_at"]  # 3 steps: one part of an epoch
    assert {p.name for p in tmp_path.glob("*.npy")} == {"vip_ant_frames.npy", "vip_ant_fbank.npy"}
    assert math.isfinite(stats["loss_va"])
    with pytest.raises(AssertionError, match="memory map"):
        np.load(tmp_path / "vip_ant_frames.npy", mmap_mode="r")


def test_max_steps_bounds_both_stages_and_lazy_arrays_give_the_same_numbers(cache, tmp_path, no_memmaps):
    config = VipAntConfig(**{**TINY, "epochs": 1, "curation": "random", "curation_epochs": 3, "max_steps": 7})
    plain, _ = _pretrain(config, _clips(), tmp_path / "plain", cache)
    lazy_clips = _clips()
    lazy_clips.audio, lazy_clips.visual = MemoryRows(lazy_clips.audio), MemoryRows(lazy_clips.visual)
    lazy, _ = _pretrain(config, lazy_clips, tmp_path / "lazy", cache)
    assert len(plain.history["loss_va"]) == 3 and len(plain.history["loss_at"]) == 2  # 3 steps per epoch: 3 + 3 + 1
    batch = torch.from_numpy(_clips().audio[:3])
    assert torch.equal(plain.encode("audio", batch), lazy.encode("audio", batch))


def test_retrieval_reads_the_pool_in_blocks_and_finds_what_one_product_finds(tmp_path):
    generator = torch.Generator().manual_seed(0)
    frames = F.normalize(torch.randn(70, 8, generator=generator), dim=-1)
    pool = F.normalize(torch.randn(100, 8, generator=generator), dim=-1)
    with NpyWriter(tmp_path / "pool.npy", tuple(pool.shape)) as out:
        out.write(0, pool.numpy())
    whole = (frames @ pool.T).topk(3, dim=1).indices
    assert curation.spans(100, 16)[-1] == (80, 100)  # a short last block joins the one before it
    assert torch.equal(curation.retrieve(frames, NpyRows(tmp_path / "pool.npy"), 3, chunk=32, block=16), whole)
    assert torch.equal(curation.retrieve(frames, pool, 150, block=16), (frames @ pool.T).topk(100, dim=1).indices)
