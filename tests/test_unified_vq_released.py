"""unified_vq reads CMG's released checkpoints: files written here in the released layout (the names, nesting
and dtypes of `tests/data/cmg_checkpoint_layouts.json`, random float64 weights at tiny sizes) load through
`UnifiedVQ.load_released` and encode as a unified_vq whose weights were set by hand; the layout's names and
shapes at the released sizes map onto unified_vq's `paper` preset (checked on the meta device)."""
from __future__ import annotations

import dataclasses
import json
import logging
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from avtbench import config as cfg
from avtbench.api import UserError
from avtbench_plugins.methods.unified_vq.config import REFERENCE_BEHAVIOUR, UnifiedVQConfig
from avtbench_plugins.methods.unified_vq.method import UnifiedVQ
from avtbench_plugins.methods.unified_vq.model import InputDims, UnifiedVQModel
from avtbench_plugins.methods.unified_vq.released import reference_name

LAYOUTS = json.loads((Path(__file__).parent / "data" / "cmg_checkpoint_layouts.json").read_text())
DIMS = InputDims(audio=12, height=7, width=7, channels=16, text=20)
BROKEN = {"spatial_pool": "softmax", "residual_relu": "separate", "cmcm_normaliser": "cross_entropy",
          "token_filter": "none", "idle_counting": "train"}


def tiny(modalities: str = "audio,visual,text", **overrides: object) -> UnifiedVQConfig:
    values = dict(modalities=modalities, codebook_size=16, embedding_dim=16, semantic_ff_dim=32, semantic_heads=4,
                  text_lstm_hidden=8, text_steps=5, text_encoder="stub://bert")
    return UnifiedVQConfig(**{**values, **overrides})  # type: ignore[arg-type]


def _shape(section: str, name: str, ours: dict[str, torch.Tensor], released: list[int]) -> tuple[int, ...]:
    """The tensor's shape in a tiny file: unified_vq's where it reads the tensor, else the released one shrunk."""
    for key, tensor in ours.items():
        if reference_name(key) == (section, name):
            return tuple(tensor.shape)
    template = name.replace(".encoder_layer.", ".encoder.layers.0.")  # the never-called template layer
    for key, tensor in ours.items():
        if reference_name(key) == (section, template):
            return tuple(tensor.shape)
    return tuple(min(d, 3) for d in released)


def write_released(path: Path, kind: str, config: UnifiedVQConfig, only: tuple[str, ...] = (), seed: int = 0,
                   dims: InputDims = DIMS) -> dict:
    """A file in the released layout `kind` ("avt", "av") at `config`'s sizes: random float64 weights, float
    `unactivated_count`, Adam states, `epoch` and `total_step`; `only` keeps those top-level keys alone."""
    generator = torch.Generator().manual_seed(seed)
    ours = UnifiedVQModel(config, dims, training_parts=False).state_dict()
    layout = LAYOUTS[kind]
    checkpoint: dict = {}
    for key in layout["top_level_keys"]:
        if key in layout["state_dicts"]:
            rows = layout["state_dicts"][key]
            assert {dtype for _, _, dtype in rows} == {"float64"}
            checkpoint[key] = OrderedDict(
                (name, torch.randn(_shape(key, name, ours, shape), generator=generator, dtype=torch.float64) / 4)
                for name, shape, _ in rows)
        elif key.startswith("optimizer"):
            checkpoint[key] = {"state": {}, "param_groups": [{"lr": 4e-4, "betas": (0.9, 0.999), "eps": 1e-8,
                                                              "weight_decay": 0, "amsgrad": False, "params": [0, 1]}]}
        else:
            checkpoint[key] = 3 if key == "epoch" else 1234
    counts = checkpoint["Encoder_parameters"]["Cross_quantizer.unactivated_count"]
    counts.copy_(torch.randint(-1, 300, counts.shape, generator=generator).double())
    checkpoint = {k: v for k, v in checkpoint.items() if not only or k in only}
    torch.save(checkpoint, path)
    return checkpoint


