"""Fine-tuning a method's encoder in the downstream tasks (CMG appendix Table 2): the trainable copies the
methods hand over, the tasks' training through them, the plan-time check and the cells' identity."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from avtbench.api import Clips, Direction, MethodState, SilentProgress
from avtbench.cache import ArtifactCache
from avtbench.cli import main
from avtbench.finetune import EncodedRows
from avtbench.testing import run_cell
from avtbench_plugins.methods.unaligned.method import Unaligned, UnalignedConfig
from avtbench_plugins.methods.unified_vq.config import UnifiedVQConfig
from avtbench_plugins.methods.unified_vq.method import UnifiedVQ
from avtbench_plugins.methods.unified_vq.model import InputDims, UnifiedVQModel
from avtbench_plugins.tasks.ave.task import AVE, AVEConfig
from avtbench_plugins.tasks.avs_s4.task import AVSS4, AVSS4Config
from avtbench_plugins.tasks.avvp.task import AVVP, AVVPConfig
from avtbench_plugins.tasks.heads.classifiers import VideoClassifier, fit, predict

from .conftest import user_error
from .test_avs_s4_task import _tiny_splits

pytestmark = pytest.mark.usefixtures("one_thread")
V2A = Direction("visual", "audio")


def clips(n: int = 12, steps: int = 4) -> Clips:
    rng = np.random.default_rng(0)
    return Clips(ids=[f"c{i}" for i in range(n)], audio=rng.normal(size=(n, steps, 6)).astype(np.float32),
                 visual=rng.random(size=(n, steps, 2, 2, 5)).astype(np.float32),
                 text=[f"a {w} sound" for w in rng.choice(["dog", "bell", "car"], size=n)])


def unified_vq(device: str = "cpu") -> UnifiedVQ:
    """unified_vq with a seeded untrained audio-visual model (what `trainable_encoder` copies is the same either way)."""
    config = UnifiedVQConfig(modalities="audio,visual", codebook_size=8, embedding_dim=8, semantic_ff_dim=16,
                             semantic_heads=2, semantic_layers=1)
    method = UnifiedVQ(config, device=device)
    torch.manual_seed(0)
    dims = InputDims(audio=6, height=2, width=2, channels=5)
    method.model = UnifiedVQModel(config, dims, training_parts=False).to(device).eval()
    return method


def unaligned(data: Clips) -> Unaligned:
    method = Unaligned(UnalignedConfig(dim=3))
    method.pretrain(data, None, SilentProgress())
    return method


def state(method) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in method.state().tensors.items()}


@pytest.mark.parametrize("make, modalities", [("unified_vq", ("audio", "visual")), ("unaligned", ("audio", "visual", "text"))])
def test_the_trainable_copy_encodes_as_encode_and_passes_gradients(make: str, modalities: tuple[str, ...]) -> None:
    data = clips()
    method = unified_vq() if make == "unified_vq" else unaligned(data)
    assert set(modalities) <= set(type(method).trainable_modalities(method.config))
    for modality in modalities:
        batch = data.text[:5] if modality == "text" else torch.from_numpy(data.modality(modality)[:5])
        copy = method.trainable_encoder(modality).eval()
        with torch.no_grad():
            assert torch.equal(copy(batch), method.encode(modality, batch)), modality
        copy.train()
        copy(batch).square().sum().backward()
        grads = [p.grad for p in copy.parameters() if p.grad is not None]
        assert grads and any(g.abs().sum() > 0 for g in grads), f"{modality}: no gradient reaches the encoder"


def test_a_modality_without_an_encoder_is_one_line() -> None:
    assert "not text" in user_error(unified_vq().trainable_encoder, "text")


def test_encoded_rows_read_rows_of_several_parts_in_the_order_asked() -> None:
    first, second = clips(5), clips(4)
    rows = EncodedRows(torch.nn.Identity(), [first.audio, second.audio], "cpu")
    whole = np.concatenate([first.audio, second.audio])
    index = np.array([7, 0, 5, 2, 8])
    assert len(rows) == 9 and rows.shape == (9, 4, 6)
    np.testing.assert_array_equal(rows.rows(index).numpy(), whole[index])
    captions = EncodedRows(torch.nn.Identity(), [first.text, second.text], "cpu")
    assert captions.inputs(index) == [(first.text + second.text)[i] for i in index]


@pytest.mark.parametrize("make", ["unified_vq", "unaligned"])
def test_fine_tuning_trains_the_copy_and_leaves_the_method_as_it_was(make: str) -> None:
    data = clips()
    method = unified_vq() if make == "unified_vq" else unaligned(data)
    before = state(method)
    copy = method.trainable_encoder("visual")
    initial = {k: v.clone() for k, v in copy.named_parameters()}
    x = EncodedRows(copy, [data.visual], "cpu")
    y = np.arange(len(data)) % 3
    head = fit(lambda: VideoClassifier(x.shape[-1], 3), torch.nn.CrossEntropyLoss(), x, y, epochs=2, lr=1e-2,
               batch_size=4, seed=0, device="cpu", progress=SilentProgress(), encoder_lr=1e-2)
    moved = [k for k, v in copy.named_parameters() if not torch.equal(v, initial[k])]
    assert moved, "fine-tuning left the encoder copy as it was"
    assert all(torch.equal(v, before[k]) for k, v in state(method).items()), "the method itself changed"
    assert not copy.training and predict(head, x, "cpu").shape == (len(data), 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("make", ["unified_vq", "unaligned"])
def test_fine_tuning_on_cuda(make: str) -> None:
    """unified_vq's copy lives on its device; unaligned's on the CPU (it keeps its tensors there) while the head is on CUDA."""
    data = clips()
    method = unified_vq("cuda") if make == "unified_vq" else unaligned(data)
    copy = method.trainable_encoder("audio")
    initial = {k: v.detach().cpu().clone() for k, v in copy.named_parameters()}
    x = EncodedRows(copy, [data.audio], "cuda")
    head = fit(lambda: VideoClassifier(x.shape[-1], 3), torch.nn.CrossEntropyLoss(), x, np.arange(len(data)) % 3,
               epochs=2, lr=1e-2, batch_size=4, seed=0, device="cuda", progress=SilentProgress(), encoder_lr=1e-2)
    assert any(not torch.equal(v.detach().cpu(), initial[k]) for k, v in copy.named_parameters())
    assert np.isfinite(predict(head, x, "cuda")).all()


def test_fine_tuning_leaves_out_of_needs_what_it_encodes_itself() -> None:
    tuned = AVEConfig(finetune_encoder=True)
    assert AVE.finetuned_modalities(tuned, V2A) == ("visual",) and AVE.finetuned_modalities(AVEConfig(), V2A) == ()
    assert AVE(tuned).needs(V2A, {}) == [("test", "audio")]
    assert AVVP(AVVPConfig(finetune_encoder=True)).needs(V2A, {}) == [("test", "audio")]
    a2t = Direction("audio", "text")
    assert AVSS4(AVSS4Config(finetune_encoder=True)).needs(a2t, {}) == [("test", "text")]
    assert AVSS4Config().encoder_lr == 1e-4 and AVEConfig().encoder_lr == 4e-4
    message = user_error(AVSS4.validate, AVSS4Config(finetune_encoder=True, condition="oracle"))
    assert "avs_s4.finetune_encoder=true needs avs_s4.condition=method" in message


def test_plan_time_error_names_the_method_and_the_setting(cache_env, tmp_path) -> None:
    out = CliRunner().invoke(main, ["run", "-m", "cca", "-t", "ave", "-d", "v2a", "--results", str(tmp_path / "r"),
                                    "--set", "data.profile=tiny", "--set", "ave.finetune_encoder=true"])
    assert out.exit_code == 2, out.output
    [line] = out.output.strip().splitlines()
    assert line.startswith("error: ave.finetune_encoder=true fine-tunes the visual encoder (v2a), but method 'cca'")
    assert not (tmp_path / "r").exists() or not list((tmp_path / "r").rglob("seed*.json"))


class SpyUnaligned(Unaligned):
    """unaligned, keeping every trainable copy it hands over with the weights it started from."""

    copies: list[tuple[torch.nn.Module, dict[str, torch.Tensor]]] = []

    def trainable_encoder(self, modality: str):
        encoder = super().trainable_encoder(modality)
        self.copies.append((encoder, {k: v.clone() for k, v in encoder.state_dict().items()}))
        return encoder


@pytest.mark.parametrize("task, direction, settings", [
    ("ave", "v2a", {"epochs": 2}),
    ("avvp", "a2v", {"epochs": 2, "protocol": "pooled"}),  # trains on two splits: the copy reads both
    ("ave_avvp", "v2a", {"epochs": 2}),
])
def test_a_fine_tuned_cell_trains_a_copy_and_is_another_record(task: str, direction: str, settings: dict,
                                                                 session_cache, monkeypatch) -> None:
    monkeypatch.setattr(SpyUnaligned, "copies", [])
    source = Direction.parse(direction).source
    frozen = run_cell(SpyUnaligned, task, direction, settings={task: settings}, cache_dir=session_cache)
    assert SpyUnaligned.copies == [], "the frozen default made a trainable copy"
    folder = ArtifactCache(session_cache).checkpoint_dir(frozen.pretrain.checkpoint)
    saved = MethodState.load(folder).tensors

    tuned = run_cell(SpyUnaligned, task, direction, settings={task: {**settings, "finetune_encoder": True}},
                     cache_dir=session_cache)
    [(copy, initial)] = SpyUnaligned.copies
    assert torch.equal(initial["projection"], saved[f"projection.{source}"]), "the copy starts from the checkpoint"
    assert not torch.equal(copy.projection.detach(), initial["projection"]), "fine-tuning left the encoder as it was"
    assert tuned.pretrain.checkpoint == frozen.pretrain.checkpoint
    after = MethodState.load(folder).tensors
    assert saved.keys() == after.keys() and all(torch.equal(saved[k], after[k]) for k in saved)
    assert tuned.config_hash != frozen.config_hash and tuned.cell_hash != frozen.cell_hash
    assert frozen.config["task"]["finetune_encoder"] is False and tuned.config["task"]["finetune_encoder"] is True
    assert set(tuned.metrics) == set(frozen.metrics)


def test_cli_fine_tuned_cell_is_recorded_beside_the_frozen_one(cache_env, tmp_path) -> None:
    results = tmp_path / "results"
    base = ["run", "-m", "unaligned", "-t", "ave", "-d", "a2v", "--results", str(results), "--device", "cpu",
            "--set", "data.profile=tiny", "--set", "ave.epochs=1"]
    for extra in ([], ["--set", "ave.finetune_encoder=true", "--set", "ave.encoder_lr=1e-3"]):
        out = CliRunner().invoke(main, base + extra)
        assert out.exit_code == 0, out.output
    records = [json.loads(p.read_text()) for p in sorted(results.rglob("seed0-*.json"))]
    assert len(records) == 2 and records[0]["config_hash"] != records[1]["config_hash"]
    assert sorted(r["config"]["task"]["finetune_encoder"] for r in records) == [False, True]


def test_avs_s4_fine_tunes_the_caption_encoder_and_keeps_its_best_epoch() -> None:
    splits = _tiny_splits()
    captions = [c for split in splits.values() for c in split.text]
    corpus = clips(len(captions))
    corpus.text = captions
    method = unaligned(corpus)
    copy = method.trainable_encoder("text")
    initial = copy.projection.detach().clone()
    t2a = Direction("text", "audio")
    task = AVSS4(AVSS4Config(finetune_encoder=True, epochs=2, width=4, lr=1e-2, encoder_lr=1e-2, keep_masks=1))
    assert task.needs(t2a, splits) == [("test", "audio")]
    rng = np.random.default_rng(1)
    embeddings = {("test", "audio"): rng.standard_normal((len(splits["test"]), 5, 3)).astype(np.float32)}
    metrics = task.evaluate(embeddings, splits, t2a, 0, "cpu", SilentProgress(), encoders={"text": copy})
    assert np.isfinite(list(metrics.values())).all() and metrics["best_epoch"] in (1.0, 2.0)
    assert not torch.equal(copy.projection.detach(), initial) and not copy.training
    assert torch.equal(method.projections["text"], initial), "the method itself changed"
