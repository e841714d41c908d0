"""`check_method`: does a Method keep the contract?"""
from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from avtbench.api import Clips, Method, SilentProgress, UserError
from avtbench.compat import stated_api, streams
from avtbench.testing.streaming import CORPUS_ROWS, EnoughRead, ReadLog, counting_corpus
from avtbench.testing.report import Report, _fail, _one_line, _Recorder
from avtbench.testing.world import _check_config, _one_thread, scratch_dir, tiny_sources

MODALITIES = ("audio", "visual", "text")
BATCH = 4


def check_method(method_cls: type[Method], settings: dict[str, Any] | None = None, cache_dir: Path | None = None,
                 seed: int = 0) -> Report:
    """Does `method_cls` keep the Method contract? Config with ranges, validation, pretraining on the
    tiny world, [B, T, D] finite float output per modality, a save/load round trip giving identical
    embeddings, the same embeddings for the same seed, a clear error for a modality it lacks."""
    rec = _Recorder(f"method {getattr(method_cls, 'name', method_cls.__name__)}")
    if not (isinstance(method_cls, type) and issubclass(method_cls, Method)):
        rec.run("is a Method", lambda: _fail(f"{method_cls!r} is not a subclass of avtbench.api.Method"))
        return rec.report
    config = _check_config(rec, method_cls.config_class, method_cls.name, settings, method_cls.validate)
    later = ("pretrains on the tiny world", "encodes [B, T, D] finite floats", "save/load round trip",
             "same seed, same embeddings", "a lacking modality is a clear error", "streams its corpus")
    if config is None:
        for check in later:
            rec.skip(check, "the config does not build")
        return rec.report
    with _one_thread():
        _check_trained_method(rec, method_cls, config, cache_dir or scratch_dir(), seed, later)
    return rec.report


def _check_trained_method(rec: _Recorder, method_cls: type[Method], config: Any, cache: Path, seed: int,
                          checks: tuple[str, ...]) -> None:
    data = tiny_sources(cache)
    level = method_cls.input_level
    modalities = tuple(method_cls.modalities_for(config))
    trained: list[Method] = []

    def pretrains() -> str:
        corpus = _as_handed(method_cls, data.source(method_cls.corpus, level).read())
        method, stats = _pretrained(method_cls, config, corpus, cache, seed)
        bad = [k for k, v in stats.items() if not isinstance(v, (int, float)) or not math.isfinite(float(v))]
        if bad:
            raise AssertionError(f"pretrain returned non-finite or non-numeric {bad[0]!r}")
        trained.append(method)
        return f"{len(corpus)} corpus clips, {len(stats)} summary numbers"

    if not rec.run(checks[0], pretrains):
        for check in checks[1:]:
            rec.skip(check, "pretraining failed")
        return
    method = trained[0]
    probe = data.source(method_cls.corpus, level).read()  # its first clips are the probe batch
    batches = _batches(probe, modalities)
    first: dict[str, Any] = {}

    def encodes() -> str:
        for modality, batch in batches.items():
            first[modality] = _encoded(method, modality, batch)
        return ", ".join(f"{m} {tuple(v.shape)}" for m, v in first.items())

    encoded = rec.run(checks[1], encodes)

    def round_trip() -> str:
        folder = Path(tempfile.mkdtemp(dir=cache))
        try:
            method.save(folder)
            _check_saved_files(folder)
            restored = method_cls(config, device="cpu", seed=seed, cache_dir=cache)
            restored.load(folder)
            _same(first, {m: _encoded(restored, m, b) for m, b in batches.items()}, "after save/load")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return "identical embeddings after save and load into a fresh instance"

    def seeded() -> str:
        corpus = _as_handed(method_cls, data.source(method_cls.corpus, level).read())
        again, _ = _pretrained(method_cls, config, corpus, cache, seed)
        _same(first, {m: _encoded(again, m, b) for m, b in batches.items()}, "from a second pretraining with the same seed")
        return f"seed {seed} twice: identical embeddings"

    for check, body in ((checks[2], round_trip), (checks[3], seeded)):
        if encoded:
            rec.run(check, body)
        else:
            rec.skip(check, "encoding failed")
    rec.run(checks[4], lambda: _lacking_modality(method, modalities, probe))
    rec.run(checks[5], lambda: _streams(method_cls, config, data.source(method_cls.corpus, level).read(), cache, seed))


