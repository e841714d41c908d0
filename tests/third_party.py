"""Writes a fake installed distribution (dist-info with entry_points.txt) the way pip would."""
from __future__ import annotations

from pathlib import Path

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


def install_fake_distribution(site: Path, broken: bool = True) -> Path:
    site.mkdir(parents=True, exist_ok=True)
    (site / "thirdparty_avt.py").write_text(GOOD_PLUGIN)
    entries = ["[avtbench]", "third_party_mean = thirdparty_avt"]
    if broken:
        (site / "broken_avt.py").write_text(BROKEN_PLUGIN)
        entries.append("broken_plugin = broken_avt")
    info = site / "thirdparty_avt-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-avt\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("\n".join(entries) + "\n")
    (info / "RECORD").write_text("")
    return site
