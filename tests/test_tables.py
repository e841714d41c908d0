import subprocess
import sys


from avtbench.tables import build_table, render


def _record(method, seed, value, task="ave", direction="v2a", mhash="m1", chash="c1"):
    return {"method": method, "task": task, "direction": direction, "seed": seed, "main_metric": "accuracy",
            "metrics": {"accuracy": value, "other": -value}, "method_hash": mhash, "column_hash": chash}


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
    assert render(table).count("**") == 4


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


def test_table_and_help_do_not_import_torch(tmp_path):
    code = ("import sys\nfrom click.testing import CliRunner\nfrom avtbench.cli import main\n"
            f"r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0\n"
            f"r = CliRunner().invoke(main, ['table', '--results', {str(tmp_path)!r}]); assert r.exit_code == 0, r.output\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
