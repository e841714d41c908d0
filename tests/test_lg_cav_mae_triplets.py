"""LG-CAV-MAE's triplet step: the top-k filter, the clip splits, the captioners (synthetic and a
tiny BLIP / BLIP-2 saved locally), the triplet corpus on the tiny world and `avtbench triplets`."""
import subprocess

import numpy as np
import pytest
import torch
from avtbench_plugins.datasets.corpus.reader import read_corpus
from avtbench_plugins.methods.lg_cav_mae import captioner as cap
from avtbench_plugins.methods.lg_cav_mae import splits, triplets
from avtbench_plugins.methods.lg_cav_mae.config import LGCavMaeConfig
from avtbench_plugins.methods.lg_cav_mae.triplets import (
    frame_indices,
    keep_count,
    select_top,
)

from avtbench.api import UserError
from avtbench.backbones.tokenizer import vocabulary_tokenizer
from avtbench.config import build
from avtbench.testing import tiny_sources

from .conftest import avtbench_cmd, cli_env, user_error

pytestmark = pytest.mark.usefixtures("one_thread")
TINY = {"preset": "tiny"}
CAPTIONS = ["a dog barking", "a bell ringing", "a car passing by"]


@pytest.fixture(scope="module")
def corpus(session_cache):
    return tiny_sources(session_cache).source("corpus", "raw").read()


def _colours() -> np.ndarray:
    colours = np.array([[220, 30, 30], [30, 220, 30], [30, 30, 220]], dtype=np.uint8)
    return np.broadcast_to(colours[:, None, None, :], (3, 32, 32, 3)).copy()


# ---------------------------------------------------------------- the filter


def test_filter_keeps_the_top_k_percent_on_hand_made_scores():
    scores = np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.2, 0.8, 0.4, 0.6, 0.0])
    assert select_top(scores, 30).tolist() == [1, 6, 3]
    assert select_top(scores, 50).tolist() == [1, 6, 3, 8, 2]
    assert select_top(scores, 10).tolist() == [1]
    assert select_top(scores, 30, filter_on=False).tolist() == [1, 6, 3, 8, 2, 7, 4, 5, 0, 9]
    assert select_top(np.array([0.5, 0.9, 0.5, 0.5]), 50).tolist() == [1, 0]  # ties: the earlier clip


@pytest.mark.parametrize("n, k, count", [(10, 30, 3), (7, 30, 2), (5, 50, 3), (3, 10, 1), (0, 30, 0), (4, 100, 4)])
def test_keep_count_rounds_half_up_and_keeps_at_least_one(n, k, count):
    assert keep_count(n, k) == count


def test_frames_to_caption_are_spread_evenly():
    assert frame_indices(10, 0).tolist() == list(range(10))
    assert frame_indices(10, 3).tolist() == [0, 4, 9] or frame_indices(10, 3).tolist() == [0, 5, 9]
    assert frame_indices(4, 9).tolist() == [0, 1, 2, 3]


# ---------------------------------------------------------------- who learns from which clips


def test_synthetic_backbones_never_learn_from_the_clips_they_judge():
    both = splits.assign_rows(30, True, True, 0.5)
    assert both.clap.tolist() == list(range(15, 30)) and both.captioner.tolist() == list(range(8))
    assert both.captioned.tolist() == list(range(8, 15))
    real_clap = splits.assign_rows(30, False, True, 0.5)
    assert real_clap.clap.size == 0 and real_clap.captioned.tolist() == list(range(8, 30))
    real = splits.assign_rows(30, False, False, 0.5)
    assert real.captioned.tolist() == list(range(30))
    assert "too few" in user_error(splits.assign_rows, 3, True, True, 0.5)


