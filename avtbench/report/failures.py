"""Failed cells: on the index, one line each (the cell, its kind, its error line), linked to a page with
the rest of its failure record (stage, host, time, traceback)."""
from __future__ import annotations

from avtbench.report.html import anchor, facts, text
from avtbench.report.model import INDEX, FailedCell


def failure_list(failed: list[FailedCell], here: str) -> str:
    if not failed:
        return '<p class="note">no cell failed.</p>'
    items = []
    for cell in failed:
        f = cell.failure
        stage = f" in {f.stage}" if f.stage else ""
        items.append(f"<li>{anchor(here, cell.page, cell.label)} ({text(f.kind)}{text(stage)}): "
                     f'<span class="error">{text(f.error)}</span></li>')
    return f"<ul>{''.join(items)}</ul>"


def failure_body(cell: FailedCell, here: str) -> str:
    f = cell.failure
    parts = [facts([("cell", cell.label), ("kind", f.kind), ("stage", f.stage or "the cell itself"),
                    ("error", f.error), ("host", f.host), ("ran for (s)", f"{f.seconds:.1f}"),
                    ("cell hash", f.cell_hash), ("failure record", str(cell.path))]),
             f'<p class="note">{anchor(here, INDEX, "main table")} · a crash is skipped by later runs until '
             "<code>avtbench run ... --retry-failed</code>; a user error is tried again.</p>",
             "<h2>Traceback</h2>", f"<pre>{text(f.traceback or 'none recorded')}</pre>"]
    return "\n".join(parts)
