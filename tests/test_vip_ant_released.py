"""VIP-ANT's released checkpoints in vip_ant: a file written in the documented layout (its config pickled as
omegaconf 2.1 pickles it) loads without running its pickle, maps onto the audio ViT so that it computes what
the reference's CLIPAudioHead computes, and any other layout, or a pickle naming anything else, is refused."""
from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import pickletools
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from avtbench_plugins.methods.vip_ant.config import VipAntConfig
from avtbench_plugins.methods.vip_ant.method import VipAnt
from avtbench_plugins.methods.vip_ant.model import VipAntAudio
from avtbench_plugins.methods.vip_ant.released import check_config, load_vip_ant, reference_layout
from torch import nn

from avtbench.backbones.clip import SynthClipConfig
from avtbench.backbones.loading import save_pretrained
from avtbench.backbones.tokenizer import vocabulary_tokenizer
from avtbench.cache import ArtifactCache
from avtbench.config import build
from avtbench.plan import make_plan
from avtbench.plugins import registry
from avtbench.recording import record_cell
from avtbench.runner import Runner
from avtbench.safe_pickle import RefusedPickle
from avtbench.store import ResultStore

from .conftest import tiny_world_root, user_error

LAYOUTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference-layouts"
pytestmark = pytest.mark.usefixtures("one_thread")
STRIDE = (16, 24)


# ---------------------------------------------------------------------------------- writing the released layout


def fake_omegaconf() -> dict[str, types.ModuleType]:
    """Modules named as omegaconf 2.1's, whose classes pickle as its `DictConfig` and nodes do (`Node.__getstate__`
    drops the flags cache; metadata are dataclasses holding types and a `defaultdict(dict)` resolver cache)."""
    modules = {name: types.ModuleType(name) for name in
               ("omegaconf", "omegaconf.base", "omegaconf.dictconfig", "omegaconf.listconfig", "omegaconf.nodes")}

    def place(cls: type, module: str) -> type:
        cls.__module__, cls.__qualname__ = module, cls.__name__
        setattr(modules[module], cls.__name__, cls)
        return cls

    class Metadata:
        def __init__(self, ref_type: Any, object_type: Any, key: Any) -> None:
            self.ref_type, self.object_type, self.optional, self.key = ref_type, object_type, True, key
            self.flags, self.flags_root = None, False
            self.resolver_cache = collections.defaultdict(dict)

    class ContainerMetadata(Metadata):
        def __init__(self, ref_type: Any, object_type: Any, key: Any, key_type: Any) -> None:
            super().__init__(ref_type, object_type, key)
            self.key_type, self.element_type = key_type, Any

    class Node:
        def __getstate__(self) -> dict:
            state = dict(self.__dict__)
            del state["_flags_cache"]
            return state

    class DictConfig(Node):
        pass

    class ListConfig(Node):
        pass

    class AnyNode(Node):
        pass

    place(Metadata, "omegaconf.base"), place(ContainerMetadata, "omegaconf.base"), place(Node, "omegaconf.base")
    place(DictConfig, "omegaconf.dictconfig"), place(ListConfig, "omegaconf.listconfig"), place(AnyNode, "omegaconf.nodes")
    return modules


def omega(value: Any, modules: dict[str, types.ModuleType], parent: Any = None, key: Any = None) -> Any:
    """`value` (dicts, lists, scalars, interpolation strings) as the fake omegaconf tree."""
    base = modules["omegaconf.base"]
    if isinstance(value, dict):
        node = modules["omegaconf.dictconfig"].DictConfig()
        meta = base.ContainerMetadata(Any, dict, key, Any)
        node.__dict__.update(_metadata=meta, _parent=parent, _flags_cache=None)
        node.__dict__["_content"] = {k: omega(v, modules, node, k) for k, v in value.items()}
    elif isinstance(value, list):
        node = modules["omegaconf.listconfig"].ListConfig()
        node.__dict__.update(_metadata=base.ContainerMetadata(Any, list, key, int), _parent=parent, _flags_cache=None)
        node.__dict__["_content"] = [omega(v, modules, node, i) for i, v in enumerate(value)]
    else:
        node = modules["omegaconf.nodes"].AnyNode()
        node.__dict__.update(_metadata=base.Metadata(Any, None, key), _parent=parent, _flags_cache=None, _val=value)
    return node


