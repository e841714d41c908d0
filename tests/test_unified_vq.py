"""Tests of the `unified_vq` method plugin (CMG / Uni-Code) and the text backbone loader."""
from __future__ import annotations

import dataclasses
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch

from avtbench import config as cfg
from avtbench.api import Clips, SilentProgress, UserError
from avtbench.toolkit import read_epoch_stats
from avtbench.backbones.text import SYNTH_TEXT, load_text_encoder
from avtbench_plugins.methods.unified_vq import CARD, avtbench_cards
from avtbench_plugins.methods.unified_vq.club import CLUB
from avtbench_plugins.methods.unified_vq.config import UnifiedVQConfig
from avtbench_plugins.methods.unified_vq.cpc import CrossCPC, PooledInfoNCE
from avtbench_plugins.methods.unified_vq.encoders import (LinearDecoder, LinearSpecificEncoder, TemporalEncoder,
                                                          TextLSTM, VisualAttentionPool, VisualDecoder,
                                                          VisualSemanticEncoder, VisualSpecificEncoder)
from avtbench_plugins.methods.unified_vq.method import UnifiedVQ
from avtbench_plugins.methods.unified_vq.quantizer import UnifiedCodebook
from avtbench_plugins.methods.unified_vq.usage import CODEBOOK_PLOT, CodebookUsage, plot_codebook

