"""Progress without a terminal: plain stage lines (throttled), the --log file, --quiet, --verbose."""
import io
import re
import subprocess

import pytest
from click.testing import CliRunner

from avtbench.cli import main
from avtbench.logs import RunLog
from avtbench.progress import LineProgress, RichProgress, TeeProgress, make_progress

from .conftest import avtbench_cmd, cli_env, tiny_world_root

TINY = ["--set", "data.profile=tiny", "-m", "unaligned", "-t", "ave", "--set", "ave.epochs=2", "--device", "cpu"]
ESCAPES = re.compile(r"\x1b|\r")


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_line_progress_writes_start_and_end_lines_and_throttles():
    lines, clock = [], FakeClock()
    progress = LineProgress(lines.append, interval=10.0, clock=clock)
    for _ in progress.track(range(10), description="epochs"):
        clock.now += 3.0  # a line every 4 steps (12 s), never two within 10 s
    assert lines[0] == "epochs: started, 10 steps"
    assert lines[-1] == "epochs: finished 10/10 in 30.0s"
    middle = lines[1:-1]
    assert middle == ["epochs: 4/10 (40%), 12.0s elapsed, ETA 18s", "epochs: 8/10 (80%), 24.0s elapsed, ETA 6s"]


def test_the_eta_leaves_out_a_slow_first_step():
    """A first epoch that also loads the data (30 s, then 10 s each) must not triple the estimate."""
    lines, clock = [], FakeClock()
    progress = LineProgress(lines.append, interval=1.0, clock=clock)
    for step in progress.track(range(6), description="pretraining"):
        clock.now += 30.0 if step == 0 else 10.0
    assert lines[1] == "pretraining: 1/6 (17%), 30.0s elapsed, ETA 150s"  # nothing better known yet
    assert lines[2] == "pretraining: 2/6 (33%), 40.0s elapsed, ETA 40s"  # 4 steps of 10 s, not of 20 s


def test_line_progress_nests_notes_and_reports_a_loop_left_early():
    lines, clock = [], FakeClock()
    progress = LineProgress(lines.append, interval=1.0, clock=clock)
    for _ in progress.track(iter(range(5)), description="outer"):
        for step in progress.track(range(2), total=2, description="inner"):
            clock.now += 1.0
            getattr(progress, "note")(f"loss {1 / (step + 1):.2f}")
        break
    assert lines[0] == "outer: started"  # no total: an iterator without len
    assert lines[1] == "  inner: started, 2 steps"
    assert lines[2] == "  inner: 1/2 (50%), 1.0s elapsed, ETA 1s, loss 1.00"
    assert lines[-2] == "  inner: finished 2/2 in 2.0s, loss 0.50"
    assert lines[-1] == "outer: stopped at 0 after 2.0s"


def test_tee_feeds_every_display_and_make_progress_picks():
    first, second = [], []
    tee = TeeProgress(LineProgress(first.append), LineProgress(second.append))
    with tee:
        assert list(tee.track([1, 2, 3], description="x")) == [1, 2, 3]
    assert first == second == ["x: started, 3 steps", first[-1]] and first[-1].startswith("x: finished 3/3")
    assert isinstance(make_progress(None, first.append), LineProgress)
    assert isinstance(make_progress(RunLog(stream=io.StringIO(), tty=True).console), RichProgress)
    assert isinstance(make_progress(RunLog(stream=io.StringIO(), tty=True).console, first.append), TeeProgress)
    with make_progress() as silent:
        assert list(silent.track(range(2))) == [0, 1]


def test_run_log_routes_by_terminal_and_flags(tmp_path):
    pipe = io.StringIO()
    plain = RunLog(stream=pipe)  # a StringIO is no terminal
    assert plain.bars is None and plain.stage_lines is not None
    plain.info("done    x", "[green]done[/]    x")
    plain.debug("hidden")
    assert pipe.getvalue() == "done    x\n"

    terminal = RunLog(stream=io.StringIO(), tty=True)
    assert terminal.bars is not None and terminal.stage_lines is None, "a terminal gets bars, not lines"
    assert RunLog(stream=io.StringIO(), tty=True, verbose=True).stage_lines is not None

    quiet = RunLog(stream=io.StringIO(), tty=True, quiet=True, path=tmp_path / "q.log", timestamp=lambda: "T")
    assert quiet.bars is None and quiet.stage_lines is not None, "quiet still feeds the log file"
    quiet.stage("cells: started")
    quiet.summary("1 cell(s)")
    quiet.close()
    assert quiet.stream.getvalue() == "1 cell(s)\n"
    assert (tmp_path / "q.log").read_text() == "T cells: started\nT 1 cell(s)\n"


@pytest.mark.slow  # several CLI processes or a whole grid: kept out of the 3-minute default run
def test_run_without_a_terminal_prints_plain_stage_lines_and_logs_them(tmp_path, session_cache):
    tiny_world_root(session_cache)
    log = tmp_path / "run.log"
    out = subprocess.run(avtbench_cmd("run", *TINY, "--results", str(tmp_path / "results"), "--log", str(log)),
                         capture_output=True, text=True, env=cli_env(session_cache), timeout=600)
    assert out.returncode == 0, out.stderr
    assert not ESCAPES.search(out.stderr), "no colour codes nor carriage returns in a log"
    lines = out.stderr.splitlines()
    start = lines.index("cells: started, 2 steps")  # after stage 1's lines when the checkpoint was not cached yet
    assert start == 0 or lines[0].startswith("pretraining unaligned"), lines[:start]
    assert "cells: finished 2/2 in " in out.stderr
    assert any(re.fullmatch(r"  training head: finished 2/2 in \d+\.\ds", line) for line in lines)
    assert sum(line.startswith(("done    ", "cached  ")) for line in lines) == 2
    assert lines[-1].startswith("2 cell(s) in ")

    logged = log.read_text().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "
    assert all(re.match(stamp, line) for line in logged) and not ESCAPES.search(log.read_text())
    assert [re.sub(stamp, "", line, count=1) for line in logged] == lines

    quiet = subprocess.run(avtbench_cmd("run", *TINY, "--results", str(tmp_path / "results"), "--overwrite", "--quiet"),
                           capture_output=True, text=True, env=cli_env(session_cache), timeout=600)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr.splitlines() == [lines[-1]], "--quiet: the summary line only"


@pytest.mark.parametrize("where", ["missing", "folder"])
def test_bad_log_path_is_one_error_line_before_any_work(tmp_path, cache_env, where):
    bad = tmp_path / "nowhere" / "run.log" if where == "missing" else tmp_path
    results = tmp_path / "results"
    out = CliRunner().invoke(main, ["run", *TINY, "--results", str(results), "--log", str(bad)])
    assert out.exit_code == 2, out.output
    assert out.output.startswith("error: --log ") and out.output.strip().count("\n") == 0
    assert not results.exists()


def test_quiet_and_verbose_together_are_refused(tmp_path, cache_env):
    out = CliRunner().invoke(main, ["run", *TINY, "--results", str(tmp_path / "r"), "--quiet", "--verbose"])
    assert out.exit_code == 2 and out.output.startswith("error: --quiet and --verbose")
