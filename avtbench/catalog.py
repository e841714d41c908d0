"""The plugins of one kind by name: known by their cards from discovery on, imported on first use.

A `Catalog` is the mapping the registry keeps for methods, tasks, datasets, plots and commands. A name
comes either with a card (hook `avtbench_cards`: imported when first looked up, then checked against
the card) or with the object itself (the hooks that hand over classes and declarations). Listing names
and cards never imports anything; looking a name up may, and an object that fails to import, to pass
its kind's check or to match its card is recorded as a `PluginFailure` and leaves the catalog.
"""
from __future__ import annotations

import importlib
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, TypeVar

from avtbench.cards import Card
from avtbench.errors import UserError

T = TypeVar("T")


@dataclass
class PluginFailure:
    plugin: str
    target: str
    error: str
    unusable: bool = False
    """It loaded, but was written for another plugin API (or misses part of this one): it cannot run here."""
    provides: str = ""
    """The method, task, ... it was to provide, when the failure is of that one name (not of the whole plugin)."""
    on_use: bool = False
    """It failed when first used (imported from its card), not at discovery."""

    def names(self, name: str) -> bool:
        """Whether this failure is of plugin `name` or of the method / task `name` it provides."""
        return name == self.plugin or (bool(self.provides) and self.provides == name)

    def cannot_run(self) -> UserError:
        return UserError(f"{self.target} (plugin {self.plugin!r}) cannot run here: {self.error}")

    def error_for(self, kind: str, name: str) -> UserError:
        """The one line a user gets who asked for `kind` `name` and met this failure."""
        if self.unusable:
            return self.cannot_run()
        if self.on_use:
            return UserError(f"{self.target} (plugin {self.plugin!r}) failed to load: {self.error}; fix or reinstall the plugin")
        return UserError(f"{kind} plugin {name!r} failed to load ({self.error}); run `avtbench list` and fix or reinstall it")


class UnusablePlugin(TypeError):
    """A class a plugin hands over that this avtbench cannot run (`compat.unusable` says why)."""

    def __init__(self, kind: str, name: str, problem: str) -> None:
        super().__init__(f"{kind} {name!r} {problem}")
        self.target, self.problem, self.name = f"{kind} {name}", problem, name


def import_target(target: str) -> Any:
    """The object a card's target ("package.module:attribute.path") names, importing its module."""
    module, _, path = target.partition(":")
    obj = importlib.import_module(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def describe(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class Catalog(MutableMapping[str, T], Generic[T]):
    """Methods (or tasks, datasets, plots, commands) by name.

    `name in catalog`, iteration, `cards()` and `plugin(name)` import nothing; `catalog[name]` imports a
    carded object on first use and raises the one-line `UserError` of its failure if it cannot be used;
    `loaded()` imports every entry and leaves out (recorded in `failures`) those that fail."""

    def __init__(self, card_type: type[Card], check: Callable[[Any], None], failures: list[PluginFailure]) -> None:
        self.card_type = card_type
        self.kind = card_type.kind
        self.failures = failures
        self.check = check
        """Raises when an object is not of this kind (or cannot run here: `UnusablePlugin`)."""
        self._cards: dict[str, Card] = {}
        self._objects: dict[str, T] = {}
        self._plugins: dict[str, str] = {}

    def add_card(self, card: Card, plugin: str) -> None:
        if self._claim(card.name, plugin):
            self._cards[card.name] = card

    def add(self, obj: T, plugin: str) -> None:
        """An object handed over whole (already checked)."""
        if self._claim(obj.name, plugin):  # type: ignore[attr-defined]
            self._objects[obj.name] = obj  # type: ignore[attr-defined]

    def _claim(self, name: str, plugin: str) -> bool:
        """Whether `name` is free for `plugin`; a taken one is a failure of `plugin`, not an error."""
        if name in self:
            self.failures.append(PluginFailure(plugin, f"{self.kind} {name}",
                                               f"{self.kind} name {name!r} already provided by plugin {self._plugins[name]!r}"))
            return False
        self._plugins[name] = plugin
        return True

    def plugin(self, name: str) -> str:
        return self._plugins[name]

    def cards(self) -> list[Card]:
        """Every entry's card, by name: a carded entry's own, else the one its object implies."""
        return [self._cards[n] if n in self._cards else self.card_type.of(self._objects[n]) for n in sorted(self)]

    def loaded(self) -> dict[str, T]:
        """Every entry imported, by name; entries that fail are left out (and recorded in `failures`)."""
        found = {}
        for name in list(self):
            try:
                found[name] = self[name]
            except UserError:
                continue
        return found

    def copy(self, failures: list[PluginFailure]) -> "Catalog[T]":
        """The same entries, recording into `failures`; adding to the copy leaves this one as it is."""
        twin: Catalog[T] = Catalog(self.card_type, self.check, failures)
        twin._cards, twin._objects, twin._plugins = dict(self._cards), dict(self._objects), dict(self._plugins)
        return twin

    def __getitem__(self, name: str) -> T:
        if name in self._objects:
            return self._objects[name]
        if name not in self._cards:
            raise KeyError(name)
        card = self._cards.pop(name)
        failure = self._load_failure(card)
        if failure is not None:
            self.failures.append(failure)
            raise failure.error_for(self.kind, name)
        return self._objects[name]

    def _load_failure(self, card: Card) -> PluginFailure | None:
        """Import `card`'s object into the catalog; the failure when it cannot be used."""
        plugin, target = self._plugins[card.name], f"{self.kind} {card.name}"
        try:
            obj = import_target(card.target)
            self.check(obj)
            problem = card.mismatch(obj)
        except UnusablePlugin as exc:
            return PluginFailure(plugin, target, exc.problem, unusable=True, provides=card.name, on_use=True)
        except Exception as exc:  # a plugin may fail in any way; the user gets one line naming it
            return PluginFailure(plugin, target, describe(exc), provides=card.name, on_use=True)
        if problem is not None:
            return PluginFailure(plugin, target, f"{problem} (fix one of them)", provides=card.name, on_use=True)
        self._objects[card.name] = obj
        return None

    def __setitem__(self, name: str, obj: T) -> None:
        """Put `obj` under `name` (a class `run_cell` is handed, say), replacing any entry there."""
        self._cards.pop(name, None)
        self._objects[name] = obj
        self._plugins.setdefault(name, "(given)")

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._cards.pop(name, None)
        self._objects.pop(name, None)
        self._plugins.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._objects or name in self._cards

    def __iter__(self) -> Iterator[str]:
        return iter([*self._objects, *(n for n in self._cards if n not in self._objects)])

    def __len__(self) -> int:
        return len(self._objects) + sum(n not in self._objects for n in self._cards)

    def __repr__(self) -> str:
        return f"Catalog({self.kind}: {', '.join(sorted(self)) or 'none'})"