WORDS = ["dog barking", "car engine", "church bell", "baby crying", "violin playing", "rain falling"]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    monkeypatch.setenv("AVTBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "avtbench-cache"))


def tiny_config(**overrides: object) -> UnifiedVQConfig:
    values = dict(codebook_size=16, embedding_dim=16, semantic_ff_dim=32, semantic_heads=2, audio_hidden=12,
                  text_hidden=12, video_hidden=8, text_lstm_hidden=8, synth_text_hidden=16, synth_text_layers=1, synth_text_steps=20,
                  club_hidden=16, club_positions=0, club_steps=2, cpc_context_dim=16, epochs=2, batch_size=8,
                  modalities="audio,visual,text")
    values.update(overrides)
    return UnifiedVQConfig(**values)  # type: ignore[arg-type]


def make_corpus(n: int = 24, steps: int = 5, audio_dim: int = 12, side: int = 3, channels: int = 6, classes: int = 4,
                seed: int = 0, latent: int = 8, noise: float = 0.1) -> Clips:
    """Clips whose audio and visual render one shared latent class through different random maps."""
    world = np.random.default_rng(1234)
    prototypes = world.normal(size=(classes, latent))
    to_audio = world.normal(size=(latent, audio_dim)) / np.sqrt(latent)
    to_visual = world.normal(size=(latent, channels)) / np.sqrt(latent)
    spatial = 1 + 0.3 * world.normal(size=(side, side, 1))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    z = prototypes[labels][:, None, :].repeat(steps, 1) + 0.2 * rng.normal(size=(n, steps, latent))
    audio = np.tanh(z @ to_audio) + noise * rng.normal(size=(n, steps, audio_dim))
    visual = np.maximum(np.tanh(z @ to_visual)[:, :, None, None, :] * spatial, 0)
    visual = visual + noise * rng.normal(size=visual.shape)
    text = [f"a {WORDS[k % len(WORDS)]} sound" for k in labels]
    return Clips(ids=[f"c{i}" for i in range(n)], audio=audio.astype(np.float32), visual=visual.astype(np.float32),
                 text=text, labels={"class": labels})


def pretrained(config: UnifiedVQConfig, corpus: Clips, seed: int = 0, device: str = "cpu") -> UnifiedVQ:
    method = UnifiedVQ(config, device=device, seed=seed)
    with tempfile.TemporaryDirectory() as workdir:
        method.pretrain(corpus, Path(workdir), SilentProgress())
    return method


# ---------------------------------------------------------------- plugin and config


def test_plugin_registers_method_and_paper_preset_builds() -> None:
    from importlib.metadata import EntryPoint

    from avtbench.plugins import discover

    assert avtbench_cards()[0] is CARD and UnifiedVQ.card is CARD and CARD.mismatch(UnifiedVQ) is None
    found = discover([EntryPoint("unified_vq", "avtbench_plugins.methods.unified_vq", "avtbench")])
    assert found.methods == {"unified_vq": UnifiedVQ} and not found.failures
    assert UnifiedVQ.name == "unified_vq" and UnifiedVQ.modalities == ("audio", "visual", "text")
    fields = {f.name for f in dataclasses.fields(UnifiedVQConfig)}
    assert set(UnifiedVQConfig.PRESETS["paper"]) <= fields
    paper = cfg.build(UnifiedVQConfig, {"preset": "paper"}, "unified_vq")
    assert (paper.epochs, paper.batch_size, paper.lr, paper.grad_clip) == (6, 80, 4e-4, 0.5)
    assert (paper.codebook_size, paper.embedding_dim, paper.video_hidden) == (400, 256, 2048)
    assert "finetune_encoder" not in fields  # no task reads it; it only changed the hash
    assert UnifiedVQConfig(modalities="audio,visual").prediction_steps == 1  # the code's K (the paper says 2)
    assert UnifiedVQConfig().club_average == "clip"
    assert UnifiedVQConfig(modalities="audio,visual,text").prediction_steps == 1
    assert UnifiedVQConfig().modalities == "audio,visual" and paper.modalities == "audio,visual,text"


def test_every_numeric_setting_declares_its_range() -> None:
    assert cfg.unranged_fields(UnifiedVQConfig) == []
    with pytest.raises(UserError) as info:
        cfg.build(UnifiedVQConfig, {"ema_decay": 1.5}, "unified_vq")
    message = str(info.value)
    assert "\n" not in message and message.startswith("unified_vq.ema_decay must be >= 0 and <= 1, got 1.5")
    for values, named in [({"cpc_steps": 5}, "unified_vq.cpc_steps must be >= 0 and <= 4"),
                          ({"batch_size": 1}, "unified_vq.batch_size must be >= 2"),
                          ({"lr_milestones": [10, 0]}, "unified_vq.lr_milestones must be >= 1"),
                          ({"preset": "nope"}, "unknown preset 'nope'")]:
        with pytest.raises(UserError, match=named):
            cfg.build(UnifiedVQConfig, values, "unified_vq")
    assert cfg.build(UnifiedVQConfig, {"cpc_steps": 0, "club_positions": 0, "grad_clip": 0}, "unified_vq").cpc_steps == 0


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize("side", [3, 7])
def test_visual_encoders_and_decoder_shapes(side: int) -> None:
    v = torch.rand(2, 4, side, side, 6)
    assert VisualAttentionPool(6)(v).shape == (2, 4, 6)
    assert VisualSemanticEncoder(6, 16, heads=2, ff_dim=8)(v).shape == (2, 4, 16)
    fmap, club_feature = VisualSpecificEncoder(6, 8, side, side)(v)
    assert fmap.shape[:2] == (2, 4) and fmap.shape[-1] == 8 and club_feature.shape == (2, 4, 6)
    assert fmap.shape[2:4] == (3, 3)
    assert VisualDecoder(8, 6, 16, side, side)(fmap, torch.rand(2, 4, 16)).shape == v.shape


def test_sequence_encoder_and_decoder_shapes() -> None:
    assert TemporalEncoder(12, 16, heads=2, ff_dim=8)(torch.rand(3, 5, 12)).shape == (3, 5, 16)
    lstm = TextLSTM(20, 8)
    assert lstm(torch.rand(3, 5, 20)).shape == (3, 5, 16) and lstm.output_dim == 16
    specific = LinearSpecificEncoder(12, 10)(torch.rand(3, 5, 12))
    assert specific.shape == (3, 5, 10)
    assert LinearDecoder(10, 12, 16)(specific, torch.rand(3, 5, 16)).shape == (3, 5, 12)


def test_encode_and_code_indices_shapes_for_each_modality() -> None:
    corpus = make_corpus(n=16)
    method = pretrained(tiny_config(epochs=1), corpus)
    batches = {"audio": torch.from_numpy(corpus.audio[:3]), "visual": torch.from_numpy(corpus.visual[:3]),
               "text": corpus.text[:3]}
    for modality, batch in batches.items():
        codes = method.encode(modality, batch)
        indices = method.code_indices(modality, batch)
        assert codes.shape == (3, 5, 16) and codes.dtype == torch.float32
        assert indices.shape == (3, 5) and indices.dtype == torch.int64
        assert int(indices.min()) >= 0 and int(indices.max()) < 16
        assert torch.equal(codes, method.model.codebook.embedding[indices])


def test_encode_returns_256_dim_codes_by_default_width() -> None:
    corpus = make_corpus(n=8)
    method = pretrained(tiny_config(embedding_dim=256, modalities="audio,visual", epochs=1), corpus)
    assert method.encode("visual", torch.from_numpy(corpus.visual[:2])).shape == (2, 5, 256)
    with pytest.raises(UserError):
        method.encode("text", ["a dog barking"])


def test_text_features_align_words_to_steps() -> None:
    corpus = make_corpus(n=8)
    method = pretrained(tiny_config(epochs=1), corpus)
    feats = method.token_features(["dog", "a dog barking sound now loudly"])
    assert feats.shape == (2, 5, 16)
    assert feats[0, 0].abs().sum() > 0 and feats[0, 1:].abs().sum() == 0
    assert (feats[1].abs().sum(-1) > 0).all()


# ---------------------------------------------------------------- codebook


def test_mm_ema_update_matches_hand_computation() -> None:
    book = UnifiedCodebook(size=2, dim=2, decay=0.5, epsilon=0.0)
    book.embedding = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    book.ema_count = torch.tensor([1.0, 1.0])
    book.ema_weight = book.embedding.clone()
    audio = torch.tensor([[[1.0, 0.0], [9.0, 9.0]]])   # chooses codes 0, 1
    visual = torch.tensor([[[0.0, 1.0], [1.0, 1.0]]])  # chooses codes 0, 0
    book.train()
    out = book({"audio": audio, "visual": visual})
    assert out.indices["audio"].tolist() == [[0, 1]] and out.indices["visual"].tolist() == [[0, 0]]
    # audio pass: N = .5*[1,1] + .5*[1,1] = [1,1]
    # code 0 gets (a0+v0)/2 = [0.5, 0.5]; code 1 gets (a1+v1)/2 = [5, 5]
    # W = .5*[[0,0],[10,10]] + .5*[[.5,.5],[5,5]] = [[.25,.25],[7.5,7.5]], e = W / [1,1]
    # visual pass: n = [2,0]; N = .5*[1,1] + .5*[2,0] = [1.5,.5]
    # code 0 gets (v0+a0)/2 + (v1+a1)/2 = [.5,.5] + [5,5] = [5.5,5.5]
    # W = .5*[[.25,.25],[7.5,7.5]] + .5*[[5.5,5.5],[0,0]] = [[2.875,2.875],[3.75,3.75]]
    # e = [[2.875/1.5]*2, [3.75/.5]*2]
    expected = torch.tensor([[2.875 / 1.5, 2.875 / 1.5], [7.5, 7.5]])
    assert torch.allclose(book.ema_count, torch.tensor([1.5, 0.5]))
    assert torch.allclose(book.ema_weight, torch.tensor([[2.875, 2.875], [3.75, 3.75]]))
    assert torch.allclose(book.embedding, expected)
    # losses used the codes from before the update
    assert torch.allclose(out.quantized["visual"], torch.zeros(1, 2, 2))


def test_mm_ema_three_modalities_weights_half_own_quarter_others() -> None:
    book = UnifiedCodebook(size=1, dim=1, decay=0.0, epsilon=0.0)
    book.ema_count = torch.tensor([1.0])
    flats = {"audio": torch.tensor([[4.0]]), "visual": torch.tensor([[8.0]]), "text": torch.tensor([[16.0]])}
    index = torch.tensor([0])
    book.ema_update(flats, {"audio": index, "visual": index, "text": index})
    # decay 0: only the last (text) pass survives: .5*16 + .25*4 + .25*8 = 11
    assert torch.allclose(book.embedding, torch.tensor([[11.0]]))


def test_idle_code_is_reseeded_near_an_active_code() -> None:
    book = UnifiedCodebook(size=4, dim=3, reset_after=3, active_window=2)
    book.embedding = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0], [-5.0, -5.0, -5.0]])
    book.ema_count = torch.ones(4)
    before = book.embedding.clone()
    generator = torch.Generator().manual_seed(0)
    used = [torch.tensor([0, 1])]
    for _ in range(4):
        assert len(book.reset_idle(used, generator)) == 0
    assert torch.equal(book.embedding, before)
    assert book.idle.tolist() == [0, 0, 3, 3]
    reset = book.reset_idle(used, generator)
    assert sorted(reset.tolist()) == [2, 3]
    assert torch.equal(book.embedding[:2], before[:2])
    for i in (2, 3):
        gaps = (book.embedding[i] - before[:2]).abs().amax(dim=1)
        assert float(gaps.min()) <= 1 / 1024
    assert book.idle.tolist() == [0, 0, 0, 0]


