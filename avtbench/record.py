"""The record of one finished cell, and of one failed cell: the only place their fields are named.

A record is what the store keeps (one JSON file per cell), what tables, `avtbench status` and the
CLI read, and what a Ray worker hands back to its driver. `to_json` writes the layout records
have had on disk since the first release, plus `record_version`; `from_json` reads every version
written so far (version 1: no `record_version` field), and raises `IncompleteRecord` for a file
that is not a finished cell's record (a truncated write, an edit gone wrong), which the store then
sets aside instead of reading wrong numbers out of it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RECORD_VERSION = 2
"""1: the untyped dicts written before this module (same layout, no `record_version`); 2: this module."""

FailureKind = Literal["crash", "user error", "worker died"]


class IncompleteRecord(ValueError):
    """A JSON document that is not a complete record (a field missing or of the wrong type)."""


@dataclass(frozen=True)
class PretrainInfo:
    """How a cell's method came to be pretrained: its checkpoint key, whether this run trained it
    (`cached` False) or found it, and what its pretraining recorded."""

    checkpoint: str
    cached: bool
    seconds: float = field(default=0.0, compare=False)
    """Pretraining time that counts for this run: the training time when this run (or its grid's
    stage 1) trained the checkpoint, 0 when it came from an earlier run's cache. Not stored in the
    record (its `timings.pretrain_s` carries it)."""
    trained_s: float | None = None
    """How long the checkpoint took to train, whoever trained it."""
    stats: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] | None = None
    released: dict[str, Any] | None = None
    """{"path": ..., "sha256": ...} when the method was not pretrained but loaded from a released
    checkpoint (`checkpoint` is then that sha256); None otherwise (and not written)."""

    def describe(self) -> str:
        """Where the pretrained method came from, in a few words."""
        if self.released is not None:
            return f"loaded from the released file {self.released.get('path')}"
        return "reused from the cache" if self.cached else "pretrained and cached"

    def to_json(self) -> dict[str, Any]:
        data = {"checkpoint": self.checkpoint, "cached": self.cached, "stats": self.stats,
                "trained_s": self.trained_s, "environment": self.environment}
        if self.released is not None:
            data["released"] = self.released
        return data

    @classmethod
    def from_json(cls, data: Any) -> PretrainInfo:
        data = _mapping(data, "pretrain")
        released = data.get("released")
        return cls(checkpoint=str(data.get("checkpoint", "")), cached=bool(data.get("cached", False)),
                   trained_s=data.get("trained_s"), stats=dict(data.get("stats") or {}),
                   environment=data.get("environment"), released=dict(released) if isinstance(released, dict) else None)


@dataclass(frozen=True)
class Timings:
    """Seconds spent by a cell: pretraining counted for this run, encoding, the task's fit and evaluation, all."""

    pretrain_s: float = 0.0
    encode_s: float = 0.0
    evaluate_s: float = 0.0
    total_s: float = 0.0

    @classmethod
    def from_json(cls, data: Any) -> Timings:
        data = _mapping(data, "timings")
        return cls(**{name: float(data.get(name, 0.0)) for name in ("pretrain_s", "encode_s", "evaluate_s", "total_s")})


