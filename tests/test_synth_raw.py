"""The raw level of the synthetic world (waveforms, film strips, masks, captions) and its readers."""
from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile
from PIL import Image

from avtbench.data.files import read_h5
from avtbench.synth.events import sample_events, stream_rng
from avtbench.synth.model import World
from avtbench.synth.raw import SAMPLE_RATE, RawWriter
from avtbench.synth.vocab import EVENT_CLASSES, PHRASES, class_index
from avtbench.synth.world import PROFILES
from avtbench_plugins.datasets.ave import synthetic as ave_copy
from avtbench_plugins.datasets.ave.reader import read_ave
from avtbench_plugins.datasets.ave.synthetic import AVE_SPEC
from avtbench_plugins.datasets.ave.vocab import AVE_CLASSES
from avtbench_plugins.datasets.avvp import synthetic as avvp_copy
from avtbench_plugins.datasets.avvp.reader import read_avvp
from avtbench_plugins.datasets.avvp.synthetic import world_name
from avtbench_plugins.datasets.avvp.vocab import AVVP_CLASSES
from avtbench_plugins.datasets.corpus import synthetic as corpus_copy
from avtbench_plugins.datasets.corpus.reader import read_corpus
from avtbench_plugins.datasets.retrieval import synthetic as retrieval_copy

from .conftest import user_error, tiny_world_root

TINY = PROFILES["tiny"].world
T, S = TINY.segments, TINY.frame_size
CORPUS, AVE, AVVP, RETRIEVAL = (m.SIZES["tiny"] for m in (corpus_copy, ave_copy, avvp_copy, retrieval_copy))


@pytest.fixture(scope="module")
def tiny(session_cache: Path) -> Path:
    """The session's tiny world (shared with the CLI tests: generated once)."""
    return tiny_world_root(session_cache)


def png_chunks(path: Path) -> list[str]:
    data = path.read_bytes()
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        chunks.append(kind.decode())
        at += 12 + length
    return chunks


# ---- files -----------------------------------------------------------------------------------


def test_raw_files_have_the_documented_formats(tiny: Path) -> None:
    clip = (tiny / "ave" / "Annotations.txt").read_text().splitlines()[1].split("&")[1]
    info = soundfile.info(str(tiny / "ave" / "raw" / "audio" / f"{clip}.wav"))
    assert (info.samplerate, info.channels, info.frames, info.subtype, info.format) == (SAMPLE_RATE, 1, T * SAMPLE_RATE, "PCM_16", "WAV")
    for kind, mode in (("frames", "RGB"), ("masks", "L")):
        path = tiny / "ave" / "raw" / kind / f"{clip}.png"
        with Image.open(path) as image:
            assert (image.mode, image.size) == (mode, (T * S, S))
        assert png_chunks(path) == ["IHDR"] + ["IDAT"] * (len(png_chunks(path)) - 2) + ["IEND"]  # no time, no text
    for dataset, count in (("corpus", CORPUS.raw_clips), ("ave", sum(AVE.splits)), ("avvp", sum(AVVP.splits)), ("retrieval", RETRIEVAL.clips)):
        for kind, suffix in (("audio", "wav"), ("frames", "png"), ("masks", "png")):
            assert len(list((tiny / dataset / "raw" / kind).glob(f"*.{suffix}"))) == count, (dataset, kind)


# ---- readers at the raw level ---------------------------------------------------------------------


def check_raw(clips, features, n: int) -> None:
    assert clips.audio.shape == (n, T * SAMPLE_RATE) and clips.audio.dtype == np.float32
    audio = np.asarray(clips.audio)  # lazy: read whole here
    assert np.abs(audio).max() <= 1.0 and audio.std() > 0.01
    assert clips.visual.shape == (n, T, S, S, 3) and clips.visual.dtype == np.uint8
    assert clips.labels["masks"].shape == (n, T, S, S) and clips.labels["masks"].dtype == np.uint8
    assert clips.class_names == features.class_names
    assert all(len(c) == 3 for c in clips.captions) and clips.text == [c[0] for c in clips.captions]


def test_ave_and_avvp_raw_level_match_the_feature_level(tiny: Path) -> None:
    for split in ("train", "test"):
        raw, features = read_ave(tiny / "ave", split, level="raw"), read_ave(tiny / "ave", split)
        check_raw(raw, features, len(features))
        assert raw.ids == features.ids and raw.captions == features.captions
        np.testing.assert_array_equal(raw.labels["segment"], features.labels["segment"])
        for captions, segment in zip(raw.captions, raw.labels["segment"]):
            phrase = PHRASES[AVE_CLASSES[segment[:, :28].sum(0).argmax()]]
            assert all(phrase in c for c in captions)
    for split in ("train", "val"):
        raw, features = read_avvp(tiny / "avvp", split, level="raw"), read_avvp(tiny / "avvp", split)
        check_raw(raw, features, len(features))
        assert raw.ids == features.ids and raw.captions == features.captions
        assert set(raw.labels) == set(features.labels) | {"masks"}
        for captions, video in zip(raw.captions, raw.labels["video"]):
            for k in np.flatnonzero(video):
                assert all(PHRASES[world_name(AVVP_CLASSES[k])] in c for c in captions)


