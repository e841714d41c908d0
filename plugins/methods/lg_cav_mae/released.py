"""CAV-MAE's released pretrained checkpoints (YuanGongND/cav-mae, `cav-mae-scale++.pth` = `audio_model.21.pth`,
`cav-mae-base.pth`, ...) loaded into `model.CavMae`, strictly.

The file is what `src/traintest_cavmae.py:163` saves: `torch.save` of an `nn.DataParallel(CAVMAE)`'s
state dict, a bare `OrderedDict` of float32 tensors whose every key starts with `module.` (layout:
`../shared/data/reference-layouts/cav-mae-pretrain-base.json`). It is read with
`torch.load(map_location="cpu", weights_only=True)` and mapped name by name:

- `module.` is dropped; `patch_embed_a.proj` / `patch_embed_v.proj` -> `patch_a.proj` / `patch_v.proj`;
- in every block, timm's `mlp.fc1` / `mlp.fc2` -> `mlp.0` / `mlp.2` (the rest keeps its name:
  `norm1`, `norm1_a`, `norm1_v`, `attn.qkv`, `attn.proj`, `norm2*`);
- `pos_embed_a`, `pos_embed_v`, `decoder_pos_embed_a`, `decoder_pos_embed_v` (fixed sin-cos tables
  the reference keeps as frozen parameters, `tr_pos=False`) -> the buffers `pos_a`, `pos_v`,
  `decoder_pos_a`, `decoder_pos_v`, copied from the file;
- every other name is the same (`modality_a`, `blocks_u.0.*`, `norm_a`, `decoder_embed`, `mask_token`,
  `decoder_pred_v`, ...).

Every key of the file must map onto a tensor of the model built from the configuration, with its
shape, and every tensor of the model must be in the file: the first key that does not fit is a
one-line error (the reference's own loaders use `strict=False`, which with a missing `module.`
silently loads nothing).
"""
from __future__ import annotations

import re
from pathlib import Path

import torch

from avtbench.api import UserError

from .model import CavMae

PREFIX = "module."
_RENAMES = ((r"^patch_embed_([av])\.proj\.", r"patch_\1.proj."), (r"\.mlp\.fc1\.", ".mlp.0."), (r"\.mlp\.fc2\.", ".mlp.2."))
POSITION_BUFFERS = {"pos_embed_a": "pos_a", "pos_embed_v": "pos_v", "decoder_pos_embed_a": "decoder_pos_a",
                    "decoder_pos_embed_v": "decoder_pos_v"}
"""The reference's fixed position tables (saved as parameters) and the buffers that hold them here."""


def our_name(reference: str) -> str:
    """The model's name for a reference key (without its `module.` prefix)."""
    if reference in POSITION_BUFFERS:
        return POSITION_BUFFERS[reference]
    for pattern, replacement in _RENAMES:
        reference = re.sub(pattern, replacement, reference)
    return reference


def expected_tensors(model: CavMae) -> dict[str, torch.Size]:
    """Every tensor a released file must hold for `model`, by our name: its state dict and the position buffers."""
    shapes = {name: tensor.shape for name, tensor in model.state_dict().items()}
    buffers = dict(model.named_buffers())
    shapes.update({name: buffers[name].shape for name in POSITION_BUFFERS.values()})
    return shapes


def read_state(path: Path) -> dict[str, torch.Tensor]:
    """The file's state dict, read with weights_only (nothing but tensors and containers is unpickled)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file means the same to the user
        line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise UserError(f"{path} is not a CAV-MAE checkpoint torch can read safely ({type(exc).__name__}: {line[:200]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f"{path} is not a CAV-MAE pretrained checkpoint: it holds a {type(state).__name__}, "
                        "not a state dict of tensors (a file with an optimiser or a wrapper dict is another layout)")
    return state


def map_state(state: dict[str, torch.Tensor], model: CavMae, path: Path) -> dict[str, torch.Tensor]:
    """The file's tensors under our names, every key checked against `model`: one line naming the first
    that does not fit (a key without `module.`, one the model lacks, another shape, or one missing)."""
    expected = expected_tensors(model)
    mapped: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        if not key.startswith(PREFIX):
            raise UserError(f"{path}: key {key!r} lacks the 'module.' prefix of CAV-MAE's released checkpoints "
                            "(saved from nn.DataParallel); this is another layout")
        name = our_name(key[len(PREFIX):])
        if name not in expected:
            raise UserError(f"{path}: key {key!r} is not a tensor of CAV-MAE at these sizes (lg_cav_mae.preset=paper "
                            "builds the released model); this is another layout")
        if tuple(tensor.shape) != tuple(expected[name]):
            raise UserError(f"{path}: key {key!r} has shape {list(tensor.shape)} where the configured model has "
                            f"{list(expected[name])}; use lg_cav_mae.preset=paper (CAV-MAE's sizes) or the matching sizes")
        if not tensor.is_floating_point():
            raise UserError(f"{path}: key {key!r} holds {tensor.dtype}, not floating-point weights")
        mapped[name] = tensor.float()
    missing = [name for name in expected if name not in mapped]
    if missing:
        reference = {v: k for k, v in POSITION_BUFFERS.items()}.get(missing[0])
        shown = PREFIX + (reference or _reference_name(missing[0]))
        raise UserError(f"{path} lacks key {shown!r} of CAV-MAE's pretrained model (with its decoder) at these sizes; "
                        f"this is another layout ({len(missing)} of {len(expected)} tensors missing)")
    return mapped


def _reference_name(ours: str) -> str:
    name = re.sub(r"^patch_([av])\.proj\.", r"patch_embed_\1.proj.", ours)
    return name.replace(".mlp.0.", ".mlp.fc1.").replace(".mlp.2.", ".mlp.fc2.")


def load_cav_mae(path: Path, model: CavMae) -> int:
    """Load the released checkpoint at `path` into `model` (strictly); the number of tensors read."""
    mapped = map_state(read_state(path), model, path)
    buffers = {name: mapped.pop(name) for name in POSITION_BUFFERS.values()}
    model.load_state_dict(mapped, strict=True)
    with torch.no_grad():
        for name, table in buffers.items():
            getattr(model, name).copy_(table)
    return len(mapped) + len(buffers)