@dataclass(frozen=True)
class CellRecord:
    """One finished cell: its identity, metrics, configuration, provenance and timings."""

    method: str
    task: str
    direction: str
    seed: int
    metrics: dict[str, float]
    main_metric: str
    cell_hash: str
    config_hash: str = ""
    method_hash: str = ""
    """Same for every cell of one method configuration: rows of a table."""
    column_hash: str = ""
    """Same for every cell of one task configuration on the same data: columns of a table."""
    lower_is_better: tuple[str, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    """{"method": ..., "task": ..., "data": ...}: the resolved settings and the data identity."""
    sources: dict[str, Any] = field(default_factory=dict)
    """Dataset name -> where it came from (a root, or the synthetic world)."""
    versions: dict[str, Any] = field(default_factory=dict)
    git_sha: str | None = None
    pretrain: PretrainInfo = field(default_factory=lambda: PretrainInfo("", False))
    timings: Timings = field(default_factory=Timings)
    device: str = ""
    environment: dict[str, Any] | None = None
    created: str = ""
    artifacts: tuple[str, ...] = ()
    """Files the task kept beside the record (in `<record>.artifacts/`)."""
    record_version: int = RECORD_VERSION
    path: str | None = field(default=None, compare=False)
    """Where the store read it from (not written)."""

    def __post_init__(self) -> None:
        if self.main_metric not in self.metrics:
            raise IncompleteRecord(f"its main metric {self.main_metric!r} is not among its metrics")

    @property
    def main_value(self) -> float:
        return float(self.metrics[self.main_metric])

    def label(self) -> str:
        return f"{self.method} / {self.task} / {self.direction} / seed {self.seed}"

    def __getitem__(self, name: str) -> Any:
        """`record["metrics"]`, as records read when they were dicts (before version 2): still answers,
        with a DeprecationWarning naming the attribute to use instead."""
        import warnings

        warnings.warn(f"records are `avtbench.record.CellRecord`s now: use record.{name} (nested parts too, "
                      f"e.g. record.timings.total_s), not record[{name!r}]", DeprecationWarning, stacklevel=2)
        return self.to_json()[name]

    def with_artifacts(self, names: list[str]) -> CellRecord:
        return _replace(self, artifacts=tuple(names))

    def at(self, path: str) -> CellRecord:
        return _replace(self, path=path)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["path"]
        data.update(main_value=self.main_value, lower_is_better=list(self.lower_is_better),
                    artifacts=list(self.artifacts), pretrain=self.pretrain.to_json())
        return data

    @classmethod
    def from_json(cls, data: Any) -> CellRecord:
        """A record of any version; `IncompleteRecord` when `data` is not one."""
        data = _mapping(data, "record")
        missing = [name for name in _REQUIRED if name not in data]
        if missing:
            raise IncompleteRecord(f"no {missing[0]!r} field")
        metrics = _mapping(data["metrics"], "metrics")
        try:
            return cls(
                method=str(data["method"]), task=str(data["task"]), direction=str(data["direction"]),
                seed=int(data["seed"]), metrics={str(k): _number(k, v) for k, v in metrics.items()},
                main_metric=str(data["main_metric"]), cell_hash=str(data["cell_hash"]),
                config_hash=str(data.get("config_hash", "")), method_hash=str(data.get("method_hash", "")),
                column_hash=str(data.get("column_hash", "")),
                lower_is_better=tuple(data.get("lower_is_better") or ()), config=dict(data.get("config") or {}),
                sources=dict(data.get("sources") or {}), versions=dict(data.get("versions") or {}),
                git_sha=data.get("git_sha"), pretrain=PretrainInfo.from_json(data.get("pretrain") or {}),
                timings=Timings.from_json(data.get("timings") or {}), device=str(data.get("device", "")),
                environment=data.get("environment"), created=str(data.get("created", "")),
                artifacts=tuple(data.get("artifacts") or ()), record_version=int(data.get("record_version", 1)),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, IncompleteRecord):
                raise
            raise IncompleteRecord(f"a field of the wrong type ({exc})") from None


_REQUIRED = ("method", "task", "direction", "seed", "metrics", "main_metric", "cell_hash")
"""What every version of a record has; the rest defaults when an older record lacks it."""


@dataclass(frozen=True)
class CellFailure:
    """Why a cell has no record: the exception's line, its kind, where and how long it ran.

    kind: "user error" (bad input met while the cell ran: a rerun tries again, as the input may have
    been fixed), "crash" (a bug: skipped until --retry-failed) or "worker died" (Ray gave up)."""

    error: str
    kind: FailureKind = "crash"
    traceback: str = ""
    host: str = ""
    seconds: float = 0.0
    stage: str = ""
    """"pretraining" when the cell's checkpoint failed to train, else empty (the cell itself)."""
    cell: str = ""
    cell_hash: str = ""

    def in_stage(self, stage: str) -> CellFailure:
        return _replace(self, stage=stage)

    def of(self, label: str, cell_hash: str) -> CellFailure:
        return _replace(self, cell=label, cell_hash=cell_hash)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.stage:
            del data["stage"]
        return data

    @classmethod
    def from_json(cls, data: Any) -> CellFailure:
        data = _mapping(data, "failure")
        kind = data.get("kind", "crash")
        return cls(error=str(data.get("error", "")), kind=kind if kind in ("crash", "user error", "worker died") else "crash",
                   traceback=str(data.get("traceback", "")), host=str(data.get("host", "")),
                   seconds=float(data.get("seconds") or 0.0), stage=str(data.get("stage", "")),
                   cell=str(data.get("cell", "")), cell_hash=str(data.get("cell_hash", "")))


def _replace(obj: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(obj, **changes)


def _mapping(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise IncompleteRecord(f"its {what} is not a JSON object")
    return data


def _number(name: Any, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IncompleteRecord(f"metric {name!r} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise IncompleteRecord(f"metric {name!r} is not finite")
    return number
