"""`vggish`: 128-d VGGish embeddings, one per second, as AVE's and AVVP's audio features.

Recipe (Hershey et al., ICASSP 2017; the AudioSet release; AVE, Tian et al. ECCV 2018; AVVP, Tian et al. ECCV 2020):
16 kHz mono; log-mel examples of 0.96 s (96 frames of 64 bands: 25 ms window, 10 ms hop, 125-7500 Hz,
log offset 0.01, `logmel.py`); the VGGish network (four conv groups to 512x6x4, then 4096-4096-128 fully
connected, ReLU after each); optionally the released PCA (`pca_params`) with clipping to [-2, 2] and 8-bit
quantisation, as the AudioSet release's features are.

VGGish's examples are 0.96 s long; the datasets lay features out per 1-second segment. Setting `segments`:
- "continuous" (default, the reference's `waveform_to_examples` on the whole clip, as AVE's extraction ran):
  examples back to back every 0.96 s, the first `seconds` of them; row i covers [0.96 i, 0.96 (i + 1)) s, so
  it drifts 40 ms a second from the segment it stands for (a 10-second clip gives exactly 10 examples);
  a clip too short for `seconds` examples is padded with zeros at its end;
- "aligned": row i is the example of the first 0.96 s of second i, [i, i + 0.96) s (the last 40 ms of each
  second unheard).

Weights: torchvggish's port of the released checkpoint (`vggish-10086976.pth`; names `features.*`,
`embeddings.*`); PCA parameters: a .npz or torch file with `pca_eigen_vectors` [128, 128] and `pca_means` [128]
(torchvggish's `vggish_pca_params-970ea276.pth`, or the AudioSet release's `vggish_pca_params.npz`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from avtbench.errors import UserError
from avtbench.extractors import Extractor, ExtractorConfig, read_weights

from . import CARDS, logmel
from .common import build_network

QUANTIZE_LOW, QUANTIZE_HIGH = -2.0, 2.0


class VGGishNet(nn.Module):
    """VGGish with torchvggish's parameter names: input [B, 1, 96, 64] log-mel, output [B, 128]."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for item in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M"):
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU(inplace=True)]
                channels = int(item)
        self.features = nn.Sequential(*layers)
        self.embeddings = nn.Sequential(nn.Linear(512 * 4 * 6, 4096), nn.ReLU(inplace=True), nn.Linear(4096, 4096),
                                        nn.ReLU(inplace=True), nn.Linear(4096, 128), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        # flattened as TensorFlow's NHWC layout, which the fully connected weights were trained on
        return self.embeddings(x.permute(0, 2, 3, 1).reshape(x.shape[0], -1))


@dataclass
class VGGishConfig(ExtractorConfig):
    segments: Literal["continuous", "aligned"] = "continuous"
    """How 0.96 s examples map to 1-second segments (see the module docstring)."""
    postprocess: bool = False
    """Apply the released PCA, clip to [-2, 2] and (with `quantize`) quantise to 8 bits, as AudioSet's features."""
    pca_params: str = ""
    """The PCA parameters file (needed when postprocess is on)."""
    quantize: bool = True
    """With postprocess: quantise to 0..255 (returned as float32 of those integers)."""


class VGGish(Extractor):
    card = CARDS["vggish"]
    config_class = VGGishConfig
    sample_rate = logmel.SAMPLE_RATE

    def __init__(self, config: Any, device: str = "cpu") -> None:
        super().__init__(config, device)
        self.net = build_network(self, VGGishNet)
        self.pca: tuple[np.ndarray, np.ndarray] | None = self._read_pca() if config.postprocess else None

    def _read_pca(self) -> tuple[np.ndarray, np.ndarray]:
        path = Path(self.config.pca_params).expanduser()
        if not self.config.pca_params or not path.is_file():
            raise UserError(f"vggish.pca_params: no file {self.config.pca_params!r}; postprocess needs the PCA "
                            f"parameters (or --set vggish.postprocess=false)")
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as npz:
                params = {k: np.asarray(npz[k]) for k in npz.files}
        else:
            params = {k: v.numpy() for k, v in read_weights(path, "vggish.pca_params").items()}
        for key in ("pca_eigen_vectors", "pca_means"):
            if key not in params:
                raise UserError(f"vggish.pca_params: {str(path)!r} lacks {key!r}")
        vectors, means = params["pca_eigen_vectors"].astype(np.float64), params["pca_means"].astype(np.float64).reshape(-1)
        if vectors.shape != (128, 128) or means.shape != (128,):
            raise UserError(f"vggish.pca_params: expected pca_eigen_vectors [128, 128] and pca_means [128], got "
                            f"{list(vectors.shape)} and {list(means.shape)}")
        return vectors, means

    def examples(self, wave: np.ndarray, seconds: int) -> np.ndarray:
        """[seconds, 96, 64] log-mel examples, one per segment (see `segments`)."""
        wave = np.asarray(wave, dtype=np.float32).reshape(-1)
        if self.config.segments == "aligned":
            need = seconds * self.sample_rate
            wave = np.pad(wave[:need], (0, max(0, need - len(wave))))
            per_second = wave.reshape(seconds, self.sample_rate)
            return np.stack([logmel.examples(s)[0] for s in per_second]) if seconds else np.zeros((0, 96, 64))
        found = logmel.examples(wave)[:seconds]
        if len(found) < seconds:
            found = np.concatenate([found, np.zeros((seconds - len(found), 96, 64))])
        return found

    def features(self, wave: np.ndarray, seconds: int) -> np.ndarray:  # type: ignore[override]
        """[seconds, 128] float32 embeddings of a 16 kHz mono wave."""
        batch = torch.from_numpy(self.examples(wave, seconds).astype(np.float32)).unsqueeze(1)
        outs = []
        with torch.inference_mode():
            for start in range(0, len(batch), int(self.config.batch_size)):
                outs.append(self.net(batch[start:start + int(self.config.batch_size)].to(self.device)).float().cpu())
        embedding = torch.cat(outs).numpy() if outs else np.zeros((0, 128), np.float32)
        return self.postprocessed(embedding).astype(np.float32)

    def postprocessed(self, embedding: np.ndarray) -> np.ndarray:
        """The released PCA, clipping and 8-bit quantisation (AudioSet's `vggish_postprocess.py`), when on."""
        if self.pca is None:
            return embedding
        vectors, means = self.pca
        projected = (embedding.astype(np.float64) - means) @ vectors.T
        clipped = np.clip(projected, QUANTIZE_LOW, QUANTIZE_HIGH)
        if not self.config.quantize:
            return clipped
        return np.floor((clipped - QUANTIZE_LOW) * (255.0 / (QUANTIZE_HIGH - QUANTIZE_LOW))).astype(np.uint8)

    def provenance(self) -> dict[str, Any]:
        out = super().provenance()
        out.update(segments=self.config.segments, postprocess=bool(self.config.postprocess))
        if self.config.postprocess:
            from avtbench.extractors import sha256_of

            out.update(pca_params=str(Path(self.config.pca_params).resolve()),
                       pca_sha256=sha256_of(Path(self.config.pca_params)), quantize=bool(self.config.quantize))
        return out
