"""Configs are dataclasses; values come from YAML files and `--set section.key=value`, parsed safely."""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, Iterable

import yaml

from avtbench.api import UserError

Document = dict[str, dict[str, Any]]


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


def build(cls: type, values: dict[str, Any], section: str) -> Any:
    """Instantiate config dataclass `cls` from `values`, applying a `preset` first when the class defines PRESETS."""
    values = dict(values)
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
        known = ", ".join(sorted(fields)) or "(none)"
        raise UserError(f"{section} has no setting {unknown[0]!r}; settings of {section}: {known}")
    hints = typing.get_type_hints(cls)
    kwargs = {k: _coerce(v, hints.get(k, Any), f"{section}.{k}") for k, v in values.items()}
    return cls(**kwargs)


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
    if origin is typing.Literal:
        if value not in args:
            raise UserError(f"{where} must be one of {', '.join(map(str, args))}, got {value!r}")
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
