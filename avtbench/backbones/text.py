"""Text encoders for methods that stand on a pretrained BERT-like model: `load_text_encoder`.

Every model goes through transformers' `AutoTokenizer.from_pretrained` / `AutoModel.from_pretrained`:
a Hugging Face id or a local folder, or `synth://text` (see `avtbench.backbones.synth_text`),
which is trained on the caller's texts and cached first.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from avtbench.backbones.loading import SYNTH_TEXT, load_pretrained, resolve_source
from avtbench.backbones.synth_text import MlmSchedule, ensure_synth_text
from avtbench.backbones.synthetic import cache_root

__all__ = ["SYNTH_TEXT", "MlmSchedule", "load_text_encoder"]

_LOADED: dict[tuple[str, str], tuple[Any, Any]] = {}


def load_text_encoder(name_or_path: str, cache_dir: Path | None, texts: Iterable[str] | None = None,
                      hidden_size: int = 768, num_layers: int = 2, seed: int = 0,
                      schedule: MlmSchedule = MlmSchedule(), setting: str = "<method>.text_encoder") -> tuple[Any, Any]:
    """(tokenizer, model) in eval mode with frozen parameters; cached in-process.

    `cache_dir` is the artifact cache `synth://text` is kept in (None: the default cache). For
    `synth://text`, `texts` are the training texts (captions, or bare words): their words make the
    vocabulary and the model is trained on them with `schedule`; `hidden_size`, `num_layers` and
    `seed` size and seed it. These are ignored for real models. `setting` names the option shown
    when a model cannot be loaded.
    """
    if name_or_path == SYNTH_TEXT:
        source = str(ensure_synth_text(cache_root(cache_dir), list(texts or ()), hidden_size, num_layers, seed, schedule))
    else:
        source = resolve_source("text", name_or_path)
    key = (source, str(cache_dir))
    if key not in _LOADED:
        model, tokenizer, _ = load_pretrained("text", source, name_or_path, setting)
        _LOADED[key] = (tokenizer, model)
    return _LOADED[key]
