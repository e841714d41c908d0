"""`avtbench extract`: videos -> per-second features of two extractors, written in a declared dataset's
layout (`Dataset.extraction`, `avtbench/extraction.py`).

Everything the options name is checked before any video is read (one `error:` line, exit 2): the
layout (a dataset that declares an extraction layout), the extractors (`registry.extractors`, of the
right modality), their settings (`--set <extractor>.<field>=value`, built into each extractor's
`config_class`), the videos (a folder of video files or a text file listing them, ids from the file
names, each id once). Each extractor is then built once and run on one second of zeros, which gives
the shape of a clip's rows and fails here, not mid-run, on a bad setting or a missing weights file.

Videos are read by `videoread.read_clip` (PyAV), in this process (`--workers 1`) or in a pool of
worker processes, each with its own extractors, built once; this process is the sink's one writer.
The sink is resumable: a video an earlier run wrote or skipped is not read again, a killed run loses
at most the videos in flight. A video that cannot be used is one line `skipped <file>: <why>` and the
run goes on; the summary counts them by reason.
"""
from __future__ import annotations

import hashlib
import os
import sys
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import click

from avtbench.errors import UserError
from avtbench.toolkit.commands import cli_guard

LOG = "extract.log"
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".flv", ".mpg", ".mpeg")
SKIP_WORDS = {"unreadable": "unreadable", "no-audio": "without an audio track", "no-frames": "without frames",
              "short": "shorter than the clip", "failed": "failed in an extractor"}


@dataclass(frozen=True)
class ExtractorSpec:
    """An extractor as a worker rebuilds it: its class, its config, the device."""

    cls: type
    config: Any
    device: str

    def build(self) -> Any:
        return self.cls(self.config, self.device)


@dataclass(frozen=True)
class ClipSpec:
    seconds: int
    audio: ExtractorSpec
    visual: ExtractorSpec


def _layouts(reg) -> dict[str, Any]:
    """Declared datasets with an extraction layout, by name (importing each dataset's declaration)."""
    return {name: dataset.extraction for name, dataset in reg.datasets.loaded().items()
            if getattr(dataset, "extraction", None) is not None}


@click.command()
@click.option("--videos", required=True, type=click.Path(exists=False, path_type=Path),
              help="A folder of videos (mp4, mkv, webm, avi, mov, ...), or a text file listing video paths, one a line.")
@click.option("--layout", "layout_name", required=True, metavar="DATASET",
              help="The declared dataset whose layout to write (`avtbench list`: datasets with an extraction layout).")
@click.option("--audio", "audio_name", required=True, metavar="EXTRACTOR", help="The audio extractor.")
@click.option("--visual", "visual_name", required=True, metavar="EXTRACTOR", help="The visual extractor.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (new or empty; the same folder resumes a killed extraction).")
@click.option("--seconds", type=click.IntRange(1, 3600), default=None,
              help="Clip length in seconds, from each video's start (default: what the layout fixes, else 10).")
@click.option("--set", "sets", multiple=True, metavar="EXTRACTOR.FIELD=VALUE",
              help="An extractor's setting, e.g. --set vggish.weights=/models/vggish.pth.")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Videos read and extracted in parallel, each worker process with its own extractors.")
