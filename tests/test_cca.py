"""The cca baseline: canonical coordinates of two views sharing a latent agree; independent views do not."""
from __future__ import annotations

import numpy as np
import torch

from avtbench.api import Clips, SilentProgress
from avtbench_plugins.methods.cca.method import CCA, CCAConfig


def corpus(shared: bool, n: int = 300, steps: int = 4, seed: int = 0) -> Clips:
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, steps, 3))
    other = latent if shared else rng.standard_normal((n, steps, 3))
    audio = latent @ rng.standard_normal((3, 12)) + 0.1 * rng.standard_normal((n, steps, 12))
    visual = (other @ rng.standard_normal((3, 6)))[:, :, None, None, :] + 0.1 * rng.standard_normal((n, steps, 2, 2, 6))
    return Clips(ids=[str(i) for i in range(n)], audio=audio.astype(np.float32), visual=visual.astype(np.float32))


def first_coordinate_correlation(clips: Clips, tmp_path) -> float:
    method = CCA(CCAConfig(views="audio,visual", dim=3))
    stats = method.pretrain(clips, tmp_path, SilentProgress())
    assert stats["dim"] == 3
    a = method.encode("audio", torch.from_numpy(clips.audio)).reshape(-1, 3)[:, 0].numpy()
    v = method.encode("visual", torch.from_numpy(clips.visual)).reshape(-1, 3)[:, 0].numpy()
    return float(np.corrcoef(a, v)[0, 1])


def test_shared_latent_gives_correlated_canonical_coordinates(tmp_path) -> None:
    assert first_coordinate_correlation(corpus(shared=True), tmp_path) > 0.95


def test_independent_views_give_uncorrelated_coordinates(tmp_path) -> None:
    assert abs(first_coordinate_correlation(corpus(shared=False), tmp_path)) < 0.3
