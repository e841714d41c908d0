"""`avs_s4`: AVSBench S4 single-source audio-visual segmentation, cross-modal (CMG's A2T and T2A).

A segmentation model (`model.Segmenter`: a small CNN over the frames, the frozen method's embeddings
fused into every stage, a decoder to a full-resolution logit) is trained conditioned on the source
modality and tested conditioned on the target: `a2t` trains on the clips' audio embeddings and tests
with their captions, `t2a` the reverse. The method encodes each clip's five one-second audio
segments ([N, 5, D]); the text is one caption per clip (its category prompt). Conditioning of other
than 5 steps is resampled to 5 by the nearest step (a caption's one step is repeated over the 5
frames; ten text steps give steps 0, 2, 4, 6, 8), so every conditioning vector is one the method made.

Training (`train.fit_segmenter`): BCE on the first frame of each train clip (S4's weak supervision),
Adam, batch 4 (AVSBench / CMG), `epochs` epochs; the weights of the epoch with the best validation
mIoU are kept. The learning rate is 1e-3, not the reference's 1e-4 (`avs_s4.lr=1e-4`): 1e-4
fine-tunes AVSBench's ImageNet backbone, and our from-scratch CNN barely learns with it (default
world, oracle conditioning, width 16: 20 mIoU after 30 epochs and 26 after 80 at 1e-4, against
18 with no conditioning at all; 68 after 30 epochs at 1e-3). Protocols (`avs_s4.protocol`):
- `clean` (default): validation conditioned on the source modality, the one trained on;
- `cmg`: validation conditioned on the target modality, as CMG's `train_at.py` / `train_ta.py` do
  (model selection then sees the test modality). CMG's scripts also train 1 epoch by default
  (`--max_epoches 1`, which `train.sh` does not override); set `avs_s4.epochs=1` for that too.
Conditioning (`avs_s4.condition`): `method` (default) the method's embeddings; `oracle` the true
category as a one-hot, the same in both modalities (an upper bound: the model is told the class);
`none` one constant vector (a lower bound: what the frames alone give; the synthetic world's
distractors look like the sounding object, so it stays low). Neither of the latter encodes anything.
Default world, seed 0: oracle 76.4 mIoU (F 85.8); none 0.0 (F 35.4): with 1 to 3 look-alike
distractors, an object's pixel is the target's with a probability under 0.5, so the loss-optimal
prediction is empty. Width 32 and 20 epochs keep a cell near 1.5 minutes on 2 CPU cores.

`avs_s4.finetune_encoder=true` (with `condition=method`) trains the method's source encoder with the
segmenter at `avs_s4.encoder_lr` (default 1e-4, ours: the reference's lr, what adding the encoder to
CMG's Adam at `train_at.py:176` would give; `train.py`), as CMG's appendix Table 2's A2T / T2A columns;
the source conditioning (training, `clean` validation, `source_miou`) is then read through it.

Metrics (`scores.segmentation_scores`, AVSBench's `utility.py` via `avtbench.metrics.segmentation`),
in percent, on the test split: `miou` (main) and `f_score` over all frames, `miou_batched` and
`f_score_batched` per reference test batch of `eval_batch` videos; `source_miou` the same model
conditioned on the source modality of the test clips; `val_miou` and `best_epoch` of the selection;
`miou[<class>]` each category's test clips' mIoU (`avtbench.metrics.per_class`; ours, for the report).
The AVSBench paper prints the F-score as a fraction (ours / 100). A few test clips' frames, masks
and predictions are kept as `self.samples` (`samples.MaskSamples`); `write_artifacts(folder)` writes them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Mapping

import numpy as np

from avtbench.api import Clips, DatasetSource, Direction, Embeddings, Progress, Task, UserError
from avtbench.config import setting
from avtbench.metrics.per_class import per_class_metrics
from avtbench.finetune import EncodedRows
from avtbench_plugins.datasets.avs_s4.reader import FRAMES
from avtbench_plugins.tasks.heads.finetune import EncoderTuning, tuned_modalities, without_tuned

from . import CARD
from .model import FUSIONS
from .samples import MaskSamples
from .scores import REFERENCE_TEST_BATCH, clip_iou, segmentation_scores
from .train import Conditioning, EncodedSteps, SegSplit, fit_segmenter, predict, step_index

PROTOCOLS = ("clean", "cmg")
CONDITIONS = ("method", "oracle", "none")
SPLITS = ("train", "val", "test")


@dataclass
class AVSS4Config(EncoderTuning):
    """width: channels of the first encoder stage (doubled per stage). keep_masks: test clips whose
    predictions are kept for the plot (0: none kept, no mask artifacts written). eval_batch: videos per test batch of the `*_batched` metrics."""

    protocol: str = setting("clean", choices=PROTOCOLS)
    condition: str = setting("method", choices=CONDITIONS)
    fusion: str = setting("film", choices=FUSIONS)
    epochs: int = setting(20, low=1)
    lr: float = setting(1e-3, above=0)
    batch_size: int = setting(4, low=1)
    width: int = setting(32, low=1)
    eval_batch: int = setting(REFERENCE_TEST_BATCH, low=1)
    keep_masks: int = setting(4, low=0)
    preset: str = setting("default", choices=("default", "tiny"))
    encoder_lr: float = setting(1e-4, above=0, high=1)

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"tiny": {"epochs": 2, "width": 4}}


def steps_of(embedding: np.ndarray, steps: int = FRAMES) -> np.ndarray:
    """[N, S, D] -> [N, steps, D]: step floor(i * S / steps) for frame i (nearest-step resampling)."""
    pick = step_index(embedding.shape[1], steps)
    return np.ascontiguousarray(embedding[:, pick], dtype=np.float32)


class AVSS4(Task):
    card = CARD
    plugin_api = "3"
    config_class = AVSS4Config

    def __init__(self, config: AVSS4Config) -> None:
        super().__init__(config)
        self.samples: MaskSamples | None = None

    @classmethod
    def validate(cls, config: AVSS4Config) -> None:
        if config.finetune_encoder and config.condition != "method":
            raise UserError(f"avs_s4.finetune_encoder=true needs avs_s4.condition=method (condition {config.condition} "
                            "encodes nothing); drop one of the two settings")

    @classmethod
    def finetuned_modalities(cls, config: AVSS4Config, direction: Direction) -> tuple[str, ...]:
        return tuned_modalities(config, direction)

    def splits(self, data: Mapping[str, DatasetSource]) -> dict[str, Clips]:
        return {split: data["avs_s4"].read(split) for split in SPLITS}

    def _validation_modality(self, direction: Direction) -> str:
        return direction.source if self.config.protocol == "clean" else direction.target

    def needs(self, direction: Direction, splits: dict[str, Clips]) -> list[tuple[str, str]]:
        if self.config.condition != "method":
            return []
        src, tgt = direction.source, direction.target
        pairs = list(dict.fromkeys([("train", src), ("val", self._validation_modality(direction)), ("test", tgt), ("test", src)]))
        return without_tuned(pairs, self.config, direction)

    def conditioning(self, embeddings: Embeddings, clips: Clips, split: str, modality: str,
                     encoders: Mapping[str, Any] | None = None, device: str = "cpu") -> Conditioning:
        """float32 [N, 5, D] conditioning of a split in a modality, by `condition` (read through the
        fine-tuned encoder when `encoders` has one for `modality`)."""
        if self.config.condition == "oracle":
            return np.repeat(np.eye(len(clips.class_names), dtype=np.float32)[clips.labels["category"]][:, None], FRAMES, 1)
        if self.config.condition == "none":
            return np.zeros((len(clips), FRAMES, 1), dtype=np.float32)
        if encoders and modality in encoders:
            return EncodedSteps(EncodedRows(encoders[modality], [clips.modality(modality)], device), FRAMES)
        return steps_of(embeddings[(split, modality)])

    def _split(self, embeddings: Embeddings, splits: dict[str, Clips], split: str, modality: str,
               encoders: Mapping[str, Any] | None = None, device: str = "cpu") -> SegSplit:
        clips = splits[split]
        return SegSplit(clips.labels["frames"], self.conditioning(embeddings, clips, split, modality, encoders, device),
                        clips.labels["masks"], clips.labels["annotated"])

    def evaluate(self, embeddings: Embeddings, splits: dict[str, Clips], direction: Direction,
                 seed: int, device: str, progress: Progress, encoders: Mapping[str, Any] | None = None) -> dict[str, float]:
        c = self.config
        src, tgt = direction.source, direction.target
        fit = fit_segmenter(self._split(embeddings, splits, "train", src, encoders, device),
                            self._split(embeddings, splits, "val", self._validation_modality(direction), encoders, device),
                            width=c.width, fusion=c.fusion, epochs=c.epochs, lr=c.lr, batch_size=c.batch_size,
                            seed=seed, device=device, progress=progress, encoder_lr=c.encoder_lr)
        test = self._split(embeddings, splits, "test", tgt)
        probs = predict(fit.model, test.frames, test.cond, device)
        masks = test.masks[:]  # the test masks in memory (a lazy array read whole): a quarter of `probs`
        metrics = segmentation_scores(probs, masks, c.eval_batch)
        if c.condition == "method":
            source = self._split(embeddings, splits, "test", src, encoders, device)
            metrics["source_miou"] = segmentation_scores(predict(fit.model, source.frames, source.cond, device),
                                                         masks, c.eval_batch)["miou"]
        else:
            metrics["source_miou"] = metrics["miou"]
        metrics.update(val_miou=100.0 * fit.val_miou[fit.best_epoch - 1], best_epoch=float(fit.best_epoch),
                       final_loss=fit.final_loss)
        metrics.update(per_class_miou(clip_iou(probs, masks), splits["test"]))
        self.samples = self._keep(splits["test"], probs, direction)
        return metrics

    def _keep(self, test: Clips, probs: np.ndarray, direction: Direction) -> MaskSamples | None:
        k = min(self.config.keep_masks, len(test))
        if k == 0:
            return None
        masks = test.labels["masks"][:k]
        title = (f"avs_s4 {direction.name}: trained on {direction.source}, tested on {direction.target} "
                 f"(condition {self.config.condition}, protocol {self.config.protocol})")
        return MaskSamples.of(title, test.ids[:k], (test.text or [""] * k)[:k], test.labels["frames"][:k], masks,
                              probs[:k], clip_iou(probs[:k], masks))

    def write_artifacts(self, folder: Path) -> list[Path]:
        """The kept predictions of the last `evaluate` (`avs_s4_masks.npz`, `.png`) in `folder`; [] before any."""
        return [] if self.samples is None else self.samples.write(folder)


def per_class_miou(clip_ious: np.ndarray, test: Clips) -> dict[str, float]:
    """`miou[<class>]`: the mean IoU (%) of each category's test frames (every clip has as many frames, so
    the mean of its clips' IoUs); classes with no test clip left out (`avtbench.metrics.per_class`)."""
    category = np.asarray(test.labels["category"]).reshape(-1)
    values = [100.0 * float(clip_ious[category == k].mean()) if (category == k).any() else float("nan")
              for k in range(len(test.class_names))]
    return per_class_metrics("miou", test.class_names, values)
