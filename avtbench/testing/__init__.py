"""The conformance kit: plugin authors run it in their own tests (and `avtbench check` runs it by name).

    from avtbench.testing import check_method, check_task, run_cell

    def test_my_method_keeps_the_contract():
        check_method(MyMethod).assert_passed()

Each check runs on the tiny synthetic world, written once per process into a temporary folder
(or under `cache_dir`) and read by the real readers. A check never raises: it returns a `Report`
with one `CheckResult` per check, and a failing check names its reason on one line. Checks whose
input is missing (say, the method did not pretrain) fail as "not run" without hiding the others.

Settings: a config class may define a `PRESETS["tiny"]` of small sizes; the kit applies it (then
`settings`) so that a check takes seconds.
"""
from __future__ import annotations

from avtbench.testing.cells import run_cell
from avtbench.testing.methods import check_method
from avtbench.testing.report import CheckResult, Report
from avtbench.testing.tasks import check_task
from avtbench.testing.world import scratch_dir, tiny_sources

__all__ = ["CheckResult", "Report", "check_method", "check_task", "run_cell", "scratch_dir", "tiny_sources"]