def _as_handed(method_cls: type[Method], corpus: Clips) -> Clips:
    """The corpus as the runner hands it: lazy to an API 3 method, in memory to an API 2 one."""
    return corpus if streams(method_cls) else corpus.materialized()


def _streams(method_cls: type[Method], config: Any, corpus: Clips, cache: Path, seed: int) -> str:
    """Pretrain on a corpus whose arrays count reads (see `avtbench.testing.streaming`)."""
    if not streams(method_cls):
        return (f"plugin API {stated_api(method_cls)}: does not stream (its corpus is read into memory, so it is "
                "bounded by RAM); not failed")
    log = ReadLog()
    try:
        _pretrained(method_cls, config, counting_corpus(corpus, log), cache, seed)
    except EnoughRead:
        return log.summary()
    if log.reads == 0:
        return f"pretrained on {CORPUS_ROWS} clips without reading a corpus array"
    return log.summary()


def _pretrained(method_cls: type[Method], config: Any, corpus: Clips, cache: Path, seed: int) -> tuple[Method, dict]:
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)
    method = method_cls(config, device="cpu", seed=seed, cache_dir=cache)
    with tempfile.TemporaryDirectory(dir=cache) as workdir:
        stats = method.pretrain(corpus, Path(workdir), SilentProgress()) or {}
    if not isinstance(stats, dict):
        raise AssertionError(f"pretrain returned {type(stats).__name__}, not a dict of summary numbers")
    return method, stats


def _batches(clips: Clips, modalities: tuple[str, ...]) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {}
    for modality in modalities:
        data = clips.modality(modality)
        chunk = data[:BATCH]
        out[modality] = torch.from_numpy(np.ascontiguousarray(chunk)) if isinstance(chunk, np.ndarray) else list(chunk)
    return out


def _encoded(method: Method, modality: str, batch: Any) -> Any:
    import torch

    with torch.no_grad():
        out = method.encode(modality, batch)
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"encode({modality!r}) returned {type(out).__name__}, not a torch.Tensor")
    if out.dim() != 3 or out.shape[0] != len(batch):
        raise AssertionError(f"encode({modality!r}) returned shape {tuple(out.shape)}, expected [{len(batch)}, T, D]")
    if not out.is_floating_point():
        raise AssertionError(f"encode({modality!r}) returned {out.dtype}, not a float tensor")
    if not torch.isfinite(out).all():
        raise AssertionError(f"encode({modality!r}) returned NaN or inf")
    return out.detach().cpu()


def _same(expected: dict[str, Any], got: dict[str, Any], when: str) -> None:
    import torch

    for modality, tensor in expected.items():
        other = got[modality]
        if tensor.shape != other.shape or not torch.equal(tensor, other):
            delta = float((tensor - other).abs().max()) if tensor.shape == other.shape else float("nan")
            raise AssertionError(f"{modality} embeddings differ {when} (max difference {delta:.3g})")


def _check_saved_files(folder: Path) -> None:
    """Saved state is safetensors, JSON or a `save_pretrained` folder: nothing that needs unpickling."""
    pickled = [p.name for p in folder.rglob("*") if p.suffix in (".pt", ".pth", ".pkl", ".pickle", ".bin", ".ckpt")]
    if pickled:
        raise AssertionError(f"save wrote {pickled[0]}, a pickle format; save tensors with safetensors (MethodState)")


def _lacking_modality(method: Method, modalities: tuple[str, ...], clips: Clips) -> str:
    lacking = [m for m in MODALITIES if m not in modalities]
    if not lacking:
        return "encodes every modality"
    modality = lacking[0]
    batch = _batches(clips, (modality,))[modality] if clips.has(modality) else ["a caption"] * BATCH
    try:
        method.encode(modality, batch)
    except UserError as exc:
        if "\n" in str(exc):
            raise AssertionError(f"the error for {modality} spans several lines") from None
        return f"{modality}: {exc}"
    except Exception as exc:
        raise AssertionError(f"encode({modality!r}) raised {_one_line(exc)}, not a UserError naming the modality") from None
    raise AssertionError(f"encode({modality!r}) returned something although {modality} is not among its modalities")
