"""CAV-MAE's released pretrained checkpoints in lg_cav_mae: the documented layout maps one-to-one onto the
model at CAV-MAE's sizes, a file written in that layout loads strictly, any other layout is one line."""
from __future__ import annotations

import collections
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from avtbench_plugins.methods.lg_cav_mae.config import LGCavMaeConfig
from avtbench_plugins.methods.lg_cav_mae.method import LGCavMae, sizes_of
from avtbench_plugins.methods.lg_cav_mae.model import CavMae
from avtbench_plugins.methods.lg_cav_mae.released import PREFIX, POSITION_BUFFERS, expected_tensors, our_name

from avtbench.cache import ArtifactCache
from avtbench.config import build
from avtbench.plan import make_plan
from avtbench.plugins import registry
from avtbench.recording import record_cell
from avtbench.runner import Runner
from avtbench.store import ResultStore

from .conftest import tiny_world_root, user_error

LAYOUT = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference-layouts" / "cav-mae-pretrain-base.json"
pytestmark = pytest.mark.usefixtures("one_thread")


def _config(**change) -> LGCavMaeConfig:
    return build(LGCavMaeConfig, {"preset": "tiny", "text_guidance": False, **change}, "lg_cav_mae")


def _reference_names(model: CavMae) -> dict[str, str]:
    """Our name -> the released file's name, as CAV-MAE's `DataParallel(CAVMAE).state_dict()` spells it."""
    inverse = {v: k for k, v in POSITION_BUFFERS.items()}
    names = {}
    for ours in expected_tensors(model):
        reference = inverse.get(ours) or ours.replace(".mlp.0.", ".mlp.fc1.").replace(".mlp.2.", ".mlp.fc2.")
        reference = reference.replace("patch_a.proj", "patch_embed_a.proj").replace("patch_v.proj", "patch_embed_v.proj")
        names[ours] = PREFIX + reference
    return names


def write_released(path: Path, config: LGCavMaeConfig, seed: int = 0, drop: str = "", extra: str = "",
                   strip: str = "") -> dict[str, torch.Tensor]:
    """A checkpoint in the released layout (DataParallel state dict, float32) at `config`'s sizes, random values."""
    generator = torch.Generator().manual_seed(seed)
    model = CavMae(sizes_of(config))
    state = collections.OrderedDict()
    for ours, reference in _reference_names(model).items():
        if reference == drop:
            continue
        state[reference[len(PREFIX):] if reference == strip else reference] = \
            torch.randn(expected_tensors(model)[ours], generator=generator)
    if extra:
        state[extra] = torch.zeros(3)
    torch.save(state, path)
    return state


@pytest.mark.skipif(not LAYOUT.is_file(), reason="the reference layouts are not beside the project")
def test_the_documented_layout_maps_one_to_one_onto_the_paper_sized_model() -> None:
    layout = json.loads(LAYOUT.read_text())
    rows = layout["state_dicts"]["<bare state dict>"]
    paper = build(LGCavMaeConfig, {"preset": "paper", "text_guidance": False}, "lg_cav_mae")
    with torch.device("meta"):
        expected = expected_tensors(CavMae(sizes_of(paper)))
    assert len(rows) == len(expected) == layout["n_tensors"] == 647
    mapped = {}
    for name, shape, dtype in rows:
        assert name.startswith(PREFIX) and dtype == "float32"
        mapped[our_name(name[len(PREFIX):])] = shape
    assert mapped == {name: list(shape) for name, shape in expected.items()}
    assert sum(int(np.prod(s)) for s in mapped.values()) == layout["total_parameter_elements"]


