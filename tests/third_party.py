"""Writes a fake installed distribution (dist-info with entry_points.txt) the way pip would."""
from __future__ import annotations

from pathlib import Path
from typing import Any

GOOD_PLUGIN = '''
from dataclasses import dataclass

import torch

from avtbench.api import Method, MethodState
from avtbench.hookspecs import hookimpl


@dataclass
class MeanConfig:
    scale: float = 1.0


class MeanPool(Method):
    name = "third_party_mean"
    version = "7"
    modalities = ("audio", "visual")
    config_class = MeanConfig
    summary = "a third-party method"

    def pretrain(self, corpus, workdir, progress):
        return {}

    def encode(self, modality, batch):
        x = batch.float()
        if x.dim() == 5:
            x = x.mean(dim=(2, 3))
        return x[..., :8] * self.config.scale

    def state(self):
        return MethodState({"scale": torch.tensor(self.config.scale)}, {"note": "a third-party method"})

    def load_state(self, state):
        assert state.extra["note"] == "a third-party method"


@hookimpl
def avtbench_methods():
    return [MeanPool]
'''

BROKEN_PLUGIN = "import a_module_that_does_not_exist\n"

API1_PLUGIN = '''
import torch

from avtbench.api import Method
from avtbench.hookspecs import hookimpl


class OldStyle(Method):
    """Written for plugin API 1: pretrain(corpus, progress) and state_dict / load_state_dict."""

    name = "old_style"
    modalities = ("audio", "visual")

    def pretrain(self, corpus, progress):
        return {}

    def encode(self, modality, batch):
        return batch.float()

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class FromTheFuture(Method):
    name = "from_the_future"
    plugin_api = "9"
    modalities = ("audio", "visual")


@hookimpl
def avtbench_methods():
    return [OldStyle]


class FutureHooks:
    @hookimpl
    def avtbench_methods(self):
        return [FromTheFuture]
'''


def write_dist_info(site: Path, dist: str, entries: dict[str, str]) -> Path:
    """`<dist>-0.1.dist-info` in `site` naming `entries` (entry point -> module[:attr]) in the `avtbench`
    group: what pip leaves for an installed plugin, so that discovery finds it once `site` is on sys.path."""
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[avtbench]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()))
    (info / "RECORD").write_text("")
    return site


def installed_registry(site: Path, monkeypatch: Any) -> Any:
    """The registry discovered with `site` on sys.path, made the process's registry for the test."""
    import importlib.metadata

    from avtbench import plugins
    from avtbench.plugins import discover

    monkeypatch.syspath_prepend(str(site))
    registry = discover(importlib.metadata.entry_points(group="avtbench"))
    monkeypatch.setattr(plugins, "_REGISTRY", registry)
    return registry


def install_api1_distribution(site: Path) -> Path:
    """A plugin written against plugin API 1 (entry point `old_plugin`) and one against a future API 9."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "old_avt.py").write_text(API1_PLUGIN)
    (site / "future_avt.py").write_text("from old_avt import FutureHooks\nhooks = FutureHooks()\n")
    return write_dist_info(site, "old_avt", {"old_plugin": "old_avt", "future_plugin": "future_avt:hooks"})


def install_fake_distribution(site: Path, broken: bool = True) -> Path:
    site.mkdir(parents=True, exist_ok=True)
    (site / "thirdparty_avt.py").write_text(GOOD_PLUGIN)
    entries = {"third_party_mean": "thirdparty_avt"}
    if broken:
        (site / "broken_avt.py").write_text(BROKEN_PLUGIN)
        entries["broken_plugin"] = "broken_avt"
    return write_dist_info(site, "thirdparty_avt", entries)


DATASET_PLUGIN = '''
"""A third-party dataset with a synthetic copy: clips of barking dogs and meowing cats in the corpus
format, rendered by the world's generic machinery, and a method that pretrains on it."""
from dataclasses import dataclass

import numpy as np
import torch

from avtbench.api import Dataset, Method, MethodState, SyntheticCopy
from avtbench.hookspecs import hookimpl
from avtbench.synth.events import EventSpec, sample_events
from avtbench.synth.vocab import PHRASES, class_index
from avtbench.synth.writing import write_features
from avtbench_plugins.datasets.corpus.reader import CORPUS_FORMAT, read_split

CLASSES = ("Bark", "Cat")


@dataclass(frozen=True)
class Sizes:
    clips: int = 12


def write(request):
    request.folder.mkdir(parents=True, exist_ok=True)
    spec = EventSpec([class_index(c) for c in CLASSES], np.ones(len(CLASSES)), (1.0,), (1.0, 0.0, 0.0), 1.0, 1)
    events = sample_events(request.rng, request.sizes.clips, spec, request.world.sizes)
    names = [request.ids() for _ in range(request.sizes.clips)]
    (request.folder / "video_ids.txt").write_text("".join(name + "\\n" for name in names))
    write_features(request.folder, request.world, events, request.rng)


