"""The main table as HTML: the entries `avtbench table` prints (`tables.cell_text`: the same numbers, bold
and mark), each with links to the pages of the seeds behind it, and the same footer line."""
from __future__ import annotations

from avtbench.report.html import anchor, text
from avtbench.report.model import SiteModel, method_page, task_page
from avtbench.tables import cell_text, footer

MARK = "†"
"""The mark `avtbench table --format markdown` puts after a best that is not ahead of the runner-up."""


def main_table(model: SiteModel, here: str, precision: int = 1) -> str:
    table = model.table
    if not table.cells:
        return '<p class="note">no finished cells: every cell in this store failed (see below).</p>'
    heads = ["<th>method</th>"]
    for column in table.columns:
        task = column.split("/", 1)[0]
        heads.append(f"<th>{anchor(here, task_page(task), column)} {text(table.metric_names[column])}</th>")
    lines = ["<tr>" + "".join(heads) + "</tr>"]
    for row in table.rows:
        cells = [f"<th>{anchor(here, method_page(row), row)}</th>"]
        for column in table.columns:
            shown = cell_text(table, row, column, precision)
            if shown is None:
                cells.append('<td class="value"></td>')
                continue
            value = f"<strong>{text(shown.text)}</strong>" if shown.best else text(shown.text)
            if shown.marked:
                value += MARK
            seeds = " ".join(anchor(here, e.page, f"s{e.record.seed}") for e in model.entries(row, column))
            cells.append(f'<td class="value"><span class="entry">{value}</span><div class="seeds">{seeds}</div></td>')
        lines.append("<tr>" + "".join(cells) + "</tr>")
    warnings = "".join(f'<p class="warning">{text(line)}</p>' for line in table.mixed_environments())
    return (f'<div class="wide"><table class="main">{"".join(lines)}</table></div>\n<p class="note">{text(footer(table))} '
            f"Under each entry, its seeds' cell pages.</p>{warnings}")
