"""Result stores from several machines put into one (`avtbench merge SRC... --into DEST`).

A cell's place is its path in a store, `<method>/<task>/<direction>/seed<k>-<config hash>`: the same place in
two stores is the same cell (the config hash covers method, versions, settings and data). Per place:

- records whose metrics are equal (exactly, as their JSON holds them: copies of one result) are kept once,
  the destination's own record first, else the first source's in the order given;
- records whose metrics differ are a conflict: one `error:` line naming both files before anything is
  written, or with `prefer="newest"` the record that finished last by its own `created` time (written by
  the run when the cell finished, in UTC; file modification times say when a file was copied, not when
  its cell ran). A cell computed on two machines rarely agrees to the last bit (see the README's "What
  varies from host to host"), so no tolerance decides silently which host's numbers a table shows;
- a record comes with its own artifacts folder (`seed<k>-<hash>.artifacts/`), replacing the one there;
- a failure never overrides a record, a record replaces a failure; of several failures the first stays.

Nothing is written before every source and the destination have been read whole and every record in them
parsed (a corrupt one is named, never copied); the sources are only read. Files are copied byte for byte,
each published atomically (`atomic.py`), a record after its artifacts. The stores' own hidden folders
(`.locks/`, `.avtbench/` with grid manifests naming the source's paths), records set aside as corrupt and
temporary files are not copied; the summary counts them.
"""
from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Literal

from avtbench.atomic import atomic_path, prepare_folder, publish_folder
from avtbench.errors import UserError
from avtbench.record import CellFailure, CellRecord, IncompleteRecord
from avtbench.store import ARTIFACTS_SUFFIX, FAILURE_SUFFIX, LOCKS, read_json

Place = tuple[str, str, str, str]
"""method, task, direction, `seed<k>-<config hash>`."""
PREFER = ("newest",)
_CELL_FILE = re.compile(r"(seed\d+-[0-9A-Za-z]+)(" + "|".join(map(re.escape, (FAILURE_SUFFIX, ".json", ARTIFACTS_SUFFIX))) + ")")
_SKIPPED_ORDER = ("lock file(s)", "run file(s) (grid manifests, Slurm jobs)", "record(s) set aside as corrupt",
                  "temporary file(s)", "other file(s)", "failure(s) of a cell with a record", "repeated failure(s)",
                  "artifact folder(s) without a record")


@dataclass
class StoredCell:
    """One cell's files in one store."""

    place: Place
    record_path: Path | None = None
    record: CellRecord | None = None
    failure_path: Path | None = None
    artifacts: Path | None = None

    def label(self) -> str:
        method, task, direction, stem = self.place
        return f"{method} / {task} / {direction} / {stem}"


@dataclass
class StoreScan:
    """What one store holds: its cells by place, what is not a cell's file, and whether it has the store's own
    folders (a store whose cells are all pending still has them)."""

    root: Path
    cells: dict[Place, StoredCell] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    bookkeeping: bool = False
    anything: bool = False


@dataclass(frozen=True)
class Step:
    """One write into the destination: a record (with its artifacts folder, or None for none), a failure, or
    the removal of the destination's failure of a cell that now has a record."""

    kind: Literal["record", "failure", "drop-failure"]
    place: Place
    source: Path | None = None
    artifacts: Path | None = None


@dataclass
class MergePlan:
    sources: list[Path]
    dest: Path
    steps: list[Step] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    settled: list[str] = field(default_factory=list)
    """One line per conflict `--prefer newest` settled: which file was kept over which."""

    def summary(self, written: bool = True) -> str:
        c = self.counts
        done = (f"{c['records']} record(s) copied, {c['kept once']} kept once (equal metrics in several stores), "
                f"{c['settled']} conflict(s) settled by --prefer newest, {c['failures']} failure(s) copied, "
                f"{c['artifacts']} artifact folder(s) copied")
        skipped = ", ".join(f"{self.skipped[reason]} {reason}" for reason in _SKIPPED_ORDER if self.skipped[reason])
        head = f"merged {len(self.sources)} store(s) into {self.dest}" if written else \
            f"--dry-run: merging {len(self.sources)} store(s) into {self.dest} would give"
        return f"{head}: {done}; skipped: {skipped or 'nothing'}" + ("" if written else "; nothing written")