def run_config(frames: int, mels: int, width: int, embed_dim: int, layers: int, loss: str = "CELossHead",
               stride: tuple[int, int] = STRIDE) -> dict:
    """The parts of a VIP-ANT run's hydra config a loader reads, with its interpolations unresolved as pickled."""
    return {
        "model_name": "test", "worker": "CVALP", "seed": 1213,
        "running": {"audio": {"max_len": frames, "num_mel_bins": mels, "norms": [-4.93839311, 5.75751113]},
                    "max_audio_len": "${running.audio.max_len}", "num_mel_bins": "${running.audio.num_mel_bins}",
                    "batch_size": 432},
        "model": {"image": {"width": width, "embed_dim": embed_dim, "encoder": {"layers": layers},
                            "pre_encoder": {"patch_size": 32}},
                  "audio": {"name": "CLIPAudioHead", "freeze": False, "width": "${model.image.width}",
                            "embed_dim": "${model.image.embed_dim}", "ctx_len": None,
                            "resolution": ["${running.max_audio_len}", "${running.num_mel_bins}"],
                            "encoder": {"name": "TransformerBackbone", "layers": "${model.image.encoder.layers}",
                                        "skip_attn_mask": True},
                            "pre_encoder": {"name": "ViTPreEncoder", "patch_size": "${model.image.pre_encoder.patch_size}",
                                            "stride": list(stride), "in_channels": 3},
                            "post_encoder": {"name": "ViTPostEncoder"}, "misc": {"name": "CLIPMisc"}},
                  "loss": {"name": loss, "scaling": True, "scale_max": None}},
        "optimizer": {"use_lars": True, "lr_weight": 0.2, "lr_bias": 0.0048, "max_norm": 0.5},
    }


def random_audio_head(net: VipAntAudio, seed: int = 0) -> collections.OrderedDict:
    generator = torch.Generator().manual_seed(seed)
    return collections.OrderedDict((key, torch.randn(shape, generator=generator) * 0.2)
                                   for key, shape in reference_layout(net).items())


def write_released(path: Path, config: dict, audio: dict, loss: dict, monkeypatch, worker: str = "CVALP") -> None:
    """torch.save({'cfg': <DictConfig>, 'model': (...)}) as `cvap/monitor/cvalp.py:302-309` writes it."""
    modules = fake_omegaconf()
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    heads = (collections.OrderedDict(), audio, collections.OrderedDict(), loss) if worker == "CVALP" else (audio, loss)
    torch.save({"cfg": omega(config, modules), "model": heads}, path)
    for name in modules:
        monkeypatch.delitem(sys.modules, name)


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory) -> Path:
    """A tiny, untrained CLIP (OpenAI-shaped: QuickGELU, 32 x 32 patches) saved as a local folder."""
    recipe = SynthClipConfig(vision_hidden=16, vision_layers=1, image_size=64)
    tokenizer = vocabulary_tokenizer(["a dog barking", "a bell ringing"], [], recipe.max_text_length)
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("clip") / "tiny-clip"
    save_pretrained(folder, recipe.build(tokenizer).eval(), tokenizer, recipe.processor())
    return folder


def _config(clip_folder: Path, **change) -> VipAntConfig:
    return build(VipAntConfig, {"preset": "tiny", "clip": str(clip_folder), **change}, "vip_ant")


