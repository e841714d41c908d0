"""Suites read from YAML (`yaml.safe_load` only) into `suites.model` dataclasses, every key checked: an
unknown key, a missing one or a value of the wrong kind is one line naming the file, the place in it and
the fix. Names of methods, tasks and settings are checked later, by planning the suite
(`suites.plan`), with the same checks as `avtbench run`.

A suite file (see benchmarks/suites/*.yaml):

    name: cmg-table3                 # default: the file's stem
    title: ...
    source: {paper: ..., table: Table 3, file: ...}
    notes: ...                       # what differs from the paper (datasets, metrics, settings)
    data: {profile: default}         # the data section (a real root, or the world's profile)
    config: {<method or task>: {...}}    # settings every row runs under
    protocols: {<task>: <protocol>}  # the same as config: {<task>: {protocol: ...}}
    tasks: {<task>: all | [a2v, v2a]}    # or a list of tasks with `directions:` for all of them
    seeds: [0, 1, 2]
    metrics: {<task>: <metric> | [<metric>, ...]}   # ours where no figure names one; the first is a figure's default
    figure: {plot: <plot name>, file: figure.png, seed: 0}
    rows:
      - label: step = 1
        method: <method>
        settings: {<setting>: <value>}   # the method's own
        config: {<task>: {...}}          # other sections, this row only
        paper_row: ...                   # the paper's name of the row (default: label)
        published:
          - {task: ave, direction: v2a, value: 54.1, column: AVE V→A}
          - {task: retrieval, direction: a2v, column: ..., dataset: VGGSound, values: {r1: 13.9, r5: 36.8}}
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

import yaml

from avtbench.errors import UserError
from avtbench.suites.model import DATA_SECTION, Document, Published, Source, Suite, SuiteFigure, SuiteRow

TOP_KEYS = ("name", "title", "source", "notes", "data", "config", "protocols", "tasks", "directions", "seeds",
            "metrics", "figure", "rows")
SOURCE_KEYS = ("paper", "table", "file")
ROW_KEYS = ("label", "method", "settings", "config", "paper_row", "published")
PUBLISHED_KEYS = ("task", "direction", "value", "values", "metric", "column", "row", "table", "dataset", "paper_metric")
FIGURE_KEYS = ("plot", "file", "seed")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
DIRECTION = re.compile(r"^[avt]2[avt]$")


class _Reader:
    """Checks one suite document; every error names the suite's origin and the place in it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, problem: str) -> UserError:
        return UserError(f"suite {self.origin}: {where}: {problem}")

    def mapping(self, value: Any, where: str, keys: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a mapping of {', '.join(keys)}, got {type(value).__name__}")
        for key in value:
            if key not in keys:
                raise self.fail(where, f"unknown key {key!r}; the keys are {', '.join(keys)}")
        for key in required:
            if value.get(key) in (None, ""):
                raise self.fail(where, f"{key!r} is required")
        return value

    def text(self, value: Any, where: str, default: str = "") -> str:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(where, f"must be text, got {value!r}")
        return str(value).strip()

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, f"must be a number as printed in the paper, got {value!r}")
        return float(value)

    def sections(self, value: Any, where: str, data_allowed: bool = True) -> Document:
        """A config document: section name -> mapping of settings."""
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise self.fail(where, "must map section names (a method or a task) to mappings of settings")
        if not data_allowed and DATA_SECTION in value:
            raise self.fail(where, "data settings are the suite's (its `data:` key), the same for every row")
        return {str(k): dict(v) for k, v in value.items()}

    def directions(self, value: Any, where: str) -> tuple[str, ...]:
        """() for "all" (every direction the task has), else the named directions."""
        if value is None or value == "all":
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise self.fail(where, f"must be `all` or a list of directions like [a2v, v2a], got {value!r}")
        out = []
        for item in items:
            if not isinstance(item, str) or not DIRECTION.match(item):
                raise self.fail(where, f"bad direction {item!r}; write <source>2<target> with a, v, t, e.g. v2a")
            out.append(item)
        return tuple(dict.fromkeys(out))


