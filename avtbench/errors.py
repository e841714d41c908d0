"""Errors the core and plugins raise. Lives apart from the contracts so that every layer can import it."""
from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits with code 2."""
