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
    """Write the PNG described in the module docstring with matplotlib; `panel` is a frame's size in inches."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    k, t = samples.masks.shape[:2]
    fig, axes = plt.subplots(3 * max(k, 1), t, figsize=(panel * t + 0.8, panel * 3 * max(k, 1) + 0.6), squeeze=False)
    fig.suptitle(samples.title, fontsize=8)
    for i in range(k):
        for row, name in enumerate(("frame", "truth", "pred")):
            ax = axes[3 * i + row, 0]
            ax.set_ylabel(name, fontsize=7)
        axes[3 * i, 0].set_title(f"{samples.ids[i]}  IoU {100 * samples.iou[i]:.1f}  \"{samples.captions[i]}\"",
                                 fontsize=7, loc="left")
        for j in range(t):
            axes[3 * i, j].imshow(samples.frames[i, j])
            axes[3 * i + 1, j].imshow(samples.masks[i, j], cmap="gray", vmin=0, vmax=1)
            axes[3 * i + 2, j].imshow(samples.probs[i, j], cmap="gray", vmin=0, vmax=255)
            if samples.probs[i, j].max() > 127 and samples.probs[i, j].min() <= 127:
                axes[3 * i + 2, j].contour(samples.probs[i, j] > 127, levels=[0.5], colors="red", linewidths=0.6)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)
    return path