def suite_from_document(doc: Any, origin: str, default_name: str = "") -> Suite:
    """The suite `doc` (a parsed YAML mapping) describes; `origin` names it in errors."""
    r = _Reader(origin)
    doc = r.mapping(doc, "the file", TOP_KEYS, ("title", "source", "tasks", "rows"))
    name = r.text(doc.get("name"), "name", default_name)
    if not NAME.match(name):
        raise r.fail("name", f"{name!r} is not a suite name (letters, digits, '.', '_', '-')")
    src = r.mapping(doc["source"], "source", SOURCE_KEYS, ("paper", "table"))
    source = Source(r.text(src["paper"], "source.paper"), r.text(src["table"], "source.table"),
                    r.text(src.get("file"), "source.file"))
    config = r.sections(doc.get("config"), "config")
    protocols = doc.get("protocols") or {}
    if not isinstance(protocols, dict):
        raise r.fail("protocols", "must map task names to a protocol, e.g. {ave: cmg}")
    for task, protocol in protocols.items():
        config.setdefault(str(task), {})["protocol"] = r.text(protocol, f"protocols.{task}")
    if DATA_SECTION in config:
        raise r.fail("config", "data settings go under the suite's `data:` key")
    data = doc.get("data") or {}
    if not isinstance(data, dict):
        raise r.fail("data", "must be a mapping of data settings, e.g. {profile: default} or {root: /data}")
    tasks = _tasks(r, doc["tasks"], doc.get("directions"))
    metrics = doc.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise r.fail("metrics", "must map task names to a metric name or a list of them, e.g. {ave: accuracy}")
    metrics = {str(t): tuple(r.text(m, f"metrics.{t}") for m in (ms if isinstance(ms, list) else [ms]))
               for t, ms in metrics.items()}
    for task in metrics:
        if task not in tasks:
            raise r.fail(f"metrics.{task}", f"the suite runs no task {task!r}; its tasks: {', '.join(tasks)}")
    seeds = _seeds(r, doc.get("seeds", [0]))
    rows = doc["rows"]
    if not isinstance(rows, list) or not rows:
        raise r.fail("rows", "must be a non-empty list of rows (label, method, settings, published)")
    parsed = [_row(r, row, i, source, tasks, metrics) for i, row in enumerate(rows)]
    labels = [row.label for row in parsed]
    for label in labels:
        if labels.count(label) > 1:
            raise r.fail("rows", f"two rows are labelled {label!r}; give each row its own label")
    figure = _figure(r, doc["figure"]) if doc.get("figure") is not None else None
    return Suite(name, r.text(doc["title"], "title"), source, tuple(parsed), tasks, seeds, config, dict(data), metrics,
                 r.text(doc.get("notes"), "notes"), figure, origin)


def _tasks(r: _Reader, value: Any, directions: Any) -> dict[str, tuple[str, ...]]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and value and all(isinstance(t, str) for t in value):
        shared = r.directions(directions, "directions")
        return {task: shared for task in value}
    if directions is not None:
        raise r.fail("directions", "give the directions per task in `tasks:` ({task: [a2v, v2a]}) or list the tasks")
    if not isinstance(value, dict) or not value:
        raise r.fail("tasks", f"must be a list of task names or a mapping task -> directions, got {value!r}")
    return {str(task): r.directions(dirs, f"tasks.{task}") for task, dirs in value.items()}


def _seeds(r: _Reader, value: Any) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= 2**32 - 1 for s in items):
        raise r.fail("seeds", f"must be a list of integers in [0, 2^32 - 1], got {value!r}")
    return tuple(dict.fromkeys(items))


