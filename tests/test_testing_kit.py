"""The conformance kit catches each way a plugin can break the contract, one clear line per check."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from avtbench.api import Method, MethodState, Task, UserError
from avtbench.config import setting
from avtbench.testing import check_method, check_task, run_cell

from .conftest import avtbench_cmd, cli_env, tiny_world_root
from .third_party import install_fake_distribution


@dataclass
class GoodConfig:
    dim: int = setting(8, low=1)


class Good(Method):
    name = "good"
    version = "1"
    modalities = ("audio", "visual")
    config_class = GoodConfig

    def pretrain(self, corpus, workdir, progress):
        generator = self.generator()
        self.projections = {m: torch.randn(corpus.modality(m).shape[-1], self.config.dim, generator=generator)
                            for m in self.modalities}
        return {"width": float(corpus.audio.shape[-1])}

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed)

    def encode(self, modality, batch):
        if modality not in self.modalities:
            raise UserError(f"good encodes audio and visual, not {modality}")
        x = batch.float()
        return (x.mean(dim=(2, 3)) if x.dim() == 5 else x) @ self.projections[modality]

    def state(self):
        return MethodState({f"p.{m}": p for m, p in self.projections.items()})

    def load_state(self, state):
        self.projections = {k[2:]: v for k, v in state.tensors.items()}


class WrongShape(Good):
    def encode(self, modality, batch):
        return super().encode(modality, batch).mean(dim=1)


class ForgetsItsState(Good):
    def load_state(self, state):
        self.projections = {k[2:]: v * 0.5 for k, v in state.tensors.items()}  # drops a scale it never saved


class Nondeterministic(Good):
    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(int.from_bytes(os.urandom(4), "little"))


class NotFinite(Good):
    def encode(self, modality, batch):
        out = super().encode(modality, batch)
        out[0, 0, 0] = float("nan")
        return out


@dataclass
class UnrangedConfig:
    dim: int = 8


class Unranged(Good):
    config_class = UnrangedConfig


class VagueAboutText(Good):
    def encode(self, modality, batch):
        return super().encode(modality, batch) if modality != "text" else self.projections["text"]


def verdicts(report) -> dict[str, tuple[bool, str]]:
    return {r.check: (r.passed, r.reason) for r in report}


@pytest.fixture
def kit_cache(session_cache: Path) -> Path:
    tiny_world_root(session_cache)
    return session_cache


def test_a_method_that_keeps_the_contract_passes_every_check(kit_cache, one_thread) -> None:
    report = check_method(Good, cache_dir=kit_cache)
    assert report.passed, report.lines()
    assert len(report.results) == 9
    report.assert_passed()
    assert verdicts(report)["streams its corpus"][1].startswith("plugin API 2: does not stream")


class Streams(Good):
    plugin_api = "3"

    def pretrain(self, corpus, workdir, progress):
        stats = super().pretrain(corpus, workdir, progress)
        for start in range(0, len(corpus), 100):
            self.projections["audio"] = self.projections["audio"] + 0 * float(corpus.audio[start:start + 100].mean())
        return stats


class ReadsWhole(Streams):
    def pretrain(self, corpus, workdir, progress):
        np.asarray(corpus.audio)
        return super().pretrain(corpus, workdir, progress)


class OneBigRead(Streams):
    def pretrain(self, corpus, workdir, progress):
        corpus.visual[: len(corpus)]
        return super().pretrain(corpus, workdir, progress)


def test_the_kit_checks_that_an_api3_method_reads_its_corpus_in_bounded_batches(kit_cache, one_thread) -> None:
    passed, reason = verdicts(check_method(Streams, cache_dir=kit_cache))["streams its corpus"]
    assert passed and reason == "600 rows in 6 reads, at most 100 at once (limit 256)", reason
    passed, reason = verdicts(check_method(ReadsWhole, cache_dir=kit_cache))["streams its corpus"]
    assert not passed and reason.startswith("read all of audio into memory"), reason
    passed, reason = verdicts(check_method(OneBigRead, cache_dir=kit_cache))["streams its corpus"]
    assert not passed and reason.startswith("read 600 rows of visual at once (at most 256"), reason


@pytest.mark.parametrize("broken, check, words", [
    (WrongShape, "encodes [B, T, D] finite floats", "expected [4, T, D]"),
    (NotFinite, "encodes [B, T, D] finite floats", "NaN or inf"),
    (ForgetsItsState, "save/load round trip", "embeddings differ after save/load"),
    (Nondeterministic, "same seed, same embeddings", "differ from a second pretraining with the same seed"),
    (Unranged, "settings declare ranges", "no declared range for dim"),
    (VagueAboutText, "a lacking modality is a clear error", "not a UserError naming the modality"),
])
def test_each_broken_method_fails_the_matching_check(broken, check, words, kit_cache, one_thread) -> None:
    report = check_method(broken, cache_dir=kit_cache)
    passed, reason = verdicts(report)[check]
    assert not passed and words in reason, reason
    assert "\n" not in reason
    with pytest.raises(AssertionError, match=check.replace("[", r"\[").replace("]", r"\]")):
        report.assert_passed()


def test_checks_after_a_failed_pretraining_are_reported_not_run(kit_cache) -> None:
    class Crashes(Good):
        def pretrain(self, corpus, workdir, progress):
            raise RuntimeError("out of memory\nand a second line")

    results = verdicts(check_method(Crashes, cache_dir=kit_cache))
    assert results["pretrains on the tiny world"] == (False, "RuntimeError: out of memory")
    assert results["save/load round trip"] == (False, "not run: pretraining failed")


class Flaky(Task):
    name = "flaky"
    version = "1"
    directions = ("a2v", "v2a")
    main_metric = "score"
    lower_is_better = ("rank",)
    datasets = ("ave",)

    def splits(self, data):
        return {"test": data["ave"].read("test")}

    def evaluate(self, embeddings, splits, direction, seed, device, progress):
        return {"score": float(np.random.default_rng().random())}


def test_a_broken_task_fails_its_checks(kit_cache) -> None:
    results = verdicts(check_task(Flaky, cache_dir=kit_cache))
    assert results["directions parse"][0] and results["main metric finite on random embeddings"][0]
    assert results["lower-is-better metrics are returned"] == (
        False, "lower-is-better metric 'rank' is not among the returned metrics")
    assert not results["same seed, same metrics"][0] and "changed between two runs" in results["same seed, same metrics"][1]
    undeclared = type("Undeclared", (Flaky,), {"name": "undeclared", "datasets": ("nowhere",)})
    assert "'nowhere' is declared by no installed plugin" in verdicts(check_task(undeclared, cache_dir=kit_cache))[
        "datasets are declared"][1]


def test_run_cell_runs_one_uninstalled_cell_end_to_end(kit_cache) -> None:
    record = run_cell(Good, "ave", "v2a", settings={"ave": {"epochs": 2}}, cache_dir=kit_cache)
    assert record.method == "good" and record.direction == "v2a" and record.main_metric == "accuracy"
    assert record.sources["ave"].startswith("synthetic world tiny")


@pytest.mark.slow
def test_every_builtin_method_and_task_passes_avtbench_check_all(kit_cache) -> None:
    out = subprocess.run(avtbench_cmd("check", "--all", "--cache", str(kit_cache)), capture_output=True, text=True,
                         env=cli_env(kit_cache))
    assert out.returncode == 0, out.stdout + out.stderr
    checked = {line.split(":")[0].split("  ", 1)[1] for line in out.stdout.splitlines()}
    for name in ("unaligned", "oracle", "unified_vq", "vip_ant"):
        assert f"method {name}" in checked
    for name in ("ave", "avvp", "ave_avvp", "retrieval", "zeroshot"):
        assert f"task {name}" in checked
    assert "FAIL" not in out.stdout


def test_a_broken_plugin_fails_its_own_line_and_the_others_are_still_checked(tmp_path: Path, kit_cache) -> None:
    site = install_fake_distribution(tmp_path / "site")
    out = subprocess.run(avtbench_cmd("check", "broken_plugin", "third_party_mean", "--cache", str(kit_cache)),
                         capture_output=True, text=True, env=cli_env(kit_cache, site))
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert any(l.startswith("FAIL  plugin broken_plugin: loads (ModuleNotFoundError") for l in lines)
    assert any(l.startswith("PASS  method third_party_mean: pretrains on the tiny world") for l in lines)
