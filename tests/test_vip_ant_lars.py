"""VIP-ANT's LARS optimiser and its rate schedule (the `paper` preset), checked against hand computations of
the reference's rules (`cvap/module/lars.py`, `cvap/monitor/cvalp.py:326-337`)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from avtbench_plugins.methods.vip_ant.config import VipAntConfig
from avtbench_plugins.methods.vip_ant.lars import Lars, LarsSchedule, lars_groups
from avtbench_plugins.methods.vip_ant.method import VipAnt
from torch import nn

from avtbench.api import Clips, SilentProgress
from avtbench.config import build

pytestmark = pytest.mark.usefixtures("one_thread")


def test_the_schedule_warms_up_from_zero_then_falls_on_a_half_cosine_to_a_thousandth() -> None:
    schedule = LarsSchedule(batch_size=512, steps_per_epoch=10, epochs=25, warmup_epochs=10, lr_weights=0.2, lr_biases=4.8e-3)
    peak = 512 / 256
    assert schedule.base(0) == 0 and schedule.base(50) == pytest.approx(peak / 2) and schedule.base(100) == pytest.approx(peak)
    middle = 100 + 75  # half way through the 150 steps after the warm-up
    assert schedule.base(middle) == pytest.approx(peak * 0.5 + peak * 0.001 * 0.5)
    assert schedule.base(250) == pytest.approx(peak * 0.001)
    optimizer = Lars(lars_groups(nn.Linear(3, 2)))
    schedule.apply(optimizer, 100)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([peak * 0.2, peak * 4.8e-3])


def test_weights_get_decay_and_the_trust_ratio_biases_neither() -> None:
    layer = nn.Linear(3, 2)
    groups = lars_groups(layer)
    assert groups[0]["params"] == [layer.weight] and groups[1]["params"] == [layer.bias]
    optimizer = Lars(groups, weight_decay=0.1)
    weight, bias = layer.weight.detach().clone(), layer.bias.detach().clone()
    layer.weight.grad, layer.bias.grad = torch.full_like(weight, 0.5), torch.full_like(bias, 2.0)
    optimizer.param_groups[0]["lr"], optimizer.param_groups[1]["lr"] = 0.3, 0.05
    optimizer.step()
    update = 0.5 + 0.1 * weight
    update = update * (0.001 * weight.norm() / update.norm())
    torch.testing.assert_close(layer.weight.detach(), weight - 0.3 * update)
    torch.testing.assert_close(layer.bias.detach(), bias - 0.05 * 2.0)
    first_mu = update
    layer.weight.grad = torch.full_like(weight, 0.5)
    layer.bias.grad = torch.full_like(bias, 2.0)
    current = layer.weight.detach().clone()
    optimizer.step()  # momentum 0.9 carries the first update
    second = 0.5 + 0.1 * current
    second = second * (0.001 * current.norm() / second.norm())
    torch.testing.assert_close(layer.weight.detach(), current - 0.3 * (0.9 * first_mu + second))
    torch.testing.assert_close(layer.bias.detach(), bias - 0.05 * 2.0 - 0.05 * (0.9 * 2.0 + 2.0))


def test_a_zero_weight_or_gradient_norm_keeps_the_update_as_it_is() -> None:
    p = nn.Parameter(torch.zeros(2, 2))
    optimizer = Lars([{"params": [p]}, {"params": []}])
    p.grad = torch.ones(2, 2)
    optimizer.param_groups[0]["lr"] = 0.1
    optimizer.step()
    torch.testing.assert_close(p.detach(), torch.full((2, 2), -0.1))


def _clips(n: int = 8, steps: int = 2) -> Clips:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal((n, steps * 16000))).astype(np.float32)
    visual = rng.integers(0, 256, (n, steps, 32, 32, 3), dtype=np.uint8)
    captions = [["a dog barking", "a bell"] for _ in range(n)]
    return Clips(ids=[f"c{i}" for i in range(n)], audio=audio, visual=visual, text=[c[0] for c in captions],
                 captions=captions, labels={}, class_names=[])


def test_pretraining_with_lars_follows_the_schedule_from_a_zero_first_step(tmp_path) -> None:
    config = build(VipAntConfig, {"preset": "tiny", "optimizer": "lars", "epochs": 3, "batch_size": 4,
                                  "warmup_epochs": 1}, "vip_ant")
    method = VipAnt(config, seed=0, cache_dir=tmp_path / "cache")
    stats = method.pretrain(_clips(), tmp_path / "work", SilentProgress())
    assert math.isfinite(stats["loss_va"]) and len(method.history["loss_va"]) == 3
    schedule = method.schedule
    assert schedule is not None and schedule.steps_per_epoch == 4 and method.step_index == 12  # 8 clips x 2 s / 4
    assert schedule.base(0) == 0 and schedule.base(4) == pytest.approx(4 / 256)
