"""Cards: what a plugin says about each method, task, dataset, plot, command and converter it provides, readable
without importing the code behind it (hook `avtbench_cards`).

A card holds what `avtbench list` and `avtbench --help` print, and `target`, the "module:attribute" of
the class or declaration it describes, which the registry imports on first real use (a run, a check, a
plot, the command itself). Every field must say what the object says: the registry compares the two
when it imports the object and fails with one line naming the first field that differs. A `Method` or
`Task` class can instead take its fields from its card (`card = CARD` in the class body), so they are
written once.

This module imports nothing of avtbench and no third-party package: a plugin's entry-point module that
holds only cards costs nothing to import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, ClassVar

__all__ = ["Card", "FromCard", "MethodCard", "TaskCard", "DatasetCard", "PlotCard", "CommandCard", "ConverterCard", "ExtractorCard", "CARD_TYPES",
           "first_sentence"]


@dataclass(frozen=True, kw_only=True)
class Card:
    """The fields every card has; the kinds below add theirs."""

    kind: ClassVar[str] = ""
    name: str
    target: str
    """"package.module:attribute" of what the card describes (a class, a declaration, a click command)."""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a {self.kind} card needs a name, got {self.name!r}")
        module, _, attribute = str(self.target).partition(":")
        if self.target and (not module or not attribute):
            raise ValueError(f"{self.kind} card {self.name!r}: target {self.target!r} is not 'package.module:attribute'")

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "Card":
        """The card `obj` implies (how a plugin that hands over objects, not cards, is listed)."""
        raise NotImplementedError

    def adopt(self, cls: type) -> None:
        """Give `cls` this card's fields as class attributes; a field the class body states too must agree."""
        for f in fields(self):
            if f.name == "target":
                continue
            value = getattr(self, f.name)
            own = vars(cls).get(f.name, value)
            if _normal(own) != value:
                raise TypeError(f"{cls.__qualname__} states {f.name} = {own!r} but its card {value!r}: "
                                f"state it in the card only")
            setattr(cls, f.name, value)

    def mismatch(self, obj: Any) -> str | None:
        """The first field in which this card and `obj` disagree, as half a sentence; None when they agree."""
        implied = self.of(obj, self.target)
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(implied, f.name)
            if f.name != "target" and mine != theirs:
                return f"its card says {f.name} {mine!r}, {self.target} says {theirs!r}"
        return None


@dataclass(frozen=True, kw_only=True)
class _ClassCard(Card):
    """A card of a class (a Method or Task subclass), which can adopt its fields (`adopt`)."""

    version: str = "0"
    summary: str = ""
    status: str = "working"



def _normal(value: Any) -> Any:
    """A class attribute as a card holds it (sequences as tuples, versions as strings)."""
    if isinstance(value, list):
        return tuple(value)
    return value