@click.option("--device", default="cpu", show_default=True, help="Torch device the extractors run on.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors, skipped videos and the summary.")
@click.option("--log", "log_path", metavar="FILE", help=f"Progress log (default: OUT/{LOG}).")
@cli_guard(interrupted="interrupted: the videos extracted so far are kept; run the same command again to resume")
def extract(videos: Path, layout_name: str, audio_name: str, visual_name: str, out: Path, seconds: int | None,
            sets: tuple[str, ...], workers: int, device: str, quiet: bool, log_path: str | None) -> None:
    """Extract per-second audio and visual features of videos into a dataset's layout.

    Reads each video with PyAV, resamples its audio to the audio extractor's rate (16 kHz mono), samples
    frames at the visual extractor's rate, cuts the first --seconds into 1-second segments and writes
    one clip per video, with a provenance file naming the extractors, their settings and weights. A
    video that cannot be used (unreadable, shorter than the clip, no audio track, no frames) is named on
    one line and skipped. Resumable: run the same command again after a kill."""
    from avtbench import config as cfg
    from avtbench.atomic import prepare_folder
    from avtbench.extraction import ExtractJob
    from avtbench.logs import RunLog
    from avtbench.plugins import registry

    reg = registry()
    layouts = _layouts(reg)
    if layout_name not in layouts:
        known = ", ".join(sorted(layouts)) or "none (no installed dataset plugin declares one)"
        raise UserError(f"--layout {layout_name!r}: no declared dataset has an extraction layout of that name; "
                        f"layouts: {known}")
    layout = layouts[layout_name]
    if seconds is None:
        seconds = layout.seconds or 10
    elif layout.seconds is not None and seconds != layout.seconds:
        raise UserError(f"--seconds {seconds}: the {layout_name} layout holds clips of {layout.seconds} s; "
                        f"drop --seconds or pass --seconds {layout.seconds}")
    try:
        __import__("av")
    except ImportError:
        raise UserError("reading videos needs PyAV: pip install 'avtbench[extract]' (or pip install av)") from None
    document = cfg.parse_sets(sets)
    extra = sorted(set(document) - {audio_name, visual_name})
    if extra:
        raise UserError(f"--set {extra[0]}.…: {extra[0]!r} is neither --audio {audio_name} nor --visual {visual_name}; "
                        "write --set <extractor>.<field>=<value>")
    specs = {}
    for option, name, modality in (("--audio", audio_name, "audio"), ("--visual", visual_name, "visual")):
        cls = reg.extractor(name)
        if cls.modality != modality:
            raise UserError(f"{option} {name}: a {cls.modality} extractor; pass a {modality} one "
                            f"({', '.join(c.name for c in reg.extractors.cards() if c.modality == modality) or 'none installed'})")
        specs[modality] = ExtractorSpec(cls, cfg.build(cls.config_class, document.get(name, {}), name), device)
    clip = ClipSpec(seconds, specs["audio"], specs["visual"])
    paths = _video_list(videos)
    built = {m: _build(s) for m, s in specs.items()}
    shapes = {m: [seconds, *_probe(m, built[m])] for m in built}
    provenance = {
        "seconds": seconds, "segment_seconds": 1, "layout": layout_name, "videos": len(paths),
        "clip": "the first --seconds of each video",
        "extractors": {m: {"name": specs[m].cls.name, "settings": cfg.to_dict(specs[m].config),
                           "rate": _rate(m, built[m]), "provenance": _provenance(built[m])} for m in built},
    }
    inputs = {"--videos": _digest_list(paths), "--seconds": str(seconds), "--layout": layout_name,
              **{f"--{m}": f"{specs[m].cls.name} {sorted(cfg.to_dict(specs[m].config).items())}" for m in specs}}
    job = ExtractJob(inputs, len(paths), shapes, provenance)
    prepare_folder(out, "--out")
    finished = layout.done_before(out, job)
    with RunLog(quiet=quiet, path=log_path or out / LOG) as log:
        if finished is not None:
            log.summary(f"already extracted: {finished.written:,} videos in {out} ({_skipped(finished)}); nothing to do",
                        stdout=True)
            return
        with _only_writer(out):
            sink = layout.open(out, job)
            try:
                _run(paths, clip, built, sink, workers, log)
                sink.finish()
            finally:
                sink.close()
        tally = sink.tally
        earlier = f" ({tally.earlier:,} handled by an earlier run)" if tally.earlier else ""
        missing = f"; the layout also needs {layout.missing}, which videos do not give" if layout.missing else ""
        log.summary(f"extracted {tally.written:,} of {len(paths):,} videos into {out}{earlier}; {_skipped(tally)}"
                    f"{missing}; next: --set data.{layout_name}_root={out}", stdout=True)


def _run(paths: list[Path], clip: ClipSpec, built: dict[str, Any], sink, workers: int, log) -> None:
    from avtbench.progress import make_progress

    todo = [p for p in paths if not sink.handled(p.stem)]
    if len(todo) < len(paths):
        log.info(f"resuming: {len(paths) - len(todo):,} of {len(paths):,} videos were handled by an earlier run")
    with make_progress(log.bars, log.stage_lines) as progress:
        results = progress.track(_results(todo, clip, built, workers), total=len(todo), description="extracting videos")
        for path, status, message, rows in results:
            if status == "ok":
                sink.add(path.stem, rows)
            else:
                sink.skip(path.stem, status, message)
                log.summary(f"skipped {path.name}: {message}")


def _results(todo: list[Path], clip: ClipSpec, built: dict[str, Any], workers: int) -> Iterator[tuple]:
    """(path, status, message, rows) per video, in this process or in a pool (as they complete)."""
    if workers == 1 or len(todo) <= 1:
        for path in todo:
            yield (path, *_extract_one(path, clip, built))
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=(clip, workers)) as pool:
        pending: dict[Future, Path] = {}
        queue = iter(todo)
        try:
            while True:
                for path in queue:
                    pending[pool.submit(_worker_extract, path)] = path
                    if len(pending) >= 2 * workers:
                        break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    path = pending.pop(future)
                    yield (path, *future.result())
        finally:
            for future in pending:
                future.cancel()


_WORKER: dict[str, Any] = {}


