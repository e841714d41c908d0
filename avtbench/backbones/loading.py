"""Resolve a backbone name and load it with transformers' `from_pretrained`, frozen, in eval mode.

A name is a Hugging Face id, a local folder, or a synthetic name (`synth://clip`, `synth://clap`,
`synth://text`). Synthetic names are turned into a local folder by the module that trains them
(`avtbench.backbones.clip`, `.clap`, `.synth_text`); from there on every backbone takes the same
path: the folder or id goes to `from_pretrained`, and a failure is one `UserError` line naming
the setting to change.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from avtbench.errors import UserError

SYNTH_CLIP = "synth://clip"
SYNTH_CLAP = "synth://clap"
SYNTH_TEXT = "synth://text"
SYNTH_NAMES = {SYNTH_CLIP: "clip", SYNTH_CLAP: "clap", SYNTH_TEXT: "text"}

EXAMPLE_FOLDER = {"clip": "/path/to/clip-vit-base-patch32", "clap": "/path/to/clap-htsat-unfused",
                  "text": "/path/to/bert-base-uncased"}
"""What the offline error suggests passing instead, per kind of backbone."""


def synth_kind(name_or_path: str) -> str | None:
    """"clip", "clap" or "text" for a synthetic backbone name, None for anything else."""
    return SYNTH_NAMES.get(name_or_path)


def resolve_source(kind: str, name_or_path: str) -> str:
    """A local folder (when `name_or_path` exists on disk) or the hub id, for `from_pretrained`.

    Synthetic names are the caller's to resolve first; an unknown `synth://` name is a `UserError`."""
    if name_or_path.startswith("synth://"):
        wanted = next(name for name, k in SYNTH_NAMES.items() if k == kind)
        label = {"clip": "CLIP", "clap": "CLAP"}.get(kind, kind)
        raise UserError(f"unknown synthetic {label} backbone {name_or_path!r}; the synthetic one is {wanted}")
    local = Path(name_or_path).expanduser()
    return str(local) if local.exists() else name_or_path


@contextmanager
def quiet_transformers() -> Iterator[None]:
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


def freeze(model: Any) -> Any:
    """Eval mode, no gradients; returns `model`."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def load_error(kind: str, source: str, shown: str, setting: str, exc: BaseException) -> UserError:
    """The one-line error of a failed `from_pretrained`: offline (a hub id) or a broken local folder."""
    example = f"e.g. --set {setting}={EXAMPLE_FOLDER[kind]}"
    if Path(source).exists():
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return UserError(f"cannot load {shown} from {source} ({first}); pass a local folder written by "
                         f"save_pretrained, {example}")
    if source.startswith(("/", ".", "~")):
        return UserError(f"cannot load {shown}: there is no folder {source}; pass a local folder written by "
                         f"save_pretrained, {example}")
    return UserError(f"cannot load {shown} offline; download it elsewhere and pass its local folder, "
                     f"e.g. --set {setting}={EXAMPLE_FOLDER[kind]}")


def load_pretrained(kind: str, source: str, shown: str | None = None, setting: str | None = None) -> tuple[Any, Any, Any]:
    """(model, tokenizer, processor) of a "clip" (`CLIPModel`, image processor), "clap" (`ClapModel`,
    feature extractor) or "text" (`AutoModel`, no processor: None) checkpoint at `source`.

    `shown` names the backbone in errors (default `source`) and `setting` the option to change
    (e.g. "vip_ant.clip"). The model comes back frozen in eval mode.
    """
    from transformers import AutoFeatureExtractor, AutoImageProcessor, AutoModel, AutoTokenizer, ClapModel, CLIPModel

    model_class, processor_class = {"clip": (CLIPModel, AutoImageProcessor), "clap": (ClapModel, AutoFeatureExtractor),
                                    "text": (AutoModel, None)}[kind]
    try:
        with quiet_transformers():
            model = model_class.from_pretrained(source)
            tokenizer = AutoTokenizer.from_pretrained(source)
            processor = processor_class.from_pretrained(source) if processor_class is not None else None
    except (OSError, ValueError) as exc:
        raise load_error(kind, source, shown or source, setting or f"<method>.{kind}", exc) from None
    return freeze(model), tokenizer, processor


def save_pretrained(folder: Path, model: Any, tokenizer: Any, processor: Any = None) -> None:
    """Write a backbone as `from_pretrained` reads it back (safetensors weights), quietly."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        if processor is not None:
            processor.save_pretrained(folder)
