"""One cell: pretrained method (cached) -> encode (cached) -> task fit/eval -> record."""
from __future__ import annotations

import math
import platform
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

import avtbench
from avtbench.atomic import publish_folder
from avtbench.api import API_VERSION, Clips, DamagedArtifact, Method, Progress, SilentProgress, Task, UserError
from avtbench.cache import ArtifactCache
from avtbench.compat import not_streaming_line, stated_api, streams
from avtbench.data import loader
from avtbench.data.sources import DatasetResolver
from avtbench.environment import current_environment
from avtbench.finetune import encoder_batch
from avtbench.hashing import hash_array, hash_json
from avtbench.logs import LIBRARY_LOG
from avtbench.plan import PlannedCell, file_sha256
from avtbench.record import CellRecord, PretrainInfo, Timings


def resolve_loader_workers(requested: str, device: str) -> int:
    """--loader-workers: "auto" is 0 on CPU (workers would compete with training for the cores) and 4 on CUDA."""
    if requested == "auto":
        return 4 if device == "cuda" else 0
    if not requested.isdigit():
        raise UserError(f"--loader-workers {requested!r}: give a number of processes (0: read in the training process) or auto")
    return int(requested)


def resolve_device(requested: str) -> str:
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda asked for, but torch sees no CUDA device; use --device cpu or auto")
    if requested not in ("cpu", "cuda"):
        raise UserError(f"unknown device {requested!r}; use auto, cpu or cuda")
    return requested


