"""The word-level tokenizer every synthetic backbone uses (`synth://text`, `synth://clip`, `synth://clap`)."""
from __future__ import annotations

from typing import Any, Iterable

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
BASE_WORDS = ("a", "an", "the", "and", "of", "with", "in", "on", "is", "are", "while", "sound", "someone", "something")
"""Words every synthetic vocabulary holds, so that captions outside a corpus still share some tokens."""


def caption_words(texts: Iterable[str]) -> list[str]:
    """Sorted distinct words of `texts` as the BERT normalizer and pre-tokenizer see them (lower case, punctuation split)."""
    from tokenizers import normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(lowercase=True)
    splitter = pre_tokenizers.BertPreTokenizer()
    words: set[str] = set()
    for text in texts:
        words.update(piece for piece, _ in splitter.pre_tokenize_str(normalizer.normalize_str(text)))
    return sorted(words - set(SPECIAL_TOKENS))


def build_word_tokenizer(words: Iterable[str], model_max_length: int = 128) -> Any:
    """A `BertTokenizerFast` over exactly `words` (plus the special tokens).

    A `tokenizers` WordLevel model over [PAD] [UNK] [CLS] [SEP] [MASK] followed by the sorted words,
    with BERT's lower-casing normalizer and punctuation-splitting pre-tokenizer and a
    "[CLS] $A [SEP]" template. (transformers 5 reloads it as a WordPiece model over the same
    whole-word vocabulary, which yields identical ids: an out-of-vocabulary word is [UNK] either
    way.) `words` are taken as given (pass `caption_words(...)` output, plus BASE_WORDS if
    wanted); duplicates and special tokens are dropped.
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


def vocabulary_tokenizer(texts: Iterable[str], extra: Iterable[str] = (), model_max_length: int = 128) -> Any:
    """The tokenizer of a synthetic backbone trained on `texts`: BASE_WORDS, the words of `texts` and of `extra`."""
    words = [*BASE_WORDS, *caption_words(texts), *caption_words(extra)]
    return build_word_tokenizer(words, model_max_length=model_max_length)
