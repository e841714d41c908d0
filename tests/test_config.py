from dataclasses import dataclass
from typing import ClassVar

import pytest

from avtbench import config as cfg
from avtbench.api import UserError


@dataclass
class Example:
    PRESETS: ClassVar[dict] = {"paper": {"epochs": 100, "lr": 1e-4}}
    epochs: int = 3
    lr: float = 1e-3
    name: str = "x"
    steps: tuple[int, ...] = (1, 2)
    flag: bool = False
    root: str | None = None
    preset: str = "default"


def test_build_coerces_and_applies_presets():
    c = cfg.build(Example, {"lr": 1, "steps": [3, 4], "preset": "paper", "epochs": 7}, "ex")
    assert c.lr == 1.0 and isinstance(c.lr, float)
    assert c.steps == (3, 4)
    assert c.epochs == 7, "explicit values win over the preset"
    assert cfg.build(Example, {"preset": "paper"}, "ex").lr == 1e-4


@pytest.mark.parametrize("values, message", [
    ({"epoch": 3}, "ex has no setting 'epoch'"),
    ({"epochs": "many"}, "ex.epochs must be int"),
    ({"flag": 1}, "ex.flag must be bool"),
    ({"preset": "nope"}, "unknown preset 'nope'"),
])
def test_build_rejects_bad_values(values, message):
    with pytest.raises(UserError, match=message):
        cfg.build(Example, values, "ex")


def test_parse_sets_uses_yaml_scalars_never_eval():
    doc = cfg.parse_sets(["a.x=3", "a.y=0.5", "b.z=[1, 2]", "b.w=__import__('os')"])
    assert doc == {"a": {"x": 3, "y": 0.5}, "b": {"z": [1, 2], "w": "__import__('os')"}}
    assert cfg.build(Example, cfg.parse_sets(["ex.lr=1e-3"])["ex"], "ex").lr == 1e-3
    with pytest.raises(UserError, match="bad --set"):
        cfg.parse_sets(["novalue"])


def test_load_yaml_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {profile: [unclosed\n")
    with pytest.raises(UserError, match="malformed YAML") as info:
        cfg.load_yaml(bad)
    assert "\n" not in str(info.value)
    with pytest.raises(UserError, match="not found"):
        cfg.load_yaml(tmp_path / "missing.yaml")
    flat = tmp_path / "flat.yaml"
    flat.write_text("epochs: 3\n")
    with pytest.raises(UserError, match="must map section names"):
        cfg.load_yaml(flat)


@dataclass
class Ranged:
    epochs: int = cfg.setting(3, low=1)
    lr: float = cfg.setting(1e-3, above=0)
    mode: str = cfg.setting("a", choices=("a", "b"))
    steps: tuple[int, ...] = cfg.setting((1, 2), low=1, high=4)
    free: int = 5


@pytest.mark.parametrize("values, message", [
    ({"epochs": 0}, "ex.epochs must be >= 1, got 0"),
    ({"lr": 0}, "ex.lr must be > 0, got 0.0"),
    ({"lr": float("nan")}, "ex.lr must be > 0"),
    ({"mode": "c"}, "ex.mode must be one of 'a', 'b', got 'c'"),
    ({"steps": [1, 5]}, "ex.steps must be >= 1 and <= 4, got (1, 5)"),
])
def test_declared_ranges_are_checked_when_a_config_is_built(values, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cfg.build(Ranged, values, "ex")
    assert cfg.build(Ranged, {"epochs": 1, "lr": 1e-9, "steps": [4]}, "ex").steps == (4,)


def test_unranged_numeric_fields_are_listed():
    assert cfg.unranged_fields(Ranged) == ["free"]
    assert cfg.unranged_fields(Example) == ["epochs", "lr", "steps"]


@dataclass
class Renamed:
    RENAMED: ClassVar[dict] = {"old_lr": "lr", "n": "epochs"}
    PRESETS: ClassVar[dict] = {"long": {"epochs": 50}}
    epochs: int = 3
    lr: float = 1e-3
    preset: str = "default"


def test_old_setting_names_are_read_as_the_new_ones_and_said_once_each(caplog, monkeypatch):
    import logging

    monkeypatch.setattr(cfg, "_SAID_RENAMED", set())
    caplog.set_level(logging.WARNING, logger="avtbench")
    built = [cfg.build(Renamed, {"old_lr": 0.5, "n": 7, "preset": "long"}, "ex") for _ in range(2)]
    assert [(c.lr, c.epochs) for c in built] == [(0.5, 7)] * 2, "an old name wins over the preset, as the new one would"
    said = sorted(r.getMessage() for r in caplog.records)
    assert said == ["warning: ex.n is deprecated and read as ex.epochs; use ex.epochs in config files and --set",
                    "warning: ex.old_lr is deprecated and read as ex.lr; use ex.lr in config files and --set"]
    assert cfg.build(Renamed, {"old_lr": 0.5, "lr": 0.5}, "ex").lr == 0.5
    with pytest.raises(UserError, match=r"ex.old_lr is the old name of ex.lr, and both are set \(0.5 and 0.25\)"):
        cfg.build(Renamed, {"old_lr": 0.5, "lr": 0.25}, "ex")
    with pytest.raises(UserError, match="ex has no setting 'old'"):
        cfg.build(Renamed, {"old": 1}, "ex")
