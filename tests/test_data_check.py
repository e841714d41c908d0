"""`avtbench data check`: a good root passes with a summary; each fault of a broken copy is one named line
(exit 2); the real annotation files give the real counts, their missing features named once."""
from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from avtbench.cli import main

from .conftest import REAL_DATA, tiny_world_root


def check(*args: str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, ["data", "check", *args])
    return result.exit_code, result.stdout.splitlines(), result.stderr


def problems(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("problem ")]


def test_a_good_root_passes_with_a_summary(session_cache: Path) -> None:
    world = tiny_world_root(session_cache)
    code, lines, err = check("--set", f"data.root={world}")
    assert code == 0, lines + [err]
    assert problems(lines) == []
    assert lines[-1] == "data check passed: 5 dataset(s), 614 clips, no problem", lines[-1]
    assert f"ave: real root {world / 'ave'}" in lines and "ave/train: 280 clips listed in train_order.h5 (rows of Annotations.txt)" in lines
    assert any(line.startswith("ave/test: 40 clips read (audio [40, 10, 32] float32") and line.endswith("every value finite")
               for line in lines)


def test_a_dataset_from_the_synthetic_world_is_said_and_not_checked_unless_asked(session_cache: Path) -> None:
    code, lines, _ = check("corpus", "--set", "data.profile=tiny", "--cache", str(session_cache))
    assert code == 0 and lines[0].startswith("corpus: synthetic world tiny/seed 0; not checked")
    assert lines[-1].endswith("1 from the synthetic world not checked (--synthetic checks them)")


def test_an_unknown_dataset_is_one_line_before_any_work() -> None:
    code, lines, err = check("avee")
    assert code == 2 and lines == [] and err.startswith("error: no dataset 'avee' is declared (known: ave, "), err


def broken_copy(world: Path, target: Path) -> dict[str, str]:
    """ave, avvp and corpus of the tiny world with one fault of each kind; the line that names each."""
    for name in ("ave", "avvp", "corpus"):
        shutil.copytree(world / name, target / name)
    ave, avvp, corpus = target / "ave", target / "avvp", target / "corpus"
    row = int(h5py.File(ave / "test_order.h5", "r")["order"][3])
    with h5py.File(ave / "audio_feature.h5", "r+") as fh:
        fh["avadataset"][row, 2, 1] = np.nan
    listed = {split: [line.split("\t")[0] for line in (avvp / f"AVVP_{split}.csv").read_text().splitlines()[1:]]
              for split in ("train", "val_pd", "test_pd")}
    gone, stray, odd = listed["val_pd"][1][:11], listed["val_pd"][2][:11], listed["train"][-1][:11]
    (avvp / "feats" / "vggish" / f"{gone}.npy").unlink()
    shutil.copy(avvp / "feats" / "vggish" / f"{stray}.npy", avvp / "feats" / "vggish" / "stray_video.npy")
    np.save(avvp / "feats" / "vgg19" / f"{odd}.npy", np.zeros((10, 3), dtype=np.float32))
    audio = avvp / "feats" / "vggish" / f"{listed['test_pd'][0][:11]}.npy"
    np.save(audio, np.load(audio).astype(np.int16))
    ids = corpus / "video_ids.txt"
    ids.write_text(ids.read_text() + "an_extra_id\n")
    return {
        "nan": f"problem ave: {ave / 'audio_feature.h5'}: features contain NaN or inf (row {row}); ",
        "missing": f"problem avvp: audio features: 1 of 64 files missing: feats/vggish/{gone}.npy",
        "extra": "problem avvp: audio features: 1 file(s) in feats/vggish that no split lists: feats/vggish/stray_video.npy",
        "shape": f"problem avvp: {avvp / 'feats' / 'vgg19' / (odd + '.npy')}: shape (10, 1, 1, 3) differs from (10, 2, 2, 16)",
        "dtype": f"problem avvp: audio features: 1 file(s) not of a float dtype: feats/vggish/{audio.name} (int16)",
        "ids": "problem corpus: video_ids.txt lists 121 clips but audio_feature.h5:avadataset, visual_feature.h5:avadataset, "
               "events.h5:events, latents.h5:audio, latents.h5:visual hold 120 rows: the id list and the arrays disagree",
    }


def test_a_broken_copy_names_each_fault(session_cache: Path, tmp_path: Path) -> None:
    faults = broken_copy(tiny_world_root(session_cache), tmp_path)
    code, lines, err = check("ave", "avvp", "corpus", "--set", f"data.root={tmp_path}")
    assert code == 2, lines
    found = problems(lines)
    for fault, start in faults.items():
        assert any(line.startswith(start) for line in found), (fault, start, found)
    assert len(found) == len(faults), found
    assert any(line.startswith("avvp: val, ") and line.endswith(" not read (files incomplete or wrong, see above)")
               for line in lines), lines
    assert err.startswith("6 problem(s) in 3 dataset(s) checked")


@pytest.mark.skipif(not (REAL_DATA / "ave" / "Annotations.txt").exists(), reason="real annotation files not available")
def test_the_real_annotation_files_give_the_real_counts_and_name_the_missing_features_once() -> None:
    code, lines, _ = check("ave", "avvp", "--set", f"data.root={REAL_DATA}")
    assert code == 2
    assert "ave: 4,143 clips, 1 problem" in lines and "avvp: 11,849 clips, 1 problem" in lines
    assert "ave/train: 3,339 clips listed in train_order.h5 (rows of Annotations.txt)" in lines
    assert "avvp/test: 1,200 clips listed in AVVP_test_pd.csv" in lines
    assert problems(lines) == [
        f"problem ave: audio features and visual features: 0 of 4,143 clips present (audio_feature.h5, "
        f"visual_feature.h5 not found in {REAL_DATA / 'ave'})",
        f"problem avvp: audio features and visual features: 0 of 11,849 clips present (feats/vggish/*.npy, "
        f"feats/vgg19/*.npy not found in {REAL_DATA / 'avvp'})",
    ]
    assert any(line.startswith("ave/ave_avvp: not in this root (optional: CMG's ave_avvp_order.h5") for line in lines)


def test_the_check_streams_in_blocks_and_names_a_bad_row_of_a_dataset_without_layout(tmp_path: Path) -> None:
    """A third-party dataset declaring no layout is read through its reader alone, block by block."""
    from avtbench.api import Clips, Dataset
    from avtbench.datacheck import DatasetCheck

    from .conftest import CountingRows

    reads: list[int] = []
    audio = np.ones((1000, 10, 8), dtype=np.float32)
    audio[700, 3, 2] = np.inf
    dataset = Dataset("plain", "one array", lambda root, split, level: Clips(
        ids=[f"c{i}" for i in range(1000)], audio=CountingRows(audio, reads)))
    lines: list[str] = []
    check = DatasetCheck(dataset, tmp_path, lines.append)
    check.run()
    assert check.problems == 1 and check.clips == 1000
    assert "problem plain: all audio row 700 (clip c700): holds NaN or inf" in lines
    assert max(reads) <= 256 and sum(reads) == 1000 + 1, reads  # every row once, the bad one again alone
