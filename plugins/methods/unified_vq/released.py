"""CMG's released checkpoints read into unified_vq's encoding path.

A released file is the dict `save_models` writes (haihuangcode/CMG @ 3b31fa0, `code/src/pretrain.py:390-406`):
`Encoder_parameters` (the state dict of `AV_VQVAE_Encoder` or `AVT_VQVAE_Encoder`, `model/main_model_2.py`,
quantizer buffers included), `Text_ar_lstm_parameters` (the caption BiLSTM, pretrain.py:287), the other
modules' and optimizers' states and `epoch`; every weight float64 (pretrain.py:311-317), storages saved
from CUDA. Downstream the reference reads only the encoder and the BiLSTM (e.g. `code/src/ave.py:116-118`),
so a released file may hold only those and `epoch`; so does this loader. Its layout is described in
`shared/data/reference-layouts/cmg-avt-vgg40k.json` and `cmg-av-vgg40k.json`.

Each tensor of unified_vq's encoding model (`UnifiedVQModel(..., training_parts=False)`: semantic
encoders, text BiLSTM, codebook) has one source in the file, named by `reference_name`; the file's
other tensors (specific encoders, the never-called `*_self_att.encoder_layer.*` templates, decoders,
Cross-CPC, CLUB nets) are not read. The file is opened with `torch.load(weights_only=True)`: the
layout holds only dicts, tensors, ints and tuples, which it admits, so a file it refuses is not one
of these checkpoints.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor

from avtbench.api import UserError

from .model import InputDims

ENCODER = "Encoder_parameters"
TEXT_LSTM = "Text_ar_lstm_parameters"

_RULES: tuple[tuple[str, str, str], ...] = (
    # (our state-dict prefix, the file's top-level key, the prefix there)
    ("semantic.audio.project.", ENCODER, "audio_self_att.affine_matrix."),
    ("semantic.audio.layers.layers.", ENCODER, "audio_self_att.encoder.layers."),
    ("semantic.visual.pool.excite.", ENCODER, "video_semantic_encoder.se_layer."),
    ("semantic.visual.pool.global_query.", ENCODER, "video_semantic_encoder.affine_video_ave."),
    ("semantic.visual.pool.local_query.", ENCODER, "video_semantic_encoder.affine_video_self."),
    ("semantic.visual.pool.score.", ENCODER, "video_semantic_encoder.ave_v_att."),
    ("semantic.visual.temporal.project.", ENCODER, "video_self_att.affine_matrix."),
    ("semantic.visual.temporal.layers.layers.", ENCODER, "video_self_att.encoder.layers."),
    ("semantic.text.project.", ENCODER, "text_self_att.affine_matrix."),
    ("semantic.text.layers.layers.", ENCODER, "text_self_att.encoder.layers."),
    ("text_lstm.lstm.", TEXT_LSTM, ""),
    ("codebook.idle", ENCODER, "Cross_quantizer.unactivated_count"),
    ("codebook.", ENCODER, "Cross_quantizer."),
)
"""How unified_vq's modules are named in the reference. The transformer layers (`model/models.py`
`EncoderLayer`: self_attn, linear1, linear2, norm1, norm2) and the LSTM keep torch's own names;
`idle` is the reference's float `unactivated_count` (batches since a code was last chosen, -1 unused)."""

_INPUT_WIDTHS: dict[str, tuple[str, str]] = {
    "audio": (ENCODER, "audio_self_att.affine_matrix.weight"),
    "visual": (ENCODER, "video_self_att.affine_matrix.weight"),
    "text": (TEXT_LSTM, "weight_ih_l0"),
}
"""Where the file says each modality's input width: the second dimension of these weights."""


def reference_name(name: str) -> tuple[str, str]:
    """(top-level key, name inside it) of the reference tensor behind unified_vq's state-dict entry `name`."""
    for ours, section, theirs in _RULES:
        if name.startswith(ours):
            return section, theirs + name[len(ours):]
    raise KeyError(f"no reference name for {name!r}")


def read_released(path: Path) -> dict[str, Any]:
    """The dict a released checkpoint holds, read on the CPU with weights_only; one-line `UserError`s."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"unified_vq.checkpoint {path} is not a file; give the path of a released CMG checkpoint (.pt)")
    try:
        raw = _load(path)
    except Exception as exc:  # a torch.load failure of any kind means the same to the user: not this format
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"unified_vq.checkpoint {path} is not a torch.save file that weights_only can read ({first})") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get(ENCODER), Mapping):
        raise UserError(f"unified_vq.checkpoint {path} holds no {ENCODER!r} dict: not a released CMG checkpoint "
                        "(code/src/pretrain.py:390-406 writes one)")
    return dict(raw)


def _load(path: Path) -> Any:
    """torch.load with weights_only, memory-mapped when the file allows it (a full released dict is
    2.9 GB, of which encoding reads a tenth), read whole when it does not (a legacy, non-zip file)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):
            raise
        return torch.load(path, map_location="cpu", weights_only=True)


def _tensor(raw: Mapping[str, Any], section: str, name: str, path: Path, modalities: tuple[str, ...]) -> Tensor:
    part = raw.get(section)
    value = part.get(name) if isinstance(part, Mapping) else None
    if not isinstance(value, Tensor):
        raise UserError(f"unified_vq.checkpoint {path}: {section}[{name!r}] is missing, which unified_vq.modalities="
                        f"{','.join(modalities)} reads; the file is not a released CMG checkpoint of these modalities")
    return value


def input_dims(raw: Mapping[str, Any], modalities: tuple[str, ...], path: Path) -> InputDims:
    """Input widths of the released model, read off its first layers (spatial sizes are not in the file: 0)."""
    width = {m: int(_tensor(raw, *_INPUT_WIDTHS[m], path, modalities).shape[-1]) for m in modalities}
    return InputDims(audio=width.get("audio", 0), channels=width.get("visual", 0), text=width.get("text", 0))


def mapped_state(raw: Mapping[str, Any], wanted: Mapping[str, Tensor], path: Path,
                 modalities: tuple[str, ...]) -> dict[str, Tensor]:
    """unified_vq's state dict (`wanted` gives names, shapes and dtypes) filled from the file, in `wanted`'s
    dtypes; the first entry missing or of another shape is a one-line `UserError` naming it."""
    state = {}
    for name, target in wanted.items():
        section, theirs = reference_name(name)
        value = _tensor(raw, section, theirs, path, modalities)
        if tuple(value.shape) != tuple(target.shape):
            raise UserError(f"unified_vq.checkpoint {path}: {section}[{theirs!r}] has shape {tuple(value.shape)} where "
                            f"unified_vq at these settings has {tuple(target.shape)} (the released files need "
                            "--set unified_vq.preset=paper)")
        if not value.is_floating_point() and target.is_floating_point():
            raise UserError(f"unified_vq.checkpoint {path}: {section}[{theirs!r}] is {value.dtype}, not a float tensor")
        state[name] = value.round().to(target.dtype) if not target.is_floating_point() else value.to(target.dtype)
    return state


def unused_tensors(raw: Mapping[str, Any], used: int) -> int:
    """How many tensors of the file's encoder and BiLSTM the encoding model does not read."""
    held = sum(sum(isinstance(v, Tensor) for v in raw[s].values()) for s in (ENCODER, TEXT_LSTM)
               if isinstance(raw.get(s), Mapping))
    return held - used

