"""What a plugin adds to the report: sections drawn on the pages of the cells they apply to.

A plugin implements the hook `avtbench_report_sections` and returns `ReportSection`s. The report calls a
section's `draw` once per cell it applies to (its method, its task, or every cell) with a `SectionCell`
(the record, the files the task kept beside it, and a folder for pictures) and shows what it returns
(`SectionContent`: figures, paragraphs, a few facts) under the section's title on that cell's page. A
`draw` that returns None has nothing to show for that cell; one that raises is shown as one line on the
page and named on the terminal, and the rest of the report is written as usual.

`draw` may be given as "module:function", imported when the first page needs it: a plugin's entry-point
module then imports no more than this module (no torch, no matplotlib), as cards keep discovery light.
This module imports nothing heavy itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Union

if TYPE_CHECKING:
    from avtbench.record import CellRecord


@dataclass(frozen=True)
class Figure:
    """A picture a section wrote (PNG or SVG, inside `SectionCell.folder`) and its caption."""

    path: Path
    caption: str = ""


@dataclass(frozen=True)
class SectionContent:
    """What a section shows for one cell: figures, then paragraphs (plain text, escaped by the report), then
    facts (name, value) as a small table."""

    figures: tuple[Figure, ...] = ()
    paragraphs: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SectionCell:
    """What a section's `draw` gets: the cell's record, the folder of files its task kept beside the record
    (None when it kept none), `folder`, where the section writes this cell's pictures (`image(name)` names
    one), and `shared_folder`, the section's folder for pictures several cells show (`shared(name)`)."""

    record: "CellRecord"
    artifacts: Path | None
    folder: Path
    shared_folder: Path | None = None

    def artifact(self, name: str) -> Path | None:
        """One file the task kept, or None when it is not there."""
        if self.artifacts is None:
            return None
        path = self.artifacts / name
        return path if path.is_file() else None

    def image(self, name: str) -> Path:
        """A path for a picture called `name` (e.g. "usage.png") in this cell's folder, its folder created."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / name

    def shared(self, name: str) -> Path:
        """A path for a picture several cells show (one of their checkpoint's, say: name it by the checkpoint),
        in the section's shared folder, created; when the file is there already, another cell drew it in
        this report, and it can be shown as it is."""
        folder = self.shared_folder or self.folder
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name


Draw = Callable[[SectionCell], Union[SectionContent, None]]


@dataclass(frozen=True)
class ReportSection:
    """name: unique among installed sections (also its pictures' folder name); title: its heading;
    draw: a function of a `SectionCell`, or "module:function"; method, task: the cells it applies to ("" any);
    summary: one line on what it shows."""

    name: str
    title: str
    draw: Union[Draw, str]
    method: str = ""
    task: str = ""
    summary: str = ""

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "_-" for c in self.name):
            raise ValueError(f"report section name {self.name!r}: use letters, digits, '_' and '-' only")
        if isinstance(self.draw, str) and ":" not in self.draw:
            raise ValueError(f"report section {self.name!r}: draw {self.draw!r} is not 'package.module:function'")

    def applies(self, record: "CellRecord") -> bool:
        return (not self.method or record.method == self.method) and (not self.task or record.task == self.task)

    def function(self) -> Draw:
        """`draw`, imported first when given as "module:function"."""
        if callable(self.draw):
            return self.draw
        from avtbench.catalog import import_target

        found = import_target(self.draw)
        if not callable(found):
            raise TypeError(f"{self.draw} is not a function")
        return found
