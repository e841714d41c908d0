"""`avtbench convert vggsound-avel40k`: CMG's released layout (one zip of a pickled array per video and
modality, the meta CSV, the prompts) into the corpus format, on files this test writes in that layout;
pickles that would run code are refused unrun, damaged and missing zips skipped, a kill resumed."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from avtbench.cli import main

from .conftest import avtbench_cmd, cli_env

PROMPTS = {"engine accelerating": "The sound of a powerful engine revving up quickly",
           "playing trumpet": "The bright and brassy sound of a trumpet, being played"}


class RunsCode:
    """A pickle that runs a shell command while it loads (what a hostile release could hold)."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self):
        return (os.system, (f"touch {self.mark}",))


def zipped(path: Path, payload: bytes, member: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member or f"{path.stem}.pkl", payload)


def features(seed: int, audio_steps: int = 10) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((audio_steps, 128)).astype(np.float32),
            rng.standard_normal((10, 7, 7, 512)).astype(np.float32))


def release(folder: Path, count: int = 9) -> list[tuple[str, str, str]]:
    """A release of `count` videos (categories alternating, splits train/test/val in turn, video 4's audio
    of 8 segments), the meta CSV listing them out of split order; (video_id, category, split) rows."""
    rows = [(f"vid{i:08d}", list(PROMPTS)[i % 2], ("val", "train", "test")[i % 3]) for i in range(count)]
    for i, (video_id, _, _) in enumerate(rows):
        audio, visual = features(i, audio_steps=8 if i == 4 else 10)
        zipped(folder / "audio" / f"{video_id}.zip", pickle.dumps(audio, protocol=2 + i % 4))
        zipped(folder / "video" / f"{video_id}.zip", pickle.dumps(visual, protocol=4))
    (folder / "meta.csv").write_text("category,video_id,split\n" + "".join(f"{c},{v},{s}\n" for v, c, s in rows))
    prompts = "".join(f'{label},"{prompt}"\n' for label, prompt in PROMPTS.items())
    (folder / "vggsoundCategories2Prompts.csv").write_text("label,prompt\n" + prompts)
    return rows


def convert(folder: Path, out: Path, *extra: str):
    args = ["convert", "vggsound-avel40k", "--meta", str(folder / "meta.csv"), "--audio", str(folder / "audio"),
            "--video", str(folder / "video"), "--out", str(out), *extra]
    return CliRunner().invoke(main, args)


def corpus(out: Path):
    from avtbench_plugins.datasets.corpus.reader import read_corpus

    return read_corpus(out)


def cmg_order(rows: list[tuple[str, str, str]]) -> list[str]:
    """CMG's rows: train, then test, then val, each in file order (VGGSOUND_dataset.py:152-155)."""
    return [v for split in ("train", "test", "val") for v, _, s in rows if s == split]