def plan_merge(sources: list[Path], dest: Path, prefer: str | None = None) -> MergePlan:
    """Read every store and decide every write; a `UserError` (one line) on bad input or an unsettled conflict."""
    if prefer is not None and prefer not in PREFER:
        raise UserError(f"unknown --prefer {prefer!r}; use --prefer newest, or leave it out")
    sources, dest = [Path(s) for s in sources], Path(dest)
    _check_paths(sources, dest)
    scans = [_readable(scan, source) for source in sources]
    for source, found in zip(sources, scans):
        if not found.cells and not found.bookkeeping:
            raise UserError(f"source {source} is not a result store: it holds no "
                            "<method>/<task>/<direction>/seed<k>-<config hash>.json record or failure; "
                            "pass the folder `avtbench run --results` wrote into")
    target = _readable(scan, dest) if dest.is_dir() else StoreScan(dest)
    if target.anything and not target.cells and not target.bookkeeping:
        raise UserError(f"--into {dest} is a folder with other files, not a result store; "
                        "merge into a new or empty folder, or into a result store")
    plan = MergePlan(sources, dest)
    for found in scans:
        plan.skipped.update(found.skipped)
    conflicts: list[str] = []
    for place in sorted(set(target.cells).union(*(found.cells for found in scans))):
        here = target.cells.get(place)
        offers = [found.cells[place] for found in scans if place in found.cells]
        if any(c.record is not None for c in [*([here] if here else []), *offers]):
            _plan_record(plan, place, here, offers, prefer, conflicts)
        else:
            _plan_failure(plan, place, here, offers)
    if conflicts:
        more = f" ({len(conflicts) - 1} more conflicting cell(s) after it)" if len(conflicts) > 1 else ""
        raise UserError(f"{conflicts[0]}{more}; keep one of each (move the other out of its store) or pass "
                        "--prefer newest")
    return plan


def merge_stores(sources: list[Path], dest: Path, prefer: str | None = None, dry_run: bool = False) -> MergePlan:
    """Plan the merge, then (unless `dry_run`) carry it out; the plan says what was done."""
    plan = plan_merge(sources, dest, prefer)
    if not dry_run:
        apply(plan)
    return plan


def apply(plan: MergePlan) -> None:
    prepare_folder(plan.dest, "--into")
    for step in plan.steps:
        _readable(_apply_step, plan.dest, step, writing=True)


def _readable(do: Callable[..., Any], path: Path, *args: Any, writing: bool = False) -> Any:
    """`do(path, *args)`, an `OSError` (no permission, a full disk) said as one line."""
    try:
        return do(path, *args)
    except OSError as exc:
        where = exc.filename or path
        if writing:
            raise UserError(f"cannot write {where} ({exc.strerror or exc}); each file merged before it is whole: "
                            "fix the cause and run the same merge again") from None
        raise UserError(f"cannot read {where} ({exc.strerror or exc}); nothing was written") from None


def _apply_step(dest: Path, step: Step) -> None:
    base = dest.joinpath(*step.place[:3])
    stem = step.place[3]
    if step.kind == "record":
        _replace_folder(base / f"{stem}{ARTIFACTS_SUFFIX}", step.artifacts)
        _copy(step.source, base / f"{stem}.json")
    elif step.kind == "failure":
        _copy(step.source, base / f"{stem}{FAILURE_SUFFIX}")
    else:
        (base / f"{stem}{FAILURE_SUFFIX}").unlink(missing_ok=True)


def scan(root: Path) -> StoreScan:
    """The cells of the store at `root` (every record parsed: a corrupt one is a `UserError` naming it)."""
    found = StoreScan(root)
    for top in sorted(root.iterdir()):
        found.anything = True
        if top.name.startswith("."):
            found.bookkeeping |= top.name in (LOCKS, ".avtbench")
            reason = {LOCKS: "lock file(s)", ".avtbench": "run file(s) (grid manifests, Slurm jobs)"}.get(top.name)
            found.skipped[reason or "other file(s)"] += _files(top)
            continue
        for folder in _folders(top, 2, found):
            for path in sorted(folder.iterdir()):
                _take(found, path, (top.name, *folder.relative_to(top).parts))
    return found


