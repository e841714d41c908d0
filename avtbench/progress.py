"""Progress behind the plugins' `Progress` protocol: rich bars in a terminal, plain lines in a log.

`make_progress` picks: bars on a console, plain lines to a callable (stderr without a terminal,
the `--log` file), both, or neither. Besides `track`, each offers `note(text)`, which the protocol
does not require: a plugin may call `getattr(progress, "note", None)` to show, say, its latest loss
beside the innermost loop."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")

DEFAULT_INTERVAL = 10.0
"""Seconds between two progress lines of one loop (its start and end lines are always written)."""


def _total(iterable: Iterable[Any], total: int | None) -> int | None:
    if total is None and hasattr(iterable, "__len__"):
        return len(iterable)  # type: ignore[arg-type]
    return total


class RichProgress:
    """Each `track` call shows one bar, removed when its loop ends; nested loops show nested bars."""

    def __init__(self, console=None) -> None:
        self.bars = Progress(
            TextColumn("[bold blue]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[note]}", markup=False),
            console=console,
            transient=True,
        )
        self._open: list[Any] = []

    def __enter__(self) -> "RichProgress":
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def track(self, iterable: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        bar = self.bars.add_task(description, total=_total(iterable, total), note="")
        self._open.append(bar)
        try:
            for item in iterable:
                yield item
                self.bars.advance(bar)
        finally:
            self._open.remove(bar)
            self.bars.remove_task(bar)

    def note(self, text: str) -> None:
        """Show `text` beside the innermost bar until its loop ends."""
        if self._open:
            self.bars.update(self._open[-1], note=str(text))


@dataclass
class _Loop:
    description: str
    total: int | None
    started: float
    last_line: float
    position: int = 0
    note: str = ""
    first_step_done: float | None = None
    """When step 1 ended: the ETA leaves the first step out, which carries the loop's warm-up (data
    loading, allocations) and would otherwise inflate every later estimate."""

    def eta(self, now: float) -> float | None:
        """Seconds left: the mean time of the steps after the first, times the steps to go."""
        if self.total is None or not self.position:
            return None
        left = max(self.total - self.position, 0)
        if self.position >= 2 and self.first_step_done is not None:
            return (now - self.first_step_done) / (self.position - 1) * left
        return (now - self.started) / self.position * left

    def where(self) -> str:
        return f"{self.position}/{self.total}" if self.total is not None else str(self.position)


class LineProgress:
    """Plain lines for logs: one when a loop starts, one when it ends, and in between a progress line
    (position/total, elapsed, ETA, the latest note) at most every `interval` seconds.

    Lines go to `emit` (one call per line, no newline, no markup); nested loops are indented.
    `clock` returns seconds (a fake one in tests)."""

    def __init__(self, emit: Callable[[str], None], interval: float = DEFAULT_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.emit = emit
        self.interval = interval
        self.clock = clock
        self._open: list[_Loop] = []

    def __enter__(self) -> "LineProgress":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def track(self, iterable: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        now = self.clock()
        loop = _Loop(description or "working", _total(iterable, total), now, now)
        indent = "  " * len(self._open)
        self._open.append(loop)
        self.emit(f"{indent}{loop.description}: started" + (f", {loop.total} step{'' if loop.total == 1 else 's'}" if loop.total is not None else ""))
        finished = False
        try:
            for item in iterable:
                yield item
                loop.position += 1
                now = self.clock()
                if loop.position == 1:
                    loop.first_step_done = now
                if now - loop.last_line >= self.interval:
                    loop.last_line = now
                    self.emit(indent + self._progress_line(loop, now))
            finished = True
        finally:
            self._open.remove(loop)
            elapsed = self.clock() - loop.started
            note = f", {loop.note}" if loop.note else ""
            if finished:
                self.emit(f"{indent}{loop.description}: finished {loop.where()} in {elapsed:.1f}s{note}")
            else:
                self.emit(f"{indent}{loop.description}: stopped at {loop.where()} after {elapsed:.1f}s{note}")

    def note(self, text: str) -> None:
        """Add `text` (e.g. `loss 0.42`) to the innermost loop's next progress and end lines."""
        if self._open:
            self._open[-1].note = str(text)

    @staticmethod
    def _progress_line(loop: _Loop, now: float) -> str:
        elapsed = now - loop.started
        parts = [f"{loop.description}: {loop.where()}"]
        if loop.total:
            parts[0] += f" ({100 * loop.position / loop.total:.0f}%)"
        parts.append(f"{elapsed:.1f}s elapsed")
        eta = loop.eta(now)
        if eta is not None:
            parts.append(f"ETA {eta:.0f}s")
        if loop.note:
            parts.append(loop.note)
        return ", ".join(parts)


class TeeProgress:
    """Several progress displays over one loop (bars on the terminal and lines in a log file); none is silent."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def __enter__(self) -> "TeeProgress":
        for part in self.parts:
            part.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for part in reversed(self.parts):
            part.__exit__(*exc)

    def track(self, iterable: Iterable[T], total: int | None = None, description: str = "") -> Iterator[T]:
        total = _total(iterable, total)
        chain: list[Iterator[T]] = []
        items: Iterator[T] = iter(iterable)
        for part in self.parts:
            items = part.track(items, total=total, description=description)
            chain.append(items)
        try:
            yield from items
        finally:
            for link in reversed(chain):
                close = getattr(link, "close", None)
                if close is not None:
                    close()

    def note(self, text: str) -> None:
        for part in self.parts:
            note = getattr(part, "note", None)
            if note is not None:
                note(text)


def make_progress(console=None, emit: Callable[[str], None] | None = None,
                  interval: float = DEFAULT_INTERVAL) -> Any:
    """Bars on `console` (a terminal), plain lines to `emit`, both, or (neither given) silence.

    The result is a context manager; use it as `with make_progress(...) as progress:`."""
    parts: list[Any] = []
    if console is not None:
        parts.append(RichProgress(console))
    if emit is not None:
        parts.append(LineProgress(emit, interval))
    return parts[0] if len(parts) == 1 else TeeProgress(*parts)