def test_cmcm_prefers_matching_clips() -> None:
    book = UnifiedCodebook(size=4, dim=2)
    book.embedding = torch.tensor([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0], [4.0, 4.0]])
    a = book.embedding[torch.tensor([[0, 0], [1, 1], [2, 2], [3, 3]])]
    matched = book.cmcm_loss({"audio": a, "visual": a.clone()})
    shuffled = book.cmcm_loss({"audio": a, "visual": a[torch.tensor([1, 2, 3, 0])]})
    assert float(matched) < float(shuffled)


# ---------------------------------------------------------------- CLUB and Cross-CPC


def _fit_club(x: torch.Tensor, y: torch.Tensor, steps: int = 300) -> CLUB:
    club = CLUB(x.shape[1], y.shape[1], hidden=32)
    opt = torch.optim.Adam(club.parameters(), lr=5e-3)
    for _ in range(steps):
        opt.zero_grad()
        club.learning_loss(x, y).backward()
        opt.step()
    return club


def test_club_bound_is_larger_for_dependent_inputs_and_near_zero_for_independent() -> None:
    torch.manual_seed(0)
    mixing = torch.randn(4, 3)

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = torch.randn(n, 4)
        return x, x @ mixing + 0.3 * torch.randn(n, 3), torch.randn(n, 3)

    x, dependent, independent = draw(2048)
    club_dep, club_ind = _fit_club(x, dependent), _fit_club(x, independent)
    g = torch.Generator().manual_seed(0)
    x, dependent, independent = draw(2048)  # evaluate on fresh samples: q_theta may overfit its training pairs
    with torch.no_grad():
        mi_dep = torch.stack([club_dep(x, dependent, g) for _ in range(10)]).mean()
        mi_ind = torch.stack([club_ind(x, independent, g) for _ in range(10)]).mean()
    assert float(mi_dep) > 2.0
    assert abs(float(mi_ind)) < 0.2
    assert float(mi_dep) > float(mi_ind) + 2.0


