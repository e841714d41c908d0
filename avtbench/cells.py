"""A cell is one method x task x direction x seed under one resolved configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avtbench.hashing import hash_json


@dataclass(frozen=True)
class Cell:
    method: str
    task: str
    direction: str
    seed: int
    method_version: str = "0"
    task_version: str = "0"
    method_config: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    task_config: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    released: str = ""
    """The sha256 of the released checkpoint the method loads instead of pretraining (empty: none): a
    file of other content at the same path is another cell."""

    def identity(self, with_seed: bool = True) -> dict[str, Any]:
        ident = {
            "method": self._method_identity(),
            "task": [self.task, self.task_version, self.task_config],
            "direction": self.direction,
            "data": self.data,
        }
        if with_seed:
            ident["seed"] = self.seed
        return ident

    @property
    def cell_hash(self) -> str:
        return hash_json(self.identity())

    @property
    def config_hash(self) -> str:
        """Same for every seed of a configuration: the key under which seeds are aggregated."""
        return hash_json(self.identity(with_seed=False), length=12)

    def _method_identity(self) -> list[Any]:
        identity: list[Any] = [self.method, self.method_version, self.method_config]
        return identity + [{"released": self.released}] if self.released else identity

    @property
    def method_hash(self) -> str:
        return hash_json(self._method_identity(), length=8)

    @property
    def column_hash(self) -> str:
        return hash_json([self.task, self.task_version, self.task_config, self.data], length=8)

    def label(self) -> str:
        return f"{self.method} / {self.task} / {self.direction} / seed {self.seed}"
