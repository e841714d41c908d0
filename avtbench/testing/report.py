"""One line per check: `CheckResult`s collected into a `Report`, and the recorder that runs checks."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator


@dataclass
class CheckResult:
    subject: str
    """What was checked, e.g. "method unaligned"."""
    check: str
    passed: bool
    reason: str = ""

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.subject}: {self.check}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]

    def lines(self) -> list[str]:
        return [r.line() for r in self.results]

    def assert_passed(self) -> None:
        """For an author's pytest suite: fail with every failing line."""
        if not self.passed:
            raise AssertionError("conformance checks failed:\n" + "\n".join(r.line() for r in self.failures()))

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.results)


class _Recorder:
    """Runs named checks; a check is a callable returning a reason (str) or None, raising on failure."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.report = Report()

    def run(self, check: str, body: Callable[[], str | None]) -> bool:
        try:
            reason = body() or ""
        except AssertionError as exc:
            return self._add(check, False, str(exc) or "assertion failed")
        except Exception as exc:  # a broken plugin may fail in any way; report it on one line
            return self._add(check, False, _one_line(exc))
        return self._add(check, True, reason)

    def skip(self, check: str, because: str) -> None:
        self._add(check, False, f"not run: {because}")

    def _add(self, check: str, passed: bool, reason: str) -> bool:
        self.report.results.append(CheckResult(self.subject, check, passed, reason))
        return passed


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _fail(reason: str) -> None:
    raise AssertionError(reason)
