"""`synth://text`: the synthetic world's own small word-level BERT, trained by masked language modelling.

It is trained once per set of training texts (the corpus captions) and size, with BERT's
masked-language-model objective, so that its token features carry the synthetic world's
co-occurrence structure as a pretrained BERT's carry English; it is saved in the Hugging Face
format under `<cache>/backbones/synth-text/<key>/` and loaded back by `avtbench.backbones.text`
through the same `from_pretrained` path that real checkpoints take.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from avtbench.backbones.synthetic import publish_backbone
from avtbench.backbones.tokenizer import BASE_WORDS, SPECIAL_TOKENS, build_word_tokenizer, caption_words
from avtbench.hashing import SPACED, hash_json
from avtbench.toolkit.rng import seeded_rng

SYNTH_TEXT_VERSION = 3
"""Bump when the recipe changes, so that old cache folders are not reused."""


@dataclass(frozen=True)
class MlmSchedule:
    """How `synth://text` is trained: BERT's masked-language-model objective (Devlin et al. 2019,
    Sec. 3.1: 15 % of the word tokens chosen, of which 80 % become [MASK], 10 % a random word and
    10 % stay) with AdamW, a linear warm-up over the first `warmup` fraction of the steps and a
    linear decay to zero (BERT's schedule, Appendix A.2), for `steps` mini-batches of distinct
    training texts. Sized so that a 256-wide model trains on a corpus's captions in seconds on 2
    CPU cores (BERT itself: 1M steps of 256 sequences at lr 1e-4)."""

    steps: int = 300
    batch_size: int = 32
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup: float = 0.1
    mask_prob: float = 0.15


def synth_text_key(words: list[str], texts: list[str], hidden_size: int, num_layers: int, seed: int,
                   schedule: MlmSchedule) -> str:
    payload = {"words": words, "texts": hashlib.sha256("\n".join(texts).encode()).hexdigest(), "hidden": hidden_size,
               "layers": num_layers, "seed": seed, "schedule": asdict(schedule), "v": SYNTH_TEXT_VERSION}
    return hash_json(payload, form=SPACED)


def ensure_synth_text(cache_dir: Path, texts: list[str], hidden_size: int = 768, num_layers: int = 2, seed: int = 0,
                      schedule: MlmSchedule = MlmSchedule()) -> Path:
    """Folder of the synthetic text encoder trained on `texts`, built on first use.

    Tokenizer: `build_word_tokenizer` over BASE_WORDS + the words of `texts`. Model: a `BertModel`
    with `num_layers` layers of width `hidden_size` and a small feed-forward (2 x hidden), seeded
    with `seed` and trained as a `BertForMaskedLM` on the distinct `texts` (see `MlmSchedule`);
    `avtbench.json` beside the weights records the loss of every step.
    """
    distinct = sorted({str(t).strip() for t in texts} - {""})
    vocab_words = sorted(set(BASE_WORDS) | set(caption_words(distinct)))
    key = synth_text_key(vocab_words, distinct, hidden_size, num_layers, seed, schedule)
    target = Path(cache_dir) / "backbones" / "synth-text" / key
    if (target / "config.json").is_file() and (target / "tokenizer.json").is_file():
        return target
    tokenizer = build_word_tokenizer(vocab_words)
    model, losses = _train_mlm(tokenizer, distinct, hidden_size, num_layers, seed, schedule)
    record = {"texts": len(distinct), "words": len(vocab_words), "schedule": asdict(schedule), "step_losses": losses}
    return publish_backbone(target, model, tokenizer, None, record)


def _train_mlm(tokenizer: Any, texts: list[str], hidden_size: int, num_layers: int, seed: int,
               schedule: MlmSchedule) -> tuple[Any, list[float]]:
    """A seeded `BertModel` whose weights are those of a `BertForMaskedLM` trained on `texts`."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertModel

    vocab = tokenizer.get_vocab()
    heads = next(h for h in (12, 8, 6, 4, 2, 1) if hidden_size % h == 0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden_size, num_hidden_layers=num_layers,
                        num_attention_heads=heads, intermediate_size=2 * hidden_size, max_position_embeddings=128,
                        pad_token_id=vocab["[PAD]"])
    losses: list[float] = []
    with seeded_rng(seed):
        encoder = BertModel(config)
        mlm = BertForMaskedLM(config)
        mlm.bert.load_state_dict(encoder.state_dict(), strict=False)
        if texts and schedule.steps > 0:
            with torch.enable_grad():
                losses = _fit_mlm(mlm, tokenizer, texts, schedule, torch.Generator().manual_seed(seed))
        encoder.load_state_dict(mlm.bert.state_dict(), strict=False)
    return encoder.eval(), losses


def _fit_mlm(mlm: Any, tokenizer: Any, texts: list[str], schedule: MlmSchedule, generator: Any) -> list[float]:
    import torch

    encoded = tokenizer(texts, padding=True, truncation=True, max_length=128, return_special_tokens_mask=True,
                        return_tensors="pt")
    maskable = encoded["attention_mask"].bool() & ~encoded.pop("special_tokens_mask").bool()
    optimizer = torch.optim.AdamW(mlm.parameters(), lr=schedule.lr, weight_decay=schedule.weight_decay)
    warmup = max(1, round(schedule.warmup * schedule.steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (schedule.steps - step) / max(1, schedule.steps - warmup))))
    mlm.train()
    losses = []
    for _ in range(schedule.steps):
        rows = torch.randint(len(texts), (min(schedule.batch_size, len(texts)),), generator=generator)
        width = int(encoded["attention_mask"][rows].sum(1).max())
        inputs, labels = mask_tokens(encoded["input_ids"][rows, :width], maskable[rows, :width], tokenizer,
                                     schedule.mask_prob, generator)
        if not (labels != -100).any():
            continue
        loss = mlm(input_ids=inputs, attention_mask=encoded["attention_mask"][rows, :width], labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(round(float(loss.detach()), 4))
    return losses


def mask_tokens(ids: Any, maskable: Any, tokenizer: Any, mask_prob: float, generator: Any) -> tuple[Any, Any]:
    """BERT's corruption of a batch: (inputs, labels), labels -100 wherever no prediction is asked."""
    import torch

    chosen = (torch.rand(ids.shape, generator=generator) < mask_prob) & maskable
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    draw = torch.rand(ids.shape, generator=generator)
    inputs = torch.where(chosen & (draw < 0.8), torch.full_like(ids, tokenizer.mask_token_id), ids)
    first_word = len(SPECIAL_TOKENS)
    random_words = torch.randint(first_word, len(tokenizer), ids.shape, generator=generator)
    inputs = torch.where(chosen & (draw >= 0.8) & (draw < 0.9), random_words, inputs)
    return inputs, labels
