"""The unified_vq settings of CMG's ablations: `alignment` (Table 4, Cross-CPC vs InfoNCE; was `cpc_mode`) and the
codebook switches of Figure 2 (`mm_ema`, `cross_commitment`, `code_reset`), each on by default (the reference)."""
from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F

from avtbench import config as cfg
from avtbench.api import UserError
from avtbench.plan import checkpoint_key
from avtbench_plugins.methods.unified_vq.config import UnifiedVQConfig
from avtbench_plugins.methods.unified_vq.cpc import CrossCPC, PooledInfoNCE
from avtbench_plugins.methods.unified_vq.method import UnifiedVQ
from avtbench_plugins.methods.unified_vq.quantizer import UnifiedCodebook

from .test_unified_vq import make_corpus, pretrained, tiny_config

SWITCHES = ("mm_ema", "cross_commitment", "code_reset")


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, one_thread: None) -> None:
    monkeypatch.setenv("AVTBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "avtbench-cache"))


def av_config(**overrides: object) -> UnifiedVQConfig:
    """Tiny audio-visual pretraining (no text backbone to build) that re-seeds codes within its 4 batches."""
    return tiny_config(**{"modalities": "audio,visual", "reset_after": 1, "active_window": 2, **overrides})


# ---------------------------------------------------------------- alignment (Table 4)


def test_pooled_infonce_is_symmetric_infonce_on_time_means_and_blind_to_time_order() -> None:
    g = torch.Generator().manual_seed(0)
    a, v = torch.randn(4, 5, 6, generator=g), torch.randn(4, 5, 6, generator=g)
    loss, _ = PooledInfoNCE(("audio", "visual"), temperature=0.5)({"audio": a, "visual": v})
    pa, pv = F.normalize(a.mean(1), dim=-1), F.normalize(v.mean(1), dim=-1)
    s = pa @ pv.t() / 0.5
    by_hand = 0.5 * (-s.diagonal() + s.logsumexp(1)).mean() + 0.5 * (-s.diagonal() + s.logsumexp(0)).mean()
    assert torch.allclose(loss, by_hand, atol=1e-6)
    shuffled = torch.randperm(5, generator=g)
    feats, reordered = {"audio": a, "visual": v}, {"audio": a[:, shuffled], "visual": v[:, shuffled]}
    assert torch.allclose(PooledInfoNCE(("audio", "visual"))(reordered)[0], PooledInfoNCE(("audio", "visual"))(feats)[0])
    cpc = CrossCPC(("audio", "visual"), dim=6, context_dim=6, layers=1)
    assert not torch.allclose(cpc(reordered, torch.Generator().manual_seed(1))[0], cpc(feats, torch.Generator().manual_seed(1))[0])


def test_alignment_infonce_trains_another_model_than_cpc() -> None:
    corpus = make_corpus(n=16)
    cpc, nce = (pretrained(av_config(alignment=mode), corpus) for mode in ("cpc", "infonce"))
    assert cfg.build(UnifiedVQConfig, {}, "unified_vq").alignment == "cpc"
    for method, kind in ((cpc, CrossCPC), (nce, PooledInfoNCE)):
        assert isinstance(method.model.cpc, kind)
    assert not torch.equal(cpc.model.codebook.embedding, nce.model.codebook.embedding)
    audio = torch.from_numpy(corpus.audio[:3])
    assert nce.encode("audio", audio).shape == cpc.encode("audio", audio).shape == (3, 5, 16)


def test_cpc_mode_is_read_as_alignment_with_one_warning(caplog: pytest.LogCaptureFixture,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cfg, "_SAID_RENAMED", set())
    caplog.set_level(logging.WARNING, logger="avtbench")
    document = cfg.parse_sets(["unified_vq.cpc_mode=infonce"])
    first = cfg.build(UnifiedVQConfig, document["unified_vq"], "unified_vq")
    second = cfg.build(UnifiedVQConfig, {"cpc_mode": "infonce", "preset": "tiny"}, "unified_vq")
    assert first.alignment == second.alignment == "infonce" and second.codebook_size == 16
    said = [r.getMessage() for r in caplog.records if "cpc_mode" in r.getMessage()]
    assert len(said) == 1 and "\n" not in said[0] and "use unified_vq.alignment" in said[0]
    assert cfg.to_dict(first) == cfg.to_dict(cfg.build(UnifiedVQConfig, {"alignment": "infonce"}, "unified_vq"))
    with pytest.raises(UserError, match="unified_vq.cpc_mode is the old name of unified_vq.alignment"):
        cfg.build(UnifiedVQConfig, {"cpc_mode": "cpc", "alignment": "infonce"}, "unified_vq")
    with pytest.raises(UserError, match="unified_vq.alignment must be one of 'cpc', 'infonce'"):
        cfg.build(UnifiedVQConfig, {"cpc_mode": "nce"}, "unified_vq")


def test_each_setting_changes_the_checkpoint_key_and_the_old_name_does_not() -> None:
    default = UnifiedVQConfig()
    assert (default.alignment, *(getattr(default, s) for s in SWITCHES)) == ("cpc", True, True, True)
    keys = {checkpoint_key(UnifiedVQ, cfg.build(UnifiedVQConfig, values, "unified_vq"), "corpus", 0)
            for values in ({}, {"alignment": "infonce"}, *({s: False} for s in SWITCHES))}
    assert len(keys) == 2 + len(SWITCHES)
    renamed = cfg.build(UnifiedVQConfig, {"cpc_mode": "infonce"}, "unified_vq")
    assert checkpoint_key(UnifiedVQ, renamed, "corpus", 0) == checkpoint_key(
        UnifiedVQ, UnifiedVQConfig(alignment="infonce"), "corpus", 0)


# ---------------------------------------------------------------- MM-EMA and the commitment (Figure 2)


def _two_code_book(**switches: bool) -> UnifiedCodebook:
    book = UnifiedCodebook(size=2, dim=2, decay=0.0, epsilon=0.0, **switches)
    book.embedding = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    book.ema_weight = book.embedding.clone()
    return book.train()


AUDIO = torch.tensor([[[0.2, 0.2], [8.0, 8.0], [10.0, 10.0]]])  # codes 0, 1, 1
VISUAL = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [9.0, 11.0]]])  # codes 0, 0, 1


