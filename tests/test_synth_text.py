"""`synth://text`: a word-level BERT trained by masked language modelling on the texts it is given."""
import json

import pytest
import torch

from avtbench.backbones.synth_text import ensure_synth_text, mask_tokens
from avtbench.backbones.text import SYNTH_TEXT, MlmSchedule, load_text_encoder
from avtbench.backbones.tokenizer import build_word_tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")

CAPTIONS = [f"{a} {verb}, then {b} {verb2}" for a, verb in (("a dog", "barking"), ("a cat", "meowing"), ("a bell", "ringing"))
            for b, verb2 in (("a car", "passing"), ("a baby", "crying"), ("a train", "braking"))]
SMALL = dict(hidden_size=16, num_layers=1)


def _record(folder):
    return json.loads((folder / "avtbench.json").read_text())


def test_masked_language_model_loss_falls_and_weights_move(tmp_path):
    trained = ensure_synth_text(tmp_path, CAPTIONS, **SMALL, schedule=MlmSchedule(steps=120, batch_size=8, lr=3e-3))
    untrained = ensure_synth_text(tmp_path, CAPTIONS, **SMALL, schedule=MlmSchedule(steps=0))
    assert trained != untrained
    losses = _record(trained)["step_losses"]
    assert len(losses) == 120 and sum(losses[-20:]) / 20 < 0.7 * sum(losses[:20]) / 20
    assert _record(untrained)["step_losses"] == []
    _, model = load_text_encoder(SYNTH_TEXT, tmp_path, CAPTIONS, **SMALL, schedule=MlmSchedule(steps=120, batch_size=8, lr=3e-3))
    _, random_init = load_text_encoder(SYNTH_TEXT, tmp_path, CAPTIONS, **SMALL, schedule=MlmSchedule(steps=0))
    moved = [name for name, p in model.named_parameters()
             if not torch.equal(p, dict(random_init.named_parameters())[name])]
    assert any("encoder.layer.0" in name for name in moved) and any("word_embeddings" in name for name in moved)
    assert not any(name.startswith("pooler") for name in moved)


def test_training_texts_and_schedule_key_the_cache_and_training_is_seeded(tmp_path):
    short = MlmSchedule(steps=5, batch_size=4)
    first = ensure_synth_text(tmp_path / "a", CAPTIONS, **SMALL, schedule=short)
    again = ensure_synth_text(tmp_path / "b", list(reversed(CAPTIONS)), **SMALL, schedule=short)
    assert first.name == again.name and _record(first)["step_losses"] == _record(again)["step_losses"]
    assert (first / "model.safetensors").read_bytes() == (again / "model.safetensors").read_bytes()
    other_texts = ensure_synth_text(tmp_path / "a", CAPTIONS[:-1], **SMALL, schedule=short)
    other_steps = ensure_synth_text(tmp_path / "a", CAPTIONS, **SMALL, schedule=MlmSchedule(steps=6, batch_size=4))
    assert len({first.name, other_texts.name, other_steps.name}) == 3


def test_mask_tokens_follows_bert_80_10_10():
    tokenizer = build_word_tokenizer(["a", "b", "c", "d"])
    ids = torch.full((400, 50), tokenizer.convert_tokens_to_ids("a"))
    maskable = torch.ones_like(ids, dtype=torch.bool)
    maskable[:, 0] = False
    inputs, labels = mask_tokens(ids, maskable, tokenizer, 0.15, torch.Generator().manual_seed(0))
    chosen = labels != -100
    assert not chosen[:, 0].any() and (labels[chosen] == ids[chosen]).all()
    assert abs(chosen.float().mean().item() - 0.15 * 49 / 50) < 0.01
    masked = (inputs == tokenizer.mask_token_id) & chosen
    replaced = (inputs != ids) & ~masked
    assert abs(masked.sum().item() / chosen.sum().item() - 0.8) < 0.03
    assert abs(replaced.sum().item() / chosen.sum().item() - 0.1 * 4 / 5) < 0.03
    assert (inputs[~chosen] == ids[~chosen]).all()
    assert (inputs[replaced] >= 5).all()


def test_a_published_folder_is_complete_and_reused_without_training(tmp_path, monkeypatch):
    from avtbench.backbones import synth_text

    short = MlmSchedule(steps=3, batch_size=4)
    folder = ensure_synth_text(tmp_path, CAPTIONS, **SMALL, schedule=short)
    assert {"config.json", "model.safetensors", "tokenizer.json", "avtbench.json"} <= {p.name for p in folder.iterdir()}
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary folder left behind
    monkeypatch.setattr(synth_text, "_train_mlm", lambda *a, **k: (_ for _ in ()).throw(AssertionError("retrained")))
    assert ensure_synth_text(tmp_path, CAPTIONS, **SMALL, schedule=short) == folder
