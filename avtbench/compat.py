"""Which plugin API a method or task class was written for, and why one cannot run here.

A class states the API it implements in `plugin_api` (absent: "2", the API before it could be
stated). Discovery asks `unusable` of every class a plugin hands over: a class of another API
than this avtbench implements is listed as unusable with one line naming the API and what to do,
instead of failing in every cell with `TypeError: Can't instantiate abstract class`.
"""
from __future__ import annotations

import inspect

from avtbench.api import API_VERSION, Method, Task

SUPPORTED = ("2", API_VERSION)
"""Plugin APIs this avtbench runs: API 2 plugins get their data in memory (they do not stream)."""
STREAMING = (API_VERSION,)
"""Plugin APIs whose plugins read their data in batches (lazy `RowArray`s in `Clips`)."""
MIGRATION = "see 'Migrating a plugin' in avtbench's README"
_API1_METHOD = ("state_dict", "load_state_dict")
"""What API 1 methods implemented where API 2 has `state` / `load_state` (a `MethodState`)."""


def stated_api(cls: type) -> str:
    """The API `cls` says it implements ("2" when it says nothing)."""
    return str(getattr(cls, "plugin_api", None) or "2")


def streams(cls: type) -> bool:
    """Whether `cls` takes lazy arrays (API 3); an API 2 class is handed arrays read into memory."""
    return stated_api(cls) in STREAMING


def not_streaming_line(cls: type, kind: str) -> str:
    """The one line said when an API 2 class is handed its data in memory."""
    return (f"{kind} {getattr(cls, 'name', cls.__name__)!r} implements plugin API 2: its data is read into memory "
            f"(it does not stream, so the corpus must fit in RAM); {MIGRATION}")


def unusable(cls: type) -> str | None:
    """Why `cls` (a Method or Task subclass) cannot run under this avtbench, in one line; None if it can."""
    stated = stated_api(cls)
    if stated not in SUPPORTED:
        newer = stated.isdigit() and int(stated) > int(API_VERSION)
        advice = "upgrade avtbench" if newer else MIGRATION
        return f"written for plugin API {stated}; this avtbench implements API {API_VERSION}: {advice}"
    if issubclass(cls, Method) and _looks_like_api1_method(cls):
        return (f"written for plugin API 1 (it defines {' / '.join(_API1_METHOD)} or pretrain(corpus, progress)); "
                f"this avtbench implements API {API_VERSION}: {MIGRATION}")
    missing = sorted(getattr(cls, "__abstractmethods__", ()))
    if missing:
        base = "Method" if issubclass(cls, Method) else "Task" if issubclass(cls, Task) else "its base"
        return f"does not implement {', '.join(missing)} of avtbench.api.{base} (plugin API {API_VERSION})"
    return None


def _looks_like_api1_method(cls: type) -> bool:
    own = {name for klass in cls.__mro__ if klass not in (Method, object) for name in vars(klass)}
    if any(name in own for name in _API1_METHOD) and not {"state", "load_state"} <= own:
        return True
    pretrain = getattr(cls, "pretrain", None)
    if pretrain is None or getattr(pretrain, "__isabstractmethod__", False):
        return False
    try:
        parameters = list(inspect.signature(pretrain).parameters)
    except (TypeError, ValueError):
        return False
    return parameters == ["self", "corpus", "progress"]