def test_club_clip_average_is_the_reference_formula_and_position_average_differs() -> None:
    """mi_est of CMG's CLUBSample_group: per clip, time-mean squared error over exp(time-mean logvar)."""
    torch.manual_seed(0)
    club = CLUB(3, 2, hidden=8)
    x, y = torch.randn(5, 4, 3), 3 * torch.randn(5, 4, 2)
    with torch.no_grad():
        mu, logvar = club.mu(x), club.logvar(x)
        perm = torch.randperm(5, generator=torch.Generator().manual_seed(7))
        by_clip = torch.stack([
            sum((-((mu[i, :, d] - y[i, :, d]) ** 2).mean() + ((mu[i, :, d] - y[perm[i], :, d]) ** 2).mean())
                / logvar[i, :, d].mean().exp() for d in range(2)) / 2
            for i in range(5)]).mean()
        clip = club(x, y, torch.Generator().manual_seed(7), average="clip")
        position = club(x, y, torch.Generator().manual_seed(7), average="position")
        one_step = [club(x[:, :1], y[:, :1], torch.Generator().manual_seed(7), average=a) for a in ("clip", "position")]
    assert torch.allclose(clip, by_clip, atol=1e-6)
    assert not torch.allclose(clip, position, rtol=0.05, atol=0)
    assert torch.allclose(*one_step, atol=1e-6)  # with one step per clip the two agree


