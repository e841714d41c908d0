"""Write the whole site: the index (main table, failed cells, a gallery of the charts), a page per task
(per-class bars), per method row (training curves), per cell (metrics, plugin sections, kept files,
provenance) and per failed cell.

The output folder is checked first: a file in its place, or a folder that holds something other than an
earlier report, is a one-line error before anything is written (an earlier report, known by its marker
file, is replaced).
"""
from __future__ import annotations

import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from avtbench.atomic import prepare_folder
from avtbench.errors import UserError
from avtbench.report import html
from avtbench.report.cell import cell_body
from avtbench.report.classes import task_body
from avtbench.report.curves import draw_curves, method_body
from avtbench.report.failures import failure_body, failure_list
from avtbench.report.model import INDEX, SiteModel, method_page, read_model, task_page
from avtbench.report.sections import ReportSection
from avtbench.report.table import main_table

MARKER = ".avtbench-report"
"""A file every report folder holds, so that writing a report again replaces the old one and nothing else."""
OWN = ("cells", "tasks", "methods", "img", "files", INDEX)


@dataclass(frozen=True)
class SiteSummary:
    index: Path
    pages: int
    images: int
    cells: int
    failures: int


def check_out(out: Path) -> None:
    """A one-line `UserError` when `out` cannot take a report: a file, or a folder holding other things."""
    out = Path(out)
    for parent in (out, *out.parents):
        if parent.exists() and not parent.is_dir():
            raise UserError(f"--out {out}: {parent} is a file, not a folder; pass a folder for the site")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UserError(f"--out {out} is a folder that holds other files, not an earlier report; pass an empty or new folder")


def write_site(results: Path, out: Path, sections: list[ReportSection], progress: Any,
               warn: Callable[[str], None]) -> SiteSummary:
    """The report of the store at `results` in `out`; `progress` is an `avtbench.api.Progress`, `warn` gets the
    lines of sections that failed."""
    out = Path(out)
    check_out(out)
    model = read_model(Path(results))
    _prepare(out)
    nav = [("index", INDEX)]
    pages = 0

    def write(path: str, title: str, body: str) -> None:
        nonlocal pages
        html.write(out, path, html.page(title, path, body, nav))
        pages += 1

    curves = {row: draw_curves(model.of_row(row), row, out)
              for row in progress.track(model.rows(), description="training curves")}
    gallery: list[tuple[str, str, str]] = []
    for task in progress.track(model.tasks(), description="per-class charts"):
        here = task_page(task)
        body, images = task_body(model, task, out, here)
        write(here, f"task {task}", body)
        gallery += [(image, f"task {task}", here) for image in images]
    for row in model.rows():
        write(method_page(row), f"method {row}", method_body(model, row, curves[row], method_page(row)))
    for entry in progress.track(model.cells, description="cell pages"):
        write(entry.page, entry.record.label(), cell_body(entry, out, entry.page, curves.get(entry.row), sections, warn))
    for failed in model.failures:
        write(failed.page, f"failed: {failed.label}", failure_body(failed, failed.page))
    gallery += [(image, f"method {row}", method_page(row)) for row, image in curves.items() if image]
    write(INDEX, "avtbench report", _index(model, gallery))
    images = sum(1 for p in (out / "img").rglob("*") if p.is_file()) if (out / "img").is_dir() else 0
    return SiteSummary(out / INDEX, pages, images, len(model.cells), len(model.failures))


def _prepare(out: Path) -> None:
    prepare_folder(out, "--out")
    if (out / MARKER).is_file():
        for name in OWN:
            path = out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    (out / MARKER).write_text("written by `avtbench report`; writing a report here again replaces this folder's report\n")


def _index(model: SiteModel, gallery: list[tuple[str, str, str]]) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        made_by = f"avtbench {version('avtbench')}"
    except PackageNotFoundError:
        made_by = "avtbench"
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tasks = " · ".join(html.anchor(INDEX, task_page(t), t) for t in model.tasks())
    methods = " · ".join(html.anchor(INDEX, method_page(r), r) for r in model.rows())
    parts = [f'<p class="note">{len(model.cells)} finished and {len(model.failures)} failed cell(s) in '
             f"<code>{html.text(model.results)}</code>; written {when} by {html.text(made_by)}.</p>",
             "<h2>Main table</h2>", main_table(model, INDEX),
             "<h2>Failed cells</h2>", failure_list(model.failures, INDEX),
             f"<h2>Tasks</h2><p>{tasks or 'none'}</p><h2>Methods</h2><p>{methods or 'none'}</p>"]
    if gallery:
        figures = "".join(html.figure(INDEX, image, caption, to=page) for image, caption, page in gallery)
        parts.append(f'<h2>Pictures</h2><div class="gallery">{figures}</div>')
    return "\n".join(parts)
