"""`cli_guard`: the error handling of avtbench's own commands, for the commands plugins add."""
from __future__ import annotations

import functools
import sys
from typing import Any, Callable, TypeVar, overload

import click

from avtbench.errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
"""128 + SIGINT: what a shell reports for a command stopped by Ctrl-C."""
INTERRUPTED = "interrupted: finished cells are saved; run the same command again to resume"

F = TypeVar("F", bound=Callable[..., Any])


@overload
def cli_guard(fn: F, *, interrupted: str = INTERRUPTED) -> F: ...
@overload
def cli_guard(fn: None = None, *, interrupted: str = INTERRUPTED) -> Callable[[F], F]: ...


def cli_guard(fn: F | None = None, *, interrupted: str = INTERRUPTED) -> F | Callable[[F], F]:
    """Decorate a click command's function: a `UserError` becomes one line `error: <message>` on stderr
    and exit code 2 (never a traceback for bad input); Ctrl-C prints `interrupted` (what is kept) and
    exits 130.

    Every built-in command (`avtbench run`, `table`, ...) is wrapped in it. Put it right above the
    function, under `@click.command(...)` and the options: `@cli_guard`, or
    `@cli_guard(interrupted="interrupted: ...")` for a command that keeps something else than cells."""
    if fn is None:
        return functools.partial(cli_guard, interrupted=interrupted)  # type: ignore[return-value]

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USER_ERROR)
        except KeyboardInterrupt:
            click.echo(interrupted, err=True)
            sys.exit(EXIT_INTERRUPTED)

    return guarded  # type: ignore[return-value]