class FromCard:
    """A class whose body sets `card` takes that card's fields as its own (`Card.adopt`): a Method, a
    Task, an Extractor written once, in its card."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        card = vars(cls).get("card")
        if card is not None:
            card.adopt(cls)


@dataclass(frozen=True, kw_only=True)
class MethodCard(_ClassCard):
    kind: ClassVar[str] = "method"
    modalities: tuple[str, ...] = ("audio", "visual")

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "MethodCard":
        return cls(name=obj.name, target=target, version=str(obj.version), summary=obj.summary, status=obj.status,
                   modalities=tuple(obj.modalities))


@dataclass(frozen=True, kw_only=True)
class TaskCard(_ClassCard):
    kind: ClassVar[str] = "task"
    directions: tuple[str, ...] = ("a2v", "v2a")
    main_metric: str = ""
    datasets: tuple[str, ...] = ()

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "TaskCard":
        return cls(name=obj.name, target=target, version=str(obj.version), summary=obj.summary, status=obj.status,
                   directions=tuple(obj.directions), main_metric=obj.main_metric, datasets=tuple(obj.datasets))


@dataclass(frozen=True, kw_only=True)
class DatasetCard(Card):
    kind: ClassVar[str] = "dataset"
    format: str = ""
    """One line on the on-disk format (`Dataset.format`)."""
    splits: tuple[str, ...] = ("all",)
    classes: int = 0
    """How many classes its vocabulary has (`len(Dataset.class_names)`)."""

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "DatasetCard":
        return cls(name=obj.name, target=target, format=obj.format, splits=tuple(obj.splits), classes=len(obj.class_names))


@dataclass(frozen=True, kw_only=True)
class PlotCard(Card):
    kind: ClassVar[str] = "plot"
    method: str = ""
    """The method whose pretrained instance a method plot draws (`Plot.method`); "" for a cell plot."""
    summary: str = ""
    task: str = ""
    """The task whose cell a cell plot draws (`Plot.task`), with the method the user names; "" for a method plot."""
    direction: str = ""
    """A cell plot's default direction (`Plot.direction`)."""
    several: bool = False
    """A comparison plot: it draws several pretrained variants of `method` side by side (`Plot.several`)."""

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "PlotCard":
        return cls(name=obj.name, target=target, method=obj.method, summary=obj.summary, task=obj.task,
                   direction=obj.direction, several=getattr(obj, "several", False))

    def subject(self) -> str:
        """What the plot draws, for `avtbench list`."""
        if self.several:
            return f"variants of method {self.method} side by side"
        return f"task {self.task}, any method" if self.task else f"method {self.method}"


@dataclass(frozen=True, kw_only=True)
class CommandCard(Card):
    kind: ClassVar[str] = "command"
    summary: str = ""
    """What `avtbench --help` prints beside the command: its short help, else the first sentence of its help."""

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "CommandCard":
        return cls(name=obj.name, target=target, summary=obj.short_help or first_sentence(obj.help or ""))


@dataclass(frozen=True, kw_only=True)
class ConverterCard(Card):
    """A converter (`avtbench convert NAME`): writes a declared dataset's on-disk format from files released
    in another layout. Its target is an `avtbench.api.Converter`."""

    kind: ClassVar[str] = "converter"
    dataset: str = ""
    """The declared dataset whose format it writes (`Converter.dataset`)."""
    summary: str = ""
    """What `avtbench convert --help` prints beside it (the first sentence of its command's help)."""

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "ConverterCard":
        command = obj.command
        return cls(name=obj.name, target=target, dataset=obj.dataset,
                   summary=command.short_help or first_sentence(command.help or ""))


@dataclass(frozen=True, kw_only=True)
class ExtractorCard(Card):
    """A feature extractor (`avtbench extract --audio NAME / --visual NAME`): per-second features of one modality
    of a video. Its target is an `avtbench.extractors.Extractor` subclass."""

    kind: ClassVar[str] = "extractor"
    modality: str = "audio"
    """"audio" or "visual" (`Extractor.modality`)."""
    summary: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.modality not in ("audio", "visual"):
            raise ValueError(f"extractor card {self.name!r}: modality {self.modality!r} is not 'audio' or 'visual'")

    @classmethod
    def of(cls, obj: Any, target: str = "") -> "ExtractorCard":
        return cls(name=obj.name, target=target, modality=obj.modality, summary=obj.summary)


CARD_TYPES: dict[str, type[Card]] = {c.kind: c for c in (MethodCard, TaskCard, DatasetCard, PlotCard, CommandCard,
                                                         ConverterCard, ExtractorCard)}
"""Card type by kind, in the order `avtbench list` shows the kinds."""


def first_sentence(text: str) -> str:
    """The first sentence of a help text's first paragraph, whole (never cut after "e.g." or "i.e.")."""
    text = " ".join(text.split("\n\n")[0].split())
    end = re.search(r"(?<!e\.g)(?<!i\.e)(?<!etc)\.(\s|$)", text)
    return text[: end.start() + 1] if end else text