def test_captioner_pairs_take_every_frame_with_its_clip_captions_in_turn(corpus):
    frames, captions = splits.captioner_pairs(corpus, np.array([0, 1]))
    steps = corpus.visual.shape[1]
    assert len(captions) == 2 * steps and np.array_equal(frames[steps + 2], corpus.visual[1, 2])
    own = corpus.caption_lists()[1]
    assert captions[steps + 2] == own[2 % len(own)]
    waves, clap_captions = splits.clap_pairs(corpus, np.array([20]))
    assert waves.shape == (len(corpus.caption_lists()[20]), 16000) and clap_captions == corpus.caption_lists()[20]


# ---------------------------------------------------------------- captioners


def test_synthetic_captioner_round_trips_through_save_pretrained_and_generates(tmp_path, monkeypatch):
    frames = _colours()
    recipe = cap.SynthCaptionerConfig(hidden=32, layers=1, epochs=40, batch_size=3, lr=3e-3)
    fingerprint = cap.pairs_fingerprint(frames, CAPTIONS)
    folder = cap.ensure_synth_captioner(recipe, tmp_path, lambda: (frames, CAPTIONS), fingerprint)
    assert folder.parent == tmp_path / "backbones" and (folder / "model.safetensors").is_file()
    model, processor = cap.load_captioner(str(folder))
    assert type(model).__name__ == "BlipForConditionalGeneration"
    calls = []
    original = type(model).generate
    monkeypatch.setattr(type(model), "generate", lambda self, **kw: calls.append(kw) or original(self, **kw))
    generated = cap.caption(model, processor, frames, max_new_tokens=8)
    assert calls and generated == CAPTIONS  # it learnt its three pairs, and generate() produced them
    monkeypatch.setattr(cap, "train_captioner", lambda *a, **k: pytest.fail("a cached captioner was trained again"))
    again, again_processor = cap.load_captioner("synth://captioner", tmp_path, lambda: (frames, CAPTIONS), fingerprint, recipe)
    assert cap.caption(again, again_processor, frames, max_new_tokens=8) == generated


def _tokenizer():
    return vocabulary_tokenizer(CAPTIONS, model_max_length=32)


def test_a_tiny_blip_saved_locally_loads_through_the_captioner_path(tmp_path):
    from transformers import BlipConfig, BlipForConditionalGeneration

    tokenizer = _tokenizer()
    recipe = cap.SynthCaptionerConfig(hidden=16, layers=1)
    torch.manual_seed(0)
    model = BlipForConditionalGeneration(BlipConfig(
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8),
        text_config=dict(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, encoder_hidden_size=16, max_position_embeddings=32,
                         bos_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
                         eos_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id)))
    model.save_pretrained(tmp_path / "blip")
    recipe.processor(tokenizer).save_pretrained(tmp_path / "blip")
    loaded, processor = cap.load_captioner(str(tmp_path / "blip"))
    assert type(loaded).__name__ == "BlipForConditionalGeneration" and not loaded.training
    texts = cap.caption(loaded, processor, _colours(), max_new_tokens=5)
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)


def test_a_tiny_blip2_saved_locally_loads_and_generates(tmp_path):
    from transformers import (
        Blip2Config,
        Blip2ForConditionalGeneration,
        Blip2Processor,
        BlipImageProcessor,
    )

    tokenizer = _tokenizer()
    processor = Blip2Processor(image_processor=BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer=tokenizer,
                               num_query_tokens=2)
    config = Blip2Config(
        vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8),
        qformer_config=dict(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                            num_attention_heads=2, encoder_hidden_size=16, max_position_embeddings=32),
        text_config=dict(model_type="opt", vocab_size=len(tokenizer), hidden_size=16, ffn_dim=32, num_hidden_layers=1,
                         num_attention_heads=2, word_embed_proj_dim=16, max_position_embeddings=64,
                         bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                         pad_token_id=tokenizer.pad_token_id),
        num_query_tokens=2, image_token_id=tokenizer.convert_tokens_to_ids(str(processor.image_token)))
    torch.manual_seed(0)
    Blip2ForConditionalGeneration(config).save_pretrained(tmp_path / "blip2")
    processor.save_pretrained(tmp_path / "blip2")
    loaded, loaded_processor = cap.load_captioner(str(tmp_path / "blip2"))
    assert type(loaded).__name__ == "Blip2ForConditionalGeneration"
    texts = cap.caption(loaded, loaded_processor, _colours(), max_new_tokens=4)
    assert len(texts) == 3 and all(isinstance(t, str) and "<image>" not in t for t in texts)


