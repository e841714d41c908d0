"""`avtbench convert vggsound-avel40k`: CMG's released VGGSound-AVEL 40K features (`cmg_release.py`) into
the corpus format (`reader.py`), clip by clip (`writer.py`), with each clip's caption from CMG's prompt of
its category. The converter the corpus plugin declares (its card in `__init__.py`)."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from avtbench.api import Converter, UserError
from avtbench.atomic import prepare_folder
from avtbench.extraction import ExtractTally
from avtbench.toolkit import cli_guard

from . import CONVERTER_CARD
from .cmg_release import (AUDIO_SHAPE, CMG_SPLIT_ORDER, VISUAL_SHAPE, MetaRow, Skip, read_meta, read_prompts, read_video,
                          require_prompts)
from .writer import CorpusJob, CorpusWriter, done_before

LOG = "convert.log"
SKIP_WORDS = {"missing": "missing zip(s)", "damaged": "damaged zip(s) or pickle(s)",
              "refused": "refused pickle(s) (not a numpy array)", "shape": "array(s) of another shape or with NaN"}


@click.command(CONVERTER_CARD.name)
@click.option("--meta", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CMG's vggsound-avel40k.csv (category, video_id, split).")
@click.option("--audio", "audio_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of <video_id>.zip audio features (CMG's audio/zip).")
@click.option("--video", "video_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of <video_id>.zip visual features (CMG's video/zip).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the corpus into (new or empty; the same folder resumes a killed conversion).")
@click.option("--prompts", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CMG's vggsoundCategories2Prompts.csv (label, prompt); default: beside --meta.")
@click.option("--splits", default=",".join(CMG_SPLIT_ORDER), show_default=True,
              help="Splits of the meta file to convert, in this order (CMG's 40K: train,test,val; its 24K: train).")
@click.option("--quiet", "-q", is_flag=True, help="Only errors and the summary.")
@click.option("--log", "log_path", metavar="FILE", help=f"Progress log (default: OUT/{LOG}).")
@cli_guard(interrupted="interrupted: the videos converted so far are kept; run the same command again to resume")
def vggsound_avel40k(meta: Path, audio_dir: Path, video_dir: Path, out: Path, prompts: Path | None, splits: str,
                     quiet: bool, log_path: str | None) -> None:
    """CMG's VGGSound-AVEL 40K release (one zip of pickled features per video) into the corpus format.

    Captions are CMG's prompts of each video's category. Only numpy arrays are unpickled: a zip holding
    anything else, a damaged zip or a missing one is named on one line and its video skipped. Resumable:
    run the same command again after a kill. Then: --set data.corpus_root=OUT."""
    from avtbench.logs import RunLog
    from avtbench.progress import make_progress

    wanted = tuple(s.strip() for s in splits.split(",") if s.strip())
    prompts = prompts or meta.parent / "vggsoundCategories2Prompts.csv"
    rows, left_out = read_meta(meta, wanted)
    captions = read_prompts(prompts)
    require_prompts(rows, captions, meta, prompts)
    for option, folder in (("--audio", audio_dir), ("--video", video_dir)):
        if not folder.is_dir():
            raise UserError(f"{option} {folder}: folder not found; pass the folder of <video_id>.zip files of CMG's release")
    job = CorpusJob(CONVERTER_CARD.name, {"--meta": _digest(meta), "--prompts": _digest(prompts),
                                          "--audio": str(audio_dir.resolve()), "--video": str(video_dir.resolve()),
                                          "--splits": ",".join(wanted)},
                    len(rows), {"audio": list(AUDIO_SHAPE), "visual": list(VISUAL_SHAPE)})
    prepare_folder(out, "--out")
    finished = done_before(out, job)
    with RunLog(quiet=quiet, path=log_path or out / LOG) as log:
        if finished is not None:
            log.summary(f"already converted: {finished.written:,} videos in {out} ({_skipped(finished)}); "
                        f"nothing to do", stdout=True)
            return
        with _only_writer(out):
            writer = CorpusWriter(out, job)
            try:
                with make_progress(log.bars, log.stage_lines) as progress:
                    _convert(rows, writer, audio_dir, video_dir, log, progress)
                category = {row.video_id: row.category for row in rows}
                writer.finish(lambda video_id: captions[category[video_id]])
            finally:
                writer.close()
        tally = writer.tally
        earlier = f" ({tally.earlier:,} handled by an earlier run)" if tally.earlier else ""
        other = f"; {left_out:,} row(s) of other splits left out" if left_out else ""
        listed = f" (listed in {out / 'skipped.tsv'})" if tally.skipped else ""
        log.summary(f"converted {tally.written:,} of {len(rows):,} videos into {out}{earlier}; {_skipped(tally)}{listed}"
                    f"{other}; next: --set data.corpus_root={out}", stdout=True)


@contextmanager
def _only_writer(out: Path) -> Iterator[None]:
    """Hold `out`'s lock while converting: two conversions never write one folder. The lock file goes
    with the conversion once it is complete."""
    from filelock import FileLock, Timeout

    path = out / ".convert.lock"
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise UserError(f"another conversion is writing {out} (it holds {path}); wait for it, or pass another --out") from None
    try:
        yield
        if (out / "video_ids.txt").exists():
            path.unlink(missing_ok=True)
    finally:
        lock.release()


def _convert(rows: list[MetaRow], writer: CorpusWriter, audio_dir: Path, video_dir: Path, log, progress) -> None:
    todo = [row for row in rows if not writer.handled(row.video_id)]
    if len(todo) < len(rows):
        log.info(f"resuming: {len(rows) - len(todo):,} of {len(rows):,} videos were handled by an earlier run")
    for row in progress.track(todo, total=len(todo), description="converting videos"):
        try:
            audio, visual = read_video(row, audio_dir, video_dir)
        except Skip as skip:
            writer.skip(row.video_id, skip.status, skip.message)
            log.info(f"skipped {row.video_id}: {skip.message}")
            continue
        writer.add(row.video_id, {"audio": audio, "visual": visual})


def _skipped(tally: ExtractTally) -> str:
    parts = [f"{n:,} {SKIP_WORDS.get(status, status)}" for status, n in tally.skipped.items()]
    return f"skipped {sum(tally.skipped.values()):,}: {', '.join(parts)}" if parts else "none skipped"


def _digest(path: Path) -> str:
    """`path` and the sha256 of its bytes: a resumed run must read the same file."""
    return f"{path.resolve()} sha256:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"


CONVERTER = Converter(dataset=CONVERTER_CARD.dataset, command=vggsound_avel40k)
"""The converter (`avtbench.api.Converter`) its card names."""
