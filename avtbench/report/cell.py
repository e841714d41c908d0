"""A cell's page: its numbers, what plugins show about it (sections), its checkpoint's training curves, the
files its task kept, and its provenance (versions, config, data sources, hashes, timings, environment)."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from avtbench.catalog import describe
from avtbench.metrics.per_class import split
from avtbench.report.html import anchor, facts, figure, json_block, slug, text
from avtbench.report.model import INDEX, CellEntry, method_page, task_page
from avtbench.report.sections import ReportSection, SectionCell, SectionContent

MAX_COPIED_BYTES = 20 * 2**20
"""A kept file larger than this is named on the page but not copied into the site."""
IMAGES = (".png", ".svg", ".jpg", ".jpeg", ".gif")


def cell_body(entry: CellEntry, root: Path, here: str, curves: str | None, sections: list[ReportSection],
              warn: Callable[[str], None]) -> str:
    r = entry.record
    plain, by_metric = split(r.metrics)
    where = [("method", r.method), ("task", r.task), ("direction", r.direction), ("seed", r.seed),
             (f"main metric ({r.main_metric})", f"{r.main_value:.4g}")]
    if entry.row:
        where.append(("table entry", f"{entry.row} × {entry.column}"))
    parts = [facts(where), f'<p class="note">{anchor(here, INDEX, "main table")} · {anchor(here, task_page(r.task), f"task {r.task}")}'
             f' · {anchor(here, method_page(entry.row or r.method), f"method {entry.row or r.method}")}</p>']
    parts += ["<h2>Metrics</h2>", facts((k, f"{v:.6g}") for k, v in sorted(plain.items()))]
    for metric, scores in sorted(by_metric.items()):
        parts.append(f"<details><summary>{text(metric)} per class ({len(scores)} classes)</summary>"
                     f"{facts((c, f'{v:.4g}') for c, v in scores.items())}</details>")
    drawn = [_section(section, entry, root, here, warn) for section in sections if section.applies(r)]
    parts += drawn
    parts.append("<h2>Training curves</h2>")
    parts.append(figure(here, curves, f"pretraining of {entry.row or r.method}, one line per checkpoint "
                                      f"(this cell's: {r.pretrain.checkpoint[:8]})") if curves else
                 '<p class="note">its checkpoint recorded no per-epoch statistics (a method fitted in closed form, '
                 "or a checkpoint trained before they were recorded).</p>")
    parts.append(_kept_files(entry, root, here, show=not any("<img" in d for d in drawn)))
    parts.append(_provenance(entry))
    return "\n".join(parts)


def _section(section: ReportSection, entry: CellEntry, root: Path, here: str, warn: Callable[[str], None]) -> str:
    base = root / "img" / "sections" / section.name
    folder = base / slug(entry.page.removesuffix(".html"))
    heading = f"<h2>{text(section.title)}</h2>"
    try:
        content = section.function()(SectionCell(entry.record, entry.artifacts, folder, base / "shared"))
        if content is not None and not isinstance(content, SectionContent):
            raise TypeError(f"it returned {type(content).__name__}, not a SectionContent or None")
    except Exception as exc:  # a plugin's section never stops the report
        warn(f"warning: report section {section.name!r} failed on {entry.record.label()}: {describe(exc)}")
        return f'{heading}<p class="error">this section failed: {text(describe(exc))}</p>'
    if content is None:
        return ""
    parts = [heading]
    for shown in content.figures:
        parts.append(figure(here, _inside(Path(shown.path), root, folder), shown.caption))
    parts += [f"<p>{text(p)}</p>" for p in content.paragraphs]
    if content.facts:
        parts.append(facts(content.facts))
    return "\n".join(parts)


def _inside(path: Path, root: Path, folder: Path) -> str:
    """The site path of a section's picture, copied into its folder first when the section wrote it elsewhere."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, folder / path.name)
        return (folder / path.name).resolve().relative_to(root.resolve()).as_posix()


def _kept_files(entry: CellEntry, root: Path, here: str, show: bool) -> str:
    """The files the task kept beside the record, copied into the site; with `show` (no section drew this cell)
    its pictures shown too."""
    folder = entry.artifacts
    if folder is None:
        return ""
    parts = ["<h2>Files kept with the record</h2><ul>"]
    shown = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        size = path.stat().st_size
        if size > MAX_COPIED_BYTES:
            parts.append(f"<li>{text(path.name)} ({size / 2**20:.0f} MiB, not copied: see {text(path)})</li>")
            continue
        target = f"files/{entry.page.removesuffix('.html').removeprefix('cells/')}/{slug(path.name)}"
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, root / target)
        parts.append(f"<li>{anchor(here, target, path.name)} ({size / 1024:.0f} KiB)</li>")
        if show and path.suffix.lower() in IMAGES:
            shown.append(figure(here, target, path.name))
    return "\n".join(parts + ["</ul>"] + shown)


def _provenance(entry: CellEntry) -> str:
    r = entry.record
    info, t = r.pretrain, r.timings
    parts = ["<h2>Provenance</h2>", facts([
        ("record file", r.path or ""), ("written", r.created), ("record version", r.record_version),
        ("git sha", r.git_sha or "unknown"), ("device", r.device), ("cell hash", r.cell_hash),
        ("config hash", r.config_hash), ("method hash (row)", r.method_hash), ("column hash", r.column_hash)])]
    parts += ["<h3>Versions</h3>", json_block(r.versions)]
    parts += ["<h3>Timings (seconds)</h3>", facts([("pretraining (this run)", f"{t.pretrain_s:.1f}"),
                                                   ("encoding", f"{t.encode_s:.1f}"), ("evaluation", f"{t.evaluate_s:.1f}"),
                                                   ("total", f"{t.total_s:.1f}")])]
    trained = f"{info.trained_s:.1f}" if isinstance(info.trained_s, (int, float)) else "unknown"
    parts += ["<h3>Pretrained method</h3>", facts([("checkpoint", info.checkpoint), ("where from", info.describe()),
                                                   ("training took (s)", trained)])]
    if info.released:
        parts.append(json_block(info.released))
    parts += ["<h3>Data sources</h3>", json_block(r.sources), "<h3>Configuration</h3>", json_block(r.config)]
    parts += ["<details><summary>Environment (this cell)</summary>", json_block(r.environment), "</details>",
              "<details><summary>Environment (its checkpoint's training)</summary>", json_block(info.environment),
              "</details>"]
    return "\n".join(parts)
