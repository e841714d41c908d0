"""Configs are dataclasses; values come from YAML files and `--set section.key=value`, parsed safely.

A field declares its range with `setting(default, low=..., high=..., above=..., choices=...)`
(kept in the field's metadata); `Literal[...]` and `bool` fields have their choices by type.
`build` checks every value against its range, so a bad setting stops the plan before any work.
A config class may map old setting names to new ones in a class attribute `RENAMED = {"old": "new"}`:
`build` reads the old name as the new one and says so once per process, so that YAML files and
`--set` lines written before a rename keep working.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Iterable

import yaml

from avtbench.errors import UserError
from avtbench.logs import LIBRARY_LOG

Document = dict[str, dict[str, Any]]
RANGE_KEY = "avtbench_range"


@dataclasses.dataclass(frozen=True)
class Range:
    """Allowed values of a setting: low <= v <= high, v > above, or v in choices (None: no bound)."""

    low: float | None = None
    high: float | None = None
    above: float | None = None
    choices: tuple[Any, ...] | None = None

    def admits(self, value: Any) -> bool:
        if self.choices is not None:
            return value in self.choices
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != value:  # NaN is in no range
                return False
            return ((self.low is None or value >= self.low) and (self.high is None or value <= self.high)
                    and (self.above is None or value > self.above))
        return True

    def describe(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) if isinstance(c, str) else str(c) for c in self.choices)
        parts = []
        if self.above is not None:
            parts.append(f"> {self.above:g}")
        if self.low is not None:
            parts.append(f">= {self.low:g}")
        if self.high is not None:
            parts.append(f"<= {self.high:g}")
        return " and ".join(parts) or "any value"


def setting(default: Any, *, low: float | None = None, high: float | None = None, above: float | None = None,
            choices: Iterable[Any] | None = None) -> Any:
    """A dataclass field with a default and a declared range (see `Range`)."""
    declared = Range(low, high, above, tuple(choices) if choices is not None else None)
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={RANGE_KEY: declared})
    return dataclasses.field(default=default, metadata={RANGE_KEY: declared})


def declared_range(cls: type, name: str) -> Range | None:
    """The range of field `name` of config class `cls`: declared, or implied by a Literal / bool type."""
    field = {f.name: f for f in dataclasses.fields(cls)}[name]
    if RANGE_KEY in field.metadata:
        return field.metadata[RANGE_KEY]
    hint = typing.get_type_hints(cls).get(name, Any)
    if typing.get_origin(hint) is typing.Literal:
        return Range(choices=typing.get_args(hint))
    if hint is bool:
        return Range(choices=(False, True))
    return None


def unranged_fields(cls: type) -> list[str]:
    """Numeric fields (int, float, or tuples of them) of `cls` that declare no range."""
    hints = typing.get_type_hints(cls)
    numeric = []
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name, Any)
        args = [a for a in typing.get_args(hint) if a is not type(None) and a is not Ellipsis] or [hint]
        if any(a in (int, float) for a in args) and declared_range(cls, f.name) is None:
            numeric.append(f.name)
    return numeric


def check_ranges(config: Any, section: str) -> None:
    """Raise UserError naming the first value outside its declared range."""
    for f in dataclasses.fields(config):
        declared = declared_range(type(config), f.name)
        value = getattr(config, f.name)
        if declared is None or value is None:
            continue
        values = value if isinstance(value, (list, tuple)) and declared.choices is None else [value]
        for item in values:
            if not declared.admits(item):
                raise UserError(f"{section}.{f.name} must be {declared.describe()}, got {value!r}; "
                                f"fix --set {section}.{f.name}=... or the config file")


def load_yaml(path: str | Path) -> Document:
    """Read a config file: a mapping of section name (a plugin's name, or `data`) to a mapping of fields."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise UserError(f"config file not found: {path}; check the --config path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise UserError(f"malformed YAML in {path}{where}: {getattr(exc, 'problem', exc)}; fix the file's syntax") from None
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise UserError(f"{path} must map section names (a method, a task or `data`) to mappings of settings")
    return {str(k): dict(v) for k, v in doc.items()}


def parse_sets(items: Iterable[str]) -> Document:
    """`section.key=value` pairs; values are YAML scalars/lists (never evaluated as code)."""
    doc: Document = {}
    for item in items:
        key, sep, raw = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not section or not name:
            raise UserError(f"bad --set {item!r}; write --set <method|task|data>.<field>=<value>, e.g. --set data.profile=paper")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        doc.setdefault(section, {})[name] = value
    return doc


def merge(*docs: Document) -> Document:
    out: Document = {}
    for doc in docs:
        for section, values in doc.items():
            out.setdefault(section, {}).update(values)
    return out


def _setting_hint(name: str, known: list[str], section: str) -> str:
    """"did you mean 'x'?" for a near miss, else the section's settings (a short list in full, a long one cut)."""
    import difflib

    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean {section}.{close[0]}?"
    if not known:
        return f"{section} has no settings"
    shown = ", ".join(known[:12]) + (f", ... ({len(known)} in all)" if len(known) > 12 else "")
    return f"settings of {section}: {shown}"


_SAID_RENAMED: set[tuple[str, str]] = set()
"""(section, old name) of the renamed settings already warned about in this process: each is said once."""


def _renamed(cls: type, values: dict[str, Any], section: str) -> dict[str, Any]:
    """`values` with the old names of `cls.RENAMED` read as their new ones (a warning line once per process);
    a UserError when both names are given different values."""
    renames: dict[str, str] = getattr(cls, "RENAMED", {})
    out = dict(values)
    for old, new in renames.items():
        if old not in out:
            continue
        value = out.pop(old)
        if new in out and out[new] != value:
            raise UserError(f"{section}.{old} is the old name of {section}.{new}, and both are set ({value!r} and "
                            f"{out[new]!r}); keep only {section}.{new}")
        out[new] = value
        if (section, old) not in _SAID_RENAMED:
            _SAID_RENAMED.add((section, old))
            LIBRARY_LOG.warning(f"warning: {section}.{old} is deprecated and read as {section}.{new}; "
                                f"use {section}.{new} in config files and --set")
    return out


def build(cls: type, values: dict[str, Any], section: str) -> Any:
    """Instantiate config dataclass `cls` from `values`, applying a `preset` first when the class defines PRESETS
    (old setting names in the class's RENAMED are read as their new ones before anything else)."""
    values = _renamed(cls, values, section)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    preset = values.get("preset")
    presets = getattr(cls, "PRESETS", {})
    if preset is not None and preset != "default":
        if preset not in presets:
            known = ", ".join(["default", *presets])
            raise UserError(f"unknown preset {preset!r} for {section}; known presets: {known}")
        values = {**presets[preset], **values}
    unknown = [k for k in values if k not in fields]
    if unknown:
        raise UserError(f"{section} has no setting {unknown[0]!r}; {_setting_hint(unknown[0], sorted(fields), section)}")
    hints = typing.get_type_hints(cls)
    kwargs = {k: _coerce(v, hints.get(k, Any), f"{section}.{k}") for k, v in values.items()}
    config = cls(**kwargs)
    check_ranges(config, section)
    return config


def to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config) if dataclasses.is_dataclass(config) else {}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except UserError as exc:
                errors.append(exc)
        raise errors[0]
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            value = [value]
        inner = args[0] if args else Any
        items = [_coerce(v, inner, where) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise UserError(f"{where} must be a mapping (YAML: {{key: value}}), got {value!r}")
        return {str(k): v for k, v in value.items()}
    if origin is typing.Literal:
        if value not in args:
            raise UserError(f"{where} must be {Range(choices=args).describe()}, got {value!r}")
        return value
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
            except ValueError:
                pass
    elif hint is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    elif not isinstance(hint, type):
        return value
    name = getattr(hint, "__name__", str(hint))
    raise UserError(f"{where} must be {name}, got {value!r}")
