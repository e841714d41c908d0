"""The synthetic world's knobs do what their docstrings say."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from avtbench.errors import UserError
from avtbench.synth.copies import WorldDatasets
from avtbench.synth.events import sample_events, stream_rng
from avtbench.synth.model import World, render_features
from avtbench.synth.profiles import EASY, HARD, PROFILE_KNOBS, Knobs, profile_knobs
from avtbench.synth.provider import SyntheticWorld
from avtbench.synth.world import PROFILES, generate_dataset
from avtbench_plugins.datasets.ave.synthetic import AVE_SPEC
from avtbench_plugins.datasets.corpus.reader import read_corpus
from avtbench_plugins.datasets.corpus.synthetic import CORPUS_SPEC, SIZES as CORPUS_SIZES

TINY = PROFILES["tiny"].world


def test_profiles_use_their_knobs() -> None:
    """Pinned contents of the tiny world under both knobs: `test_world_everywhere`."""
    assert PROFILE_KNOBS["tiny"] == PROFILE_KNOBS["easy"] == EASY and PROFILE_KNOBS["default"] == HARD
    assert PROFILES["easy"].world == PROFILES["default"].world  # the default sizes, with easier knobs
    for name, copy in WorldDatasets.installed().copies.items():
        assert PROFILES["easy"].of(name, copy) == PROFILES["default"].of(name, copy), name


def _paired_segments(knobs: Knobs, n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Audio and spatial-mean visual features of audio-visual segments (one event, always on)."""
    world = World.create(TINY, seed, knobs)
    spec = dataclasses.replace(CORPUS_SPEC, counts=(1.0,), kinds=(1.0, 0.0, 0.0), full=1.0)
    ev = sample_events(stream_rng(seed, "probe"), n, spec, TINY)
    audio, visual, _ = render_features(world, ev, stream_rng(seed, "probe-render"))
    return audio.reshape(-1, audio.shape[-1]), visual.mean(axis=(2, 3)).reshape(-1, visual.shape[-1])


def _linear_probe_r2(x: np.ndarray, y: np.ndarray) -> float:
    """Held-out R^2 of a ridge map from x to y (fit on the first half, scored on the second)."""
    half = len(x) // 2
    mx, my = x[:half].mean(0), y[:half].mean(0)
    a, b = x[:half] - mx, y[:half] - my
    w = np.linalg.solve(a.T @ a + 1e-2 * len(a) * np.eye(a.shape[1]), a.T @ b)
    residual = (x[half:] - mx) @ w - (y[half:] - my)
    return 1.0 - float((residual ** 2).sum() / ((y[half:] - y[half:].mean(0)) ** 2).sum())


def test_a_linear_probe_across_modalities_falls_as_the_nonlinearity_rises() -> None:
    quiet = dataclasses.replace(EASY, nuisance=0.0, noise=0.05)  # isolate the renderings
    scores = [_linear_probe_r2(*_paired_segments(dataclasses.replace(quiet, nonlinearity=g))) for g in (0.5, 2.0, 8.0)]
    assert scores[0] > scores[1] > scores[2]
    assert scores[0] > 0.5 and scores[2] < scores[0] - 0.2


def test_modality_jitter_and_background_lower_the_cross_modal_fit() -> None:
    quiet = dataclasses.replace(EASY, nuisance=0.0, noise=0.05)
    base = _linear_probe_r2(*_paired_segments(quiet))
    assert _linear_probe_r2(*_paired_segments(dataclasses.replace(quiet, modality_jitter=1.0))) < base - 0.1
    assert _linear_probe_r2(*_paired_segments(dataclasses.replace(quiet, background=1.0, background_gain=1.5))) < base - 0.1


def test_lags_move_the_sound_not_the_picture_and_labels_follow(tmp_path: Path) -> None:
    knobs = dataclasses.replace(EASY, max_lag=2)
    ev = sample_events(stream_rng(0, "ave"), 400, AVE_SPEC, TINY, knobs.max_lag)
    assert (ev.lag != 0).any() and np.abs(ev.lag).max() <= 2
    assert (ev.audio_onset >= 0).all() and (ev.audio_offset <= TINY.segments).all()
    overlap = np.minimum(ev.offset, ev.audio_offset) - np.maximum(ev.onset, ev.audio_onset)
    assert (overlap >= 1).all()  # the sound always overlaps its picture
    generate_dataset(tmp_path / "ave", "ave", PROFILES["tiny"], 0, raw_level=False, knobs=knobs)
    rows = [line.split("&") for line in (tmp_path / "ave" / "Annotations.txt").read_text().splitlines()[1:]]
    replay = sample_events(stream_rng(0, "ave"), len(rows), AVE_SPEC, TINY, knobs.max_lag)
    starts = np.array([int(r[3]) for r in rows])
    ends = np.array([int(r[4]) for r in rows])
    assert (starts == np.maximum(replay.onset[:, 0], replay.audio_onset[:, 0])).all()  # AVE: heard and seen
    assert (ends == np.minimum(replay.offset[:, 0], replay.audio_offset[:, 0])).all()
    assert (starts != replay.onset[:, 0]).any()


def test_corpus_latents_are_written_and_read(tmp_path: Path) -> None:
    generate_dataset(tmp_path / "corpus", "corpus", PROFILES["tiny"], 0, raw_level=False, knobs=HARD)
    clips = read_corpus(tmp_path / "corpus").materialized()
    audio, visual = clips.labels["latents.audio"], clips.labels["latents.visual"]
    assert audio.shape == visual.shape == (CORPUS_SIZES["tiny"].clips, TINY.segments, TINY.latent_dim)
    events = clips.labels["events"]
    assert ((np.abs(audio).sum(-1) > 0) == ((events & 1) > 0).any(-1)).all()  # latent where an event is heard
    assert ((np.abs(visual).sum(-1) > 0) == ((events & 2) > 0).any(-1)).all()


def test_knob_overrides_are_checked_and_key_their_own_world(tmp_path: Path) -> None:
    plain = SyntheticWorld("tiny", 0, tmp_path)
    tuned = SyntheticWorld("tiny", 0, tmp_path, {"nonlinearity": 2})
    assert tuned.knobs.nonlinearity == 2 and plain.knobs == EASY
    assert tuned.folder != plain.folder and tuned.fingerprint("ave") != plain.fingerprint("ave")
    assert SyntheticWorld("tiny", 0, tmp_path, {"nonlinearity": 1.0}).folder == plain.folder  # the profile's own value
    assert plain.folder != SyntheticWorld("easy", 0, tmp_path).folder
    with pytest.raises(UserError, match="data.world has no setting 'nonlinarity'"):
        profile_knobs("tiny", {"nonlinarity": 2})
    with pytest.raises(UserError, match="data.world.max_lag must be >= 0"):
        profile_knobs("default", {"max_lag": -1})
