"""`MethodState`: what a pretrained method saves and loads (re-exported by `avtbench.api`, where the contract is).

Tensors go to safetensors, everything else to a JSON side file: nothing is ever unpickled.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from avtbench.errors import DamagedArtifact

if TYPE_CHECKING:
    import torch


@dataclass
class MethodState:
    """What a pretrained method is: tensors (saved with safetensors) and JSON-serialisable extras."""

    tensors: dict[str, "torch.Tensor"] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    TENSORS: ClassVar[str] = "tensors.safetensors"
    EXTRA: ClassVar[str] = "state.json"

    def save(self, directory: Path) -> None:
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.tensors.items()}
        save_file(tensors, str(directory / self.TENSORS))
        (directory / self.EXTRA).write_text(json.dumps(self.extra, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: Path) -> "MethodState":
        from safetensors.torch import load_file

        directory = Path(directory)
        try:
            tensors = load_file(str(directory / cls.TENSORS))
            extra = json.loads((directory / cls.EXTRA).read_text())
        except Exception as exc:  # any unreadable or missing file means the same to the user
            raise DamagedArtifact(f"saved method in {directory} is unreadable ({type(exc).__name__}); delete it to retrain") from None
        return cls(tensors, extra)
