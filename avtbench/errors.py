"""Errors the core and plugins raise. Lives apart from the contracts so that every layer can import it."""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits with code 2."""


class DamagedArtifact(UserError):
    """A file the toolkit wrote itself (a cached checkpoint, its meta.json, a world file) is unreadable or
    truncated. The runner moves such a cached artifact aside and rebuilds it; where nothing can rebuild
    it, it is a one-line user error like any other."""
