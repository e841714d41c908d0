"""`avtbench report`: the site of a small store (records written by hand, no training): every page and picture
it links is there, the main table shows `avtbench table`'s numbers, per-class bars, training curves, the
built-in and third-party sections, failed cells, provenance; bad input is one line and exit 2."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
from click.testing import CliRunner

from avtbench.api import SilentProgress
from avtbench.cli import main
from avtbench.metrics.classification import ave_accuracy, ave_class_accuracy
from avtbench.metrics.per_class import class_f1, per_class_metrics, split
from avtbench.plugins import registry
from avtbench.report.classes import merged_order
from avtbench.report.site import write_site
from avtbench.tables import build_table, render
from avtbench.toolkit import epoch_stats, read_epoch_stats
from avtbench_plugins.methods.unified_vq.report import usage_rows

from .report_store import CLASSES, write_store
from .test_readme_plugin import readme_block
from .third_party import install_section_distribution, installed_registry, write_dist_info


class Links(HTMLParser):
    """Every <img src> and <a href> of a page, and the text of the main table's entries."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.entries: list[str] = []
        self._entry = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        elif tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag == "span" and attrs.get("class") == "entry":
            self._entry += 1
            self.entries.append("")

    def handle_endtag(self, tag):
        if tag == "span" and self._entry:
            self._entry -= 1

    def handle_data(self, data):
        if self._entry:
            self.entries[-1] += data


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path, list[str]]:
    results = tmp_path_factory.mktemp("results")
    write_store(results)
    out = tmp_path_factory.mktemp("site") / "report"
    warnings: list[str] = []
    write_site(results, out, registry().sections, SilentProgress(), warnings.append)
    return results, out, warnings


def test_every_page_links_only_files_of_the_site_and_every_picture_is_there(site) -> None:
    _, out, warnings = site
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 1 + 2 + 2 + 7 + 1  # index, 2 tasks, 2 methods, 7 cells, 1 failed cell
    images = 0
    for page in pages:
        found = parse(page)
        for target in found.images + found.links:
            url = urlparse(target)
            assert not url.scheme and not url.netloc and not target.startswith("/"), f"{page}: {target} is not relative"
            assert (page.parent / unquote(url.path)).resolve().is_file(), f"{page}: {target} is missing"
        images += len(found.images)
        assert "<script" not in page.read_text()
    assert images > 10 and warnings == []


def test_the_main_table_shows_avtbench_tables_numbers_with_its_marks(site) -> None:
    results, out, _ = site
    from avtbench.store import ResultStore

    markdown = render(build_table(ResultStore(results).records()), "markdown")
    expected = [cell.strip().replace("**", "") for line in markdown.splitlines()[2:] if line.startswith("|")
                for cell in line.strip("|").split("|")[1:] if cell.strip()]
    shown = [e.strip() for e in parse(out / "index.html").entries]
    assert shown == expected and len(shown) == 3  # unaligned: ave/a2v and avs_s4/a2t; unified_vq: ave/a2v
    assert shown[0].endswith("†") or shown[2].endswith("†")  # the best of ave/a2v is not ahead at p < 0.05
    index = (out / "index.html").read_text()
    assert "<strong>" in index and "paired t-test" in index


def test_per_class_bars_training_curves_and_provenance(site) -> None:
    _, out, _ = site
    task = (out / "tasks" / "ave.html").read_text()
    assert "accuracy per class" in task and (out / "img" / "classes" / "ave" / "a2v-accuracy.png").is_file()
    assert (out / "img" / "curves" / "unified_vq.png").is_file() and not (out / "img" / "curves" / "unaligned.png").exists()
    assert "no checkpoint of this method recorded per-epoch statistics" in (out / "methods" / "unaligned.html").read_text()
    cell = (out / "cells" / "unified_vq" / "ave" / "a2v" / "seed1-huni.html").read_text()
    for shown in ("ckpt-unified_vq-1", "synthetic world tiny/seed 0", "codebook_size", "0" * 40, "Rodents, rats, mice",
                  "Training curves", "Timings"):
        assert shown in cell


