"""`seeded_rng`: run a block under torch's global RNG seeded with a given seed, leaving the caller's
RNG state as it was."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


@contextmanager
def seeded_rng(seed: int, device: str | None = None) -> Iterator[None]:
    """Fork torch's global RNG, seed it with `seed` for the block, and restore the caller's state after.

    What the block draws from the global RNG (initial weights, dropout masks, ...) then depends on
    `seed` alone, never on what ran before in the process (another cell's pretraining, say), and
    what runs after is not shifted by it. The CPU generator is always forked; with a CUDA `device`
    ("cuda", "cuda:1") that device's generator is forked too (`torch.manual_seed` seeds every CUDA
    device, but only the forked ones get their state back). `device=None` forks the CPU alone.
    """
    import torch

    with torch.random.fork_rng(devices=cuda_devices(device)):
        torch.manual_seed(seed)
        yield


def cuda_devices(device: str | None) -> list[int]:
    """The index of `device` as a one-item list when it is a CUDA device (the current one when it
    names none), else empty: the `devices` argument of `torch.random.fork_rng`."""
    if device is None:
        return []
    import torch

    parsed = torch.device(device)
    if parsed.type != "cuda":
        return []
    return [parsed.index if parsed.index is not None else torch.cuda.current_device()]
