"""unified_vq computes what CMG's reference code computes by default, and the intended forms one setting away.

Each test writes the reference's own expression (haihuangcode/CMG `code/src/model/main_model_2.py`) with our
module's weights and checks the setting's two forms against it and its intended counterpart.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from avtbench import config as cfg
from avtbench.api import UserError
from avtbench_plugins.methods.unified_vq.config import REFERENCE_BEHAVIOUR, UnifiedVQConfig
from avtbench_plugins.methods.unified_vq.encoders import VisualAttentionPool, _Residual
from avtbench_plugins.methods.unified_vq.method import UnifiedVQ
from avtbench_plugins.methods.unified_vq.quantizer import UnifiedCodebook
from avtbench_plugins.methods.unified_vq.vocabulary import (BERT_UNCASED_ANCHORS, BERT_UNCASED_SIZE, CMG_TOKEN_IDS,
                                                            KEPT_TOKEN_IDS, numbers_as_bert_uncased)

INTENDED = {"spatial_pool": "softmax", "residual_relu": "separate", "cmcm_normaliser": "cross_entropy",
            "token_filter": "none", "idle_counting": "train"}


def test_the_reference_behaviour_is_the_default_and_each_intended_form_one_setting_away() -> None:
    assert {k: getattr(UnifiedVQConfig(), k) for k in REFERENCE_BEHAVIOUR} == REFERENCE_BEHAVIOUR
    assert set(INTENDED) == set(REFERENCE_BEHAVIOUR)
    for name, intended in INTENDED.items():
        assert getattr(cfg.build(UnifiedVQConfig, {name: intended}, "unified_vq"), name) == intended
        with pytest.raises(UserError, match=f"unified_vq.{name} must be one of"):
            cfg.build(UnifiedVQConfig, {name: "nope"}, "unified_vq")
        for preset in ("paper", "tiny"):
            assert getattr(cfg.build(UnifiedVQConfig, {"preset": preset}, "unified_vq"), name) == REFERENCE_BEHAVIOUR[name]


def test_spatial_pool_sum_is_the_references_softmax_over_a_size_one_axis() -> None:
    torch.manual_seed(0)
    v = torch.rand(2, 3, 4, 4, 8)
    pool = VisualAttentionPool(8, spatial="sum")
    flat = v.reshape(6, 16, 8)
    mean = flat.mean(1)
    excited = flat * pool.excite(mean).unsqueeze(1) + flat
    query = torch.relu(pool.local_query(excited)) * torch.relu(pool.global_query(mean)).unsqueeze(1)
    reference_weights = nn.Softmax(dim=-1)(torch.tanh(pool.score(query))).transpose(2, 1)  # main_model_2.py:112
    assert torch.equal(reference_weights, torch.ones(6, 1, 16))
    out = pool(v)
    assert torch.allclose(out, torch.bmm(reference_weights, excited).reshape(2, 3, 8), atol=1e-6)
    out.square().sum().backward()
    attention = [*pool.local_query.parameters(), *pool.global_query.parameters(), *pool.score.parameters()]
    assert all(p.grad is None for p in attention) and all(p.grad is not None for p in pool.excite.parameters())

    softmax = VisualAttentionPool(8, spatial="softmax")
    softmax.load_state_dict(pool.state_dict())
    weights = torch.softmax(torch.tanh(softmax.score(query)).squeeze(-1), dim=-1)  # over the 16 positions
    assert torch.allclose(softmax(v), torch.bmm(weights.unsqueeze(1), excited).reshape(2, 3, 8), atol=1e-6)
    assert not torch.allclose(softmax(v), out)


def test_residual_relu_inplace_is_what_the_references_in_place_relu_computes() -> None:
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3, 3)
    inplace, separate = _Residual(4, "inplace"), _Residual(4, "separate")
    separate.load_state_dict(inplace.state_dict())
    conv3, conv1 = inplace.block[1], inplace.block[3]
    reference = nn.Sequential(nn.ReLU(True), conv3, nn.ReLU(True), conv1)  # main_model_2.py:46-52
    y = x.clone()
    expected = y + reference(y)  # main_model_2.py:56: the block's first ReLU overwrites y before the sum reads it
    assert torch.allclose(inplace(x), expected, atol=1e-6)
    assert torch.allclose(inplace(x), torch.relu(x) + inplace.block(x), atol=1e-6)
    assert torch.allclose(separate(x), x + separate.block(x), atol=1e-6)
    assert not torch.allclose(separate(x), expected)


def _reference_cmcm_pair(score: torch.Tensor, epsilon: float = 1e-5) -> torch.Tensor:
    """main_model_2.py:1083-1090, as written."""
    exp = torch.exp(score + torch.max(-score))
    sums = torch.sum(exp, dim=1)
    loss = 0
    for i in range(score.shape[0]):
        loss -= torch.log(exp[i, i] / (sums[i] + epsilon))
    return loss / score.shape[0]


def test_cmcm_sum_eps_is_the_references_normaliser_and_cross_entropy_under_eps_over_b_away() -> None:
    torch.manual_seed(0)
    score = -20 * torch.rand(8, 8, dtype=torch.float64)
    reference = UnifiedCodebook(size=4, dim=2, cmcm_normaliser="sum_eps")
    intended = UnifiedCodebook(size=4, dim=2, cmcm_normaliser="cross_entropy")
    assert abs(float(reference._match_loss(score) - _reference_cmcm_pair(score))) < 1e-12
    assert abs(float(intended._match_loss(score) - F.cross_entropy(score, torch.arange(8)))) < 1e-12
    gap = float(reference._match_loss(score) - intended._match_loss(score))
    assert 0 < gap < 1e-5 / 8  # every shifted exp is >= 1, so each row sums to >= B
    assert torch.isfinite(reference._match_loss(score * 100))  # the reference's exp overflows past a range of 709

    features = {"audio": torch.randn(4, 3, 2), "visual": torch.randn(4, 3, 2), "text": torch.randn(4, 3, 2)}
    intended.load_state_dict(reference.state_dict())
    a, b = reference.cmcm_loss(features), intended.cmcm_loss(features)
    assert 0 < float(a - b) < 1e-4


@pytest.mark.parametrize(("counting", "counts"), [("always", True), ("train", False)])
def test_idle_counting_in_eval_mode(counting: str, counts: bool) -> None:
    book = UnifiedCodebook(size=6, dim=2, idle_counting=counting).eval()
    embedding = book.embedding.clone()
    book({"audio": torch.randn(2, 3, 2), "visual": torch.randn(2, 3, 2)})
    assert bool((book.idle >= 0).any()) is counts  # -1 until counted
    assert torch.equal(book.embedding, embedding)  # no EMA step outside training either way


# ---------------------------------------------------------------- the caption vocabulary


def _bert_like_vocabulary(folder: Path, words: dict[str, int]) -> Path:
    """A vocab.txt numbered as bert-base-uncased is at its anchors and at `words`, filler elsewhere."""
    tokens = [f"[unused{i}]" for i in range(BERT_UNCASED_SIZE)]
    for token, index in (*BERT_UNCASED_ANCHORS, *words.items()):
        tokens[index] = token
    path = folder / "vocab.txt"
    path.write_text("\n".join(tokens) + "\n")
    return path


class _IdsAsFeatures(nn.Module):
    """A stand-in text encoder whose feature of a token is its id (so the kept tokens can be read back)."""

    def forward(self, input_ids: torch.Tensor, **_: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(last_hidden_state=input_ids.float().unsqueeze(-1).expand(*input_ids.shape, 2))


def _kept_ids(method: UnifiedVQ, caption: str) -> list[int]:
    return [int(i) for i in method.token_features([caption])[0, :, 0].tolist()]


def test_token_filter_keeps_cmg_words_with_bert_uncased_numbering(tmp_path: Path) -> None:
    from transformers import BertTokenizer

    outside = [i for i in range(5000, BERT_UNCASED_SIZE) if i not in KEPT_TOKEN_IDS][:3]
    inside = sorted(KEPT_TOKEN_IDS - {1037, 2158, 3899})[-1]
    words = {"man": 2158, "dog": 3899, "zebra": outside[0], "ze": inside, "##bu": outside[1], "xx": outside[2]}
    assert {2158, 3899, 1037} <= KEPT_TOKEN_IDS and len(CMG_TOKEN_IDS) == 1046 and 0 not in KEPT_TOKEN_IDS
    tokenizer = BertTokenizer(str(_bert_like_vocabulary(tmp_path, words)))
    assert numbers_as_bert_uncased(tokenizer.get_vocab())
    assert tokenizer.tokenize("a zebra zebu") == ["a", "zebra", "ze", "##bu"]
    methods = {}
    for token_filter in ("reference", "none"):
        methods[token_filter] = UnifiedVQ(UnifiedVQConfig(token_filter=token_filter, text_steps=5))
        methods[token_filter]._text_backbone = (tokenizer, _IdsAsFeatures())
    # pretrain.py:106-109 drops the word outside cnt.pkl, and the word BERT splits ("zebu": ze ##bu) whole
    assert _kept_ids(methods["reference"], "a man zebra zebu dog") == [1037, 2158, 3899, 0, 0]
    assert _kept_ids(methods["none"], "a man zebra zebu dog") == [1037, 2158, outside[0], inside, outside[1]]
    # BERT reads 25 tokens with [CLS] and [SEP]: the 24th word is cut before the filter sees it
    long = " ".join(["xx"] * 22 + ["man", "dog"])
    assert _kept_ids(methods["reference"], long) == [2158, 0, 0, 0, 0]
    assert _kept_ids(methods["none"], long) == [outside[2]] * 5


def test_token_filter_has_nothing_to_filter_by_in_another_numbering(tmp_path: Path) -> None:
    from transformers import BertTokenizer

    vocabulary = tmp_path / "vocab.txt"
    vocabulary.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "man", "zebra"]) + "\n")
    tokenizer = BertTokenizer(str(vocabulary))
    assert not numbers_as_bert_uncased(tokenizer.get_vocab())
    method = UnifiedVQ(dataclasses.replace(UnifiedVQConfig(), text_steps=4))
    method._text_backbone = (tokenizer, _IdsAsFeatures())
    assert method.reference_tokens() is None and _kept_ids(method, "a man zebra") == [5, 6, 7, 0]