def _net(clip_folder: Path, **change) -> tuple[VipAnt, VipAntAudio]:
    method = VipAnt(_config(clip_folder, **change))
    from avtbench.backbones.clip import load_clip

    model, _, _ = load_clip(str(clip_folder), None, setting="vip_ant.clip")
    return method, VipAntAudio.from_clip(model, method.config)


def _geometry(net: VipAntAudio) -> dict:
    audio = net.audio
    return dict(frames=audio.n_frames, mels=audio.n_mels, width=audio.hidden_size, embed_dim=audio.output_dim,
                layers=len(audio.encoder.layers))


# ---------------------------------------------------------------------------------- the reference's forward


def reference_forward(state: dict, fbank: torch.Tensor, heads: int) -> torch.Tensor:
    """CLIPAudioHead's forward (`cvap/module/val.py` ViTPreEncoder, TransformerBackbone, ViTPostEncoder), written
    from its description: the 3-channel kernel averaged, class row then time-major patches, torch's
    MultiheadAttention on [L, N, D], QuickGELU, the class token's LayerNorm times `proj`."""
    width = state["misc.class_embedding"].shape[0]
    ln = lambda x, name: F.layer_norm(x, (width,), state[f"{name}.weight"], state[f"{name}.bias"], 1e-5)  # noqa: E731
    x = F.conv2d(fbank.unsqueeze(1), state["pre_encoder.conv1.weight"].mean(1, keepdim=True), stride=STRIDE)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    x = torch.cat([state["misc.class_embedding"] + torch.zeros(x.shape[0], 1, width), x], dim=1)
    x = ln(x + state["misc.positional_embedding"], "pre_encoder.ln").permute(1, 0, 2)
    layers = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("encoder.resblocks."))
    for n in range(layers):
        p = f"encoder.resblocks.{n}."
        attention = nn.MultiheadAttention(width, heads)
        attention.load_state_dict({"in_proj_weight": state[p + "attn.in_proj_weight"], "in_proj_bias": state[p + "attn.in_proj_bias"],
                                   "out_proj.weight": state[p + "attn.out_proj.weight"], "out_proj.bias": state[p + "attn.out_proj.bias"]})
        y = ln(x, p + "ln_1")
        x = x + attention(y, y, y, need_weights=False)[0]
        hidden = F.linear(ln(x, p + "ln_2"), state[p + "mlp.c_fc.weight"], state[p + "mlp.c_fc.bias"])
        x = x + F.linear(hidden * torch.sigmoid(1.702 * hidden), state[p + "mlp.c_proj.weight"], state[p + "mlp.c_proj.bias"])
    return ln(x.permute(1, 0, 2)[:, 0], "post_encoder.ln") @ state["post_encoder.proj"]


# ---------------------------------------------------------------------------------- the documented layout


@pytest.mark.parametrize("layout", ["vipant-va-pretrain.json", "vipant-at-finetune.json"])
def test_the_documented_layout_maps_onto_the_audio_vit_at_paper_sizes(layout) -> None:
    if not (LAYOUTS / layout).is_file():
        pytest.skip("the reference layouts are not beside the project")
    from transformers import CLIPConfig, CLIPModel

    document = json.loads((LAYOUTS / layout).read_text())
    paper = build(VipAntConfig, {"preset": "paper"}, "vip_ant")
    with torch.device("meta"):
        clip = CLIPModel(CLIPConfig(projection_dim=512))  # ViT-B/32's towers (transformers' defaults)
        net = VipAntAudio.from_clip(clip, paper)
    rows = document["state_dicts"]["model[1] audio_head"]
    assert {name: tuple(shape) for name, shape, _ in rows} == reference_layout(net)
    audio_head = document["top_level_keys"]["model"]["entries_CVALP"]["[1] audio_head"]
    assert len(rows) == audio_head["n_tensors"] == 152 and {dtype for _, _, dtype in rows} == {"float32"}
    assert sum(math.prod(shape) for _, shape, _ in rows) == audio_head["n_elements_total"]
    resolved = document["configuration"]["model.audio (resolved)"]
    check_config({"model": {"audio": resolved}}, net, Path(layout))
    assert document["configuration"]["position_resolution (time, freq)"] == list(net.audio.grid)


