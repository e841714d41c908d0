"""`clip_frames`: a CLIP image tower's projected embeddings, one frame per second (averaged when more are asked).

Recipe (CLIP, Radford et al. 2021, as audio-visual works use it on frames): each sampled frame resized so its
shorter side is the tower's image size (bicubic), centre-cropped square, normalised with CLIP's mean and std,
through `CLIPVisionModelWithProjection` (transformers) to `image_embeds`; the second's frames averaged:
[seconds, projection_dim] (512 for ViT-B/32 and ViT-B/16).

Weights: a local folder that `from_pretrained` reads (config.json and model.safetensors / pytorch_model.bin;
a whole CLIP checkpoint's folder too: its text tower is read and unused); nothing downloads. weights=random
builds the ViT-B/32 image tower with seeded random weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from avtbench.config import setting
from avtbench.errors import UserError
from avtbench.extractors import RANDOM, Extractor, ExtractorConfig, sha256_of

from . import CARDS
from .common import check_frames

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
UNUSED = ("text_model.", "text_projection.", "logit_scale")
"""Parts of a whole CLIP checkpoint the image tower does not use."""


@dataclass
class CLIPConfig(ExtractorConfig):
    normalize: bool = False
    """Scale each frame's embedding to unit length before averaging (as CLIP's similarity does)."""
    frames: int = setting(1, low=1, high=64)
    """Frames sampled per second (averaged)."""


class CLIPFrames(Extractor):
    card = CARDS["clip_frames"]
    config_class = CLIPConfig
    frames_per_second = 1

    def __init__(self, config: Any, device: str = "cpu") -> None:
        super().__init__(config, device)
        self.frames_per_second = int(config.frames)
        self.model = self._build().eval().to(device)
        self.size = int(self.model.config.image_size)

    def _build(self) -> Any:
        from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

        if self.config.weights == RANDOM:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(self.config.seed))
                return CLIPVisionModelWithProjection(CLIPVisionConfig(projection_dim=512))
        folder = self.weights_folder()
        try:
            model, info = CLIPVisionModelWithProjection.from_pretrained(str(folder), output_loading_info=True,
                                                                        local_files_only=True)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise UserError(f"clip_frames.weights: cannot load {str(folder)!r} with from_pretrained "
                            f"({type(exc).__name__}: {first[:200]})") from None
        missing = sorted(info.get("missing_keys") or [])
        extra = sorted(k for k in info.get("unexpected_keys") or [] if not k.startswith(UNUSED))
        mismatched = sorted(info.get("mismatched_keys") or [])
        for problem, keys in (("lacks parameter", missing), ("has unexpected parameter", extra),
                              ("has a misshapen parameter", [k[0] if isinstance(k, tuple) else k for k in mismatched])):
            if keys:
                raise UserError(f"clip_frames.weights: {str(folder)!r} {problem} {keys[0]!r} ({len(keys)} in all); "
                                f"it is not a CLIP image tower")
        return model

    def weights_folder(self) -> Path:
        folder = Path(self.config.weights).expanduser()
        if not (folder / "config.json").is_file():
            raise UserError(f"clip_frames.weights: no model folder {str(folder)!r} (with config.json); name a local "
                            f"folder that from_pretrained reads, or --set clip_frames.weights=random")
        return folder

    def preprocess(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 [N, H, W, 3] -> [N, 3, size, size]: shorter side to size (bicubic), centre crop, CLIP normalisation."""
        x = torch.from_numpy(np.array(frames, dtype=np.float32)).permute(0, 3, 1, 2) / 255.0
        height, width = x.shape[-2:]
        scale = self.size / min(height, width)
        new = (max(self.size, round(height * scale)), max(self.size, round(width * scale)))
        x = F.interpolate(x, size=new, mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        top, left = (new[0] - self.size) // 2, (new[1] - self.size) // 2
        x = x[..., top:top + self.size, left:left + self.size]
        return (x - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(CLIP_STD).view(1, 3, 1, 1)

    def features(self, frames: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """[seconds, frames, H, W, 3] uint8 -> [seconds, projection_dim] float32."""
        check_frames(self.name, frames, self.frames_per_second)
        seconds, fps = frames.shape[:2]
        flat = frames.reshape(seconds * fps, *frames.shape[2:])
        outs = []
        with torch.inference_mode():
            for start in range(0, len(flat), int(self.config.batch_size)):
                x = self.preprocess(flat[start:start + int(self.config.batch_size)]).to(self.device)
                embeds = self.model(pixel_values=x).image_embeds.float()
                if self.config.normalize:
                    embeds = F.normalize(embeds, dim=-1)
                outs.append(embeds.cpu())
        out = torch.cat(outs).numpy()
        return out.reshape(seconds, fps, -1).mean(axis=1).astype(np.float32)

    def provenance(self) -> dict[str, Any]:
        if self.config.weights == RANDOM:
            return super().provenance()
        folder = self.weights_folder().resolve()
        files = sorted(p for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".pth", ".pt"))
        return {"extractor": self.name, "weights": str(folder), "sha256": {p.name: sha256_of(p) for p in files}}