class Runner:
    """Computes planned cells' records, reusing cached checkpoints and embeddings (`recording.record_cell`
    writes them into a store)."""

    def __init__(
        self,
        cache: ArtifactCache,
        data: DatasetResolver,
        device: str = "cpu",
        progress: Progress | None = None,
        log: Callable[[str], None] = lambda msg: None,
        grid_id: str = "",
        loader_workers: int = 0,
    ) -> None:
        """grid_id: the grid run this runner serves; a checkpoint pretrained under the same id (in stage 1,
        possibly by another worker) counts as pretrained by this run in the records' `timings.pretrain_s`.
        loader_workers: processes that read the corpus's batches while a method pretrains (`--loader-workers`)."""
        self.cache = cache
        self.data = data
        self.device = device
        self.progress = progress or SilentProgress()
        self.log = log
        self.grid_id = grid_id
        self.loader_workers = loader_workers
        self._healed: set[str] = set()
        self._splits: dict[tuple, dict[str, Clips]] = {}

    def compute(self, planned: PlannedCell, artifacts: Path | None = None) -> CellRecord:
        """The cell's record (pretraining or loading the method, encoding, fitting, evaluating); writes
        checkpoints and embeddings to the cache, nothing to the store but the task's artifacts
        folder when `artifacts` names one (replaced as a whole, listed in the record)."""
        started = time.perf_counter()
        task = planned.task_cls(planned.task_config)
        splits = self._task_splits(task, planned, planned.method_cls.input_level)
        needs = task.needs(planned.direction, splits)
        tuned = planned.task_cls.finetuned_modalities(planned.task_config, planned.direction)
        read = needs + [(split, modality) for split in splits for modality in tuned]
        method, pretrain_info = self.pretrained_method(planned.method_cls, planned.method_config, planned.cell.seed,
                                                       planned.checkpoint,
                                                       check=lambda inputs: _check_inputs(planned, splits, read, inputs),
                                                       released=planned.released)
        encode_started = time.perf_counter()
        embeddings = {
            (split, modality): self.embed(method, planned.encoder_key, splits[split], modality)
            for split, modality in needs
        }
        evaluate_started = time.perf_counter()
        extra = {"encoders": _trainable_encoders(method, tuned)} if tuned else {}
        metrics = task.evaluate(embeddings, splits, planned.direction, planned.cell.seed, self.device, self.progress,
                                **extra)
        finished = time.perf_counter()
        _check_metrics(task, metrics)
        record = self._record(planned, metrics, pretrain_info, Timings(
            pretrain_s=pretrain_info.seconds, encode_s=evaluate_started - encode_started,
            evaluate_s=finished - evaluate_started, total_s=finished - started))
        if artifacts is not None:
            record = record.with_artifacts(_publish_artifacts(task, artifacts))
        return record

    def pretrained_method(self, method_cls: type[Method], method_config: Any, seed: int, key: str,
                          check: Callable[[dict[str, list[int]]], None] = lambda inputs: None,
                          released: Path | None = None) -> tuple[Method, PretrainInfo]:
        """The method pretrained on its corpus with this config and seed: from the cache, or trained and
        cached, under the checkpoint's lock (a second process wanting it waits, then loads it). With
        `released` (a released checkpoint, `key` its sha256) nothing is pretrained: the method loads
        that file (`Method.load_released`) and nothing is written to the cache.

        `check(inputs)` sees the per-segment input shapes of the corpus the method was (or is about to
        be) pretrained on, before any training, so that data of another shape fails first."""
        import torch

        from avtbench import config as cfg

        identity = [method_cls.name, str(method_cls.version), cfg.to_dict(method_config)]

        def fresh() -> Method:  # seeded the same way whether or not a cached copy was tried first
            torch.manual_seed(seed)
            np.random.seed(seed)
            return method_cls(method_config, device=self.device, seed=seed, cache_dir=self.cache.root)

        if released is not None:
            return self._released(fresh(), released, key)
        with self.cache.lock(f"checkpoint-{key}"):
            method = fresh()
            if self.cache.has_checkpoint(key):
                loaded = self._load_checkpoint(method, key, seed, check)
                if loaded is not None:
                    return method, loaded
                method = fresh()
            corpus = self.data.source(method_cls.corpus, method_cls.input_level).read()
            inputs = input_shapes(corpus)
            check(inputs)
            if not streams(method_cls) and corpus.is_lazy():
                LIBRARY_LOG.warning(not_streaming_line(method_cls, "method"))
                corpus = corpus.materialized()
            self.log(f"pretraining {method_cls.name} (seed {seed}) on {len(corpus)} clips")
            started = time.perf_counter()
            loader.configure(workers=self.loader_workers)
            with self.cache.workdir(key) as workdir:
                stats = method.pretrain(corpus, workdir, self.progress) or {}
            seconds = time.perf_counter() - started
            environment = current_environment(self.device).to_dict()
            meta = {"method": identity, "seed": seed, "stats": stats, "seconds": seconds, "device": self.device,
                    "inputs": inputs, "input_level": method_cls.input_level, "grid": self.grid_id,
                    "environment": environment}
            self.cache.publish_checkpoint(key, method.save, meta)
            return method, PretrainInfo(key, cached=False, seconds=seconds, trained_s=seconds, stats=stats,
                                        environment=environment)

    def _released(self, method: Method, path: Path, sha256: str) -> tuple[Method, PretrainInfo]:
        """`method` with the released checkpoint at `path` loaded, and what the record says of it."""
        if file_sha256(path) != sha256:  # replaced since the grid was planned: its cells would be mislabelled
            raise UserError(f"the released checkpoint {path} changed since the grid was planned (sha256 "
                            f"{sha256[:12]}... then); run the grid again")
        started = time.perf_counter()
        stats = dict(method.load_released(path) or {})
        seconds = time.perf_counter() - started
        self.log(f"loaded {method.name} from the released checkpoint {path} (sha256 {sha256[:12]}...) in {seconds:.1f}s")
        return method, PretrainInfo(sha256, cached=False, seconds=0.0, trained_s=None, stats=stats,
                                    environment=current_environment(self.device).to_dict(),
                                    released={"path": str(path), "sha256": sha256})

    def _load_checkpoint(self, method: Method, key: str, seed: int,
                         check: Callable[[dict[str, list[int]]], None]) -> PretrainInfo | None:
        """Load the cached checkpoint `key` into `method` and return its pretrain info; None when it was
        damaged (unreadable meta.json or tensors): then it is moved aside, said in one line, and the
        caller pretrains again."""
        folder = self.cache.checkpoint_dir(key)
        try:
            meta = self.cache.checkpoint_meta(key)
            check(meta.get("inputs", {}))
            method.load(folder)
        except DamagedArtifact as exc:
            if key in self._healed:  # rebuilt once already and still unreadable: a bug, not a damaged file
                raise DamagedArtifact(f"{exc} (it was pretrained again by this run and still does not load: "
                                      f"a bug of the {method.name} plugin's save/load)") from None
            reason = str(exc).split("; delete it")[0]
        else:
            self.log(f"loaded {method.name} (seed {seed}) from {folder}")
            this_run = bool(self.grid_id) and meta.get("grid") == self.grid_id
            return PretrainInfo(key, cached=not this_run, seconds=meta.get("seconds", 0.0) if this_run else 0.0,
                                trained_s=meta.get("seconds"), stats=meta.get("stats", {}),
                                environment=meta.get("environment"))
        moved = self.cache.set_aside_checkpoint(key)
        self._healed.add(key)
        LIBRARY_LOG.warning(f"damaged cache: {reason}; moved it to {moved} and pretraining {method.name} (seed {seed}) again")
        return None

    def _task_splits(self, task: Task, planned: PlannedCell, level: str) -> dict[str, Clips]:
        """The task's clips at the level the method reads, loaded once per run and shared by its cells."""
        key = (planned.cell.task, planned.cell.task_version, hash_json(planned.cell.task_config), level)
        if key not in self._splits:
            splits = task.splits(DeclaredSources(task, {n: self.data.source(n, level) for n in task.datasets}))
            if not streams(type(task)) and any(clips.is_lazy() for clips in splits.values()):
                LIBRARY_LOG.warning(not_streaming_line(type(task), "task"))
                splits = {name: clips.materialized() for name, clips in splits.items()}
            self._splits[key] = splits
        return self._splits[key]

    def embed(self, method: Method, checkpoint_key: str, clips: Clips, modality: str) -> np.ndarray:
        """The embeddings of `clips` in `modality`, [N, T, D], memory-mapped from the cache: encoded in
        batches and written to the cache as they come when not there yet."""
        data = clips.modality(modality)
        key = hash_json([checkpoint_key, modality, hash_array(data)], length=24)
        with self.cache.lock(f"embedding-{key}"):
            cached = self.cache.load_embedding(key)
            if cached is not None:
                return cached
            if self.cache.embedding_path(key).is_file():
                LIBRARY_LOG.warning(f"damaged cache: embedding {self.cache.embedding_path(key)} is unreadable; "
                                    "encoding it again (the new one replaces it)")
            with self.cache.embedding_file(key) as open_map:
                self._encode(method, clips, data, modality, open_map)
            return self.cache.load_embedding(key)

    def _encode(self, method: Method, clips: Clips, data: Any, modality: str,
                open_map: Callable[[tuple[int, ...]], np.ndarray]) -> None:
        """Encode `data` batch by batch into the memory map `open_map` gives (opened at the first batch,
        when the embedding's shape is known)."""
        import torch

        batch_size = method.encode_batch_size()
        starts = range(0, len(clips), batch_size)
        out: np.ndarray | None = None
        with torch.no_grad():
            for start in self.progress.track(starts, description=f"encoding {modality}"):
                batch = encoder_batch(data[start:start + batch_size])
                encoded = method.encode(modality, batch).detach().float().cpu().numpy()
                if not np.isfinite(encoded).all():
                    raise UserError(f"method {method.name!r} produced non-finite {modality} embeddings; check its config "
                                    "(learning rate) or retrain with --overwrite")
                if out is None:
                    out = open_map((len(clips), *encoded.shape[1:]))
                out[start:start + len(encoded)] = encoded
        if out is None:  # no clips: an empty embedding of unknown width
            open_map((0, 0, 0))

    def _record(self, planned: PlannedCell, metrics: dict[str, float], pretrain: PretrainInfo,
                timings: Timings) -> CellRecord:
        cell = planned.cell
        return CellRecord(
            method=cell.method, task=cell.task, direction=cell.direction, seed=cell.seed,
            metrics={k: float(v) for k, v in metrics.items()}, main_metric=planned.task_cls.main_metric,
            cell_hash=cell.cell_hash, config_hash=cell.config_hash, method_hash=cell.method_hash,
            column_hash=cell.column_hash, lower_is_better=tuple(planned.task_cls.lower_is_better),
            config={"method": cell.method_config, "task": cell.task_config, "data": cell.data},
            sources={name: self.data.origin(name) for name in cell.data.get("fingerprints", {})},
            versions={"method": cell.method_version, "task": cell.task_version, "plugin_api": API_VERSION,
                      "method_api": stated_api(planned.method_cls), "task_api": stated_api(planned.task_cls),
                      **package_versions()},
            git_sha=git_sha(), pretrain=pretrain, timings=timings, device=self.device,
            environment=current_environment(self.device).to_dict(),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )


