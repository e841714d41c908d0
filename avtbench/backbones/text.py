"""Text encoders for methods that stand on a pretrained BERT-like model.

Every model goes through transformers' `AutoTokenizer.from_pretrained` / `AutoModel.from_pretrained`:
a Hugging Face id or a local folder, or `synth://text`, the synthetic world's own small word-level
BERT. The synthetic one is trained once per set of training texts (the corpus captions) and size,
with BERT's masked-language-model objective, so that its token features carry the synthetic
world's co-occurrence structure as a pretrained BERT's carry English; it is saved in the Hugging
Face format under `<cache>/backbones/synth-text/<key>/` and loaded back, frozen, through the same
`from_pretrained` path that real checkpoints take.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from avtbench.api import UserError

SYNTH_TEXT = "synth://text"
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
BASE_WORDS = ("a", "an", "the", "and", "of", "with", "in", "on", "is", "are", "while", "sound", "someone", "something")
"""Words every synthetic vocabulary holds, so that captions outside a corpus still share some tokens."""

_LOADED: dict[tuple[str, str], tuple[Any, Any]] = {}


def default_cache_dir() -> Path:
    """`$AVTBENCH_CACHE`, else `~/.cache/avtbench`."""
    return Path(os.environ.get("AVTBENCH_CACHE") or Path.home() / ".cache" / "avtbench")


def caption_words(texts: Iterable[str]) -> list[str]:
    """Sorted distinct words of `texts` as the BERT normalizer and pre-tokenizer see them (lower case, punctuation split)."""
    from tokenizers import normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(lowercase=True)
    splitter = pre_tokenizers.BertPreTokenizer()
    words: set[str] = set()
    for text in texts:
        words.update(piece for piece, _ in splitter.pre_tokenize_str(normalizer.normalize_str(text)))
    return sorted(words - set(SPECIAL_TOKENS))


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


def load_text_encoder(name_or_path: str, cache_dir: Path | None = None, texts: Iterable[str] | None = None,
                      hidden_size: int = 768, num_layers: int = 2, seed: int = 0,
                      schedule: MlmSchedule = MlmSchedule()) -> tuple[Any, Any]:
    """(tokenizer, model) in eval mode with frozen parameters; cached in-process.

    For `synth://text`, `texts` are the training texts (captions, or bare words): their words
    make the vocabulary and the model is trained on them with `schedule`; `hidden_size`,
    `num_layers` and `seed` size and seed it. These are ignored for real models.
    """
    if name_or_path == SYNTH_TEXT or name_or_path.startswith(SYNTH_TEXT + "?"):
        path = ensure_synth_text(Path(cache_dir) if cache_dir else default_cache_dir(), list(texts or ()),
                                 hidden_size, num_layers, seed, schedule)
        source = str(path)
    elif name_or_path.startswith("synth://"):
        raise UserError(f"unknown synthetic backbone {name_or_path!r}; the synthetic text encoder is {SYNTH_TEXT}")
    else:
        source = str(Path(name_or_path).expanduser()) if Path(name_or_path).expanduser().exists() else name_or_path
    key = (source, str(cache_dir))
    if key not in _LOADED:
        _LOADED[key] = _from_pretrained(source, name_or_path)
    return _LOADED[key]


def _from_pretrained(source: str, shown: str) -> tuple[Any, Any]:
    from transformers import AutoModel, AutoTokenizer

    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModel.from_pretrained(source)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"cannot load text encoder {shown!r} ({first}); offline or missing: pass a local folder "
            "holding a saved model, e.g. --set <method>.text_encoder=/path/to/bert-base-uncased"
        ) from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return tokenizer, model


def publish_folder(target: Path, write: Callable[[Path], None]) -> Path:
    """Fill a fresh temporary folder beside `target` with `write`, then rename it to `target`.

    Readers never see a half-written folder; when another process published `target` first,
    its copy is kept and ours is dropped.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with _quiet_transformers():
            write(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and info logging while loading or saving, then restore them."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    level = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def synth_text_key(words: list[str], texts: list[str], hidden_size: int, num_layers: int, seed: int,
                   schedule: MlmSchedule) -> str:
    payload = {"words": words, "texts": hashlib.sha256("\n".join(texts).encode()).hexdigest(), "hidden": hidden_size,
               "layers": num_layers, "seed": seed, "schedule": asdict(schedule), "v": 3}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


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

    def write(folder: Path) -> None:
        tokenizer.save_pretrained(folder)
        model.save_pretrained(folder)
        (folder / "avtbench.json").write_text(json.dumps(record, indent=1) + "\n")

    publish_folder(target, write)
    return target


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
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
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


def build_word_tokenizer(words: Iterable[str], model_max_length: int = 128) -> Any:
    """The word-level tokenizer of every synthetic backbone (`synth://text`, `synth://clip`, `synth://clap`).

    A `tokenizers` WordLevel model over [PAD] [UNK] [CLS] [SEP] [MASK] followed by the sorted words,
    with BERT's lower-casing normalizer and punctuation-splitting pre-tokenizer and a
    "[CLS] $A [SEP]" template, wrapped as `BertTokenizerFast`. (transformers 5 reloads it as a
    WordPiece model over the same whole-word vocabulary, which yields identical ids: an
    out-of-vocabulary word is [UNK] either way.) `words` are taken as given (pass
    `caption_words(...)` output, plus BASE_WORDS if wanted); duplicates and special tokens are dropped.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    vocab_words = sorted(set(words) - set(SPECIAL_TOKENS))
    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *vocab_words])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    return BertTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]", model_max_length=model_max_length)


quiet_transformers = _quiet_transformers
"""Public name of the context manager that silences transformers while loading or saving."""
