import subprocess
import sys
import warnings

import pytest

from avtbench.api import UserError
from avtbench.record import CellFailure, CellRecord
from avtbench.tables import build_table as build_from_records
from avtbench.tables import render


def _record(method, seed, value, task="ave", direction="v2a", mhash="m1", chash="c1"):
    """A record as its JSON file holds it (`build_table` below reads it as the store does)."""
    return {"method": method, "task": task, "direction": direction, "seed": seed, "main_metric": "accuracy",
            "metrics": {"accuracy": value, "other": -value}, "method_hash": mhash, "column_hash": chash,
            "cell_hash": f"{method}-{task}-{direction}-{seed}"}


def build_table(records, *args, **kwargs):
    return build_from_records([CellRecord.from_json(r) for r in records], *args, **kwargs)


def test_mean_std_n_and_best_in_bold():
    records = [_record("a", 0, 10.0), _record("a", 1, 20.0), _record("b", 0, 30.0), _record("b", 1, 34.0)]
    table = build_table(records)
    agg = table.cells[("a", "ave/v2a")]
    assert (agg.mean, round(agg.std, 4), agg.n) == (15.0, 7.0711, 2)
    md = render(table, "markdown")
    assert "| b" in md and "**32.0 ± 2.8 (2)**" in md and "15.0 ± 7.1 (2)" in md
    assert "**15.0" not in md
    latex = render(table, "latex")
    assert "\\textbf{32.0 $\\pm$ 2.8 (2)}" in latex
    csv = render(table, "csv").splitlines()
    assert csv[0] == "method,column,metric,mean,std,n" and "a,ave/v2a,accuracy,15,7.07107,2" in csv


def test_ties_are_all_bold():
    table = build_table([_record("a", 0, 10.0), _record("b", 0, 10.0), _record("c", 0, 5.0)])
    assert table.best("ave/v2a") == {"a", "b"}
    md = render(table)
    assert md.count("**") == 4 and "**10.0 (n=1)**" in md and "†" not in md.split("\n\n")[0], "1 seed: no test"


def test_single_seed_shows_n1_without_a_spread():
    table = build_table([_record("a", 0, 10.4), _record("b", 0, 5.0), _record("b", 1, 7.0)])
    md = render(table)
    assert "**10.4 (n=1)**" in md and "± 0.0" not in md and "6.0 ± 1.4 (2)" in md
    assert "\\textbf{10.4 (n=1)}" in render(table, "latex")
    assert "a,ave/v2a,accuracy,10.4,,1" in render(table, "csv").splitlines(), "no std for one seed in csv"


def test_a_lone_row_is_never_bold():
    table = build_table([_record("a", 0, 10.4), _record("a", 1, 12.0), _record("b", 0, 3.0, task="avvp")])
    assert table.best("ave/v2a") == set() and table.best("avvp/v2a") == set()
    md = render(table)
    assert "**" not in md.split("\n\n")[0] and "11.2 ± 1.1 (2)" in md and "3.0 (n=1)" in md
    assert "\\textbf" not in render(table, "latex").split("\\end{tabular}")[0]


def _seeds(method, values, **kw):
    return [_record(method, seed, v, **kw) for seed, v in enumerate(values)]