def _trainable_encoders(method: Method, modalities: tuple[str, ...]) -> dict[str, Any]:
    """The method's trainable copies of its encoders of `modalities` (`Method.trainable_encoder`), for a task
    that fine-tunes them: the plan checked `trainable_modalities`, so a missing one is the plugin's bug."""
    encoders = {}
    for modality in modalities:
        encoder = method.trainable_encoder(modality)
        if encoder is None:
            raise UserError(f"method {method.name!r} lists {modality} in trainable_modalities but its trainable_encoder"
                            f"({modality!r}) returned None; fix the method plugin")
        encoders[modality] = encoder
    return encoders


def _publish_artifacts(task: Task, folder: Path) -> list[str]:
    """Names of the files `task.write_artifacts` wrote, published as `folder` (nothing when none)."""
    if folder.exists():
        shutil.rmtree(folder)
    if type(task).write_artifacts is Task.write_artifacts:
        return []
    written: list[str] = []

    def write(tmp: Path) -> None:
        written.extend(sorted(str(Path(p).relative_to(tmp)) for p in task.write_artifacts(tmp)))

    publish_folder(folder, write)
    if not written:
        shutil.rmtree(folder, ignore_errors=True)
    return written


def input_shapes(clips: Clips) -> dict[str, list[int]]:
    """Per-clip shape after the segment axis of each array modality: audio [D], visual [H, W, C] (features)."""
    return {m: list(clips.modality(m).shape[2:]) for m in ("audio", "visual") if clips.has(m)}