def test_the_written_file_pickles_what_the_released_files_pickle(clip_folder, tmp_path, monkeypatch) -> None:
    _, net = _net(clip_folder)
    path = tmp_path / "00004140.pth"
    write_released(path, run_config(**_geometry(net)), random_audio_head(net), {"logit_scale": torch.tensor(2.0)}, monkeypatch)
    with zipfile.ZipFile(path) as archive:
        data = archive.read(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    names, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif op.name == "GLOBAL":
            names.add(arg.replace("\n", " ").strip())
        elif op.name == "STACK_GLOBAL":
            names.add(f"{strings[-2]} {strings[-1]}")
    if (LAYOUTS / "vipant-at-finetune.json").is_file():
        expected = json.loads((LAYOUTS / "vipant-at-finetune.json").read_text())["roundtrip_check"]["pickle_globals"]
        assert names == set(expected)
    assert "omegaconf.dictconfig DictConfig" in names and "__builtin__ long" in names


# ---------------------------------------------------------------------------------- loading


@pytest.mark.parametrize("worker, loss", [("CVALP", {"logit_scale": math.log(30.0)}),
                                          ("CVAP", {"logit_scale": math.log(30.0)}),
                                          ("CVALP", {"loss_head_al.logit_scale": math.log(40.0)})])
def test_a_released_file_loads_and_computes_what_the_reference_computes(clip_folder, tmp_path, monkeypatch, worker, loss) -> None:
    _, net = _net(clip_folder)
    audio = random_audio_head(net)
    path = tmp_path / "00071478.pth"
    write_released(path, run_config(**_geometry(net), loss="VALCELossHead" if "loss_head_al.logit_scale" in loss else "CELossHead"),
                   audio, {k: torch.tensor(v) for k, v in loss.items()}, monkeypatch, worker)
    stats = load_vip_ant(path, net)
    assert stats["released_audio_tensors"] == len(audio)
    scale = "logit_scale_at" if "loss_head_al.logit_scale" in loss else "logit_scale_va"
    assert stats[scale] == pytest.approx(math.exp(next(iter(loss.values()))), rel=1e-5)
    assert getattr(net, scale).item() == pytest.approx(next(iter(loss.values())), rel=1e-6)
    fbank = torch.randn(3, net.audio.n_frames, net.audio.n_mels)
    ours = net.eval()(fbank)
    theirs = F.normalize(reference_forward(audio, fbank, heads=net.audio.encoder.layers[0].self_attn.num_heads), dim=-1)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_the_method_evaluates_a_released_file_without_pretraining(clip_folder, tmp_path, monkeypatch) -> None:
    _, net = _net(clip_folder)
    path = tmp_path / "00051623.pth"
    audio = random_audio_head(net)
    write_released(path, run_config(**_geometry(net)), audio, {"logit_scale": torch.tensor(3.0)}, monkeypatch)
    method = VipAnt(_config(clip_folder, checkpoint=str(path)))
    stats = method.load_released(path)
    assert stats["logit_scale_va"] == pytest.approx(math.exp(3.0), rel=1e-5)
    waveforms = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 2 * 16000)).astype(np.float32) * 0.1)
    frames = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (2, 2, 32, 32, 3), dtype=np.uint8))
    embedded = method.encode("audio", waveforms)
    assert embedded.shape == method.encode("visual", frames).shape == (2, 2, method.clip.dim)
    assert "vip_ant.clip" in user_error(VipAnt.validate, build(VipAntConfig, {"checkpoint": str(path)}, "vip_ant"))


