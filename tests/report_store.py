"""A small result store written record by record (no training): what the report's fast tests read.

Two methods (`unaligned`, whose checkpoint has no epochs, and `unified_vq`, with a per-epoch curve and
codebook usage) on `ave` a2v with three seeds, each with per-class accuracies; one `avs_s4` cell with its
kept masks; one failed cell. The numbers are made up but shaped as the runner writes them.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from avtbench.record import CellFailure, CellRecord, PretrainInfo, Timings
from avtbench.store import ResultStore

CLASSES = ("Church bell", "Dog", "Rodents, rats, mice")


def _place(method: str, task: str, direction: str, seed: int, config_hash: str) -> SimpleNamespace:
    cell_hash = f"{method}-{task}-{direction}-{seed}"
    return SimpleNamespace(method=method, task=task, direction=direction, seed=seed, config_hash=config_hash,
                           cell_hash=cell_hash, label=lambda: f"{method} / {task} / {direction} / seed {seed}")


def _record(place: SimpleNamespace, metrics: dict, main: str, stats: dict, config: dict) -> CellRecord:
    return CellRecord(method=place.method, task=place.task, direction=place.direction, seed=place.seed, metrics=metrics,
                      main_metric=main, cell_hash=place.cell_hash, config_hash=place.config_hash,
                      method_hash=f"m-{place.method}", column_hash=f"c-{place.task}-{place.direction}", config=config,
                      sources={"ave": "synthetic world tiny/seed 0"}, versions={"avtbench": "test", "method": "1"},
                      git_sha="0" * 40, pretrain=PretrainInfo(f"ckpt-{place.method}-{place.seed}", False, trained_s=1.5,
                                                              stats=stats),
                      timings=Timings(1.0, 0.5, 0.25, 1.75), device="cpu", created="2026-01-01T00:00:00+00:00")


def write_store(root: Path, small: bool = False) -> ResultStore:
    """The store described above; `small`: only unaligned's three ave cells and the failed one (fewer pictures)."""
    store = ResultStore(root)
    rng = np.random.default_rng(0)
    for method, base in (("unaligned", 38.0), ("unified_vq", 40.0)):  # close: the paired test cannot separate them
        if small and method != "unaligned":
            continue
        for seed in (0, 1, 2):
            place = _place(method, "ave", "a2v", seed, f"h{method[:3]}")
            per_class = {f"accuracy[{c}]": float(base + 10 * k + seed) for k, c in enumerate(CLASSES)}
            stats: dict = {"loss": 1.0}
            if method == "unified_vq":
                for e in (1, 2, 3):
                    stats.update({f"epoch{e}.loss": 3.0 / e + seed, f"epoch{e}.codes_audio_only": 4 - e,
                                  f"epoch{e}.codes_visual_only": 5, f"epoch{e}.codes_shared": 2 + e,
                                  f"epoch{e}.codes_dead": 5})
            metrics = {"accuracy": float(base + seed + 10 * rng.random()), "accuracy_best_epoch": base + 9, **per_class}
            config = {"method": {"codebook_size": 16}, "task": {"epochs": 2}, "data": {"profile": "tiny"}}
            store.write(place, _record(place, metrics, "accuracy", stats, config))
    if not small:
        place = _place("unaligned", "avs_s4", "a2t", 0, "hmask")
        path = store.write(place, _record(place, {"miou": 12.5, "miou[Dog]": 12.5}, "miou", {}, {}).with_artifacts(
            ["avs_s4_masks.npz"]))
        _write_masks(path.with_name(path.stem + ".artifacts"))
    failed = _place("unified_vq", "ave", "v2a", 0, "hfail")
    store.write_failure(failed, CellFailure("RuntimeError: the head diverged <badly>", kind="crash",
                                            traceback="Traceback (most recent call last):\n  ...\nRuntimeError",
                                            host="test-host", seconds=2.0))
    return store


def _write_masks(folder: Path) -> None:
    from avtbench_plugins.tasks.avs_s4.samples import NPZ, MaskSamples

    k, t, s = 2, 5, 8
    frames = np.full((k, t, s, s, 3), 128, dtype=np.uint8)
    masks = np.zeros((k, t, s, s), dtype=np.uint8)
    masks[:, :, 2:5, 2:5] = 1
    MaskSamples.of("avs_s4 a2t: test masks", ["clip0", "clip1"], ["a dog", "a bell"], frames, masks,
                   masks.astype(np.float32) * 0.8, np.array([0.5, 0.25])).save(folder / NPZ)