def _check_inputs(planned: PlannedCell, splits: dict[str, Clips], needs: list[tuple[str, str]],
                  trained_on: dict[str, list[int]]) -> None:
    """Features of a task must have the shape the method was pretrained on (raw inputs are resized by the method)."""
    if planned.method_cls.input_level != "features":
        return
    for split, modality in needs:
        expected = trained_on.get(modality)
        clips = splits[split]
        if expected is None or modality == "text" or not clips.has(modality):
            continue
        got = list(clips.modality(modality).shape[2:])
        if got != expected:
            shape = lambda dims: "[N, T, " + ", ".join(map(str, dims)) + "]"  # noqa: E731
            raise UserError(f"{planned.cell.task} split {split!r} has {modality} features {shape(got)}, but "
                            f"{planned.cell.method} was pretrained on {shape(expected)}; use features from the "
                            f"corpus's extractor, or point data.corpus_root at a corpus of the same kind")


class DeclaredSources(dict):
    """The sources of the datasets a task declares; reading any other is a plugin bug, said so."""

    def __init__(self, task: Task, sources: dict[str, Any]) -> None:
        super().__init__(sources)
        self.task_name = task.name

    def __missing__(self, name: str) -> Any:
        raise UserError(f"task {self.task_name!r} reads dataset {name!r} without declaring it; add it to the task's "
                        "`datasets` so that the cell hash covers it")

    def get(self, name: str, default: Any = None) -> Any:
        return self[name]


def _check_metrics(task: Task, metrics: dict[str, float]) -> None:
    if task.main_metric not in metrics:
        raise UserError(f"task {task.name!r} returned no {task.main_metric!r} (its main metric); fix the task plugin")
    bad = [k for k, v in metrics.items() if not math.isfinite(float(v))]
    if bad:
        raise UserError(f"task {task.name!r} returned a non-finite {bad[0]!r}; check the embeddings and head settings")


def package_versions() -> dict[str, str]:
    import torch

    return {"avtbench": avtbench.__version__, "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version()}


def git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(avtbench.__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
