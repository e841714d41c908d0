"""What `avtbench triplets` prints: the kept share, a few triplets with their scores, and how well the
chosen captions agree with the clips' own corpus captions (kept against dropped), which tells whether
the CLAP filter keeps the better-described clips."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from avtbench.api import Clips

STOP_WORDS = frozenset({"a", "an", "the", "of", "with", "and", "video", "short", "clip", "then", "along", "at", "same",
                        "time", "together", "followed", "by", "later"})
"""Words of the synthetic world's caption templates, not of its events."""


def content_words(text: str) -> set[str]:
    return {w.strip(",.").lower() for w in text.split()} - STOP_WORDS - {""}


def word_f1(caption: str, references: list[str]) -> float:
    """Best F1 of the caption's content words against any reference's (1.0: the same words)."""
    words = content_words(caption)
    best = 0.0
    for reference in references:
        truth = content_words(reference)
        common = len(words & truth)
        if common:
            precision, recall = common / len(words), common / len(truth)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def read_scores(folder: Path) -> list[tuple[str, float, bool, str]]:
    """(video_id, score, kept, caption) of every captioned clip, best score first (scores.tsv)."""
    rows = [line.split("\t") for line in (Path(folder) / "scores.tsv").read_text().splitlines()[1:] if line.strip()]
    return [(r[0], float(r[1]), r[2] == "1", r[3]) for r in rows]


def summary_lines(folder: Path, record: dict, corpus: Clips, cached: bool, show: int = 5) -> list[str]:
    scores = read_scores(folder)
    kept = [s for s in scores if s[2]]
    share = 100.0 * len(kept) / max(len(scores), 1)
    lines = [f"kept {len(kept)} of {len(scores)} captioned clips ({share:.1f} %; keep={record['keep']:g} %, "
             f"filter {'on' if record['filter'] else 'off'}) from {record['corpus_clips']} corpus clips",
             f"captioner {record['captioner']['name']}: {record['captioner'].get('trained_on', record['captioner']['key'])}",
             f"CLAP {record['clap']['name']}: {record['clap'].get('trained_on', record['clap']['key'])}",
             f"clip rows: CLAP {record['rows']['clap']}, captioner {record['rows']['captioner']}, "
             f"captioned {record['rows']['captioned']}",
             f"folder {folder} ({'from the cache' if cached else 'generated'})"]
    references = dict(zip(corpus.ids, corpus.caption_lists())) if corpus.caption_lists() else {}
    if references:
        agree = {name: [word_f1(c, references.get(v, [])) for v, _, k, c in scores if k == want]
                 for name, want in (("kept", True), ("dropped", False))}
        overall = [word_f1(c, references.get(v, [])) for v, _, _, c in scores]
        lines.append("agreement with the clips' own captions (content-word F1): " + ", ".join(
            f"{name} {np.mean(values):.3f}" for name, values in (*agree.items(), ("all", overall)) if values))
    lines.append(f"top {min(show, len(kept))} kept triplets (rank, CLAP score, clip, generated caption"
                 + (" | corpus caption)" if references else ")"))
    for rank, (video, score, _, text) in enumerate(kept[:show], 1):
        own = f" | {references[video][0]}" if references.get(video) else ""
        lines.append(f"  {rank:>3}  {score:+.3f}  {video}  {text}{own}")
    dropped = [s for s in scores if not s[2]]
    if dropped:
        video, score, _, text = dropped[-1]
        own = f" | {references[video][0]}" if references.get(video) else ""
        lines.append(f"  lowest dropped: {score:+.3f}  {video}  {text}{own}")
    return lines
