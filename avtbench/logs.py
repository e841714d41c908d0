"""Where a command's messages go: stderr (rich in a terminal, plain lines otherwise) and a `--log` file.

Kinds of message, and who sees them:
- `summary`: always (the final line of a command);
- `info` (per-cell `done` / `cached` lines, skipped cells) and `log` (the runner's own lines): stderr
  unless quiet;
- `stage` (progress lines of `avtbench.progress.LineProgress`): stderr when it is not a terminal
  (a terminal gets bars instead) or when verbose, never when quiet;
- `debug`: only when verbose.
The log file gets every line but debug ones (those too when verbose), plain and timestamped,
whatever the terminal and `--quiet`; an error that ends the command is written there too.
Nothing written off a terminal carries markup, colour codes or carriage returns."""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import IO, Callable

from avtbench.errors import UserError

LIBRARY_LOG = logging.getLogger("avtbench")
"""Where the library says what it repaired (a damaged cache): an open RunLog shows it as a log line; a
Ray or Slurm worker, with no RunLog, on its stderr."""


def open_log_file(path: str | Path) -> IO[str]:
    """`path` opened for appending, or a one-line UserError when it cannot be (checked before any work)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"--log {path} is a folder; give a file path, e.g. --log {path / 'run.log'}")
    if not path.parent.is_dir():
        raise UserError(f"--log {path}: folder {path.parent} does not exist; create it or pick another path")
    try:
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"--log {path} cannot be written ({exc.strerror or exc}); pick another path") from None


class RunLog:
    """A command's output channels; use as a context manager so the log file is closed (and records
    the error that ended the command, if one did).

    `stream` defaults to the current `sys.stderr`; `tty` defaults to whether it is a terminal."""

    def __init__(self, quiet: bool = False, verbose: bool = False, path: str | Path | None = None,
                 stream: IO[str] | None = None, tty: bool | None = None,
                 timestamp: Callable[[], str] = lambda: time.strftime("%Y-%m-%d %H:%M:%S")) -> None:
        if quiet and verbose:
            raise UserError("--quiet and --verbose contradict each other; pass one of them")
        self.quiet = quiet
        self.verbose = verbose
        self._stream = stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) if tty is None else tty
        self.file = open_log_file(path) if path is not None else None
        self.timestamp = timestamp
        self.console = None
        if self.tty:
            from rich.console import Console

            self.console = Console(file=stream, force_terminal=True) if stream is not None else Console(stderr=True)

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    # ----- what the progress display is built from

    @property
    def bars(self):
        """The console to draw progress bars on (a terminal, not quiet), or None."""
        return self.console if self.tty and not self.quiet else None

    @property
    def stage_lines(self) -> Callable[[str], None] | None:
        """Where plain progress lines go, or None when nobody would read them."""
        on_stderr = not self.quiet and (not self.tty or self.verbose)
        return self.stage if on_stderr or self.file is not None else None

    # ----- messages

    def stage(self, text: str) -> None:
        if not self.quiet and (not self.tty or self.verbose):
            self._show(text)
        self._record(text)

    def info(self, text: str, markup: str | None = None) -> None:
        """`text` plain; `markup` (rich markup, already escaped) instead on a terminal."""
        if not self.quiet:
            self._show(text, markup)
        self._record(text)

    def log(self, text: str) -> None:
        """The runner's `log` callback: timestamped `console.log` on a terminal, a plain line otherwise."""
        if not self.quiet:
            if self.console is not None:
                self.console.log(text, markup=False, highlight=False)
            else:
                self._write(text)
        self._record(text)

    def debug(self, text: str) -> None:
        if self.verbose:
            self._show(f"debug: {text}")
            self._record(f"debug: {text}")

    def summary(self, text: str, stdout: bool = False) -> None:
        """The command's last line: always shown (on stdout if asked), and recorded."""
        if stdout:
            print(text, file=sys.stdout, flush=True)
        else:
            self._write(text)
        self._record(text)

    # ----- plumbing

    def _show(self, text: str, markup: str | None = None) -> None:
        if self.console is not None:
            if markup is not None:
                self.console.print(markup, highlight=False)
            else:
                self.console.print(text, markup=False, highlight=False)
        else:
            self._write(text)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def _record(self, text: str) -> None:
        if self.file is not None:
            self.file.write(f"{self.timestamp()} {text}\n")
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def _bridge(self) -> logging.Handler:
        """Messages the library logs (logger "avtbench", warnings and up: e.g. a damaged cache it rebuilds)
        go out as `log` lines while this RunLog is open."""
        run_log = self

        class Bridge(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                run_log.log(record.getMessage())

        return Bridge(level=logging.WARNING)

    def __enter__(self) -> "RunLog":
        self._handler = self._bridge()
        LIBRARY_LOG.addHandler(self._handler)
        LIBRARY_LOG.propagate = False  # said once, through this log, not again by logging's last-resort handler
        return self

    def __exit__(self, kind, exc, tb) -> None:
        LIBRARY_LOG.removeHandler(self._handler)
        LIBRARY_LOG.propagate = True
        if isinstance(exc, UserError):
            self._record(f"error: {exc}")
        elif isinstance(exc, KeyboardInterrupt):
            self._record("interrupted: finished cells are saved; run the same command again to resume")
        elif exc is not None:
            self._record(f"failed: {kind.__name__}: {exc}")
        self.close()