def set_by_hand(config: UnifiedVQConfig, checkpoint: dict) -> UnifiedVQModel:
    """unified_vq's encoding model with each module's weights copied from the file one by one."""
    config = dataclasses.replace(config, **REFERENCE_BEHAVIOUR)
    model = UnifiedVQModel(config, dataclasses.replace(DIMS, height=0, width=0), training_parts=False)
    encoder, lstm = checkpoint["Encoder_parameters"], checkpoint["Text_ar_lstm_parameters"]
    prefixes = {"audio": "audio_self_att", "visual": "video_self_att", "text": "text_self_att"}
    with torch.no_grad():
        for modality in config.modality_list:
            temporal = model.semantic[modality]
            if modality == "visual":
                pool, temporal = temporal.pool, temporal.temporal
                pool.excite[0].weight.copy_(encoder["video_semantic_encoder.se_layer.0.weight"])
                pool.excite[2].weight.copy_(encoder["video_semantic_encoder.se_layer.2.weight"])
                for ours, theirs in (("global_query", "affine_video_ave"), ("local_query", "affine_video_self"),
                                     ("score", "ave_v_att")):
                    getattr(pool, ours).weight.copy_(encoder[f"video_semantic_encoder.{theirs}.weight"])
                    getattr(pool, ours).bias.copy_(encoder[f"video_semantic_encoder.{theirs}.bias"])
            prefix = prefixes[modality]
            temporal.project.weight.copy_(encoder[f"{prefix}.affine_matrix.weight"])
            temporal.project.bias.copy_(encoder[f"{prefix}.affine_matrix.bias"])
            for i, layer in enumerate(temporal.layers.layers):
                for name, parameter in layer.named_parameters():
                    parameter.copy_(encoder[f"{prefix}.encoder.layers.{i}.{name}"])
        if "text" in config.modality_list:
            for name, parameter in model.text_lstm.lstm.named_parameters():
                parameter.copy_(lstm[name])
        book = model.codebook
        book.embedding.copy_(encoder["Cross_quantizer.embedding"])
        book.ema_count.copy_(encoder["Cross_quantizer.ema_count"])
        book.ema_weight.copy_(encoder["Cross_quantizer.ema_weight"])
        book.idle.copy_(encoder["Cross_quantizer.unactivated_count"].long())
    return model.eval()


