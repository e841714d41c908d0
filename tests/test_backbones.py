"""Backbone resolution: synthetic CLIP/CLAP trained, saved and reloaded through `from_pretrained`,
cache keys that follow the training data, determinism, offline errors, preprocessing."""
import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from .conftest import user_error

from avtbench.api import UserError
from avtbench.backbones.clap import SynthClapConfig, load_clap
from avtbench.backbones.clip import SynthClipConfig, load_clip
from avtbench.backbones.contrastive import ContrastiveSchedule
from avtbench.backbones.loading import SYNTH_CLAP, SYNTH_CLIP, save_pretrained
from avtbench.backbones.preprocess import ImagePreprocess, resample
from avtbench.backbones.synthetic import data_fingerprint, synth_key, train_synth
from avtbench.backbones.text import MlmSchedule, load_text_encoder
from avtbench.backbones.tokenizer import build_word_tokenizer

TINY_CLIP = SynthClipConfig(image_size=64, vision_hidden=16, vision_layers=1, vision_heads=2, text_hidden=16, text_layers=1,
                            text_heads=2, projection_dim=16, schedule=ContrastiveSchedule(epochs=2, batch_size=4))
TINY_CLAP = SynthClapConfig(patch_embeds_hidden=8, audio_heads=(1, 2), text_hidden=16, text_layers=1, text_heads=2,
                            projection_dim=16, schedule=ContrastiveSchedule(epochs=2, batch_size=4))
WORDS = ["dog barks", "car passes by", "a bell rings", "baby cries"]


pytestmark = pytest.mark.usefixtures("one_thread")


def _image_pairs(seed: int = 0, n: int = 8):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8), [WORDS[i % 4] for i in range(n)]


def _audio_pairs(seed: int = 0, n: int = 8):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, 16000)) * 0.1).astype(np.float32), [WORDS[i % 4] for i in range(n)]


def _image_embeddings(model, preprocess, frames):
    with torch.no_grad():
        return model.visual_projection(model.vision_model(pixel_values=preprocess(frames)).pooler_output)


def _text_embeddings(model, tokenizer, texts):
    tokens = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        pooled = model.text_model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]).pooler_output
        return model.text_projection(pooled)


def _audio_embeddings(model, preprocess, waveforms):
    with torch.no_grad():
        pooled = model.audio_model(input_features=preprocess(waveforms)["input_features"]).pooler_output
        return model.audio_projection(pooled)


def _never():
    raise AssertionError("train_pairs must not be called for a cached backbone with a known fingerprint")


@pytest.fixture(scope="module")
def clip_cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("backbones")
    pairs = _image_pairs()
    loaded = load_clip(SYNTH_CLIP, cache, lambda: pairs, config=TINY_CLIP)
    return cache, pairs, loaded


