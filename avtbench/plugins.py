"""Entry-point discovery: every plugin is loaded in isolation, so one broken plugin never hides the others."""
from __future__ import annotations

import difflib
import importlib.metadata
from dataclasses import dataclass, field
from typing import Any, Iterable

import pluggy

from avtbench import hookspecs
from avtbench.api import Method, Task, UserError

GROUP = hookspecs.PROJECT


@dataclass
class PluginFailure:
    plugin: str
    target: str
    error: str


@dataclass
class Registry:
    methods: dict[str, type[Method]] = field(default_factory=dict)
    tasks: dict[str, type[Task]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)

    def method(self, name: str) -> type[Method]:
        return _lookup("method", name, self.methods, self.failures)

    def task(self, name: str) -> type[Task]:
        return _lookup("task", name, self.tasks, self.failures)


def _lookup(kind: str, name: str, known: dict[str, Any], failures: list[PluginFailure]) -> Any:
    if name in known:
        return known[name]
    broken = [f for f in failures if f.plugin == name]
    if broken:
        raise UserError(f"{kind} plugin {name!r} failed to load ({broken[0].error}); run `avtbench list` and fix or reinstall it")
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known {kind}s: {', '.join(sorted(known)) or 'none'}"
    raise UserError(f"unknown {kind} {name!r}; {hint} (see `avtbench list`)")


def discover(entry_points: Iterable[importlib.metadata.EntryPoint] | None = None) -> Registry:
    """Load every plugin of the group and collect what its hooks return."""
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=GROUP)
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    for ep in sorted(entry_points, key=lambda e: e.name):
        try:
            manager.register(ep.load(), name=ep.name)
        except Exception as exc:  # a plugin may fail in any way; it must not take the others down
            registry.failures.append(PluginFailure(ep.name, ep.value, _describe(exc)))
    _collect(manager.hook.avtbench_methods, Method, registry.methods, registry)
    _collect(manager.hook.avtbench_tasks, Task, registry.tasks, registry)
    return registry


def _collect(hook: Any, base: type, into: dict[str, type], registry: Registry) -> None:
    for impl in hook.get_hookimpls():
        try:
            provided = list(impl.function() or [])
            for cls in provided:
                _check_plugin_class(cls, base)
        except Exception as exc:
            registry.failures.append(PluginFailure(impl.plugin_name, hook.name, _describe(exc)))
            continue
        for cls in provided:
            if cls.name in into and into[cls.name] is not cls:
                registry.failures.append(PluginFailure(
                    impl.plugin_name, cls.__qualname__,
                    f"name {cls.name!r} already provided by plugin {registry.origins[cls.name]!r}"))
                continue
            into[cls.name] = cls
            registry.origins[cls.name] = impl.plugin_name


def _check_plugin_class(cls: Any, base: type) -> None:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"{cls!r} is not a subclass of avtbench.api.{base.__name__}")
    if not getattr(cls, "name", None):
        raise TypeError(f"{cls.__qualname__} has no `name`")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


_REGISTRY: Registry | None = None


def registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = discover()
    return _REGISTRY