def _strict(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


@pytest.mark.parametrize("test", ["ttest", "wilcoxon"])
def test_a_clearly_better_best_has_no_mark(test):
    records = _seeds("a", [80.0, 81.5, 79.2, 80.7, 82.1, 80.3]) + _seeds("b", [60.0, 61.0, 59.5, 62.3, 60.8, 61.9])
    table = build_table(records, test=test)
    comparison = _strict(table.compare, "ave/v2a", "a")
    assert comparison.runner_up == "b" and comparison.shared == 6 and comparison.ahead is True
    assert comparison.pvalue < 0.05
    md = _strict(render, table)
    assert "**80.6 ± 1.0 (6)**" in md and "†" not in md.split("\n\n")[0]
    assert "\\dagger" not in render(table, "latex").split("\\end{tabular}")[0]


def test_a_best_within_the_noise_is_marked_and_the_footer_explains():
    records = _seeds("a", [70.0, 75.0, 68.0, 74.0]) + _seeds("b", [72.0, 69.0, 70.0, 73.0])
    table = build_table(records)
    assert table.best("ave/v2a") == {"a"}
    comparison = _strict(table.compare, "ave/v2a", "a")
    assert comparison.ahead is False and comparison.pvalue > 0.05
    md = _strict(render, table)
    grid, foot = md.split("\n\n")
    assert "**71.8 ± 3.3 (4)**†" in grid
    assert "Bold" in foot and "†" in foot and "p < 0.05" in foot and "t-test" in foot and "ttest_rel" in foot
    latex = render(table, "latex")
    assert "\\textbf{71.8 $\\pm$ 3.3 (4)}$^\\dagger$" in latex and "ttest\\_rel" in latex.split("\\end{tabular}")[1]
    assert all(not line.startswith("#") and "†" not in line for line in render(table, "csv").splitlines())


def test_wilcoxon_option():
    # Wilcoxon's exact two-sided p cannot go below 0.25 with 3 pairs, so a clear lead on 3 seeds is still marked
    records = _seeds("a", [80.0, 81.0, 82.0]) + _seeds("b", [60.0, 61.5, 59.0])
    ttest, wilcoxon = build_table(records), build_table(records, test="wilcoxon")
    assert ttest.compare("ave/v2a", "a").ahead is True
    comparison = _strict(wilcoxon.compare, "ave/v2a", "a")
    assert comparison.ahead is False and comparison.pvalue == pytest.approx(0.25)
    md = render(wilcoxon)
    assert "**81.0 ± 1.0 (3)**†" in md and "Wilcoxon signed-rank" in md
    with pytest.raises(UserError, match="wilcoxon"):
        build_table(records, test="sign")


def test_degenerate_comparisons_are_not_ahead_and_raise_no_warning():
    same = _seeds("a", [50.0, 50.0, 50.0]) + _seeds("b", [50.0, 50.0, 50.0])
    for test in ("ttest", "wilcoxon"):
        table = build_table(same, test=test)
        assert table.best("ave/v2a") == {"a", "b"}, "ties stay all bold"
        for row in ("a", "b"):
            comparison = _strict(table.compare, "ave/v2a", row)
            assert comparison.ahead is False and comparison.pvalue is None
        assert _strict(render, table).split("\n\n")[0].count("**50.0 ± 0.0 (3)**†") == 2
    shift = build_table(_seeds("a", [51.0, 52.0, 53.0]) + _seeds("b", [50.0, 51.0, 52.0]))
    comparison = _strict(shift.compare, "ave/v2a", "a")
    assert comparison.ahead is False and comparison.pvalue is None, "zero-variance differences: t-test undefined"


def test_fewer_than_three_shared_seeds_run_no_test():
    records = _seeds("a", [80.0, 81.0, 82.0]) + [_record("b", 0, 60.0), _record("b", 1, 61.0), _record("b", 7, 62.0)]
    table = build_table(records)
    comparison = table.compare("ave/v2a", "a")
    assert comparison.shared == 2 and comparison.ahead is None and comparison.pvalue is None
    assert "**81.0 ± 1.0 (3)**" in render(table) and "†" not in render(table).split("\n\n")[0]


def test_runner_up_respects_lower_is_better():
    lower = dict(lower_is_better=["accuracy"])
    records = [dict(r, **lower) for r in _seeds("a", [1.0, 1.2, 0.9, 1.1]) + _seeds("b", [5.0, 5.5, 4.8, 5.2])
               + _seeds("c", [9.0, 9.1, 9.3, 8.7])]
    table = build_table(records)
    assert table.best("ave/v2a") == {"a"} and table.runner_up("ave/v2a", "a") == "b"
    assert table.compare("ave/v2a", "a").ahead is True
    flipped = build_table(_seeds("a", [1.0, 1.2, 0.9, 1.1]) + _seeds("b", [5.0, 5.5, 4.8, 5.2]))
    assert flipped.best("ave/v2a") == {"b"} and flipped.compare("ave/v2a", "b").ahead is True


def test_lower_is_better_metrics_bold_the_minimum():
    records = [dict(_record("a", 0, 10.0), lower_is_better=["accuracy"]), dict(_record("b", 0, 30.0), lower_is_better=["accuracy"])]
    assert build_table(records).best("ave/v2a") == {"a"}
    assert build_table([_record("a", 0, 10.0), _record("b", 0, 30.0)]).best("ave/v2a") == {"b"}


def test_different_configs_never_mix():
    records = [_record("a", 0, 10.0, mhash="h1"), _record("a", 0, 50.0, mhash="h2"),
               _record("a", 1, 12.0, mhash="h1")]
    table = build_table(records)
    assert sorted(table.rows) == ["a [h1]", "a [h2]"]
    assert table.cells[("a [h1]", "ave/v2a")].n == 2
    assert table.cells[("a [h2]", "ave/v2a")].values == [50.0]


def test_missing_cell_is_empty_and_metric_option():
    records = [_record("a", 0, 10.0), _record("b", 0, 5.0, task="avvp")]
    table = build_table(records, metric="other")
    assert ("a", "avvp/v2a") not in table.cells
    assert table.cells[("b", "avvp/v2a")].mean == -5.0
    render(table, "markdown")


def test_table_does_not_import_torch(tmp_path):
    """(`--help` does: it lists the plugins' commands, which needs the plugins loaded.)"""
    code = ("import sys\nfrom click.testing import CliRunner\nfrom avtbench.cli import main\n"
            f"r = CliRunner().invoke(main, ['table', '--results', {str(tmp_path)!r}]); assert r.exit_code == 0, r.output\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_a_column_of_two_environments_is_warned_about(tmp_path):
    import json

    from click.testing import CliRunner

    from avtbench.cli import main
    from avtbench.environment import current_environment

    here = current_environment("cpu").to_dict()
    elsewhere = {**here, "pools": [{**p, "kernel": "Haswell"} for p in here["pools"]], "torch_threads": 1}
    table = build_table([{**_record("a", 0, 1.0), "environment": here}, {**_record("a", 1, 2.0), "environment": elsewhere},
                         {**_record("a", 0, 1.0, task="avvp"), "environment": here}])
    [line] = table.mixed_environments()
    assert line.startswith("warning: column ave/v2a mixes 2 environments") and "Haswell" in line and " x1," in line
    assert not build_table([{**_record("a", s, 1.0), "environment": here} for s in range(3)]).mixed_environments()
    blas = [p for p in here["pools"] if p["kind"] == "blas"]
    scipy_too = {**here, "pools": here["pools"] + [{**p, "owner": "libscipy_openblas.so"} for p in blas]}
    assert not build_table([{**_record("a", 0, 1.0), "environment": here},  # scipy's own copy of OpenBLAS loaded too
                            {**_record("a", 1, 1.0), "environment": scipy_too}]).mixed_environments()
    results = tmp_path / "results"
    for seed, env in enumerate((here, elsewhere)):
        path = results / "a" / "ave" / "v2a" / f"seed{seed}-x.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {**_record("a", seed, 1.0 + seed), "environment": env, "main_value": 1.0 + seed,
                  "cell_hash": f"h{seed}", "config_hash": "x", "config": {}, "versions": {}, "timings": {}}
        path.write_text(json.dumps(record))
    out = CliRunner().invoke(main, ["table", "--results", str(results)])
    assert out.exit_code == 0, out.output
    assert "warning: column ave/v2a mixes 2 environments" in out.output


def _markdown_cells(md: str) -> dict[tuple[str, str], str]:
    """(row, column label) -> the cell's text, bold and mark removed, read back from a rendered markdown table."""
    lines = [line for line in md.split("\n\n")[0].splitlines() if line.startswith("|")]
    header = [h.strip() for h in lines[0].strip("|").split("|")]
    cells = {}
    for line in lines[2:]:
        row, *values = [v.strip() for v in line.strip("|").split("|")]
        for head, value in zip(header[1:], values):
            if value:
                cells[(row, head.rsplit(" ", 1)[0])] = value.replace("**", "").replace("†", "")
    return cells


def test_json_export_has_one_object_per_method_and_column_with_the_markdowns_numbers():
    import json
    import re

    records = (_seeds("a", [70.0, 75.0, 68.0, 74.0], mhash="h1") + _seeds("b", [72.0, 69.0, 70.0, 73.0])
               + [_record("a", 0, 50.0, mhash="h2"), _record("a", 0, 3.25, task="avvp", mhash="h1")])
    table = build_table(records)
    exported = json.loads(render(table, "json"))
    assert [(c["row"], c["column"]) for c in exported] == sorted(table.cells)
    assert {tuple(sorted(c)) for c in exported} == {tuple(sorted(
        ["method", "method_hash", "row", "task", "direction", "column_hash", "column", "metric", "lower_is_better",
         "mean", "std", "n", "seeds", "best", "comparison"]))}
    by_cell = {(c["row"], c["column"]): c for c in exported}
    first = by_cell[("a [h1]", "ave/v2a")]
    assert (first["method"], first["method_hash"], first["task"], first["direction"], first["column_hash"]) == \
        ("a", "h1", "ave", "v2a", "c1")
    assert first["seeds"] == {"0": 70.0, "1": 75.0, "2": 68.0, "3": 74.0} and first["n"] == 4
    assert first["mean"] == pytest.approx(71.75) and first["std"] == pytest.approx(3.3040379)
    assert first["metric"] == "accuracy" and first["lower_is_better"] is False
    assert first["best"] is True and first["comparison"]["ahead"] is False, "the markdown's dagger"
    assert first["comparison"]["runner_up"] == "b" and first["comparison"]["shared_seeds"] == 4
    assert first["comparison"]["test"] == "ttest" and first["comparison"]["pvalue"] > 0.05
    lone = by_cell[("a [h1]", "avvp/v2a")]
    assert lone["std"] is None and lone["n"] == 1 and lone["best"] is False and lone["comparison"] is None
    assert by_cell[("b", "ave/v2a")]["comparison"] is None and by_cell[("b", "ave/v2a")]["method_hash"] == "m1"

    md = _markdown_cells(render(table, "markdown", precision=2))
    assert set(md) == set(by_cell)
    for key, cell in by_cell.items():
        mean, std, n = re.fullmatch(r"([-\d.]+)(?: ± ([\d.]+) \((\d+)\)| \(n=(1)\))", md[key]).group(1, 2, 3)
        assert mean == f"{cell['mean']:.2f}", key
        assert std == (None if cell["std"] is None else f"{cell['std']:.2f}") and int(n or 1) == cell["n"]
    assert render(build_table([]), "json") == "[]", "no results: still JSON"


def test_table_format_json_on_the_command_line_is_json_on_stdout(tmp_path):
    import json

    from click.testing import CliRunner

    from avtbench.cells import Cell
    from avtbench.cli import main
    from avtbench.store import ResultStore

    store = ResultStore(tmp_path / "results")
    for seed, value in enumerate((10.0, 12.0)):
        cell = Cell(method="m", task="t", direction="a2v", seed=seed)
        store.write(cell, CellRecord(method="m", task="t", direction="a2v", seed=seed, metrics={"f1": value},
                                     main_metric="f1", cell_hash=cell.cell_hash, config_hash=cell.config_hash,
                                     method_hash=cell.method_hash, column_hash=cell.column_hash))
    store.write_failure(Cell(method="m", task="t", direction="a2v", seed=9), CellFailure("boom"))
    out = CliRunner().invoke(main, ["table", "--results", str(store.root), "--format", "json"])
    assert out.exit_code == 0, out.output
    [cell] = json.loads(out.stdout)
    assert (cell["method"], cell["column"], cell["mean"], cell["n"], cell["seeds"]) == ("m", "t/a2v", 11.0, 2, {"0": 10.0, "1": 12.0})
    assert "1 cell(s) failed" in out.stderr
    help_text = CliRunner().invoke(main, ["table", "--help"]).output
    assert "--format json" in help_text and "seeds" in help_text and "comparison" in help_text
