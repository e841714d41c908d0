"""Errors the core and plugins raise. Lives apart from the contracts so that every layer can import it."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class UserError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits with code 2."""


class DamagedArtifact(UserError):
    """A file the toolkit wrote itself (a cached checkpoint, its meta.json, a world file) is unreadable or
    truncated. The runner moves such a cached artifact aside and rebuilds it; where nothing can rebuild
    it, it is a one-line user error like any other."""


@contextmanager
def saved_part(what: str) -> Iterator[None]:
    """Loading a part of a saved method (e.g. the backbone folder inside its checkpoint): any failure
    means the saved copy is damaged, said as a `DamagedArtifact` naming `what`."""
    try:
        yield
    except DamagedArtifact:
        raise
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DamagedArtifact(f"{what} does not load ({reason}); delete it to retrain") from None