def test_plain_ema_moves_a_code_to_the_mean_of_its_own_features_only() -> None:
    # decay 0: the last (visual) pass decides. Plain: code 0 <- mean(v0, v1), code 1 <- v2.
    plain = _two_code_book(mm_ema=False)
    out = plain({"audio": AUDIO, "visual": VISUAL})
    assert out.indices["audio"].tolist() == [[0, 1, 1]] and out.indices["visual"].tolist() == [[0, 0, 1]]
    assert torch.allclose(plain.ema_count, torch.tensor([2.0, 1.0]))
    assert torch.allclose(plain.embedding, torch.tensor([[0.5, 0.5], [9.0, 11.0]]))
    # MM-EMA: code 0 <- mean((v0 + a0) / 2, (v1 + a1) / 2) = [2.3, 2.3], code 1 <- (v2 + a2) / 2 = [9.5, 10.5]
    mm = _two_code_book()
    mm({"audio": AUDIO, "visual": VISUAL})
    assert torch.allclose(mm.embedding, torch.tensor([[2.3, 2.3], [9.5, 10.5]]))


def test_plain_ema_with_decay_is_vq_vae_ema_per_modality_pass() -> None:
    book = UnifiedCodebook(size=2, dim=2, decay=0.5, epsilon=0.0, mm_ema=False)
    book.embedding = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    book.ema_count = torch.tensor([1.0, 1.0])
    book.ema_weight = book.embedding.clone()
    book.train()({"audio": torch.tensor([[[1.0, 0.0], [9.0, 9.0]]]), "visual": torch.tensor([[[0.0, 1.0], [1.0, 1.0]]])})
    # audio pass: N = [1, 1]; W = .5 [[0,0],[10,10]] + .5 [[1,0],[9,9]] = [[.5,0],[9.5,9.5]]
    # visual pass (codes 0, 0): N = .5 [1,1] + .5 [2,0] = [1.5,.5]; W = .5 W + .5 [[1,2],[0,0]] = [[.75,1],[4.75,4.75]]
    assert torch.allclose(book.ema_count, torch.tensor([1.5, 0.5]))
    assert torch.allclose(book.ema_weight, torch.tensor([[0.75, 1.0], [4.75, 4.75]]))
    assert torch.allclose(book.embedding, torch.tensor([[0.5, 2.0 / 3.0], [9.5, 9.5]]))


def test_cross_commitment_off_is_the_vq_vae_commitment() -> None:
    features = {"audio": AUDIO, "visual": VISUAL}
    plain = _two_code_book(cross_commitment=False)(features).commitment
    cross = _two_code_book()(features).commitment
    codes = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    q = {"audio": codes[torch.tensor([[0, 1, 1]])], "visual": codes[torch.tensor([[0, 0, 1]])]}
    for m, o in (("audio", "visual"), ("visual", "audio")):
        own, other = F.mse_loss(features[m], q[m]), F.mse_loss(features[m], q[o])
        assert torch.allclose(plain[m], 0.25 * own)
        assert torch.allclose(cross[m], 0.25 * (2 * own + other))


# ---------------------------------------------------------------- code reset (Figure 2)


@pytest.mark.parametrize("code_reset", [True, False])
def test_an_idle_code_is_reseeded_after_reset_after_batches_only_with_code_reset(code_reset: bool) -> None:
    book = UnifiedCodebook(size=3, dim=2, reset_after=2, active_window=2, idle_counting="always",
                           code_reset=code_reset).eval()
    book.embedding = torch.tensor([[0.0, 0.0], [1.0, 1.0], [100.0, -100.0]])  # code 2 is never chosen
    before = book.embedding.clone()
    features = {"audio": torch.tensor([[[0.1, 0.0], [0.9, 1.0]]]), "visual": torch.tensor([[[0.0, 0.1], [1.0, 0.9]]])}
    for _ in range(3):  # idle -1 -> 0 -> 1 -> 2: not yet more than reset_after
        book(features)
        assert torch.equal(book.embedding, before)
    book(features)  # idle 3
    assert torch.equal(book.embedding[:2], before[:2])  # eval mode: no EMA step, only counting (idle_counting="always")
    if code_reset:
        assert float((book.embedding[2] - before[:2]).abs().amax(1).min()) <= 1 / 1024
        return
    for _ in range(6):
        book(features)
    assert torch.equal(book.embedding, before) and int(book.idle[2]) == 9


# ---------------------------------------------------------------- pretraining: every variant trains and records usage


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_pretrains_another_codebook_and_records_usage_per_epoch(switch: str) -> None:
    corpus = make_corpus(n=16)
    reference = pretrained(av_config(), corpus)
    method = pretrained(av_config(**{switch: False}), corpus)
    assert not getattr(method.model.codebook, switch) and getattr(reference.model.codebook, switch)
    assert not torch.equal(method.model.codebook.embedding, reference.model.codebook.embedding)
    history = method.usage.history
    assert len(history) == method.config.epochs and all(sum(row.values()) == 16 for row in history)
    assert all(row["dead"] < 16 for row in history)
    state = method.state()
    assert state.tensors["usage.masks"].shape == (method.config.epochs, 16)
