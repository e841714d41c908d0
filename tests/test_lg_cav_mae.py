"""LG-CAV-MAE's model and objective on hand-made inputs: masking, reconstruction targets, modality
LayerNorms, the contrastive and text terms, positions, the audio front end and the settings."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from avtbench_plugins.methods.lg_cav_mae import constants as C
from avtbench_plugins.methods.lg_cav_mae.config import LGCavMaeConfig
from avtbench_plugins.methods.lg_cav_mae.frontend import (
    fbank_inputs,
    frame_inputs,
    segment_windows,
)
from avtbench_plugins.methods.lg_cav_mae.layers import Block, sincos_2d
from avtbench_plugins.methods.lg_cav_mae.losses import (
    masked_mse,
    nce,
    patchify,
    pixel_targets,
)
from avtbench_plugins.methods.lg_cav_mae.method import LGCavMae
from avtbench_plugins.methods.lg_cav_mae.model import (
    CavMae,
    CavMaeSizes,
    audio_image,
    random_masking,
)
from avtbench_plugins.methods.lg_cav_mae.text import TextHead
from avtbench_plugins.methods.lg_cav_mae.training import TextTargets, step_losses

from avtbench.audio.fbank import fbank
from avtbench.config import build, unranged_fields

from .conftest import user_error

pytestmark = pytest.mark.usefixtures("one_thread")
SIZES = CavMaeSizes(audio_frames=64, mel_bins=32, image_size=32, width=16, specific_depth=1, shared_depth=2, heads=2,
                    decoder_width=16, decoder_depth=1, decoder_heads=2)


def _model(seed: int = 0) -> CavMae:
    torch.manual_seed(seed)
    return CavMae(SIZES).eval()


def _inputs(batch: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 64, 32, generator=g), torch.randn(batch, 3, 32, 32, generator=g)


# ---------------------------------------------------------------- masking and reconstruction


@pytest.mark.parametrize("length", [8, 16, 48])
def test_masking_keeps_exactly_a_quarter_of_the_tokens_and_restores_their_order(length):
    x = torch.arange(2 * length, dtype=torch.float32).reshape(2, length, 1).repeat(1, 1, 3)
    kept, mask, restore = random_masking(x, 0.75)
    assert kept.shape == (2, length // 4, 3)
    assert (mask.sum(dim=1) == length - length // 4).all()
    for b in range(2):
        visible = torch.nonzero(mask[b] == 0).flatten()
        assert sorted(kept[b, :, 0].tolist()) == x[b, visible, 0].tolist()
    shuffle = torch.argsort(restore, dim=1)
    assert torch.equal(torch.gather(x[..., 0], 1, shuffle)[:, :length // 4], kept[..., 0])


def test_the_encoder_sees_only_the_kept_quarter_and_the_decoder_every_patch():
    model = _model()
    fb, im = _inputs()
    encoded = model.encode_masked(fb, im, 0.75, 0.75)
    audio_tokens, visual_tokens = 2 * 4, 2 * 2  # (32 / 16) x (64 / 16) audio patches, (32 / 16)^2 visual
    assert encoded.joint.shape[1] == audio_tokens // 4 + visual_tokens // 4
    assert encoded.audio.shape[1] == audio_tokens // 4 and encoded.visual.shape[1] == visual_tokens // 4
    pred_a, pred_v = model.decode(encoded)
    assert pred_a.shape == (3, audio_tokens, 16 * 16) and pred_v.shape == (3, visual_tokens, 16 * 16 * 3)


def test_reconstruction_loss_counts_masked_patches_only():
    target = torch.zeros(1, 4, 2)
    mask = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    prediction = torch.tensor([[[1.0, 3.0], [100.0, 100.0], [2.0, 2.0], [-50.0, 7.0]]])
    assert masked_mse(prediction, target, mask).item() == pytest.approx(((1 + 9) / 2 + 4) / 2)
    moved = prediction.clone()
    moved[0, 1] = 0.0
    assert masked_mse(moved, target, mask).item() == pytest.approx(masked_mse(prediction, target, mask).item())


def test_model_loss_does_not_depend_on_predictions_of_visible_patches(monkeypatch):
    model = _model()
    fb, im = _inputs()
    torch.manual_seed(1)
    encoded = model.encode_masked(fb, im, 0.75, 0.75)
    first = model.reconstruction(fb, im, encoded, True)
    pred_a, pred_v = model.decode(encoded)
    spoiled_a = torch.where(encoded.mask_a[..., None] == 0, pred_a + 1000.0, pred_a)
    spoiled_v = torch.where(encoded.mask_v[..., None] == 0, pred_v + 1000.0, pred_v)
    monkeypatch.setattr(model, "decode", lambda e: (spoiled_a, spoiled_v))
    second = model.reconstruction(fb, im, encoded, True)
    assert [t.item() for t in second] == pytest.approx([t.item() for t in first])


def test_pixel_targets_are_normalised_per_patch():
    images = torch.rand(2, 3, 32, 32) * 5 + 3
    patches = patchify(images, 16)
    targets = pixel_targets(patches, True)
    assert torch.allclose(targets.mean(dim=-1), torch.zeros(2, 4), atol=1e-5)
    assert torch.allclose(targets.var(dim=-1), torch.ones(2, 4), atol=1e-3)
    expected = (patches[0, 1] - patches[0, 1].mean()) / (patches[0, 1].var() + 1e-6).sqrt()
    assert torch.allclose(targets[0, 1], expected)
    assert torch.equal(pixel_targets(patches, False), patches)


def test_patchify_follows_cav_mae_order():
    images = torch.arange(2 * 3 * 32 * 48, dtype=torch.float32).reshape(2, 3, 32, 48)
    patches = patchify(images, 16)
    assert patches.shape == (2, 6, 16 * 16 * 3)
    row, col, (y, x, c) = 1, 2, (5, 7, 2)  # patch (1, 2), pixel (5, 7) of channel 2
    assert patches[1, row * 3 + col, (y * 16 + x) * 3 + c] == images[1, c, row * 16 + y, col * 16 + x]


def test_audio_is_transposed_to_mel_rows_and_time_columns():
    fb = torch.randn(2, 64, 32)
    assert torch.equal(audio_image(fb)[:, 0], fb.transpose(1, 2))


# ---------------------------------------------------------------- encoder structure


def test_shared_blocks_use_the_modality_own_layernorms():
    block = Block(16, 2, 4.0)
    assert block.norms("a") == (block.norm1_a, block.norm2_a)
    assert block.norms("v") == (block.norm1_v, block.norm2_v)
    assert block.norms(None) == (block.norm1, block.norm2)
    model = _model()
    fb, im = _inputs()
    before = model.embed(fb, im)
    with torch.no_grad():
        for blk in model.blocks_u:
            blk.norm1_a.weight.mul_(3.0)
    after = model.embed(fb, im)
    assert not torch.allclose(before[0], after[0]) and torch.equal(before[1], after[1])
    torch.manual_seed(2)
    joint_before = model.encode_masked(fb, im, 0.75, 0.75).joint
    torch.manual_seed(2)
    assert torch.equal(joint_before, model.encode_masked(fb, im, 0.75, 0.75).joint)  # joint stream: norm1, not norm1_a


def test_positions_are_cav_mae_sincos_and_fixed():
    dim, rows, cols = 8, 2, 3
    omega = 1.0 / 10000 ** (np.arange(dim // 4) / (dim / 4))
    col, row = np.meshgrid(np.arange(cols), np.arange(rows))

    def half(pos):
        return np.concatenate([np.sin(np.outer(pos.ravel(), omega)), np.cos(np.outer(pos.ravel(), omega))], 1)

    expected = np.concatenate([half(col), half(row)], axis=1)
    assert np.allclose(sincos_2d(dim, rows, cols).numpy(), expected, atol=1e-6)
    model = _model()
    assert "pos_a" not in dict(model.named_parameters()) and model.pos_a.shape == (1, 2 * 4, 16)
    assert model.modality_a.requires_grad and model.decoder_modality_v.requires_grad and model.mask_token.requires_grad


# ---------------------------------------------------------------- contrastive and text terms


def test_contrastive_loss_on_a_hand_computed_pair_of_pairs():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    v = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    c = 1 / math.sqrt(2)
    logits = np.array([[c, 0.0], [c, 1.0]]) / 0.05  # rows audio, columns visual
    column = [-(logits[0, 0] - np.log(np.exp(logits[:, 0]).sum())), -(logits[1, 1] - np.log(np.exp(logits[:, 1]).sum()))]
    row = [-(logits[0, 0] - np.log(np.exp(logits[0]).sum())), -(logits[1, 1] - np.log(np.exp(logits[1]).sum()))]
    assert nce(a, v, 0.05).item() == pytest.approx(np.mean(column), rel=1e-5)
    assert nce(a, v, 0.05, bidirectional=True).item() == pytest.approx((np.mean(column) + np.mean(row)) / 2, rel=1e-5)


def test_shared_groups_are_not_negatives():
    x = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    y = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    grouped = nce(x, y, 0.5, groups=torch.tensor([0, 0, 1]))
    logits = F.normalize(x, dim=-1) @ F.normalize(y, dim=-1).T / 0.5
    expected = np.mean([-(logits[0, 0] - torch.logsumexp(logits[[0, 2], 0], 0)).item(),
                        -(logits[1, 1] - torch.logsumexp(logits[[1, 2], 1], 0)).item(),
                        -(logits[2, 2] - torch.logsumexp(logits[:, 2], 0)).item()])
    assert grouped.item() == pytest.approx(expected, rel=1e-5)


def test_text_terms_cover_triplet_clips_only_with_their_weights():
    cfg = build(LGCavMaeConfig, {"text_weight": 0.5, "contrast_weight": 0.25, "mae_weight": 2.0}, "lg_cav_mae")
    model, head = _model(), TextHead(16, 4, 8, shared=True)
    fb, im = _inputs(batch=4)
    texts = F.normalize(torch.randn(2, 4), dim=-1)
    targets = TextTargets(np.array([-1, 0, -1, 1, -1]), texts, torch.tensor([0, 1]))
    rows = torch.tensor([0, 1, 2, 3])
    torch.manual_seed(3)
    terms = step_losses(model, head, fb, im, rows, targets, cfg)
    torch.manual_seed(3)
    encoded = model.encode_masked(fb, im, cfg.mask_ratio_audio, cfg.mask_ratio_visual)
    a, v = encoded.audio.mean(1), encoded.visual.mean(1)
    assert terms["a2t"].item() == pytest.approx(nce(head(a[[1, 3]], "audio"), texts, 0.05).item(), rel=1e-5)
    assert terms["v2t"].item() == pytest.approx(nce(head(v[[1, 3]], "visual"), texts, 0.05).item(), rel=1e-5)
    assert terms["contrast"].item() == pytest.approx(nce(a, v, 0.05, cfg.contrast_bidirectional).item(), rel=1e-5)
    total = 2.0 * (terms["rec_a"] + terms["rec_v"]) + 0.25 * terms["contrast"] + 0.5 * (terms["a2t"] + terms["v2t"])
    assert terms["loss"].item() == pytest.approx(total.item(), rel=1e-6)
    lone = TextTargets(np.array([-1, 0, -1, -1, -1]), texts[:1], torch.tensor([0]))
    assert step_losses(model, head, fb, im, rows, lone, cfg)["a2t"].item() == 0.0


def test_text_head_is_one_two_layer_mlp_or_one_per_modality():
    shared, separate = TextHead(16, 4, 8, shared=True), TextHead(16, 4, 8, shared=False)
    assert [type(m).__name__ for m in shared.audio] == ["Linear", "GELU", "Linear"]
    x = torch.randn(2, 16)
    assert torch.equal(shared(x, "audio"), shared(x, "visual"))
    assert not torch.equal(separate(x, "audio"), separate(x, "visual"))
    assert len(shared.state_dict()) == 4 and len(separate.state_dict()) == 8


# ---------------------------------------------------------------- front end and settings


def test_fbank_uses_cav_mae_normalisation_and_pads_to_the_frame_count():
    cfg = build(LGCavMaeConfig, {"audio_frames": 112, "num_mel_bins": 128}, "lg_cav_mae")
    wave = torch.from_numpy(np.random.default_rng(0).uniform(-0.5, 0.5, 2 * 16000).astype(np.float32))
    windows = segment_windows(wave[None], cfg)
    assert windows.shape == (2, 16000) and torch.equal(windows[1], wave[16000:])
    got = fbank_inputs(windows, cfg)
    reference = fbank(windows[1], num_mel_bins=128, subtract_waveform_mean=True, backend="transformers")
    assert got.shape == (2, 112, 128)
    assert torch.allclose(got[1, :98], (reference + 5.081) / 4.4849, atol=2e-3)
    assert torch.allclose(got[1, 98:], torch.full((14, 128), 5.081 / 4.4849))


def test_a_window_longer_than_the_clip_is_the_whole_clip():
    cfg = build(LGCavMaeConfig, {"preset": "paper"}, "lg_cav_mae")
    wave = torch.randn(1, 10 * 16000)
    windows = segment_windows(wave, cfg)
    assert windows.shape == (10, 160000) and torch.equal(windows[3], wave[0])
    assert fbank_inputs(windows[:1], cfg).shape == (1, 1024, 128)


def test_frames_are_resized_and_normalised_with_imagenet_statistics():
    frames = np.full((2, 32, 32, 3), 255, dtype=np.uint8)
    pixels = frame_inputs(frames, 64)
    assert pixels.shape == (2, 3, 64, 64)
    assert torch.allclose(pixels[0, :, 5, 5], (1 - torch.tensor(C.IMAGE_MEAN)) / torch.tensor(C.IMAGE_STD), atol=1e-4)


def test_every_numeric_setting_declares_its_range():
    assert unranged_fields(LGCavMaeConfig) == []


def test_paper_preset_has_the_published_sizes():
    paper = build(LGCavMaeConfig, {"preset": "paper"}, "lg_cav_mae")
    assert (paper.width, paper.specific_depth, paper.shared_depth, paper.heads) == (768, 11, 1, 12)
    assert (paper.decoder_width, paper.decoder_depth, paper.decoder_heads) == (512, 8, 16)
    assert (paper.image_size, paper.audio_frames, paper.num_mel_bins, paper.lr) == (224, 1024, 128, 5e-4)
    assert (paper.mask_ratio_audio, paper.mask_ratio_visual, paper.contrast_tau, paper.visual_patch) == (0.75, 0.75, 0.05, 16)
    assert (paper.contrast_weight, paper.text_weight, paper.keep, paper.norm_pix_loss) == (0.01, 0.01, 30, True)
    assert not paper.contrast_bidirectional and paper.warmup_steps == 0
    assert (paper.epochs, paper.batch_size) == (25, 120)  # CAV-MAE's VGGSound script (config.py)
    assert (paper.lr_decay, paper.lr_decay_start, paper.lr_decay_every, paper.frame_resize) == (0.5, 10, 5, "pil")
    default = LGCavMaeConfig()
    # the default deviates from CAV-MAE's objective where a from-scratch model learnt no alignment (config.py)
    assert (default.mask_ratio_audio, default.mask_ratio_visual, default.contrast_tau) == (0.5, 0.5, 0.05)
    assert (default.contrast_weight, default.text_weight, default.keep, default.norm_pix_loss) == (1.0, 0.01, 30, True)
    assert default.contrast_bidirectional and default.space() == "concat"
    assert default.lr_decay == 1.0 and default.frame_resize == "torch"
    assert build(LGCavMaeConfig, {"text_guidance": False}, "lg_cav_mae").space() == "av"
    LGCavMae.validate(paper)
    LGCavMae.validate(default)


@pytest.mark.parametrize("change, words", [
    ({"audio_frames": 100}, "multiple of 16"),
    ({"width": 30, "heads": 4}, "divisible"),
    ({"captioner": "synth://blip"}, "synth://captioner"),
    ({"clap": "synth://clip"}, "synth://clap"),
    ({"captioner": "/no/such/captioner"}, "no folder"),
    ({"text_guidance": False, "embedding_space": "text"}, "text MLP"),
])
def test_validate_rejects_settings_that_cannot_work(change, words):
    assert words in user_error(LGCavMae.validate, build(LGCavMaeConfig, change, "lg_cav_mae"))


@pytest.mark.parametrize("change", [{"keep": 0}, {"keep": 120}, {"mask_ratio_audio": 1.0}, {"text_tau": 0}])
def test_build_rejects_settings_out_of_range(change):
    assert next(iter(change)) in user_error(build, LGCavMaeConfig, change, "lg_cav_mae")