def test_bad_captioners_are_one_line_user_errors(tmp_path):
    assert "no folder /no/such/blip" in user_error(cap.load_captioner, "/no/such/blip")
    assert "synth://captioner" in user_error(cap.load_captioner, "synth://blip2")
    (tmp_path / "empty").mkdir()
    assert "cannot load captioner" in user_error(cap.load_captioner, str(tmp_path / "empty"))


# ---------------------------------------------------------------- the triplet corpus


def test_generate_writes_the_kept_triplets_as_a_raw_corpus(corpus, session_cache):
    config = build(LGCavMaeConfig, TINY, "lg_cav_mae")
    made = triplets.generate(corpus, config, session_cache)
    record, kept = made.triplets.provenance, made.triplets
    assert record["captioned"] == 7 and record["kept"] == keep_count(record["candidates"], 30) == len(kept.ids)
    assert list(kept.scores) == sorted(kept.scores, reverse=True)
    written = read_corpus(kept.folder, "raw")
    rows = [corpus.ids.index(v) for v in written.ids]
    assert written.ids == kept.ids and written.text == kept.captions
    assert np.array_equal(written.audio, corpus.audio[rows]) and np.array_equal(written.visual, corpus.visual[rows])
    assert set(rows) <= set(range(8, 15))  # only clips neither synthetic backbone learnt from
    scored = (kept.folder / "scores.tsv").read_text().splitlines()[1:]
    assert len(scored) == record["candidates"] and sum(line.split("\t")[2] == "1" for line in scored) == len(kept.ids)
    frame_rows = (kept.folder / "frame_captions.tsv").read_text().splitlines()[1:]
    assert len(frame_rows) == record["candidates"] * corpus.visual.shape[1]
    again = triplets.generate(corpus, build(LGCavMaeConfig, {**TINY, "keep": 30.0}, "lg_cav_mae"), session_cache)
    assert again.cached and again.triplets.folder == kept.folder and again.triplets.ids == kept.ids
    unfiltered = triplets.generate(corpus, build(LGCavMaeConfig, {**TINY, "triplets_filter": False}, "lg_cav_mae"),
                                   session_cache)
    assert unfiltered.triplets.folder != kept.folder and len(unfiltered.triplets.ids) == record["candidates"]
    assert unfiltered.triplets.ids[:len(kept.ids)] == kept.ids


@pytest.mark.slow
def test_triplets_command_runs_on_the_tiny_world(session_cache):
    args = ["triplets", "--set", "data.profile=tiny", "--set", "lg_cav_mae.preset=tiny", "--keep", "50", "--show", "3"]
    done = subprocess.run(avtbench_cmd(*args), env=cli_env(session_cache), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "kept 4 of 7 captioned clips (57.1 %; keep=50 %" in done.stdout
    assert "top 3 kept triplets" in done.stdout and "CLAP synth://clap" in done.stdout
    bad = subprocess.run(avtbench_cmd("triplets", "--keep", "150"), env=cli_env(session_cache), capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "--keep" in bad.stderr
    missing = subprocess.run(avtbench_cmd("triplets", "--captioner", "/no/such/blip2"), env=cli_env(session_cache),
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no folder /no/such/blip2" in missing.stderr


def test_keep_out_of_range_is_a_user_error():
    with pytest.raises(UserError, match="keep"):
        build(LGCavMaeConfig, {"keep": 0}, "lg_cav_mae")