def _start_worker(clip: ClipSpec, workers: int) -> None:
    try:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    except ImportError:
        pass
    _WORKER["clip"] = clip
    _WORKER["built"] = {"audio": _build(clip.audio), "visual": _build(clip.visual)}


def _worker_extract(path: Path) -> tuple:
    return _extract_one(path, _WORKER["clip"], _WORKER["built"])


def _extract_one(path: Path, clip: ClipSpec, built: dict[str, Any]) -> tuple[str, str, dict | None]:
    """("ok", "", rows) or (why skipped, one line, None)."""
    import numpy as np

    from avtbench.videoread import Unusable, read_clip

    audio, visual = built["audio"], built["visual"]
    try:
        wave, frames = read_clip(path, clip.seconds, int(audio.sample_rate), int(visual.frames_per_second))
    except Unusable as exc:
        return exc.status, exc.message, None
    try:
        rows = {"audio": np.asarray(audio.features(wave, clip.seconds), dtype=np.float32),
                "visual": np.asarray(visual.features(frames), dtype=np.float32)}
    except Exception as exc:  # an extractor may fail on one video in any way: that video is skipped
        return "failed", f"an extractor failed on it ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})", None
    for modality, array in rows.items():
        if array.shape[0] != clip.seconds or not np.isfinite(array).all():
            return "failed", f"the {modality} extractor gave {array.shape} or a non-finite value", None
    return "ok", "", rows


def _build(spec: ExtractorSpec) -> Any:
    try:
        return spec.build()
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise UserError(f"extractor {spec.cls.name}: cannot be built ({type(exc).__name__}: {exc}); "
                        f"check --set {spec.cls.name}.weights=... and its other settings") from None


def _probe(modality: str, extractor: Any) -> list[int]:
    """The shape of one second's features (the extractor run on one second of zeros)."""
    import numpy as np

    if modality == "audio":
        out = extractor.features(np.zeros(int(extractor.sample_rate), np.float32), 1)
    else:
        out = extractor.features(np.zeros((1, int(extractor.frames_per_second), 224, 224, 3), np.uint8))
    out = np.asarray(out)
    if out.ndim < 2 or out.shape[0] != 1:
        raise UserError(f"extractor {extractor.name}: one second gave features of shape {out.shape}, "
                        "not [1, ...]; the extractor is broken")
    return list(out.shape[1:])


def _rate(modality: str, extractor: Any) -> dict[str, int]:
    if modality == "audio":
        return {"sample_rate": int(extractor.sample_rate)}
    return {"frames_per_second": int(extractor.frames_per_second)}


def _provenance(extractor: Any) -> dict[str, Any]:
    make = getattr(extractor, "provenance", None)
    return dict(make()) if callable(make) else {}


def _video_list(videos: Path) -> list[Path]:
    """The videos a folder holds (by name) or a list file names; ids (file stems) unique."""
    if videos.is_dir():
        paths = sorted(p for p in videos.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        if not paths:
            raise UserError(f"--videos {videos}: no video files ({', '.join(VIDEO_SUFFIXES)}) in the folder")
    elif videos.is_file():
        try:
            lines = [line.strip() for line in videos.read_text(encoding="utf-8").splitlines()]
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"--videos {videos}: unreadable ({type(exc).__name__}); pass a folder or a text file of paths") from None
        paths = [(videos.parent / line) if not Path(line).is_absolute() else Path(line)
                 for line in lines if line and not line.startswith("#")]
        if not paths:
            raise UserError(f"--videos {videos}: lists no video")
    else:
        raise UserError(f"--videos {videos}: no such folder or file")
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise UserError(f"--videos: {seen[path.stem]} and {path} have the same id {path.stem!r} (the file name "
                            "without its suffix); rename one")
        seen[path.stem] = path
    return paths


def _digest_list(paths: list[Path]) -> str:
    """The video list as a digest (a resumed run must handle the same videos)."""
    text = "\n".join(str(p.resolve()) for p in paths)
    return f"{len(paths)} videos sha256:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _skipped(tally) -> str:
    parts = [f"{n:,} {SKIP_WORDS.get(status, status)}" for status, n in tally.skipped.items()]
    return f"skipped {sum(tally.skipped.values()):,}: {', '.join(parts)}" if parts else "none skipped"


class _only_writer:
    """Hold OUT's lock while extracting: two extractions never write one folder."""

    def __init__(self, out: Path) -> None:
        self.path = out / ".convert.lock"

    def __enter__(self) -> None:
        from filelock import FileLock, Timeout

        self.lock = FileLock(str(self.path))
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            raise UserError(f"another extraction is writing {self.path.parent} (it holds {self.path}); wait for it, "
                            "or pass another --out") from None

    def __exit__(self, *exc: Any) -> None:
        try:
            if exc[0] is None:
                self.path.unlink(missing_ok=True)
        finally:
            self.lock.release()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(extract())