class _StubBert(nn.Module):
    """A stand-in for BERT: a fixed random feature per token id."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.table = nn.Embedding(64, width)

    def forward(self, input_ids: torch.Tensor, **_: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(last_hidden_state=self.table(input_ids))


def with_stub_text(method: UnifiedVQ, tmp_path: Path) -> UnifiedVQ:
    from transformers import BertTokenizer

    vocabulary = tmp_path / "vocab.txt"
    vocabulary.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "dog", "barks", "loud"]) + "\n")
    torch.manual_seed(0)
    method._text_backbone = (BertTokenizer(str(vocabulary)), _StubBert(DIMS.text).eval())
    return method


def inputs(seed: int = 1) -> dict[str, object]:
    generator = torch.Generator().manual_seed(seed)
    return {"audio": torch.randn(3, 5, DIMS.audio, generator=generator),
            "visual": torch.rand(3, 5, 7, 7, DIMS.channels, generator=generator),
            "text": ["a dog barks", "loud dog", "a a loud dog barks"]}


def test_a_released_avt_file_encodes_as_weights_set_by_hand(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tiny(**BROKEN)  # every behaviour setting away from the reference's: the loader must override them
    checkpoint = write_released(tmp_path / "AVT_vgg40k_size400.pt", "avt", config)
    method = UnifiedVQ(config)
    with caplog.at_level(logging.WARNING, logger="avtbench"):
        stats = method.load_released(tmp_path / "AVT_vgg40k_size400.pt")
    assert [r.getMessage().count("\n") for r in caplog.records] == [0]
    assert "spatial_pool=sum" in caplog.records[0].getMessage()
    assert {k: getattr(method.config, k) for k in REFERENCE_BEHAVIOUR} == REFERENCE_BEHAVIOUR
    assert stats == {"released_epoch": 3, "released_tensors": 106, "released_unused_tensors": 142 + 16 - 106,
                     "released_forced": ",".join(f"{k}={v}" for k, v in REFERENCE_BEHAVIOUR.items())}
    by_hand = set_by_hand(config, checkpoint)
    with_stub_text(method, tmp_path)
    for modality, batch in inputs().items():
        x = method._input(modality, batch)
        expected = by_hand.codebook.embedding[by_hand.codebook.nearest(by_hand.encode_semantic(modality, x))]
        assert torch.equal(method.encode(modality, batch), expected), modality
        assert torch.equal(method.model.encode_semantic(modality, x), by_hand.encode_semantic(modality, x)), modality
    assert torch.equal(method.model.codebook.idle, by_hand.codebook.idle)


def test_what_a_released_model_saves_loads_back_with_the_references_behaviour(tmp_path: Path) -> None:
    write_released(tmp_path / "released.pt", "avt", tiny(), only=("Encoder_parameters", "Text_ar_lstm_parameters", "epoch"))
    method = UnifiedVQ(tiny())
    stats = method.load_released(tmp_path / "released.pt")
    assert stats["released_forced"] == "" and stats["released_epoch"] == 3
    method.save(tmp_path / "saved")
    again = UnifiedVQ(tiny(**BROKEN))
    again.load(tmp_path / "saved")
    assert again.config.spatial_pool == "sum" and again.released
    visual = inputs()["visual"]
    assert torch.equal(again.encode("visual", visual), method.encode("visual", visual))


def test_an_audio_visual_file_loads_audio_visual_and_refuses_text(tmp_path: Path) -> None:
    write_released(tmp_path / "av.pt", "av", tiny("audio,visual"))
    method = UnifiedVQ(tiny("audio,visual"))
    assert method.load_released(tmp_path / "av.pt")["released_tensors"] == 26 + 34 + 4
    assert method.encode("audio", inputs()["audio"]).shape == (3, 5, 16)
    with pytest.raises(UserError, match=r"Encoder_parameters\['text_self_att.affine_matrix.weight'\] is missing") as info:
        UnifiedVQ(tiny()).load_released(tmp_path / "av.pt")
    assert "\n" not in str(info.value)


def test_a_file_of_another_layout_is_one_line_naming_the_first_key_that_does_not_fit(tmp_path: Path) -> None:
    write_released(tmp_path / "small.pt", "avt", tiny(codebook_size=8))
    torch.save({"model": {"w": torch.zeros(2)}}, tmp_path / "other.pt")
    torch.save({"Encoder_parameters": {"audio_self_att.affine_matrix.weight": torch.zeros(16, 12)}}, tmp_path / "part.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    torch.save({"Encoder_parameters": {}, "cfg": SimpleNamespace(run="code")}, tmp_path / "object.pt")
    expected = {
        "small.pt": r"Encoder_parameters\['Cross_quantizer.embedding'\] has shape \(8, 16\) where unified_vq at these "
                    r"settings has \(16, 16\)",
        "other.pt": "holds no 'Encoder_parameters' dict",
        "part.pt": r"Encoder_parameters\['video_self_att.affine_matrix.weight'\] is missing",
        "text.pt": "is not a torch.save file that weights_only can read",
        "object.pt": "is not a torch.save file that weights_only can read",
        "absent.pt": "is not a file",
    }
    for name, message in expected.items():
        with pytest.raises(UserError, match=message) as info:
            UnifiedVQ(tiny()).load_released(tmp_path / name)
        assert "\n" not in str(info.value), name


def test_the_checkpoint_setting_is_checked_at_plan_time_and_needs_bert_for_text(tmp_path: Path) -> None:
    path = tmp_path / "released.pt"
    write_released(path, "avt", tiny())
    config = cfg.build(UnifiedVQConfig, {"checkpoint": str(path), "semantic_heads": 4}, "unified_vq")
    UnifiedVQ.validate(config)
    assert UnifiedVQ.released_checkpoint(config) == str(path) and UnifiedVQ.released_checkpoint(UnifiedVQConfig()) is None
    for values, message in (({"checkpoint": str(tmp_path / "absent.pt")}, "is not a file"),
                            ({"checkpoint": str(path), "semantic_heads": 2}, "have 4 heads")):
        with pytest.raises(UserError, match=message):
            UnifiedVQ.validate(dataclasses.replace(config, **values))
    method = UnifiedVQ(tiny(text_encoder="synth://text"))
    method.load_released(path)
    with pytest.raises(UserError, match="set unified_vq.text_encoder=bert-base-uncased"):
        method.encode("text", ["a dog"])


@pytest.mark.parametrize("kind", ["avt", "av"])
def test_the_released_names_and_shapes_map_onto_the_paper_preset(kind: str) -> None:
    config = cfg.build(UnifiedVQConfig, {"preset": "paper", "modalities": "audio,visual,text" if kind == "avt"
                                         else "audio,visual"}, "unified_vq")
    layout = {(section, name): tuple(shape) for section, rows in LAYOUTS[kind]["state_dicts"].items()
              for name, shape, _ in rows}
    with torch.device("meta"):
        model = UnifiedVQModel(config, InputDims(audio=128, channels=512, text=768), training_parts=False)
    mapped = {reference_name(name): tuple(t.shape) for name, t in model.state_dict().items()}
    assert {key: layout.get(key) for key in mapped} == mapped
    assert len(mapped) == (106 if kind == "avt" else 64)
    unread = {name.split(".")[0] for (section, name) in set(layout) - set(mapped)
              if section == "Encoder_parameters" and ".encoder_layer." not in name}
    assert unread == {"Video_encoder", "Audio_encoder"} | ({"Text_encoder"} if kind == "avt" else set())


@pytest.mark.slow  # CLI processes end to end: kept out of the 3-minute default run
def test_a_released_file_runs_a_cell_keyed_by_its_sha256_without_pretraining(tmp_path: Path, session_cache: Path) -> None:
    """The core and unified_vq together: `avtbench run --set unified_vq.checkpoint=FILE` on the tiny world."""
    import hashlib

    from click.testing import CliRunner

    from avtbench.cli import main
    from avtbench.store import ResultStore
    from avtbench_plugins.datasets.corpus.reader import read_split

    from .conftest import tiny_world_root

    corpus = read_split(tiny_world_root(session_cache) / "corpus", "all")
    height, width, channels = corpus.visual.shape[2:]
    dims = InputDims(audio=corpus.audio.shape[2], height=height, width=width, channels=channels)
    config = tiny("audio,visual", text_encoder="synth://text")
    released = tmp_path / "AV_released.pt"
    write_released(released, "av", config, only=("Encoder_parameters", "epoch"), dims=dims)
    sizes = [f"unified_vq.{k}={getattr(config, k)}" for k in
             ("codebook_size", "embedding_dim", "semantic_ff_dim", "semantic_heads", "text_lstm_hidden")]
    args = ["run", "-m", "unified_vq", "-t", "ave", "-d", "a2v", "--cache", str(session_cache), "--device", "cpu",
            "--results", str(tmp_path / "results"), "--set", "data.profile=tiny", "--set", "ave.epochs=2",
            "--set", "unified_vq.modalities=audio,visual", "--set", f"unified_vq.checkpoint={released}"]
    for setting in sizes:
        args += ["--set", setting]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    [record] = ResultStore(tmp_path / "results").records()
    assert record.pretrain.checkpoint == hashlib.sha256(released.read_bytes()).hexdigest()[:len(record.pretrain.checkpoint)]
    assert record.pretrain.cached is False and 0 <= record.main_value <= 100