def test_built_in_sections_draw_the_codebook_and_the_masks(site) -> None:
    _, out, _ = site
    vq = (out / "cells" / "unified_vq" / "ave" / "a2v" / "seed0-huni.html").read_text()
    assert "Codebook usage" in vq and "img/sections/codebook/" in vq
    masks = (out / "cells" / "unaligned" / "avs_s4" / "a2t" / "seed0-hmask.html").read_text()
    assert "Predicted masks" in masks and "img/sections/masks/" in masks and "50.0, 25.0" in masks
    assert "Codebook usage" not in (out / "cells" / "unaligned" / "ave" / "a2v" / "seed0-huna.html").read_text()


def test_failed_cells_show_their_error_line_escaped(site) -> None:
    _, out, _ = site
    index = (out / "index.html").read_text()
    assert "RuntimeError: the head diverged &lt;badly&gt;" in index and "<badly>" not in index
    failure = next((out / "cells" / "unified_vq" / "ave" / "v2a").glob("*.failure.html")).read_text()
    assert "Traceback (most recent call last)" in failure and "test-host" in failure


def test_a_third_party_section_appears_and_a_failing_one_is_one_line(tmp_path: Path, monkeypatch) -> None:
    site = install_section_distribution(tmp_path / "site-packages")
    reg = installed_registry(site, monkeypatch)
    assert {"seed_badge", "broken_badge", "codebook", "masks"} <= {s.name for s in reg.sections}
    results = tmp_path / "results"
    write_store(results, small=True)
    warnings: list[str] = []
    out = tmp_path / "out"
    mine = [s for s in reg.sections if s.name in ("seed_badge", "broken_badge")]
    write_site(results, out, mine, SilentProgress(), warnings.append)
    page = (out / "cells" / "unaligned" / "ave" / "a2v" / "seed2-huna.html").read_text()
    assert "Seed badge" in page and "drawn by a third-party plugin for unaligned / ave / a2v / seed 2" in page
    assert (out / "img" / "sections" / "seed_badge").is_dir() and "badge.svg" in page
    assert "this section failed: RuntimeError: the broken section always fails" in page
    assert len(warnings) == 3 and all("broken_badge" in w for w in warnings)  # the three ave cells