def test_synth_clip_is_saved_in_hf_format_and_reloads_identically(clip_cache):
    from transformers import AutoTokenizer, CLIPModel

    cache, (frames, captions), (model, tokenizer, preprocess) = clip_cache
    folders = list((cache / "backbones").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("synth-clip-")
    names = {p.name for p in folders[0].iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json", "avtbench.json"} <= names
    assert type(model).__name__ == "CLIPModel" and not any(p.requires_grad for p in model.parameters())
    again = CLIPModel.from_pretrained(folders[0]).eval()
    assert torch.equal(_image_embeddings(model, preprocess, frames), _image_embeddings(again, preprocess, frames))
    assert torch.equal(_text_embeddings(model, tokenizer, WORDS),
                       _text_embeddings(again, AutoTokenizer.from_pretrained(folders[0]), WORDS))
    record = json.loads((folders[0] / "avtbench.json").read_text())
    assert record["fingerprint"] == data_fingerprint(frames, captions) and len(record["epoch_losses"]) == 2


def test_cached_synth_clip_skips_training_and_matches(clip_cache):
    cache, (frames, captions), (model, tokenizer, preprocess) = clip_cache
    again, _, preprocess2 = load_clip(SYNTH_CLIP, cache, _never, fingerprint=data_fingerprint(frames, captions),
                                      config=TINY_CLIP)
    assert torch.equal(_image_embeddings(model, preprocess, frames), _image_embeddings(again, preprocess2, frames))


def test_saved_weights_are_the_trained_ones_and_training_is_deterministic(clip_cache, tmp_path):
    cache, (frames, captions), _ = clip_cache
    trained, _, _, losses = train_synth(TINY_CLIP, frames, captions)
    saved = load_file(str(next((cache / "backbones").iterdir()) / "model.safetensors"))
    for name, tensor in trained.state_dict().items():
        if name in saved:
            assert torch.equal(saved[name], tensor), name
    load_clip(SYNTH_CLIP, tmp_path, lambda: (frames, captions), config=TINY_CLIP)
    other = load_file(str(next((tmp_path / "backbones").iterdir()) / "model.safetensors"))
    assert saved.keys() == other.keys() and all(torch.equal(saved[k], other[k]) for k in saved)
    assert all(math.isfinite(x) for x in losses)


def test_cache_key_follows_the_training_data(clip_cache):
    cache, (frames, captions), _ = clip_cache
    other_frames, other_captions = _image_pairs(seed=1)
    load_clip(SYNTH_CLIP, cache, lambda: (other_frames, other_captions), config=TINY_CLIP)
    assert len(list((cache / "backbones").glob("synth-clip-*"))) == 2
    first, second = data_fingerprint(frames, captions), data_fingerprint(other_frames, other_captions)
    assert first != second
    assert synth_key("clip", TINY_CLIP, first) != synth_key("clip", TINY_CLIP, second)
    assert synth_key("clip", TINY_CLIP, first) != synth_key("clap", TINY_CLIP, first)
    assert synth_key("clip", TINY_CLIP, first) != synth_key("clip", TINY_CLIP, first, ["an extra word"])
    assert synth_key("clip", TINY_CLIP, first) == synth_key("clip", TINY_CLIP, data_fingerprint(frames, list(captions)))


def test_synth_clap_round_trip_and_disjoint_from_clip(tmp_path):
    from transformers import ClapModel

    waveforms, captions = _audio_pairs()
    model, tokenizer, preprocess = load_clap(SYNTH_CLAP, tmp_path, lambda: (waveforms, captions), config=TINY_CLAP)
    assert type(model).__name__ == "ClapModel"
    folder = next((tmp_path / "backbones").glob("synth-clap-*"))
    again = ClapModel.from_pretrained(folder).eval()
    assert torch.equal(_audio_embeddings(model, preprocess, waveforms), _audio_embeddings(again, preprocess, waveforms))
    frames, _ = _image_pairs()
    load_clip(SYNTH_CLIP, tmp_path, lambda: (frames, captions), config=TINY_CLIP)
    assert len(list((tmp_path / "backbones").iterdir())) == 2
    assert _audio_embeddings(model, preprocess, waveforms).shape == (8, TINY_CLAP.projection_dim)


def test_a_saved_backbone_loads_back_from_its_folder(clip_cache, tmp_path):
    _, (frames, _), (model, tokenizer, preprocess) = clip_cache
    folder = tmp_path / "saved-clip"
    save_pretrained(folder, model, tokenizer, preprocess.processor)
    assert (folder / "model.safetensors").is_file() and (folder / "preprocessor_config.json").is_file()
    model2, tokenizer2, preprocess2 = load_clip(str(folder), None)
    assert torch.equal(_image_embeddings(model, preprocess, frames), _image_embeddings(model2, preprocess2, frames))
    assert torch.equal(_text_embeddings(model, tokenizer, WORDS), _text_embeddings(model2, tokenizer2, WORDS))


def test_without_a_cache_dir_the_default_cache_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("AVTBENCH_CACHE", str(tmp_path / "default"))
    pairs = _image_pairs(seed=2)
    load_clip(SYNTH_CLIP, None, lambda: pairs, config=TINY_CLIP)
    assert len(list((tmp_path / "default" / "backbones").glob("synth-clip-*"))) == 1


def test_missing_hub_id_offline_is_a_one_line_user_error(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(UserError) as info:
        load_clip("no-such-org/no-such-clip", tmp_path, setting="vip_ant.clip")
    message = str(info.value)
    assert "\n" not in message
    assert message == ("cannot load no-such-org/no-such-clip offline; download it elsewhere and pass its local "
                       "folder, e.g. --set vip_ant.clip=/path/to/clip-vit-base-patch32")
    with pytest.raises(UserError, match="cannot load no-such-org/no-such-clap offline"):
        load_clap("no-such-org/no-such-clap", tmp_path)


def test_unknown_synthetic_name_and_missing_pairs():
    with pytest.raises(UserError, match="synth://clip"):
        load_clip("synth://clap", None)
    with pytest.raises(UserError, match="synth://text"):
        load_text_encoder("synth://bert", None)
    with pytest.raises(ValueError, match="train_pairs"):
        load_clip(SYNTH_CLIP, None)


def test_missing_or_broken_local_folders_are_one_line_user_errors(tmp_path):
    message = user_error(load_clip, str(tmp_path / "no-such-clip"), None, setting="vip_ant.clip")
    assert "there is no folder" in message and "--set vip_ant.clip=" in message
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    message = user_error(load_text_encoder, str(broken), None)
    assert str(broken) in message and "save_pretrained" in message


def test_one_word_tokenizer_for_all_synthetic_backbones(clip_cache, tmp_path):
    _, _, (_, tokenizer, _) = clip_cache
    text_tokenizer, _ = load_text_encoder("synth://text", tmp_path, WORDS, hidden_size=16, num_layers=1, schedule=MlmSchedule(steps=5))
    for tok in (tokenizer, text_tokenizer):
        assert type(tok).__name__.startswith("BertTokenizer") and tok.is_fast
    words = sorted(tokenizer.get_vocab())
    rebuilt = build_word_tokenizer([w for w in words if not w.startswith("[")])
    assert rebuilt("a dog barks")["input_ids"] == tokenizer("a dog barks")["input_ids"]
    assert text_tokenizer.unk_token_id in text_tokenizer("zebra")["input_ids"]


def test_image_preprocess_follows_the_clip_processor():
    from transformers import CLIPImageProcessor

    frames = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    same = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    reference = same(images=list(frames), return_tensors="pt")["pixel_values"]
    assert torch.allclose(ImagePreprocess(same)(frames), reference, atol=1e-5)
    bigger = CLIPImageProcessor(size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64})
    ours = ImagePreprocess(bigger)(torch.from_numpy(frames))
    reference = bigger(images=list(frames), return_tensors="pt")["pixel_values"]
    assert ours.shape == reference.shape == (3, 3, 64, 64)
    assert (ours - reference).abs().mean() < 0.02


def test_resample_keeps_the_tone():
    t = torch.arange(16000, dtype=torch.float64) / 16000
    tone = torch.sin(2 * math.pi * 440 * t)[None]
    up = resample(tone, 16000, 48000)
    assert up.shape == (1, 48000)
    t3 = torch.arange(48000, dtype=torch.float64) / 48000
    assert torch.allclose(up[0], torch.sin(2 * math.pi * 440 * t3), atol=1e-6)
