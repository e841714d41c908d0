"""C-MCR's projectors and the loader of the released projector weights.

Architecture, as MCR-PEFT/C-MCR `cmcr/cmcr_projector.py` (`MLP`, `CLAPCLIP_Head`):

    net1 = Linear(d, 2d) -> BatchNorm1d(2d) -> ReLU
    net2 = Linear(2d, d) -> BatchNorm1d(d)
    forward(x) = net2(net1(x))            (no residual, despite the name `res_expansion`)

`Head_A` projects CLAP embeddings and `Head_B` CLIP embeddings (image and text alike), and the
official `cmcr_model.py` L2-normalises each output; `Projector.forward` returns the normalised
embedding. The module names are the official ones, so a state dict of `Heads` has the keys of the
released `checkpoints/clap_clip.pt`.

Checkpoint layout: the released file could not be inspected here (the repository snapshot lists
its blob as missing), so its keys are inferred. The repository's `change_pt_key.ipynb` prints the
keys of the renamed file (`Head_A.net1.0.weight`, `Head_A.net1.1.running_mean`, ...,
`Head_B.net2.1.num_batches_tracked`: Linear at index 0, BatchNorm at index 1 of each Sequential)
and of the file before renaming, which had an extra `mlp1.` level (`Head_A.mlp1.net1.0.weight`);
both layouts load. The file is read with `torch.load(path, map_location="cpu", weights_only=True)`,
so nothing but tensors and plain containers is unpickled.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from avtbench.api import UserError

HEAD_NAMES = ("Head_A", "Head_B")
"""Head_A: the CLAP side (audio, CLAP text); Head_B: the CLIP side (image, CLIP text)."""
NATIVE_LEVEL = "mlp1."
"""The extra module level of the projector file before `change_pt_key.ipynb` renamed it."""
FIX = ("pass C-MCR's projector file (checkpoints/clap_clip.pt of MCR-PEFT/C-MCR) or leave cmcr.heads empty "
       "to train the heads")


class Projector(nn.Module):
    """One C-MCR head: Linear(d_in, hidden) -> BN -> ReLU -> Linear(hidden, d_out) -> BN, then L2 normalisation."""

    def __init__(self, d_in: int, d_out: int, hidden: int) -> None:
        super().__init__()
        self.net1 = nn.Sequential(nn.Linear(d_in, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True))
        self.net2 = nn.Sequential(nn.Linear(hidden, d_out), nn.BatchNorm1d(d_out))

    @property
    def dims(self) -> tuple[int, int, int]:
        """(input width, hidden width, output width)."""
        return self.net1[0].in_features, self.net1[0].out_features, self.net2[0].out_features

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(self.net2(self.net1(x)), dim=-1)


class Heads(nn.Module):
    """`CLAPCLIP_Head`: Head_A over CLAP embeddings, Head_B over CLIP embeddings, both to `d_out`."""

    def __init__(self, clap_dim: int, clip_dim: int, d_out: int, expansion: float = 2.0,
                 hidden: tuple[int, int] | None = None) -> None:
        super().__init__()
        hidden_a, hidden_b = hidden or (max(1, int(clap_dim * expansion)), max(1, int(clip_dim * expansion)))
        self.Head_A = Projector(clap_dim, d_out, hidden_a)
        self.Head_B = Projector(clip_dim, d_out, hidden_b)

    @property
    def dim(self) -> int:
        return self.Head_A.dims[2]

    def init_weights(self, mode: str) -> None:
        """The official `init_weights`: "eye" or "xav" on every parameter with more than one axis; "default" keeps torch's."""
        with torch.no_grad():
            for p in self.parameters():
                if p.dim() > 1:
                    if mode == "eye":
                        nn.init.eye_(p)
                    elif mode == "xav":
                        nn.init.xavier_uniform_(p)

    def side(self, name: str) -> Projector:
        """The head of a trunk: "clap" -> Head_A, "clip" -> Head_B."""
        return self.Head_A if name == "clap" else self.Head_B


