"""The caption under a suite's table: what it reproduces and from where, which data the run used, the
settings given on top of the suite, what differs from the paper (the suite's notes) and how many cells
are still missing. A run on the synthetic world is never presented as a reproduction: its caption says
that the numbers test the pipeline and do not reproduce the paper."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from avtbench.suites.plan import SuitePlan
    from avtbench.suites.table import SuiteTable

NOT_A_REPRODUCTION = "these numbers test the pipeline, they do not reproduce the paper"


@dataclass(frozen=True)
class DataUsed:
    """Which datasets came from a real root (name -> root) and which from the synthetic world."""

    real: dict[str, str]
    synthetic: list[str]
    world: str
    """The synthetic world's settings in words: profile, world seed and any knob set."""

    @property
    def all_synthetic(self) -> bool:
        return not self.real

    def short(self) -> str:
        """A few words for a CSV column."""
        if not self.real:
            return f"synthetic world ({self.world})"
        if not self.synthetic:
            return "real data"
        return f"real {', '.join(self.real)}; synthetic world ({self.world}) for {', '.join(self.synthetic)}"

    def sentence(self) -> str:
        real = ", ".join(f"{name} from {root}" for name, root in self.real.items())
        if not self.real:
            return f"Data: the synthetic world ({self.world}) for every dataset: {NOT_A_REPRODUCTION}."
        if not self.synthetic:
            return (f"Data: real data for every dataset ({real}); it reproduces the paper only where these are the "
                    "paper's datasets and settings (see the notes).")
        return (f"Data: real {real}; the synthetic world ({self.world}) for {', '.join(self.synthetic)}: "
                f"with synthetic data in it, {NOT_A_REPRODUCTION}.")


def data_used(splan: SuitePlan) -> DataUsed:
    """What the suite's cells read, from the plan's data settings (the records found were made under the
    same: their config hashes cover the data's fingerprints)."""
    resolver = splan.plan.data
    real: dict[str, str] = {}
    synthetic: list[str] = []
    for name in splan.datasets():
        root = resolver.real_root(name)
        if root is not None:
            real[name] = str(root)
        else:
            synthetic.append(name)
    config = resolver.config
    knobs = "".join(f", {k}={v}" for k, v in sorted(config.world.items()))
    return DataUsed(real, synthetic, f"profile {config.profile}, world seed {config.world_seed}{knobs}")


def caption(splan: SuitePlan, table: SuiteTable, data: DataUsed) -> str:
    suite = splan.suite
    seeds = ", ".join(str(s) for s in splan.seeds)
    parts = [f"{suite.title}. Paper: {suite.source.describe()}.",
             data.sentence(),
             f"Ours: mean ± sample std over the seeds found (n), of seeds {seeds}; Δ = ours − paper."]
    if splan.sets:
        parts.append(f"Run with {' '.join('--set ' + s for s in splan.sets)} on top of the suite's settings.")
    if not suite.published:
        parts.append("The paper prints no figure this suite can stand beside: ours only.")
    if suite.notes:
        parts.append(" ".join(suite.notes.split()))
    if table.recorded < table.cells:
        parts.append(f"{table.cells - table.recorded} of {table.cells} cells have no record in this result folder yet "
                     f"(`avtbench suite run {suite.name}`).")
    return " ".join(parts)
