"""A few predicted masks of an `avs_s4` cell, kept as arrays (.npz) and drawn as a PNG.

The PNG has one block per clip: its caption and clip IoU, then three rows over the clip's T
frames: the frame, the ground truth (white) and the prediction (the probability, grey, with the
thresholded mask's outline in red over it), drawn with matplotlib.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

NPZ = "avs_s4_masks.npz"
PNG = "avs_s4_masks.png"


@dataclass
class MaskSamples:
    title: str
    ids: list[str]
    captions: list[str]
    frames: np.ndarray  # uint8 [K, T, H, W, 3]
    masks: np.ndarray  # uint8 0/1 [K, T, H, W]
    probs: np.ndarray  # uint8 [K, T, H, W], probability * 255
    iou: np.ndarray  # float [K], each clip's mean IoU

    @classmethod
    def of(cls, title: str, ids: list[str], captions: list[str], frames: np.ndarray, masks: np.ndarray,
           probs: np.ndarray, iou: np.ndarray) -> "MaskSamples":
        return cls(title, list(ids), list(captions), frames.astype(np.uint8), masks.astype(np.uint8),
                   np.round(np.clip(probs, 0, 1) * 255).astype(np.uint8), np.asarray(iou, dtype=np.float64))

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, title=np.array(self.title), ids=np.array(self.ids), captions=np.array(self.captions),
                            frames=self.frames, masks=self.masks, probs=self.probs, iou=self.iou)
        return path

    @classmethod
    def load(cls, path: Path) -> "MaskSamples":
        with np.load(Path(path), allow_pickle=False) as f:
            return cls(str(f["title"]), f["ids"].tolist(), f["captions"].tolist(), f["frames"], f["masks"], f["probs"], f["iou"])

    def write(self, folder: Path) -> list[Path]:
        """`avs_s4_masks.npz` and `avs_s4_masks.png` in `folder`."""
        return [self.save(Path(folder) / NPZ), draw_masks(self, Path(folder) / PNG)]


def draw_masks(samples: MaskSamples, path: Path, panel: float = 1.1) -> Path:
    """Write the PNG described in the module docstring with matplotlib, as one mosaic image (one
    `imshow`, nearest pixels: fast at any size); `panel` is a frame's size in inches."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    k, t = samples.masks.shape[:2]
    size = samples.masks.shape[2] if k else 1
    rows = [np.concatenate(list(images), axis=1) for i in range(k)
            for images in (samples.frames[i], (_grey(m * 255) for m in samples.masks[i]), (_prediction(q) for q in samples.probs[i]))]
    mosaic = np.concatenate(rows, axis=0) if rows else np.full((1, 1, 3), 255, dtype=np.uint8)
    width, height = panel * t + 0.8, panel * 3 * max(k, 1) + 0.6
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.6 / width, 0.1 / height, panel * t / width, panel * 3 * max(k, 1) / height))
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([3 * size * i + size * (r + 0.5) for i in range(k) for r in range(3)], ["frame", "truth", "pred"] * k, fontsize=7)
    for i in range(k):
        ax.text(0, 3 * size * i, f"{samples.ids[i]}  IoU {100 * samples.iou[i]:.1f}  \"{samples.captions[i]}\"",
                fontsize=7, va="top", ha="left", color="yellow", backgroundcolor="black")
    fig.suptitle(samples.title, fontsize=8, y=0.995)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)
    return path


def _grey(image: np.ndarray) -> np.ndarray:
    return np.repeat(image.astype(np.uint8)[..., None], 3, axis=-1)


def _prediction(probs: np.ndarray) -> np.ndarray:
    """The probability in grey, the outline of probs > 0.5 in red."""
    rgb = _grey(probs)
    inside = probs > 127
    edge = inside & ~(np.roll(inside, 1, 0) & np.roll(inside, -1, 0) & np.roll(inside, 1, 1) & np.roll(inside, -1, 1))
    rgb[edge] = (230, 30, 30)
    return rgb