def test_corpus_and_retrieval_raw_level(tiny: Path) -> None:
    corpus, features = read_corpus(tiny / "corpus", level="raw"), read_corpus(tiny / "corpus")
    n = CORPUS.raw_clips
    check_raw(corpus, features, n)
    assert corpus.ids == features.ids[:n] and corpus.captions == features.captions[:n]  # only the first raw_clips clips
    np.testing.assert_array_equal(corpus.labels["events"], features.labels["events"][:n])
    retrieval = read_corpus(tiny / "retrieval", level="raw")
    check_raw(retrieval, features, RETRIEVAL.clips)
    assert not set(retrieval.ids) & set(features.ids)  # held out: never in the corpus
    assert retrieval.labels["events"].shape == (RETRIEVAL.clips, T, len(EVENT_CLASSES))
    lines = (tiny / "retrieval" / "captions.tsv").read_text().splitlines()
    assert lines[0] == "video_id\tcaption" and len(lines) == 1 + 3 * RETRIEVAL.clips
    assert read_corpus(tiny / "retrieval").captions == retrieval.captions


# ---- raw content holds the same events as the labels ------------------------------------------------


def band_energy(wave: np.ndarray, freqs: np.ndarray) -> float:
    """Spectral energy of one 1-s segment within +-2.5 % of the given frequencies."""
    power = np.abs(np.fft.rfft(wave)) ** 2
    hz = np.arange(power.size)
    return float(sum(power[(hz >= f * 0.975) & (hz <= f * 1.025)].sum() for f in freqs if f > 0))


def test_audible_event_has_its_class_partials(tiny: Path) -> None:
    looks = World.create(TINY, 0).looks
    clips = read_ave(tiny / "ave", "train", level="raw")
    ratios = []
    for wave, segment in zip(clips.audio, clips.labels["segment"]):
        event = segment[:, 28] == 0
        if event.all() or not event.any():
            continue
        freqs, amps = looks.partials(np.array(class_index(AVE_CLASSES[segment[event][0, :28].argmax()])))
        energy = np.array([band_energy(wave[t * SAMPLE_RATE : (t + 1) * SAMPLE_RATE], freqs[amps > 0.05]) for t in range(T)])
        ratios.append(energy[event].min() / energy[~event].max())
    assert len(ratios) > 20
    assert min(ratios) > 3 and np.median(ratios) > 30


def test_masks_cover_each_visible_object_exactly_while_visible(tiny: Path) -> None:
    for clips in (read_corpus(tiny / "corpus", level="raw"), read_corpus(tiny / "retrieval", level="raw")):
        for masks, events in zip(clips.labels["masks"], clips.labels["events"]):
            visible = events & 2 > 0  # [T, K]
            classes = sorted(np.flatnonzero(visible.any(0)), key=lambda k: (visible[:, k].argmax(), k))  # by onset, then class
            assert masks.max() == len(classes)
            for number, k in enumerate(classes, 1):
                np.testing.assert_array_equal((masks == number).any(axis=(1, 2)), visible[:, k])
    clips = read_avvp(tiny / "avvp", "val", level="raw")
    seen = clips.labels["visual"].any(1)  # [N, T]
    np.testing.assert_array_equal(np.asarray(clips.labels["masks"]).any(axis=(2, 3)), seen)


def test_objects_sit_where_the_feature_level_blob_is(tiny: Path) -> None:
    n = sum(AVE.splits)
    ev = sample_events(stream_rng(0, "ave"), n, AVE_SPEC, TINY)  # replay the AVE events
    clips = read_ave(tiny / "ave", "train", level="raw")
    order = read_h5(tiny / "ave" / "train_order.h5", "order", "")
    centre = (ev.where[order, 0] + 0.5) * S / TINY.grid  # [N, 2] (row, col) in pixels
    np.testing.assert_array_equal(ev.onset[order, 0], clips.labels["segment"][:, :, 28].argmin(1))
    for i, masks in enumerate(clips.labels["masks"]):
        rows, cols = np.nonzero(masks.max(0))
        assert abs(rows.mean() - centre[i, 0]) < 3 and abs(cols.mean() - centre[i, 1]) < 3


# ---- broken raw files -----------------------------------------------------------------------------


@pytest.fixture
def small_ave(tiny: Path, tmp_path: Path) -> Path:
    """A copy of the tiny AVE folder with only the test split's raw files."""
    root = tmp_path / "ave"
    root.mkdir()
    for f in (tiny / "ave").iterdir():
        if f.is_file():
            shutil.copy(f, root / f.name)
    for clip in read_ave(tiny / "ave", "test").ids:
        for kind, suffix in (("audio", "wav"), ("frames", "png"), ("masks", "png")):
            (root / "raw" / kind).mkdir(parents=True, exist_ok=True)
            shutil.copy(tiny / "ave" / "raw" / kind / f"{clip}.{suffix}", root / "raw" / kind / f"{clip}.{suffix}")
    return root


