"""`avtbench extract`: videos -> per-second features of the layout's extractors (and, on request, the
raw level), written in a declared dataset's layout (`Dataset.extraction`, `avtbench/extraction.py`).

Everything the options name is checked before any video is read (one `error:` line, exit 2): the
layout (a dataset that declares an extraction layout), the extractors (`registry.extractors`, of the
right modality, one per modality the layout writes), their settings (`--set <extractor>.<field>=value`,
built into each extractor's `config_class`), the executor's (`--set executor.<field>=value`, with
`--executor ray`), the videos (a folder of video files or a text file listing them, ids from the file
names, each id once) and the layout's annotations (`--annotations`, read by the layout). Each
extractor is then built once and run on one second of zeros, which gives the shape of a clip's rows
and fails here, not mid-run, on a bad setting or a missing weights file.

Videos are read and extracted (`extract_work.py`) in this process, in a pool of worker processes
(`--workers`) or by actors on a Ray cluster (`--executor ray`), as `extract_pool.py` runs them; this
process is the sink's one writer. The sink is resumable: a video an earlier run wrote or skipped is
not read again, a killed run loses at most the videos in flight. A video that cannot be used is one
line `skipped <file>: <why>` and the run goes on; the summary counts them by reason.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import click

from avtbench.errors import UserError
from avtbench.toolkit.commands import cli_guard

LOG = "extract.log"
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v", ".flv", ".mpg", ".mpeg")
SKIP_WORDS = {"unreadable": "unreadable", "no-audio": "without an audio track", "no-frames": "without frames",
              "short": "shorter than the clip", "failed": "failed in an extractor or its worker"}
EXECUTOR_SECTION = "executor"


def _layouts(reg) -> dict[str, Any]:
    """Declared datasets with an extraction layout, by name (importing each dataset's declaration)."""
    return {name: dataset.extraction for name, dataset in reg.datasets.loaded().items()
            if getattr(dataset, "extraction", None) is not None}


@click.command()
@click.option("--videos", required=True, type=click.Path(exists=False, path_type=Path),
              help="A folder of videos (mp4, mkv, webm, avi, mov, ...), or a text file listing video paths, one a line.")
@click.option("--layout", "layout_name", required=True, metavar="DATASET",
              help="The declared dataset whose layout to write (a dataset plugin that declares an extraction layout; "
                   "a wrong name lists them).")
@click.option("--audio", "audio_name", metavar="EXTRACTOR", help="The audio extractor.")
@click.option("--visual", "visual_name", metavar="EXTRACTOR",
              help="The visual extractor (none for a layout whose frames are its visual input).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write into (new or empty; the same folder resumes a killed extraction).")
@click.option("--seconds", type=click.IntRange(1, 3600), default=None,
              help="Clip length in seconds, from each video's start (default: what the layout fixes, else 10).")
@click.option("--annotations", type=click.Path(exists=False, path_type=Path), default=None, metavar="PATH",
              help="What the layout needs that videos do not carry (a release's label files, its masks: the layout "
                   "says which), checked before any video and written into OUT for the videos extracted.")
@click.option("--raw", is_flag=True,
              help="Also write the raw level: 16 kHz mono WAVs and one square frame a second, as the readers' raw level holds them.")
@click.option("--frame-size", type=click.IntRange(8, 4096), default=None,
              help="Side in pixels of the square frames written (with --raw, or by a layout that holds frames) [default: 224].")
@click.option("--set", "sets", multiple=True, metavar="SECTION.FIELD=VALUE",
              help="An extractor's setting (--set vggish.weights=/models/vggish.pth) or, with --executor ray, the "
                   "executor's (--set executor.address=auto).")
@click.option("--workers", type=click.IntRange(1, 4096), default=None,
              help="Videos extracted at once: worker processes (local, default 1) or Ray actors (ray, default: as "
                   "many as the cluster's CPUs allow at executor.num_cpus each); each builds its extractors once.")
@click.option("--executor", "executor_name", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Where videos run: this machine, or a Ray cluster (a local one by default; executor.address to join one).")
@click.option("--device", default="cpu", show_default=True, help="Torch device the extractors run on.")
@click.option("--quiet", "-q", is_flag=True, help="Only errors, skipped videos and the summary.")
@click.option("--log", "log_path", metavar="FILE", help=f"Progress log (default: OUT/{LOG}).")
@cli_guard(interrupted="interrupted: the videos extracted so far are kept; run the same command again to resume")
def extract(videos: Path, layout_name: str, audio_name: str | None, visual_name: str | None, out: Path,
            seconds: int | None, annotations: Path | None, raw: bool, frame_size: int | None, sets: tuple[str, ...],
            workers: int | None, executor_name: str, device: str, quiet: bool, log_path: str | None) -> None:
    """Extract per-second audio and visual features of videos into a dataset's layout.

    Reads each video with PyAV, resamples its audio to the audio extractor's rate (16 kHz mono), samples
    frames at the visual extractor's rate, cuts the first --seconds into 1-second segments and writes
    one clip per video, with a provenance file naming the extractors, their settings and weights;
    with --raw also the clip's raw level. A video that cannot be used (unreadable, shorter than the
    clip, no audio track, no frames) is named on one line and skipped. Resumable: run the same command
    again after a kill."""
    from avtbench import config as cfg
    from avtbench.atomic import prepare_folder
    from avtbench.extract_pool import results
    from avtbench.extract_work import ClipSpec, ExtractorSpec, build, probe, provenance, rate
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
    names = _extractor_names(layout_name, layout, audio_name, visual_name)
    document = cfg.parse_sets(sets)
    executor_config = _executor_config(document.pop(EXECUTOR_SECTION, None), executor_name)
    extra = sorted(set(document) - set(names.values()))
    if extra:
        given = " nor ".join(f"--{m} {n}" for m, n in names.items())
        raise UserError(f"--set {extra[0]}.…: {extra[0]!r} is neither {given}; write --set <extractor>.<field>=<value>"
                        f"{' or, with --executor ray, --set executor.<field>=<value>' if executor_name != 'ray' else ''}")
    specs = {}
    for modality, name in names.items():
        cls = reg.extractor(name)
        if cls.modality != modality:
            raise UserError(f"--{modality} {name}: a {cls.modality} extractor; pass a {modality} one "
                            f"({', '.join(c.name for c in reg.extractors.cards() if c.modality == modality) or 'none installed'})")
        specs[modality] = ExtractorSpec(cls, cfg.build(cls.config_class, document.get(name, {}), name), device)
    if raw and layout.frames is None:
        raise UserError(f"--raw: the {layout_name} layout has no raw level; drop --raw")
    frames = layout.frames if (raw or layout.frames_always) else None
    if frame_size is not None and frames is None:
        raise UserError(f"--frame-size {frame_size}: the {layout_name} layout writes no frames without --raw; "
                        "add --raw, or drop --frame-size")
    frame_size = frame_size or 224
    paths = _video_list(videos)
    read_annotations = _annotations(layout_name, layout, annotations)
    notes = read_annotations(annotations, [p.stem for p in paths]) if annotations is not None else None
    clip = ClipSpec(seconds, specs, raw, frames, frame_size)
    built = {m: build(s) for m, s in specs.items()}
    shapes = {m: [seconds, *probe(m, built[m])] for m in built}
    record = {
        "seconds": seconds, "segment_seconds": 1, "layout": layout_name, "videos": len(paths),
        "clip": "the first --seconds of each video",
        "extractors": {m: {"name": specs[m].cls.name, "settings": cfg.to_dict(specs[m].config),
                           "rate": rate(m, built[m]), "provenance": provenance(built[m])} for m in built},
    }
    if frames is not None:
        record["frames"] = {"size": frame_size, "recipe": frames.source, "phase_seconds": frames.phase,
                            "crop": frames.crop, "raw_wave": "16 kHz mono, FFmpeg's resampler" if raw else None}
    inputs = {"--videos": _digest_list(paths), "--seconds": str(seconds), "--layout": layout_name,
              **{f"--{m}": f"{specs[m].cls.name} {sorted(cfg.to_dict(specs[m].config).items())}" for m in specs}}
    if raw or frames is not None:
        inputs.update({"--raw": str(raw), "--frame-size": str(frame_size)})
    if annotations is not None:
        inputs["--annotations"] = str(annotations.resolve())
    job = ExtractJob(inputs, len(paths), shapes, record, raw, frame_size, notes)
    if layout.check is not None:
        layout.check(job)
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
                _run(paths, sink, log, results, clip, built, workers, executor_name, executor_config)
                sink.finish()
            finally:
                sink.close()
        tally = sink.tally
        earlier = f" ({tally.earlier:,} handled by an earlier run)" if tally.earlier else ""
        lacking = getattr(sink, "missing", layout.missing)
        missing = f"; the layout also needs {lacking}, which videos do not give" if lacking else ""
        settings = " ".join(f"--set {s}" for s in [f"data.{layout_name}_root={out}", *getattr(sink, "next_settings", [])])
        log.summary(f"extracted {tally.written:,} of {len(paths):,} videos into {out}{earlier}; {_skipped(tally)}"
                    f"{missing}; next: {settings}", stdout=True)


def _extractor_names(layout_name: str, layout: Any, audio: str | None, visual: str | None) -> dict[str, str]:
    """modality -> extractor name, one for each modality the layout writes features of."""
    given = {"audio": audio, "visual": visual}
    for modality, name in given.items():
        if modality in layout.features and not name:
            raise UserError(f"--{modality}: the {layout_name} layout writes {modality} features; name a {modality} "
                            "extractor (avtbench list)")
        if modality not in layout.features and name:
            raise UserError(f"--{modality} {name}: the {layout_name} layout writes no {modality} features"
                            f"{' (its frames are the visual input)' if layout.frames_always else ''}; drop --{modality}")
    return {m: n for m, n in given.items() if n}


def _executor_config(section: dict | None, executor_name: str) -> Any:
    """The `executor` section (`ExecutorConfig`) for --executor ray; None for local (where none may be set)."""
    from avtbench import config as cfg
    from avtbench.executors.settings import ExecutorConfig

    if executor_name != "ray":
        if section:
            raise UserError(f"--set executor.{next(iter(section))}=...: executor settings apply to --executor ray; "
                            "add --executor ray or drop the setting")
        return None
    from avtbench.executors.ray_cluster import import_ray

    import_ray()
    return cfg.build(ExecutorConfig, section or {}, EXECUTOR_SECTION)


def _annotations(layout_name: str, layout: Any, path: Path | None):
    """The layout's annotation reader, after checking `--annotations` fits the layout."""
    if path is not None and layout.annotations is None:
        raise UserError(f"--annotations {path}: the {layout_name} layout takes no annotations; drop --annotations")
    if path is None and layout.annotations_required:
        raise UserError(f"--annotations: the {layout_name} layout needs {layout.annotations_help}; pass --annotations DIR")
    if path is not None and not path.exists():
        raise UserError(f"--annotations {path}: no such file or folder; pass {layout.annotations_help}")
    return layout.annotations


def _run(paths: list[Path], sink, log, results, clip, built, workers, executor_name, executor_config) -> None:
    from avtbench.progress import make_progress

    todo = [p for p in paths if not sink.handled(p.stem)]
    if len(todo) < len(paths):
        log.info(f"resuming: {len(paths) - len(todo):,} of {len(paths):,} videos were handled by an earlier run")
    if executor_name == "ray":
        log.info(f"running {len(todo):,} videos on Ray ({executor_config.address})")
    stream = results(todo, clip, built, workers, executor_name, executor_config)
    try:
        with make_progress(log.bars, log.stage_lines) as progress:
            for path, result in progress.track(stream, total=len(todo), description="extracting videos"):
                if result.status == "ok":
                    sink.add(path.stem, result.rows, result.raw)
                else:
                    sink.skip(path.stem, result.status, result.message)
                    log.summary(f"skipped {path.name}: {result.message}")
    finally:
        stream.close()  # its workers (a process pool, Ray actors and a local cluster) stop here, killed or not


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