def test_a_file_in_the_released_layout_loads_strictly_and_encodes(tmp_path: Path) -> None:
    config = _config(checkpoint=str(tmp_path / "cav-mae-base.pth"))
    state = write_released(tmp_path / "cav-mae-base.pth", config)
    method = LGCavMae(config, seed=0)
    stats = method.load_released(tmp_path / "cav-mae-base.pth")
    assert stats == {"released_tensors": float(len(state))}
    ours = {**dict(method.model.named_buffers()), **method.model.state_dict()}
    for our, reference in _reference_names(method.model).items():
        assert torch.equal(ours[our], state[reference]), our
    frames = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32, 3), dtype=np.uint8))
    audio = torch.from_numpy(np.random.default_rng(1).standard_normal((2, 3 * 16000)).astype(np.float32))
    assert method.encode("visual", frames).shape == method.encode("audio", audio).shape == (2, 3, config.width)
    assert LGCavMae.released_checkpoint(config) == config.checkpoint and LGCavMae.released_checkpoint(_config()) is None


@pytest.mark.parametrize("damage, words", [
    ({"strip": "module.norm_a.weight"}, "key 'norm_a.weight' lacks the 'module.' prefix"),
    ({"extra": "module.mlp_head.0.weight"}, "key 'module.mlp_head.0.weight' is not a tensor of CAV-MAE"),
    ({"drop": "module.decoder_pred_v.bias"}, "lacks key 'module.decoder_pred_v.bias'"),
    ({"drop": "module.pos_embed_v"}, "lacks key 'module.pos_embed_v'"),
    ({"drop": "module.blocks_a.0.mlp.fc2.weight"}, "lacks key 'module.blocks_a.0.mlp.fc2.weight'"),
])
def test_another_layout_is_one_line_naming_the_first_key_that_does_not_fit(tmp_path: Path, damage, words) -> None:
    config = _config()
    write_released(tmp_path / "x.pth", config, **damage)
    assert words in user_error(LGCavMae(config).load_released, tmp_path / "x.pth")


def test_other_sizes_a_wrapper_dict_or_a_pickle_that_runs_code_are_refused(tmp_path: Path) -> None:
    write_released(tmp_path / "tiny.pth", _config())
    message = user_error(LGCavMae(_config(width=64)).load_released, tmp_path / "tiny.pth")
    assert "key 'module.modality_a' has shape [1, 1, 32] where the configured model has [1, 1, 64]" in message
    torch.save({"model": torch.load(tmp_path / "tiny.pth", weights_only=True), "epoch": 3}, tmp_path / "wrapped.pth")
    assert "not a state dict of tensors" in user_error(LGCavMae(_config()).load_released, tmp_path / "wrapped.pth")

    class RunsCode:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'ran'}",))

    torch.save({"module.modality_a": RunsCode()}, tmp_path / "evil.pth")
    assert "is not a CAV-MAE checkpoint torch can read safely" in user_error(LGCavMae(_config()).load_released,
                                                                             tmp_path / "evil.pth")
    assert not (tmp_path / "ran").exists()


def test_a_released_checkpoint_needs_text_guidance_off() -> None:
    assert "text_guidance=false" in user_error(LGCavMae.validate, _config(checkpoint="x.pth", text_guidance=True))


def test_a_cell_evaluates_the_released_file_without_pretraining(tmp_path: Path, session_cache: Path) -> None:
    tiny_world_root(session_cache)
    path = tmp_path / "audio_model.21.pth"
    write_released(path, _config())
    document = {"data": {"profile": "tiny"},
                "lg_cav_mae": {"preset": "tiny", "text_guidance": False, "checkpoint": str(path)}}
    cache = ArtifactCache(session_cache)
    plan = make_plan(registry(), ["lg_cav_mae"], ["retrieval"], ["a2v"], [0], document, cache)
    record = record_cell(ResultStore(tmp_path / "results"), Runner(cache, plan.data), plan.cells[0])
    assert record.pretrain.checkpoint == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.pretrain.released["path"] == str(path.resolve()) and record.pretrain.stats["released_tensors"] > 0
    assert not cache.has_checkpoint(record.pretrain.checkpoint) and record.timings.pretrain_s == 0