def read_ave_whole(*args, **kwargs):
    """read_ave with every array read (the raw level checks a clip's files when its row is read)."""
    return read_ave(*args, **kwargs).materialized()


def test_bad_raw_files_are_one_line_errors_naming_the_file(small_ave: Path) -> None:
    clip = read_ave(small_ave, "test").ids[3]
    wav, png, mask = (small_ave / "raw" / k / f"{clip}.{s}" for k, s in (("audio", "wav"), ("frames", "png"), ("masks", "png")))
    assert read_ave(small_ave, "test", level="raw").audio.shape[0] == AVE.splits[2]

    message = user_error(read_ave, small_ave, "train", level="raw")  # the train split has no raw files here
    assert "file not found" in message and "raw level needs the AVE dataset's raw files" in message and "raw/audio/<id>.wav" in message

    good = wav.read_bytes()
    wav.write_bytes(good[: len(good) // 2])
    assert str(wav) in user_error(read_ave_whole, small_ave, "test", level="raw")
    wav.write_bytes(b"RIFF not really a wave")
    assert str(wav) in user_error(read_ave_whole, small_ave, "test", level="raw")
    soundfile.write(str(wav), np.zeros(T * 8000, dtype=np.int16), 8000, subtype="PCM_16")
    assert f"{wav}: 1 channel(s) at 8000 Hz" in user_error(read_ave_whole, small_ave, "test", level="raw")
    wav.write_bytes(good)

    good = png.read_bytes()
    Image.fromarray(np.zeros((S, T * S + 1, 3), dtype=np.uint8)).save(png)
    assert f"{png}: image is {T * S + 1}x{S} pixels" in user_error(read_ave_whole, small_ave, "test", level="raw")
    png.write_bytes(good[: len(good) // 2])
    assert str(png) in user_error(read_ave_whole, small_ave, "test", level="raw")
    png.write_bytes(good)

    Image.fromarray(np.zeros((S, T * S, 3), dtype=np.uint8)).save(mask)
    assert f"{mask}: mask image has mode RGB" in user_error(read_ave_whole, small_ave, "test", level="raw")
    shutil.rmtree(small_ave / "raw" / "masks")  # masks are optional
    assert "masks" not in read_ave(small_ave, "test", level="raw").labels

    assert "unknown input level" in user_error(read_ave, small_ave, "test", level="pixels")


def test_raw_level_of_real_layouts(tmp_path: Path) -> None:
    """AVVP raw files by 11-char id or by filename; a corpus subset list; missing captions."""
    root = tmp_path / "avvp"
    names = ["AAAAAAAAAAA_0_10", "B-B_BBBBBBB_30_40"]
    root.mkdir()
    (root / "AVVP_train.csv").write_text(f"filename\tevent_labels\n{names[0]}\tSpeech\n{names[1]}\tCat\n")
    for name in ("AVVP_val_pd.csv", "AVVP_test_pd.csv"):  # every file of the release is checked when it is opened
        (root / name).write_text("filename\tevent_labels\n")
    for name in ("AVVP_eval_audio.csv", "AVVP_eval_visual.csv"):
        (root / name).write_text("filename\tonset\toffset\tevent_labels\n")
    writer = RawWriter(root)
    frames, masks = np.zeros((T, 8, 8, 3), np.uint8), np.zeros((T, 8, 8), np.uint8)
    writer.write(names[0][:11], np.zeros(T * SAMPLE_RATE, np.float32), frames, masks)
    message = user_error(read_avvp, root, "train", level="raw")
    assert f"{root / 'raw' / 'audio' / 'B-B_BBBBBBB.wav'}: file not found (nor {names[1]}.wav)" in message
    writer.write(names[1], np.full(T * SAMPLE_RATE, 0.5, np.float32), frames + 7, masks)
    clips = read_avvp(root, "train", level="raw")
    assert clips.visual.shape == (2, T, 8, 8, 3) and clips.visual[1].min() == 7 and clips.captions is None
    assert abs(clips.audio[1].mean() - 0.5) < 1e-3

    (root / "captions.tsv").write_text(f"video_id\tcaption\n{names[0][:11]}\tsomeone talks\n{names[0]}\tspeech\n")
    assert "no caption for 1 clip(s)" in user_error(read_avvp, root, "train", level="raw")

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "video_ids.txt").write_text("a\nb\n")
    (corpus / "raw").mkdir()
    (corpus / "raw" / "video_ids.txt").write_text("c\n")
    assert "raw/video_ids.txt: 1 id(s) not in video_ids.txt" in user_error(read_corpus, corpus, level="raw")
    (corpus / "raw" / "video_ids.txt").write_text("b\n")
    RawWriter(corpus).write("b", np.zeros(3 * SAMPLE_RATE, np.float32), frames[:3], masks[:3])
    (corpus / "captions.tsv").write_text("video_id\tcaption\nb\tone\nb\ttwo\na\tthree\n")
    clips = read_corpus(corpus, level="raw")
    assert clips.ids == ["b"] and clips.audio.shape == (1, 3 * SAMPLE_RATE) and clips.visual.shape == (1, 3, 8, 8, 3)
    assert clips.captions == [["one", "two"]] and clips.text == ["one"]