def test_report_command_progress_and_summary_and_rewrite(tmp_path: Path) -> None:
    results, out = tmp_path / "results", tmp_path / "site"
    write_store(results, small=True)
    first = CliRunner().invoke(main, ["report", "--results", str(results), "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert re.search(r"wrote 7 page\(s\) and 1 picture\(s\) for 3 cell\(s\) \(1 failed\) -> ", first.stdout)
    assert "cell pages" in first.stderr  # progress lines when stderr is not a terminal
    stale = out / "cells" / "old.html"
    stale.write_text("from an earlier report")
    again = CliRunner().invoke(main, ["report", "--results", str(results), "--out", str(out), "-q"])
    assert again.exit_code == 0 and not stale.exists() and (out / "index.html").is_file()


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    results = tmp_path / "results"
    write_store(results, small=True)
    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    cases = [(["--results", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o1")], "does not exist"),
             (["--results", str(tmp_path / "empty"), "--out", str(tmp_path / "o2")], "holds no results"),
             (["--results", str(results), "--out", str(tmp_path / "a-file")], "is a file"),
             (["--results", str(results), "--out", str(tmp_path / "a-file" / "x")], "is a file"),
             (["--results", str(results), "--out", str(tmp_path / "busy")], "holds other files")]
    for args, said in cases:
        result = CliRunner().invoke(main, ["report", *args])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and said in lines[0], result.output
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]


def test_per_class_names_split_back_and_skip_what_has_no_score() -> None:
    metrics = {"f1": 3.0, **per_class_metrics("f1", ["Dog", "Church bell", "Car"], [10.0, float("nan"), 0.0])}
    assert metrics == {"f1": 3.0, "f1[Dog]": 10.0, "f1[Car]": 0.0}
    assert split({**metrics, "accuracy[Rodents, rats, mice]": 1.0}) == (
        {"f1": 3.0}, {"f1": {"Dog": 10.0, "Car": 0.0}, "accuracy": {"Rodents, rats, mice": 1.0}})
    with pytest.raises(ValueError):
        per_class_metrics("f1", ["Dog"], [1.0, 2.0])


def test_per_class_accuracy_weighs_back_to_the_video_accuracy_and_f1_counts_by_hand() -> None:
    rng = np.random.default_rng(3)
    labels = np.zeros((40, 10, 5), dtype=np.float32)  # 4 classes + background
    truth = rng.integers(0, 4, 40)
    labels[np.arange(40), 3, truth] = 1
    labels[:, :, -1] = labels[:, :, :-1].sum(-1) == 0
    scores = rng.normal(size=(40, 4))
    by_class = ave_class_accuracy(scores, labels)
    counts = np.bincount(truth, minlength=4)
    assert np.nansum(by_class * counts) / 40 == pytest.approx(ave_accuracy(scores, labels, level="video"))
    pred = np.array([[[1, 0, 0], [1, 0, 0]], [[0, 0, 0], [1, 0, 1]]])
    gt = np.array([[[1, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 0]]])
    f1 = class_f1(pred, gt)  # class 0: tp 2, predicted 3, true 2; class 1: nothing; class 2: one false alarm
    assert f1[0] == pytest.approx(80.0) and np.isnan(f1[1]) and f1[2] == 0.0


def test_epoch_stats_round_trip_and_the_codebook_fallback() -> None:
    stats = {**epoch_stats([{"loss": 2.0, "acc": 0.1}, {"loss": 1.0}]), **epoch_stats({"late": [5.0]}, first_epoch=2),
             "final": 1.0, "epoch_count": 2}
    assert stats["epoch1.loss"] == 2.0 and "epoch2.acc" not in stats
    assert read_epoch_stats(stats) == {"loss": [(1, 2.0), (2, 1.0)], "acc": [(1, 0.1)], "late": [(2, 5.0)]}
    old = {"epoch1.codes_shared": 3, "epoch1.codes_dead": 10, "epoch2.codes_shared": 5, "epoch2.codes_dead": 8}
    assert usage_rows(old, 16) == [{"shared": 3, "dead": 10, "one_modality_only": 3},
                                   {"shared": 5, "dead": 8, "one_modality_only": 3}]
    assert usage_rows({}, 16) == [] and CLASSES[0] == "Church bell"


def test_classes_keep_the_datasets_order_though_records_leave_some_out() -> None:
    assert merged_order([["Bell", "Dog"], ["Accordion", "Bell"], ["Dog", "Fire"], ["Cat", "Fire"]]) == \
        ["Accordion", "Bell", "Dog", "Cat", "Fire"]


def test_the_readmes_section_example_shows_the_file_its_task_kept(tmp_path: Path, monkeypatch) -> None:
    site = tmp_path / "site-packages"
    (site / "my_task").mkdir(parents=True)
    (site / "my_task" / "__init__.py").write_text(readme_block("# my_task/__init__.py (beside its card): the section, "
                                                               "its code imported when a report is written"))
    (site / "my_task" / "report.py").write_text(readme_block("# my_task/report.py"))
    reg = installed_registry(write_dist_info(site, "my_task", {"my_task": "my_task"}), monkeypatch)
    results = tmp_path / "results"
    store = write_store(results, small=True)
    record = next(iter(store.records()))
    kept = Path(record.path).with_name(Path(record.path).stem + ".artifacts")
    kept.mkdir()
    (kept / "errors.png").write_bytes((Path(__file__).parents[1] / "docs" / "architecture.png").read_bytes())
    moved = {**record.to_json(), "task": "my_task", "artifacts": ["errors.png"]}
    Path(record.path).write_text(json.dumps(moved))
    out = tmp_path / "out"
    write_site(results, out, [s for s in reg.sections if s.name == "my_task_errors"], SilentProgress(), print)
    page = next((out / "cells").rglob(f"{Path(record.path).stem}.html")).read_text()
    assert "Where it went wrong" in page and "the test clips it got most wrong" in page
    assert "img/sections/my_task_errors/" in page  # copied into the site beside the page's other pictures