def _take(found: StoreScan, path: Path, where: tuple[str, ...]) -> None:
    """Note `path`, a file or folder in a cell folder `<method>/<task>/<direction>/`, in `found`."""
    match = _CELL_FILE.fullmatch(path.name)
    if match is None:
        reason = "record(s) set aside as corrupt" if ".corrupt-" in path.name else \
            "temporary file(s)" if path.name.startswith(".") else "other file(s)"
        found.skipped[reason] += _files(path)
        return
    stem, suffix = match.groups()
    place: Place = (*where, stem)  # type: ignore[assignment]
    cell = found.cells.setdefault(place, StoredCell(place))
    if suffix == ARTIFACTS_SUFFIX and path.is_dir():
        cell.artifacts = path
    elif suffix == ".json" and path.is_file():
        cell.record_path, cell.record = path, _read_record(path, place)
    elif suffix == FAILURE_SUFFIX and path.is_file():
        try:
            CellFailure.from_json(read_json(path))
        except IncompleteRecord:
            raise UserError(f"{path} is not a failure record (not a JSON object); move it out of its store, "
                            "then merge again") from None
        cell.failure_path = path
    else:
        found.skipped["other file(s)"] += _files(path)
    if cell.record is None and cell.failure_path is None and cell.artifacts is None:
        del found.cells[place]


def _folders(top: Path, depth: int, found: StoreScan) -> list[Path]:
    """The folders `depth` levels under `top` (task, then direction); files met above them are not a cell's."""
    if not top.is_dir():
        found.skipped["other file(s)"] += 1
        return []
    if depth == 0:
        return [top]
    return [leaf for child in sorted(top.iterdir()) for leaf in _folders(child, depth - 1, found)]


def _files(path: Path) -> int:
    return sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 1


def _read_record(path: Path, place: Place) -> CellRecord:
    data = read_json(path)
    if data is None:
        raise UserError(f"{path} is not a complete record (it does not parse as JSON); move it out of its store "
                        "(or run its grid there again, which redoes it), then merge again")
    try:
        record = CellRecord.from_json(data)
    except IncompleteRecord as exc:
        raise UserError(f"{path} is not a complete record ({exc}); move it out of its store (or run its grid "
                        "there again, which redoes it), then merge again") from None
    method, task, direction, stem = place
    seed, config_hash = stem.split("-", 1)
    if (record.method, record.task, record.direction, f"seed{record.seed}") != (method, task, direction, seed) \
            or record.config_hash not in ("", config_hash):
        raise UserError(f"{path} holds the record of {record.label()} (config {record.config_hash}), not of the "
                        "cell its place names; move it out of its store, then merge again")
    return record.at(str(path))


def _plan_record(plan: MergePlan, place: Place, here: StoredCell | None, offers: list[StoredCell],
                 prefer: str | None, conflicts: list[str]) -> None:
    """The record a place ends with; failures there are dropped (the destination's removed)."""
    mine = [here] if here is not None and here.record is not None else []
    records = mine + [c for c in offers if c.record is not None]
    plan.skipped["failure(s) of a cell with a record"] += sum(c.failure_path is not None for c in offers)
    kinds = _by_metrics(records)
    if len(kinds) > 1:
        if prefer is None:
            a, b = kinds[0][0], kinds[1][0]
            conflicts.append(f"conflicting results for {a.label()}: {a.record_path} and {b.record_path} differ "
                             f"({_difference(a.record, b.record)})")
            return
        chosen = _newest(kinds)
        beaten = [group[0] for group in kinds if chosen not in group]
        plan.counts["settled"] += 1
        plan.settled.append(f"--prefer newest: {chosen.label()}: kept {chosen.record_path} (finished "
                            f"{chosen.record.created}) over " +
                            ", ".join(f"{c.record_path} ({c.record.created})" for c in beaten))
    else:
        plan.counts["kept once"] += len(records) > 1
        chosen = mine[0] if mine else next((c for c in records if c.artifacts is not None), records[0])
    if mine and chosen is mine[0]:
        return
    plan.steps.append(Step("record", place, chosen.record_path, chosen.artifacts))
    plan.counts["records"] += 1
    plan.counts["artifacts"] += chosen.artifacts is not None
    if here is not None and here.failure_path is not None:
        plan.steps.append(Step("drop-failure", place))


