"""A suite's figure: the comparison plot it names (a plugin's, hook `avtbench_plots`, `Plot.several`),
drawn with every row of the plot's method, each row's variant pretrained at one seed and read from the
cache (never pretrained here: a checkpoint the cache lacks is said, with the command that makes it)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from avtbench.errors import UserError

if TYPE_CHECKING:
    from avtbench.cache import ArtifactCache
    from avtbench.suites.plan import SuitePlan


def figure_seed(splan: SuitePlan) -> int:
    """The figure's seed when the run has it, else the run's first seed."""
    wanted = splan.suite.figure.seed if splan.suite.figure is not None else None
    return wanted if wanted in splan.seeds else splan.seeds[0]


def draw_suite_figure(splan: SuitePlan, cache: ArtifactCache, folder: Path, device: str = "auto",
                      log: Callable[[str], None] = lambda line: None) -> Path:
    """Draw the suite's figure into `folder`; a one-line error when a variant's checkpoint is not cached."""
    from avtbench.plugins import registry
    from avtbench.runner import Runner, resolve_device

    suite, figure = splan.suite, splan.suite.figure
    if figure is None:
        raise UserError(f"suite {suite.name} names no figure")
    plot = registry().plot(figure.plot)
    if not plot.several:
        raise UserError(f"suite {suite.name}: plot {plot.name!r} does not compare pretrained methods")
    seed = figure_seed(splan)
    runner = Runner(cache, splan.plan.data, resolve_device(device), None, log)
    labelled = []
    for row in suite.rows:
        if row.method != plot.method:
            continue
        cells = [c.planned for c in splan.cells if c.row is row and c.planned.cell.seed == seed]
        if not cells:
            continue
        planned = cells[0]
        if planned.released is None and not cache.has_checkpoint(planned.checkpoint):
            raise UserError(f"suite {suite.name}: row {row.label!r} seed {seed} has no pretrained checkpoint in the "
                            f"cache {cache.root}; run `avtbench suite run {suite.name}` with the same --set and --cache first")
        method, _ = runner.pretrained_method(planned.method_cls, planned.method_config, seed, planned.checkpoint,
                                             released=planned.released)
        labelled.append((row.label, method))
    if not labelled:
        raise UserError(f"suite {suite.name}: no row of {plot.method} has seed {seed} to draw")
    return Path(plot.draw(labelled, folder / figure.file))
