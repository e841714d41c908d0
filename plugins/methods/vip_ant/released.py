"""VIP-ANT's released checkpoints (zhaoyanpeng/vipant, README "Pre-trained Models": `00071478.pth` and the
other VA and AT files) loaded into `model.VipAntAudio`, strictly, without running the file's pickle.

The file is what `cvap/monitor/cvalp.py:302-309` saves: `torch.save({"cfg": <the run's omegaconf
DictConfig>, "model": model.collect_audio_state_dict()})`, where `model` is a tuple of 4 state dicts
(image head, audio head, text head, loss head; written by CVALP, `cvap/model/cvalp.py:82-93`) or of 2
(audio head, loss head; CVAP, `cvap/model/cvap.py:42-46`) (layouts: `../shared/data/reference-layouts/
vipant-va-pretrain.json`, `vipant-at-finetune.json`). `torch.load(weights_only=True)` refuses the
pickled config, so the file is read by `avtbench.torch_zip.torch_zip_load`, which admits tensors and
containers, plus, here, omegaconf's config classes as stand-ins that only keep their pickled state
(`ConfigNode`): nothing of omegaconf is imported or run, and any other global is refused.

The config is read as plain data (`plain_config`, hydra's `${a.b}` interpolations resolved) and
checked against this method's settings: the audio head must be a `CLIPAudioHead` (ViT, no attention
mask) of the configured geometry (`model.audio.resolution` [frames, mel bins], `pre_encoder.patch_size`,
`pre_encoder.stride`, `width`, `embed_dim`, `encoder.layers`). The audio head's tensors map onto
`AudioViT` (built from the configured CLIP's image tower, which must be OpenAI-shaped: QuickGELU,
width // 64 heads as `cvap/module/val.py:474`):

- `pre_encoder.conv1.weight` [W, 3, 32, 32] -> `patch_embedding.weight`, averaged over its input
  channels as `ViTPreEncoder.forward` does at run time (`cvap/module/val.py:236-247`);
- `misc.class_embedding`, `misc.positional_embedding` [1 + t * f, W] (time-major grid) ->
  `class_embedding`, `position_embedding`;
- `pre_encoder.ln` / `post_encoder.ln` -> `pre_layernorm` / `post_layernorm`;
- `encoder.resblocks.N.attn.in_proj_weight` / `_bias` [3W, W] (q; k; v stacked, torch's
  MultiheadAttention) -> `encoder.layers.N.self_attn.{q,k,v}_proj`; `attn.out_proj` -> `self_attn.out_proj`;
  `ln_1` / `ln_2` -> `layer_norm1` / `layer_norm2`; `mlp.c_fc` / `mlp.c_proj` -> `mlp.fc1` / `mlp.fc2`;
- `post_encoder.proj` [W, D] (applied as x @ proj) -> `projection.weight` = its transpose.

The loss head's `logit_scale` (stored as a log; CELossHead, a VA file) or `loss_head_va.logit_scale`
becomes `logit_scale_va`, `loss_head_al.logit_scale` (VALCELossHead, an AT file) `logit_scale_at`.
A trained image or text head (a non-empty entry) is refused: this method keeps CLIP's frozen towers.
The first key that does not fit is a one-line error.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from avtbench.api import UserError
from avtbench.safe_pickle import AllowList
from avtbench.torch_zip import torch_zip_load

from .model import VipAntAudio


class ConfigNode:
    """An omegaconf node or its metadata, read as data: the pickled state is kept, nothing is called."""

    def __setstate__(self, state: Any) -> None:
        self.state = state if isinstance(state, dict) else {}


class DictNode(ConfigNode):
    pass


class ListNode(ConfigNode):
    pass


class ValueNode(ConfigNode):
    pass


ANY = "typing.Any"
"""What `typing.Any` (a type annotation in omegaconf's metadata) is read as."""


def _defaultdict(*args: Any) -> dict:
    """`collections.defaultdict(factory)` read as a plain dict (its items follow in the pickle)."""
    return {}


OMEGACONF = AllowList({
    ("omegaconf.dictconfig", "DictConfig"): DictNode,
    ("omegaconf.listconfig", "ListConfig"): ListNode,
    **{("omegaconf.nodes", name): ValueNode for name in ("AnyNode", "StringNode", "IntegerNode", "FloatNode", "BooleanNode")},
    ("omegaconf.base", "Metadata"): ConfigNode,
    ("omegaconf.base", "ContainerMetadata"): ConfigNode,
    ("typing", "Any"): ANY,
    ("collections", "defaultdict"): _defaultdict,
    **{("builtins", kind.__name__): kind for kind in (int, float, str, bool, dict, list)},
})
"""omegaconf 2.1's pickled config (`DictConfig` and its nodes, metadata holding types and a
defaultdict), admitted as stand-ins that keep data only."""


def plain(node: Any) -> Any:
    """An omegaconf stand-in as plain dicts, lists and values (interpolation strings left as they are)."""
    if isinstance(node, DictNode):
        content = node.state.get("_content")
        return {str(k): plain(v) for k, v in content.items()} if isinstance(content, dict) else content
    if isinstance(node, ListNode):
        content = node.state.get("_content")
        return [plain(v) for v in content] if isinstance(content, list) else content
    if isinstance(node, ValueNode):
        return node.state.get("_val")
    return node


_INTERPOLATION = re.compile(r"^\$\{([A-Za-z0-9_.]+)\}$")


def resolved(root: dict, value: Any, depth: int = 0) -> Any:
    """`value` with hydra's `${a.b.c}` references to other fields of `root` replaced by their values."""
    if isinstance(value, list):
        return [resolved(root, v, depth) for v in value]
    if isinstance(value, dict):
        return {k: resolved(root, v, depth) for k, v in value.items()}
    match = _INTERPOLATION.match(value) if isinstance(value, str) else None
    if match is None or depth > 20:
        return value
    target: Any = root
    for part in match.group(1).split("."):
        if not isinstance(target, dict) or part not in target:
            return value
        target = target[part]
    return resolved(root, target, depth + 1)


def field(config: dict, dotted: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return resolved(config, value)


def read_checkpoint(path: Path) -> tuple[dict, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """(the config as plain data, the audio head's state dict, the loss head's) of a released file."""
    data = torch_zip_load(path, OMEGACONF, str(path))
    if not isinstance(data, dict) or set(data) != {"cfg", "model"}:
        keys = sorted(map(str, data)) if isinstance(data, dict) else type(data).__name__
        raise UserError(f"{path} is not a VIP-ANT checkpoint: it holds {keys}, not {{'cfg', 'model'}} "
                        "(cvap/monitor/cvalp.py's save)")
    config, heads = plain(data["cfg"]), data["model"]
    if not isinstance(config, dict) or not isinstance(heads, (tuple, list)) or len(heads) not in (2, 4) \
            or not all(isinstance(h, dict) for h in heads):
        raise UserError(f"{path}: its 'model' is not a tuple of 4 (CVALP) or 2 (CVAP) state dicts and its 'cfg' "
                        "not a config; this is another layout")
    if len(heads) == 4:
        for index, what in ((0, "image"), (2, "text")):
            if heads[index]:
                raise UserError(f"{path} holds a trained {what} head (key {next(iter(heads[index]))!r}); vip_ant keeps "
                                "CLIP's frozen towers and loads only the audio head")
        return config, dict(heads[1]), dict(heads[3])
    return config, dict(heads[0]), dict(heads[1])


def check_config(config: dict, net: VipAntAudio, path: Path) -> None:
    """The checkpoint's audio head must be the one `net` is: one line naming the first field that differs."""
    audio = net.audio
    layers = len(audio.encoder.layers)
    expected = {
        "model.audio.name": "CLIPAudioHead", "model.audio.pre_encoder.name": "ViTPreEncoder",
        "model.audio.encoder.name": "TransformerBackbone",
        "model.audio.resolution": [audio.n_frames, audio.n_mels],
        "model.audio.pre_encoder.patch_size": audio.kernel[0],
        "model.audio.pre_encoder.stride": list(audio.stride),
        "model.audio.width": audio.hidden_size, "model.audio.embed_dim": audio.output_dim,
        "model.audio.encoder.layers": layers,
    }
    for name, want in expected.items():
        got = field(config, name)
        if isinstance(got, int) and name.endswith("stride"):
            got = [got, got]
        if got != want:
            raise UserError(f"{path}: its {name} is {got!r}, but vip_ant as configured builds {want!r}; set "
                            "vip_ant.preset=paper (VIP-ANT's geometry) and vip_ant.clip to OpenAI's ViT-B/32")
    if field(config, "model.audio.encoder.skip_attn_mask") is False and field(config, "model.audio.ctx_len") is not None:
        raise UserError(f"{path}: its audio encoder masks attention causally (skip_attn_mask false), which vip_ant "
                        "does not reproduce")


def check_tower(net: VipAntAudio, path: Path) -> None:
    """The audio ViT copies the configured CLIP's layers, which must compute as VIP-ANT's do."""
    layer = net.audio.encoder.layers[0]
    config = getattr(layer, "config", None) or getattr(layer.self_attn, "config", None)
    act = getattr(config, "hidden_act", "quick_gelu")
    width, heads, eps = net.audio.hidden_size, layer.self_attn.num_heads, layer.layer_norm1.eps
    if act != "quick_gelu" or (width >= 64 and heads != width // 64) or eps != 1e-5:
        raise UserError(f"{path}: VIP-ANT's transformer uses QuickGELU, width // 64 = {width // 64} heads and "
                        f"LayerNorm eps 1e-05, but the configured CLIP's image tower has {act}, {heads} heads and eps "
                        f"{eps}; pass OpenAI's CLIP ViT-B/32 as vip_ant.clip")


def reference_layout(net: VipAntAudio) -> dict[str, tuple[int, ...]]:
    """The audio head's keys and shapes as VIP-ANT saves them, for the audio ViT of `net`."""
    audio = net.audio
    width = audio.hidden_size
    layout: dict[str, tuple[int, ...]] = {}
    for n, layer in enumerate(audio.encoder.layers):
        hidden = layer.mlp.fc1.out_features
        prefix = f"encoder.resblocks.{n}."
        layout.update({prefix + "attn.in_proj_weight": (3 * width, width), prefix + "attn.in_proj_bias": (3 * width,),
                       prefix + "attn.out_proj.weight": (width, width), prefix + "attn.out_proj.bias": (width,),
                       prefix + "ln_1.weight": (width,), prefix + "ln_1.bias": (width,),
                       prefix + "mlp.c_fc.weight": (hidden, width), prefix + "mlp.c_fc.bias": (hidden,),
                       prefix + "mlp.c_proj.weight": (width, hidden), prefix + "mlp.c_proj.bias": (width,),
                       prefix + "ln_2.weight": (width,), prefix + "ln_2.bias": (width,)})
    layout.update({"pre_encoder.conv1.weight": (width, 3, *audio.kernel), "pre_encoder.ln.weight": (width,),
                   "pre_encoder.ln.bias": (width,), "post_encoder.proj": (width, audio.output_dim),
                   "post_encoder.ln.weight": (width,), "post_encoder.ln.bias": (width,),
                   "misc.positional_embedding": tuple(audio.position_embedding.shape),
                   "misc.class_embedding": (width,)})
    return layout


def mapped_audio(state: dict[str, torch.Tensor], net: VipAntAudio, path: Path) -> dict[str, torch.Tensor]:
    """The audio head's tensors under `net.audio`'s names, every key checked against `reference_layout`."""
    layout = reference_layout(net)
    for key, tensor in state.items():
        if key not in layout:
            raise UserError(f"{path}: audio-head key {key!r} is not one of VIP-ANT's CLIPAudioHead at these sizes; "
                            "this is another layout")
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != layout[key]:
            shape = list(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise UserError(f"{path}: audio-head key {key!r} has shape {shape} where the configured audio ViT needs "
                            f"{list(layout[key])}; set vip_ant.preset=paper and vip_ant.clip to OpenAI's ViT-B/32")
    missing = [key for key in layout if key not in state]
    if missing:
        raise UserError(f"{path} lacks audio-head key {missing[0]!r} ({len(missing)} of {len(layout)} missing); "
                        "this is another layout")
    s = {k: v.float() for k, v in state.items()}
    out = {"patch_embedding.weight": s["pre_encoder.conv1.weight"].mean(dim=1, keepdim=True),
           "class_embedding": s["misc.class_embedding"], "position_embedding": s["misc.positional_embedding"],
           "pre_layernorm.weight": s["pre_encoder.ln.weight"], "pre_layernorm.bias": s["pre_encoder.ln.bias"],
           "post_layernorm.weight": s["post_encoder.ln.weight"], "post_layernorm.bias": s["post_encoder.ln.bias"],
           "projection.weight": s["post_encoder.proj"].T.contiguous()}
    for n in range(len(net.audio.encoder.layers)):
        ref, ours = f"encoder.resblocks.{n}.", f"encoder.layers.{n}."
        for kind, chunk in zip("qkv", s[ref + "attn.in_proj_weight"].chunk(3)):
            out[f"{ours}self_attn.{kind}_proj.weight"] = chunk
        for kind, chunk in zip("qkv", s[ref + "attn.in_proj_bias"].chunk(3)):
            out[f"{ours}self_attn.{kind}_proj.bias"] = chunk
        for theirs, mine in (("attn.out_proj", "self_attn.out_proj"), ("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"),
                             ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2")):
            for part in ("weight", "bias"):
                out[f"{ours}{mine}.{part}"] = s[f"{ref}{theirs}.{part}"]
    return out


LOSS_KEYS = {"logit_scale": "logit_scale_va", "loss_head_va.logit_scale": "logit_scale_va",
             "loss_head_al.logit_scale": "logit_scale_at"}
"""The loss head's log temperatures (CELossHead; VALCELossHead's audio-image and audio-text heads) and ours."""


def load_vip_ant(path: Path, net: VipAntAudio) -> dict[str, float]:
    """Load the released checkpoint at `path` into `net` (strictly); summary numbers for the record."""
    config, audio_state, loss_state = read_checkpoint(path)
    check_config(config, net, path)
    check_tower(net, path)
    mapped = mapped_audio(audio_state, net, path)
    net.audio.load_state_dict(mapped, strict=True)
    stats = {"released_audio_tensors": float(len(audio_state))}
    with torch.no_grad():
        for key, tensor in loss_state.items():
            if key not in LOSS_KEYS or not isinstance(tensor, torch.Tensor) or tensor.numel() != 1:
                raise UserError(f"{path}: loss-head key {key!r} is not a temperature vip_ant has "
                                f"({', '.join(LOSS_KEYS)}); this is another layout")
            getattr(net, LOSS_KEYS[key]).copy_(tensor.reshape(()).float())
            stats[LOSS_KEYS[key]] = float(tensor.float().exp())
    return stats
