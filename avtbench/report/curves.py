"""A method's page: the training curves of its checkpoints, from each record's pretraining statistics.

A pretraining hands back its curve as `epoch<e>.<key>` stats (`avtbench.toolkit.epoch_stats`), kept in
the checkpoint's metadata and in every record made with it (`pretrain.stats`). One figure per method row
(a method under one configuration) overlays its checkpoints (one per seed), one panel per statistic; the
other stats (final values, sizes) are listed in a table. A method trained in closed form (no epochs)
shows that table only.
"""
from __future__ import annotations

from pathlib import Path

from avtbench.report import charts
from avtbench.report.html import anchor, figure, slug, text
from avtbench.report.model import CellEntry, SiteModel
from avtbench.toolkit.epochs import read_epoch_stats


def curves_image(row: str) -> str:
    return f"img/curves/{slug(row)}.png"


def checkpoints(entries: list[CellEntry]) -> dict[str, CellEntry]:
    """One cell per distinct checkpoint (the first met), labelled by its seed and key."""
    found: dict[str, CellEntry] = {}
    seen: set[str] = set()
    for entry in sorted(entries, key=lambda e: (e.record.seed, e.page)):
        info = entry.record.pretrain
        key = info.checkpoint or entry.page
        if key not in seen:
            seen.add(key)
            found[f"seed {entry.record.seed}" + (f" ({info.checkpoint[:8]})" if info.checkpoint else "")] = entry
    return found


def draw_curves(entries: list[CellEntry], row: str, root: Path) -> str | None:
    """Draw the row's curves; its site path, or None when no checkpoint recorded a per-epoch statistic."""
    series = {label: read_epoch_stats(e.record.pretrain.stats) for label, e in checkpoints(entries).items()}
    series = {label: curves for label, curves in series.items() if curves}
    if not series:
        return None
    image = curves_image(row)
    charts.curves(series, f"{row}: pretraining, per epoch", root / image)
    return image


def method_body(model: SiteModel, row: str, image: str | None, here: str) -> str:
    entries = model.of_row(row)
    parts = ["<h2>Training curves</h2>"]
    if image is None:
        parts.append('<p class="note">no checkpoint of this method recorded per-epoch statistics (a method fitted in '
                     "closed form has no epochs).</p>")
    else:
        parts.append(figure(here, image, "mean of each statistic per pretraining epoch, one line per checkpoint"))
        stats = {s for e in checkpoints(entries).values() for s in read_epoch_stats(e.record.pretrain.stats)}
        if len(stats) > charts.MAX_PANELS:
            parts.append(f'<p class="note">{len(stats)} statistics recorded; the first {charts.MAX_PANELS} are drawn.</p>')
    parts.append("<h2>Checkpoints</h2>")
    parts.append(_final_stats(checkpoints(entries)))
    parts.append("<h2>Cells</h2><ul>")
    for entry in sorted(entries, key=lambda e: (e.record.task, e.record.direction, e.record.seed)):
        r = entry.record
        parts.append(f"<li>{anchor(here, entry.page, r.label())}: {text(r.main_metric)} {r.main_value:.2f}</li>")
    parts.append("</ul>")
    return "\n".join(parts)


def _final_stats(found: dict[str, CellEntry]) -> str:
    """The non-epoch stats of each checkpoint (final losses, sizes), one column per checkpoint."""
    columns = {label: {k: v for k, v in e.record.pretrain.stats.items() if not str(k).startswith("epoch")}
               for label, e in found.items()}
    names = sorted({k for stats in columns.values() for k in stats})
    if not names:
        return '<p class="note">no pretraining statistics recorded.</p>'
    head = "<tr><th>statistic</th>" + "".join(f"<th>{text(label)}</th>" for label in columns) + "</tr>"
    body = "".join("<tr><th>" + text(name) + "</th>" + "".join(
        f"<td>{text(_number(stats.get(name)))}</td>" for stats in columns.values()) + "</tr>" for name in names)
    return f"<table>{head}{body}</table>"


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)