def test_a_release_converts_to_a_corpus_in_cmg_order_with_cmg_captions(tmp_path: Path) -> None:
    rows = release(tmp_path / "cmg")
    result = convert(tmp_path / "cmg", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith(f"converted 9 of 9 videos into {tmp_path / 'out'}; none skipped")
    clips = corpus(tmp_path / "out")
    assert clips.ids == cmg_order(rows)
    category = {v: c for v, c, _ in rows}
    assert clips.text == [PROMPTS[category[v]] for v in clips.ids]
    for row, video_id in enumerate(clips.ids):
        audio, visual = features(int(video_id[3:]), audio_steps=8 if video_id == "vid00000004" else 10)
        if video_id == "vid00000004":  # CMG repeats the last of fewer than 10 segments (VGGSOUND_dataset.py:169-172)
            audio = np.concatenate([audio, audio[-1:], audio[-1:]])
        assert np.array_equal(clips.audio[row], audio) and np.array_equal(clips.visual[row], visual)
    assert not (tmp_path / "out" / ".convert").exists() and "converting videos: finished" in (tmp_path / "out" / "convert.log").read_text()
    again = convert(tmp_path / "cmg", tmp_path / "out")
    assert again.exit_code == 0 and again.stdout.startswith("already converted: 9 videos")


def test_a_pickle_that_would_run_code_is_refused_unrun_and_bad_zips_are_skipped(tmp_path: Path) -> None:
    rows = release(tmp_path / "cmg")
    mark = tmp_path / "the-pickle-ran"
    hostile, wrapped, damaged, missing = (rows[i][0] for i in (1, 2, 3, 5))
    zipped(tmp_path / "cmg" / "video" / f"{hostile}.zip", pickle.dumps(RunsCode(mark)))
    zipped(tmp_path / "cmg" / "audio" / f"{wrapped}.zip", pickle.dumps({"audio": features(2)[0]}))
    (tmp_path / "cmg" / "video" / f"{damaged}.zip").write_bytes(b"PK\x03\x04 cut short")
    (tmp_path / "cmg" / "audio" / f"{missing}.zip").unlink()
    result = convert(tmp_path / "cmg", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert not mark.exists(), "the refused pickle ran"
    said = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    hostile_zip = tmp_path / "cmg" / "video" / f"{hostile}.zip"
    assert f"skipped {hostile}: {hostile_zip}:{hostile}.pkl holds a pickled posix.system, which is not data" in "\n".join(said)
    assert f"skipped {wrapped}: {tmp_path / 'cmg' / 'audio' / wrapped}.zip:{wrapped}.pkl holds a dict, not a numpy array" in "\n".join(said)
    assert f"skipped {damaged}: {tmp_path / 'cmg' / 'video' / damaged}.zip: not a readable zip (BadZipFile" in "\n".join(said)
    assert f"skipped {missing}: {tmp_path / 'cmg' / 'audio' / missing}.zip: file not found" in said
    assert len(said) == 4
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith("converted 5 of 9 videos into ") and ("skipped 4: 1 damaged zip(s) or pickle(s), "
                                                                    "1 missing zip(s), 2 refused pickle(s)") in summary
    assert corpus(tmp_path / "out").ids == [v for v in cmg_order(rows) if v not in (hostile, wrapped, damaged, missing)]
    skipped = (tmp_path / "out" / "skipped.tsv").read_text().splitlines()
    assert len(skipped) == 5 and any(line.startswith(f"{hostile}\trefused\t") for line in skipped)


def test_a_category_without_a_prompt_is_one_line_before_any_work(tmp_path: Path) -> None:
    release(tmp_path / "cmg")
    prompts = tmp_path / "cmg" / "vggsoundCategories2Prompts.csv"
    prompts.write_text("label,prompt\nplaying trumpet,A trumpet\n")
    result = convert(tmp_path / "cmg", tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert result.stderr.strip() == (f"error: category 'engine accelerating' of --meta {tmp_path / 'cmg' / 'meta.csv'} has "
                                     f"no prompt in --prompts {prompts}, so 5 video(s) would get no caption; add a row "
                                     "'engine accelerating,<prompt>' or pass CMG's vggsoundCategories2Prompts.csv")


DIE = """
import os, sys
from avtbench_plugins.datasets.corpus import convert_cmg, writer
from avtbench.cli import main

calls, where, after = [0], sys.argv[1], int(sys.argv[2])
read, journal = convert_cmg.read_video, writer.CorpusWriter._journal

def read_video(*args):
    calls[0] += 1
    if where == "before-read" and calls[0] > after:
        os._exit(137)  # as a kill: no cleanup, nothing closed
    return read(*args)

def _journal(self, video_id, status, message):
    if where == "mid-commit" and self.rows == after:
        os._exit(137)  # the row is written and flushed, its journal line not
    journal(self, video_id, status, message)

convert_cmg.read_video, writer.CorpusWriter._journal = read_video, _journal
main(sys.argv[3:])
"""


@pytest.mark.parametrize("where", ["before-read", "mid-commit"])
def test_a_killed_conversion_resumes_without_doing_a_video_twice(tmp_path: Path, where: str, monkeypatch) -> None:
    rows = release(tmp_path / "cmg")
    gone = rows[1][0]  # the first video in CMG's order: skipped before the kill
    (tmp_path / "cmg" / "video" / f"{gone}.zip").unlink()
    args = ["convert", "vggsound-avel40k", "--meta", str(tmp_path / "cmg" / "meta.csv"), "--audio",
            str(tmp_path / "cmg" / "audio"), "--video", str(tmp_path / "cmg" / "video"), "--out", str(tmp_path / "out")]
    killed = subprocess.run([sys.executable, "-c", DIE, where, "4", *args], capture_output=True, text=True,
                            env=cli_env(tmp_path), timeout=120)
    assert killed.returncode == 137, killed.stderr
    assert not (tmp_path / "out" / "video_ids.txt").exists(), "a killed conversion must not look complete"
    journal = tmp_path / "out" / ".convert" / "journal.tsv"
    with open(journal, "a") as handle:
        handle.write(f"{rows[0][0]}\to")  # a line cut by the kill (of the last video, not handled)
    from avtbench_plugins.datasets.corpus import convert_cmg

    read: list[str] = []
    real = convert_cmg.read_video
    monkeypatch.setattr(convert_cmg, "read_video", lambda row, *a: read.append(row.video_id) or real(row, *a))
    resumed = convert(tmp_path / "cmg", tmp_path / "out")
    assert resumed.exit_code == 0, resumed.output
    # before-read: killed on the 5th read (the skipped video and 3 written were handled); mid-commit: killed
    # journaling the 5th row (the skipped video and 4 written were handled; the 5th is read again)
    handled = {"before-read": 4, "mid-commit": 5}[where]
    assert f"resuming: {handled} of 9 videos were handled by an earlier run" in resumed.stderr
    assert len(read) == 9 - handled and len(set(read)) == len(read)
    assert f"({handled} handled by an earlier run)" in resumed.stdout
    assert corpus(tmp_path / "out").ids == [v for v in cmg_order(rows) if v != gone]
    fresh = convert(tmp_path / "cmg", tmp_path / "fresh")
    assert fresh.exit_code == 0
    for name in ("audio", "visual"):
        assert np.array_equal(np.asarray(getattr(corpus(tmp_path / "out"), name)), np.asarray(getattr(corpus(tmp_path / "fresh"), name)))


def test_another_job_in_the_same_folder_is_refused(tmp_path: Path) -> None:
    release(tmp_path / "cmg")
    assert convert(tmp_path / "cmg", tmp_path / "out").exit_code == 0
    other = convert(tmp_path / "cmg", tmp_path / "out", "--splits", "train")
    assert other.exit_code == 2
    assert other.stderr.startswith(f"error: --out {tmp_path / 'out'} already holds a corpus, of another conversion "
                                   "(its --splits was 'train,test,val', now 'train'); pass another --out"), other.stderr


@pytest.mark.slow
def test_a_converted_release_trains_unified_vq(tmp_path: Path) -> None:
    """Done when: a corpus converted from the released layout pretrains unified_vq (tiny preset, audio, visual
    and CMG's captions) and a cell of it runs; retrieval reads a second converted set."""
    release(tmp_path / "cmg", count=12)
    assert convert(tmp_path / "cmg", tmp_path / "corpus").exit_code == 0
    assert convert(tmp_path / "cmg", tmp_path / "held-out", "--splits", "test,val").exit_code == 0
    out = subprocess.run(avtbench_cmd("run", "-m", "unified_vq", "-t", "retrieval", "-d", "a2t", "--results",
                                      str(tmp_path / "results"), "--set", "unified_vq.preset=tiny",
                                      "--set", f"data.corpus_root={tmp_path / 'corpus'}",
                                      "--set", f"data.retrieval_root={tmp_path / 'held-out'}"),
                         capture_output=True, text=True, env=cli_env(tmp_path / "cache"), timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    from avtbench.store import ResultStore

    [record] = ResultStore(tmp_path / "results").records()
    assert record.pretrain.stats["recon.text"] >= 0 and record.sources["corpus"] == "real"
    assert np.isfinite(record.main_value)


def test_the_zip_member_is_found_as_cmg_finds_it(tmp_path: Path) -> None:
    """CMG's `_load_fea` takes the last member whose name holds ".pkl"; a zip without one is damaged."""
    from avtbench_plugins.datasets.corpus.cmg_release import Skip, load_feature

    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", b"hello")
        archive.writestr("a.pkl", pickle.dumps(np.zeros(2)))
        archive.writestr("x.pkl.bak", pickle.dumps(np.ones(3)))
    assert np.array_equal(load_feature(path), np.ones(3))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", b"hello")
    with pytest.raises(Skip, match=r"x.zip: no member named \*.pkl\* \(it holds readme.txt\)"):
        load_feature(path)


def test_converters_are_listed_from_their_cards_and_an_unknown_one_is_one_line(tmp_path: Path) -> None:
    probe = ("import sys\nfrom avtbench.cli import main\ntry:\n    main(['convert', '--help'])\nexcept SystemExit as exc:\n"
             "    assert not exc.code\nassert 'avtbench_plugins.datasets.corpus.convert_cmg' not in sys.modules\n"
             "assert 'numpy' not in sys.modules and 'torch' not in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=cli_env(tmp_path), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "vggsound-avel40k  CMG's VGGSound-AVEL 40K release" in " ".join(out.stdout.split("\n"))
    unknown = CliRunner().invoke(main, ["convert", "vggsound-avel4k"])
    assert unknown.exit_code == 2
    assert unknown.stderr == "error: unknown converter 'vggsound-avel4k'; did you mean 'vggsound-avel40k'? (see `avtbench list`)\n"
