"""What the CMG downstream tasks (ave, avvp, ave_avvp, avs_s4) share to fine-tune the method's encoder.

CMG's appendix D.1 / Table 2 compares the encoder frozen (its released scripts' only way, see
`classifiers.py`) with the encoder fine-tuned in each downstream task. `finetune_encoder=true` trains
the method's encoder of the *source* modality with the head (a copy the method hands over,
`Method.trainable_encoder`); the target modality is still encoded by the pretrained encoder, frozen,
from the cache: the paper's explanation of the drop is that fine-tuning moves one modality's encoder
away from the other's in the shared space. The cells' numbers under the source modality
(`source_accuracy`, say) come from the fine-tuned encoder.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from avtbench.api import Clips, Direction, Embeddings
from avtbench.config import setting
from avtbench.finetune import EncodedRows


@dataclass
class EncoderTuning:
    """finetune_encoder: train the method's source-modality encoder with the head (the method must offer
    one: unified_vq, unaligned). encoder_lr: its learning rate, used only then; a task sets its default."""

    finetune_encoder: bool = False
    encoder_lr: float = setting(4e-4, above=0, high=1)


def tuned_modalities(config: EncoderTuning, direction: Direction) -> tuple[str, ...]:
    """`Task.finetuned_modalities` of these tasks: the source modality when fine-tuning."""
    return (direction.source,) if config.finetune_encoder else ()


def without_tuned(pairs: list[tuple[str, str]], config: EncoderTuning, direction: Direction) -> list[tuple[str, str]]:
    """`needs` less what the fine-tuned encoder reads itself (it is never taken from the cache)."""
    tuned = tuned_modalities(config, direction)
    return [(split, modality) for split, modality in pairs if modality not in tuned]


def inputs_of(embeddings: Embeddings, encoders: Mapping[str, Any] | None, splits: dict[str, Clips],
              names: tuple[str, ...], modality: str, device: str) -> np.ndarray | EncodedRows:
    """The clips of splits `names` (in order) in `modality`: through the fine-tuned encoder when there is
    one (`EncodedRows`, read a batch at a time), else their frozen embeddings (one split's memory map as
    it is; several concatenated)."""
    if encoders and modality in encoders:
        return EncodedRows(encoders[modality], [splits[s].modality(modality) for s in names], device)
    if len(names) == 1:
        return embeddings[(names[0], modality)]
    return np.concatenate([embeddings[(s, modality)] for s in names])