DATASET = Dataset("barks", "barking dogs and meowing cats: " + CORPUS_FORMAT, read_split,
                  synthetic=SyntheticCopy(write, Sizes(), {"tiny": Sizes(6)}, {c: PHRASES[c] for c in CLASSES}))


class OnBarks(Method):
    name = "on_barks"
    corpus = "barks"
    summary = "pretrains on a third-party dataset"

    def pretrain(self, corpus, workdir, progress):
        return {"corpus_clips": len(corpus)}

    def encode(self, modality, batch):
        x = batch.float()
        return (x.mean(dim=(2, 3)) if x.dim() == 5 else x)[..., :8]

    def state(self):
        return MethodState({"one": torch.ones(1)})

    def load_state(self, state):
        pass


@hookimpl
def avtbench_datasets():
    return [DATASET]


@hookimpl
def avtbench_methods():
    return [OnBarks]
'''


def install_dataset_distribution(site: Path) -> Path:
    """A third-party dataset `barks` with a synthetic copy, and a method `on_barks` pretraining on it."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "barks_avt.py").write_text(DATASET_PLUGIN)
    return write_dist_info(site, "barks_avt", {"barks": "barks_avt"})


CARDED_INIT = '''
"""A third-party plugin in the light form: cards only; the method and the command live in modules of their own."""
from avtbench.cards import CommandCard, MethodCard
from avtbench.hookspecs import hookimpl

CARD = MethodCard(name="carded_mean", target="carded_avt.method:CardedMean", version="5",
                  summary="a third-party method known by its card")
WRONG = MethodCard(name="carded_wrong", target="carded_avt.method:Wrong", version="2")
MISSING = MethodCard(name="carded_missing", target="carded_avt.nowhere:Nothing")
OLD = MethodCard(name="carded_old", target="carded_avt.method:Old")
HELLO = CommandCard(name="carded-hello", target="carded_avt.command:hello", summary="Say hello from a card.")


@hookimpl
def avtbench_cards():
    return [CARD, WRONG, MISSING, OLD, HELLO]
'''

CARDED_METHOD = '''
import torch

from avtbench.api import Method, MethodState

from . import CARD


class CardedMean(Method):
    card = CARD

    def pretrain(self, corpus, workdir, progress):
        return {}

    def encode(self, modality, batch):
        x = batch.float()
        return (x.mean(dim=(2, 3)) if x.dim() == 5 else x)[..., :8]

    def state(self):
        return MethodState({"one": torch.ones(1)})

    def load_state(self, state):
        pass


class Wrong(CardedMean):
    card = None
    name = "carded_wrong"
    version = "3"  # its card says 2


class Old(Method):
    """Written for plugin API 1, though announced by a card."""
    name = "carded_old"

    def pretrain(self, corpus, progress):
        return {}

    def encode(self, modality, batch):
        return batch

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass
'''

CARDED_COMMAND = '''
import click


@click.command("carded-hello")
def hello():
    """Say hello from a card. Imported only when invoked."""
    click.echo("hello from the carded plugin")
'''


def install_carded_distribution(site: Path) -> Path:
    """A plugin of cards only (entry point `carded`): a good method, one whose class contradicts its card,
    one whose module is missing, one written for plugin API 1, and a command."""
    package = site / "carded_avt"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(CARDED_INIT)
    (package / "method.py").write_text(CARDED_METHOD)
    (package / "command.py").write_text(CARDED_COMMAND)
    return write_dist_info(site, "carded_avt", {"carded": "carded_avt"})


SECTION_INIT = '''
"""A third-party plugin that adds two sections to `avtbench report`: one drawn from a module imported on
use (given as "module:function"), one that always fails (the report goes on without it)."""
from avtbench.hookspecs import hookimpl
from avtbench.report.sections import ReportSection


def broken(cell):
    raise RuntimeError("the broken section always fails")


@hookimpl
def avtbench_report_sections():
    return [ReportSection(name="seed_badge", title="Seed badge", draw="sections_avt.draw:badge",
                          summary="the cell's seed as a picture"),
            ReportSection(name="broken_badge", title="Broken badge", draw=broken, task="ave")]
'''

SECTION_DRAW = '''
from avtbench.report.sections import Figure, SectionContent


def badge(cell):
    path = cell.image("badge.svg")
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30">'
                    f'<text x="5" y="20">seed {cell.record.seed}</text></svg>')
    return SectionContent(figures=(Figure(path, f"seed {cell.record.seed} of {cell.record.method}"),),
                          paragraphs=(f"drawn by a third-party plugin for {cell.record.label()}",),
                          facts=(("main value", f"{cell.record.main_value:.2f}"),))
'''


def install_section_distribution(site: Path) -> Path:
    """A plugin (entry point `sections`) adding the report sections `seed_badge` (every cell, an SVG) and
    `broken_badge` (ave cells, always raises)."""
    package = site / "sections_avt"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(SECTION_INIT)
    (package / "draw.py").write_text(SECTION_DRAW)
    return write_dist_info(site, "sections_avt", {"sections": "sections_avt"})