def test_a_pickle_naming_anything_else_is_refused_without_running_it(clip_folder, tmp_path, monkeypatch) -> None:
    _, net = _net(clip_folder)
    mark = tmp_path / "ran"

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f"touch {mark}",))

    path = tmp_path / "evil.pth"
    modules = fake_omegaconf()
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    config = omega(run_config(**_geometry(net)), modules)
    config._content["hook"] = RunsCode()
    torch.save({"cfg": config, "model": (random_audio_head(net), {})}, path)
    with pytest.raises(RefusedPickle) as info:
        load_vip_ant(path, net)
    assert "evil.pth holds a pickled" in str(info.value) and "system" in str(info.value)
    assert not mark.exists()


@pytest.mark.parametrize("damage, words", [
    ("extra", "audio-head key 'encoder.resblocks.0.attn.bias_k' is not one of VIP-ANT's CLIPAudioHead"),
    ("missing", "lacks audio-head key 'misc.class_embedding'"),
    ("shape", "audio-head key 'misc.positional_embedding' has shape [27, 16]"),
    ("stride", "its model.audio.pre_encoder.stride is [16, 16], but vip_ant as configured builds [16, 24]"),
    ("loss", "loss-head key 'loss_head_lv.logit_scale' is not a temperature vip_ant has"),
    ("image head", "holds a trained image head (key 'conv1.weight')"),
    ("three heads", "is not a tuple of 4 (CVALP) or 2 (CVAP) state dicts"),
    ("not vip-ant", "is not a VIP-ANT checkpoint"),
])
def test_another_layout_is_one_line_naming_what_does_not_fit(clip_folder, tmp_path, monkeypatch, damage, words) -> None:
    _, net = _net(clip_folder)
    audio, loss = random_audio_head(net), {"logit_scale": torch.tensor(2.0)}
    config = run_config(**_geometry(net), stride=(16, 16) if damage == "stride" else STRIDE)
    if damage == "extra":
        audio["encoder.resblocks.0.attn.bias_k"] = torch.zeros(1, 1, 16)
    elif damage == "missing":
        del audio["misc.class_embedding"]
    elif damage == "shape":
        audio["misc.positional_embedding"] = torch.zeros(27, 16)
    elif damage == "loss":
        loss = {"loss_head_lv.logit_scale": torch.tensor(1.0)}
    path = tmp_path / "other.pth"
    write_released(path, config, audio, loss, monkeypatch)
    if damage in ("image head", "three heads", "not vip-ant"):
        modules = fake_omegaconf()
        for name, module in modules.items():
            monkeypatch.setitem(sys.modules, name, module)
        cfg = omega(config, modules)
        heads = {"image head": (collections.OrderedDict({"conv1.weight": torch.zeros(1)}), audio, {}, loss),
                 "three heads": (audio, loss, {}), "not vip-ant": None}[damage]
        torch.save({"cfg": cfg, "model": heads} if heads is not None else {"state_dict": audio}, path)
    assert words in user_error(load_vip_ant, path, net)


def test_a_cell_evaluates_the_released_file_without_pretraining(clip_folder, tmp_path, session_cache, monkeypatch) -> None:
    tiny_world_root(session_cache)
    _, net = _net(clip_folder)
    path = tmp_path / "00083391.pth"
    write_released(path, run_config(**_geometry(net)), random_audio_head(net), {"logit_scale": torch.tensor(2.0)}, monkeypatch)
    document = {"data": {"profile": "tiny"}, "vip_ant": {"preset": "tiny", "clip": str(clip_folder), "checkpoint": str(path)}}
    cache = ArtifactCache(session_cache)
    plan = make_plan(registry(), ["vip_ant"], ["retrieval"], ["a2v"], [0], document, cache)
    record = record_cell(ResultStore(tmp_path / "results"), Runner(cache, plan.data), plan.cells[0])
    assert record.pretrain.checkpoint == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.pretrain.released["sha256"] == record.pretrain.checkpoint and not cache.has_checkpoint(record.pretrain.checkpoint)