def _row(r: _Reader, value: Any, index: int, source: Source, tasks: dict[str, tuple[str, ...]],
         metrics: dict[str, tuple[str, ...]]) -> SuiteRow:
    where = f"rows[{index}]"
    row = r.mapping(value, where, ROW_KEYS, ("label", "method"))
    label = r.text(row["label"], f"{where}.label")
    where = f"row {label!r}"
    method = r.text(row["method"], f"{where}.method")
    settings = row.get("settings") or {}
    if not isinstance(settings, dict):
        raise r.fail(f"{where}.settings", f"must be a mapping of {method}'s settings, e.g. {{epochs: 2}}")
    config = r.sections(row.get("config"), f"{where}.config", data_allowed=False)
    paper_row = r.text(row.get("paper_row"), f"{where}.paper_row", label)
    published = row.get("published") or []
    if not isinstance(published, list):
        raise r.fail(f"{where}.published", "must be a list of published figures")
    figures = [f for i, entry in enumerate(published)
               for f in _published(r, entry, f"{where}.published[{i}]", source, paper_row, tasks, metrics)]
    return SuiteRow(label, method, dict(settings), config, paper_row, tuple(figures))


def _published(r: _Reader, value: Any, where: str, source: Source, paper_row: str, tasks: dict[str, tuple[str, ...]],
               metrics: dict[str, tuple[str, ...]]) -> list[Published]:
    entry = r.mapping(value, where, PUBLISHED_KEYS, ("task", "direction", "column"))
    task = r.text(entry["task"], f"{where}.task")
    if task not in tasks:
        raise r.fail(f"{where}.task", f"the suite runs no task {task!r}; its tasks: {', '.join(tasks)}")
    (direction,) = r.directions([entry["direction"]], f"{where}.direction")
    if tasks[task] and direction not in tasks[task]:
        raise r.fail(f"{where}.direction", f"the suite runs {task} in {', '.join(tasks[task])} only, not {direction}")
    if ("value" in entry) == ("values" in entry):
        raise r.fail(where, "give either `value` (with `metric`, default the task's) or `values: {metric: value}`")
    if "values" in entry:
        values = entry["values"]
        if not isinstance(values, dict) or not values:
            raise r.fail(f"{where}.values", "must map metric names of ours to the printed numbers, e.g. {r1: 13.9}")
        if "metric" in entry:
            raise r.fail(where, "`metric` goes with `value`; with `values` the metrics are its keys")
        pairs = [(r.text(m, f"{where}.values"), r.number(v, f"{where}.values.{m}")) for m, v in values.items()]
    else:
        metric = r.text(entry.get("metric"), f"{where}.metric", (metrics.get(task) or ("",))[0])
        pairs = [(metric, r.number(entry["value"], f"{where}.value"))]
    common = dict(table=r.text(entry.get("table"), f"{where}.table", source.table),
                  row=r.text(entry.get("row"), f"{where}.row", paper_row),
                  column=r.text(entry["column"], f"{where}.column"),
                  dataset=r.text(entry.get("dataset"), f"{where}.dataset"),
                  paper_metric=r.text(entry.get("paper_metric"), f"{where}.paper_metric"))
    return [Published(task, direction, metric, number, **common) for metric, number in pairs]


def _figure(r: _Reader, value: Any) -> SuiteFigure:
    figure = r.mapping(value, "figure", FIGURE_KEYS, ("plot", "file"))
    file = r.text(figure["file"], "figure.file")
    if Path(file).name != file or not Path(file).suffix:
        raise r.fail("figure.file", f"must be a file name with its format's suffix (e.g. figure2.png), got {file!r}")
    seed = figure.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise r.fail("figure.seed", f"must be a seed of the suite, got {seed!r}")
    return SuiteFigure(r.text(figure["plot"], "figure.plot"), file, seed)


def load_suite(path: str | Path) -> Suite:
    """The suite in the YAML file `path`."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UserError(f"suite file not found: {path}; name a suite of `avtbench suite list` or a .yaml file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"suite file {path} cannot be read ({exc}); check the path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"malformed YAML in suite {path}{at}: {getattr(exc, 'problem', exc)}; fix the file's syntax") from None
    return suite_from_document(doc, str(path), path.stem)


def load_suites(paths: Iterable[Path]) -> list[Suite]:
    return [load_suite(path) for path in paths]