def _plan_failure(plan: MergePlan, place: Place, here: StoredCell | None, offers: list[StoredCell]) -> None:
    failures = [c for c in offers if c.failure_path is not None]
    plan.skipped["artifact folder(s) without a record"] += sum(c.artifacts is not None for c in offers)
    if here is not None and here.failure_path is not None:
        plan.skipped["repeated failure(s)"] += len(failures)
    elif failures:
        plan.steps.append(Step("failure", place, failures[0].failure_path))
        plan.counts["failures"] += 1
        plan.skipped["repeated failure(s)"] += len(failures) - 1


def _by_metrics(records: list[StoredCell]) -> list[list[StoredCell]]:
    """The records grouped by equal metrics, groups and members in the order given."""
    groups: list[list[StoredCell]] = []
    for cell in records:
        group = next((g for g in groups if g[0].record.metrics == cell.record.metrics), None)
        if group is None:
            groups.append([cell])
        else:
            group.append(cell)
    return groups


def _difference(a: CellRecord, b: CellRecord) -> str:
    """The first metric two records disagree on, the main one first."""
    names = [a.main_metric] + sorted(set(a.metrics) | set(b.metrics))
    name = next(n for n in names if a.metrics.get(n) != b.metrics.get(n))
    return f"{name} {a.metrics.get(name, 'missing')} vs {b.metrics.get(name, 'missing')}"


def _newest(groups: list[list[StoredCell]]) -> StoredCell:
    """The record that finished last (the destination's, then the first source's, among equals); records of
    different metrics finishing at the same time are an error."""
    finished = [(_finished(cell), index, cell) for index, group in enumerate(groups) for cell in group]
    latest = max(when for when, _, _ in finished)
    top = [(index, cell) for when, index, cell in finished if when == latest]
    if len({index for index, _ in top}) > 1:
        a, b = top[0][1], next(cell for index, cell in top if index != top[0][0])
        raise UserError(f"{a.record_path} and {b.record_path} finished at the same time ({a.record.created}) with "
                        "different metrics; --prefer newest cannot choose: keep one (move the other out of its store)")
    return top[0][1]


def _finished(cell: StoredCell) -> datetime:
    text = cell.record.created
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{cell.record_path} has no finish time (created {text!r}), so --prefer newest cannot "
                        "place it; keep one of the conflicting records by hand") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _check_paths(sources: list[Path], dest: Path) -> None:
    """Each source an existing folder, named once; the destination a folder apart from all of them."""
    seen: dict[Path, Path] = {}
    for source in sources:
        if not source.is_dir():
            what = "is a file, not a result store's folder" if source.exists() else "does not exist"
            raise UserError(f"source {source} {what}; pass the folders `avtbench run --results` wrote into")
        real = source.resolve()
        if real in seen:
            raise UserError(f"source {source} is named twice (also as {seen[real]}); name each store once")
        seen[real] = source
    for parent in (dest, *dest.parents):
        if parent.exists() and not parent.is_dir():
            raise UserError(f"--into {dest}: {parent} is a file, not a folder; pass another --into path")
    target = dest.resolve()
    for real, source in seen.items():
        if target == real:
            raise UserError(f"--into {dest} is the source {source}; merge into another folder (sources stay unchanged)")
        if target.is_relative_to(real):
            raise UserError(f"--into {dest} is inside the source {source}, which would change it; "
                            "merge into a folder outside every source")
        if real.is_relative_to(target):
            raise UserError(f"the source {source} is inside --into {dest}, whose tables would read its records "
                            "twice; move it out, or merge into another folder")


def _copy(source: Path | None, target: Path) -> None:
    assert source is not None
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def _replace_folder(target: Path, source: Path | None) -> None:
    """`target` becomes a copy of `source` (published whole), or goes when `source` is None."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    try:
        if source is not None:
            publish_folder(target, lambda tmp: shutil.copytree(source, tmp, dirs_exist_ok=True))
    finally:
        shutil.rmtree(old, ignore_errors=True)