def _toy_sequences(batch: int, steps: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    latent = torch.zeros(batch, steps, 4)
    latent[:, 0] = torch.randn(batch, 4, generator=generator)
    for t in range(1, steps):
        latent[:, t] = 0.9 * latent[:, t - 1] + 0.45 * torch.randn(batch, 4, generator=generator)
    return latent


def test_cross_cpc_loss_decreases_on_shared_signal() -> None:
    torch.manual_seed(0)
    to_audio, to_visual = torch.randn(4, 10), torch.randn(4, 7)
    enc_a, enc_v = torch.nn.Linear(10, 16), torch.nn.Linear(7, 16)
    cpc = CrossCPC(("audio", "visual"), dim=16, context_dim=16, layers=1, prediction_steps=2)
    params = [*enc_a.parameters(), *enc_v.parameters(), *cpc.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2)
    g = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(150):
        latent = _toy_sequences(32, 8, g)
        feats = {"audio": enc_a(latent @ to_audio + 0.1 * torch.randn(32, 8, 10)),
                 "visual": enc_v(latent @ to_visual + 0.1 * torch.randn(32, 8, 7))}
        loss, accuracy = cpc(feats, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert set(accuracy) == {"aa", "av", "va", "vv"}
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert last < 0.6 * first


def test_pooled_infonce_ablation_runs_and_prefers_aligned_pairs() -> None:
    x = torch.randn(8, 5, 16)
    nce = PooledInfoNCE(("audio", "visual"), temperature=0.1)
    aligned, _ = nce({"audio": x, "visual": x})
    shuffled, _ = nce({"audio": x, "visual": x[torch.randperm(8)]})
    assert float(aligned) < float(shuffled)
    corpus = make_corpus(n=12)
    method = pretrained(tiny_config(epochs=1, alignment="infonce"), corpus)
    assert method.encode("audio", torch.from_numpy(corpus.audio[:2])).shape == (2, 5, 16)


@pytest.mark.parametrize("steps", [1, 4])
def test_cross_cpc_prediction_steps_range(steps: int) -> None:
    cpc = CrossCPC(("audio", "visual", "text"), dim=8, context_dim=8, layers=1, prediction_steps=steps)
    feats = {m: torch.randn(4, 6, 8) for m in ("audio", "visual", "text")}
    loss, accuracy = cpc(feats)
    assert torch.isfinite(loss) and len(accuracy) == 9
    with pytest.raises(ValueError):
        CrossCPC(("audio", "visual"), dim=8, prediction_steps=5)


# ---------------------------------------------------------------- method: state, determinism, learning


def test_save_load_round_trip_through_safetensors(tmp_path: Path) -> None:
    corpus = make_corpus(n=16)
    config = tiny_config()
    method = pretrained(config, corpus)
    method.save(tmp_path / "saved")
    assert sorted(p.name for p in (tmp_path / "saved").iterdir()) == ["state.json", "tensors.safetensors"]
    restored = UnifiedVQ(config, seed=0)
    restored.load(tmp_path / "saved")
    batches = {"audio": torch.from_numpy(np.asarray(corpus.audio)), "visual": torch.from_numpy(np.asarray(corpus.visual)), "text": corpus.text}
    for modality, batch in batches.items():
        assert torch.equal(method.encode(modality, batch), restored.encode(modality, batch))
        assert torch.equal(method.code_indices(modality, batch), restored.code_indices(modality, batch))
    assert restored.usage is not None and restored.usage.history == method.usage.history
    assert len(restored.usage.history) == config.epochs
    svg = CODEBOOK_PLOT.draw(restored, tmp_path / "codebook.svg")
    assert ET.parse(svg).getroot().tag.endswith("svg")


def test_pretraining_is_deterministic_under_a_seed() -> None:
    corpus = make_corpus(n=20)
    first = pretrained(tiny_config(), corpus, seed=3)
    second = pretrained(tiny_config(), corpus, seed=3)
    a, b = first.model.state_dict(), second.model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    other = pretrained(tiny_config(), corpus, seed=4)
    assert not torch.equal(other.model.codebook.embedding, first.model.codebook.embedding)


def test_pretrain_reports_losses_and_codebook_usage(tmp_path: Path) -> None:
    corpus = make_corpus(n=16)
    method = UnifiedVQ(tiny_config(), seed=0)
    stats = method.pretrain(corpus, tmp_path, SilentProgress())
    for key in ("loss", "recon.audio", "commit.visual", "club.text", "cpc", "cmcm", "agree_av", "codes_dead"):
        assert key in stats and np.isfinite(stats[key])
    summary = method.usage.history[-1]
    assert set(summary) == {"audio_only", "visual_only", "text_only", "shared", "dead"}
    assert sum(summary.values()) == 16
    curves = read_epoch_stats(stats)  # per epoch: the losses and the usage the report's codebook section draws
    epochs = method.config.epochs
    assert [e for e, _ in curves["loss"]] == list(range(1, epochs + 1))
    assert {k: int(curves[f"codes_{k}"][-1][1]) for k in summary} == summary


def test_pretrain_rejects_missing_modality() -> None:
    corpus = make_corpus(n=8)
    corpus.text = None
    with pytest.raises(UserError, match="modalities"):
        pretrained(tiny_config(), corpus)


def test_audio_and_visual_codes_agree_after_pretraining() -> None:
    train = make_corpus(n=256, steps=5, seed=1, classes=4)
    config = tiny_config(modalities="audio,visual", codebook_size=32, embedding_dim=32, semantic_ff_dim=32,
                         batch_size=32, epochs=10, club_steps=1, lr=2e-3)
    method = pretrained(config, train, seed=0)
    test = make_corpus(n=128, steps=5, seed=2, classes=4)
    ia = method.code_indices("audio", torch.from_numpy(test.audio)).reshape(-1)
    iv = method.code_indices("visual", torch.from_numpy(test.visual)).reshape(-1)
    agreement = float((ia == iv).float().mean())
    pa = torch.bincount(ia, minlength=32).float() / len(ia)
    pv = torch.bincount(iv, minlength=32).float() / len(iv)
    chance = float((pa * pv).sum())
    assert agreement > max(2 * chance, chance + 0.15), (agreement, chance)


# ---------------------------------------------------------------- usage plot and text backbone


def test_codebook_usage_counts_and_svg(tmp_path: Path) -> None:
    usage = CodebookUsage(("audio", "visual"), 5)
    usage.observe({"audio": torch.tensor([0, 1]), "visual": torch.tensor([1, 2])})
    assert usage.end_epoch() == {"audio_only": 1, "visual_only": 1, "shared": 1, "dead": 2}
    usage.observe({"audio": torch.tensor([3]), "visual": torch.tensor([3])})
    usage.end_epoch()
    restored = CodebookUsage.from_tensor(("audio", "visual"), usage.to_tensor())
    assert restored.history == usage.history
    path = plot_codebook(restored.history, tmp_path / "usage.svg")
    root = ET.parse(path).getroot()
    text = path.read_text()
    assert root.tag.endswith("svg") and all(label in text for label in ("audio only", "visual only", "shared", "dead"))
    single = plot_codebook(restored.history[:1], tmp_path / "one.svg")
    assert "rect" in single.read_text()


def test_synth_text_encoder_is_built_once_and_loaded_through_from_pretrained(tmp_path: Path) -> None:
    tokenizer, model = load_text_encoder(SYNTH_TEXT, tmp_path, ["A dog barks.", "car engine"], hidden_size=16, num_layers=1)
    folders = list((tmp_path / "backbones" / "synth-text").iterdir())
    assert len(folders) == 1 and (folders[0] / "config.json").is_file() and (folders[0] / "tokenizer.json").is_file()
    ids = tokenizer(["a dog barks zebra"])["input_ids"][0]
    unk = tokenizer.convert_tokens_to_ids("[UNK]")
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert ids[1:4].count(unk) == 0 and ids[4] == unk
    assert model.config.hidden_size == 16 and not any(p.requires_grad for p in model.parameters())
    again = load_text_encoder(SYNTH_TEXT, tmp_path, ["A dog barks.", "car engine"], hidden_size=16, num_layers=1)
    assert again[1] is model


def test_text_encoder_that_cannot_load_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="local"):
        load_text_encoder("/no/such/folder/bert", tmp_path)


# ---------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_one_pretrain_step_on_cuda() -> None:
    corpus = make_corpus(n=8)
    method = pretrained(tiny_config(epochs=1, batch_size=8), corpus, device="cuda")
    assert next(method.model.parameters()).device.type == "cuda"
    codes = method.encode("audio", torch.from_numpy(corpus.audio[:2]))
    assert codes.shape == (2, 5, 16) and torch.isfinite(codes).all()
    assert method.code_indices("text", corpus.text[:2]).shape == (2, 5)