def read_official_state(path: str | Path) -> dict[str, Tensor]:
    """The projector state dict of a C-MCR .pt file, keys in the `Heads` layout; every problem a UserError."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"cmcr.heads: there is no file {path}; {FIX}")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - not a torch file, truncated, or holding objects weights_only refuses
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise UserError(f"cmcr.heads: {path} is not a readable PyTorch state dict ({type(exc).__name__}: {first}); "
                        f"{FIX}") from None
    if isinstance(loaded, Mapping) and "state_dict" in loaded and isinstance(loaded["state_dict"], Mapping):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, Mapping) or not all(isinstance(v, Tensor) for v in loaded.values()):
        raise UserError(f"cmcr.heads: {path} holds a {type(loaded).__name__}, not a state dict of tensors; {FIX}")
    state = {}
    for key, value in loaded.items():
        key = str(key)
        for name in HEAD_NAMES:
            if key.startswith(f"{name}.{NATIVE_LEVEL}"):
                key = name + "." + key[len(name) + 1 + len(NATIVE_LEVEL):]
        state[key] = value
    return state


def load_official_heads(path: str | Path, clap_dim: int, clip_dim: int, d_out: int = 0) -> tuple[Heads, dict[str, int]]:
    """`Heads` holding the projector weights of C-MCR's released file at `path`, and their widths.

    The widths come from the file; they must fit the trunks (`clap_dim` into Head_A, `clip_dim`
    into Head_B) and, when `d_out` is not 0, the configured output width."""
    state = read_official_state(path)
    expected = Heads(1, 1, 1).state_dict().keys()
    missing = [k for k in expected if k not in state]
    if missing:
        raise UserError(f"cmcr.heads: {path} has no {missing[0]} ({len(missing)} of {len(expected)} projector tensors "
                        f"missing; expected the Head_A/Head_B layout of C-MCR's cmcr_projector.py); {FIX}")
    unexpected = [k for k in state if k not in expected]
    if unexpected:
        raise UserError(f"cmcr.heads: {path} holds {unexpected[0]}, which C-MCR's CLAP-CLIP projector has not; {FIX}")
    widths = {}
    for name, trunk, width in (("Head_A", "cmcr.clap", clap_dim), ("Head_B", "cmcr.clip", clip_dim)):
        first, second = state[f"{name}.net1.0.weight"], state[f"{name}.net2.0.weight"]
        if first.dim() != 2 or second.dim() != 2 or second.shape[1] != first.shape[0]:
            raise UserError(f"cmcr.heads: {path} has inconsistent {name} weights {tuple(first.shape)} and "
                            f"{tuple(second.shape)}; {FIX}")
        if first.shape[1] != width:
            raise UserError(f"cmcr.heads: {name} of {path} takes {first.shape[1]}-d embeddings but {trunk} gives "
                            f"{width}-d; use the trunks the heads were trained on (C-MCR: CLIP ViT-B/32 and LAION-CLAP, 512-d)")
        widths[name] = int(first.shape[0])
        widths[f"{name}.out"] = int(second.shape[0])
    if widths["Head_A.out"] != widths["Head_B.out"]:
        raise UserError(f"cmcr.heads: the heads of {path} project to {widths['Head_A.out']} and {widths['Head_B.out']} "
                        f"dimensions, not to one shared space; {FIX}")
    if d_out and d_out != widths["Head_A.out"]:
        raise UserError(f"cmcr.heads: the heads of {path} project to {widths['Head_A.out']} dimensions but cmcr.dim is "
                        f"{d_out}; set cmcr.dim=0 (or {widths['Head_A.out']})")
    heads = Heads(clap_dim, clip_dim, widths["Head_A.out"], hidden=(widths["Head_A"], widths["Head_B"]))
    try:
        heads.load_state_dict({k: v.to(heads.state_dict()[k].dtype) for k, v in state.items()})
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()[:160]
        raise UserError(f"cmcr.heads: {path} does not fit C-MCR's projector ({first}); {FIX}") from None
    return heads.eval(), {"clap_dim": clap_dim, "clip_dim": clip_dim, "dim": widths["Head_A.out"],
                          "hidden_a": widths["Head_A"], "hidden_b": widths["Head_B"]}
