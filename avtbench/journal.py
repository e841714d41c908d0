"""The journal of a resumable per-video job (`avtbench extract`'s staging, the converters' corpus writer):
`journal.tsv`, one line per video handled, `video_id<TAB>status<TAB>message`, status `ok` or why the video
was skipped. A line is written and flushed once the video's output is complete, so after a kill the
journal's lines are the videos handled and only a line cut by the kill is lost (it is dropped on opening).
"""
from __future__ import annotations

import os
from pathlib import Path

JOURNAL = "journal.tsv"


class VideoJournal:
    """The journal at `path` (which must exist), opened for appending; `statuses`: video -> status of the
    lines already there, in their order."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.statuses = _read_statuses(self.path)
        self.handle = open(self.path, "a", encoding="utf-8")

    def record(self, video_id: str, status: str, message: str) -> None:
        """Append and flush one video's line (the message on one line)."""
        self.handle.write(f"{video_id}\t{status}\t{' '.join(message.split())}\n")
        self.handle.flush()
        self.statuses[video_id] = status

    def sync(self) -> None:
        """fsync the journal: what was flushed survives a lost machine, not only a killed process."""
        os.fsync(self.handle.fileno())

    def lines(self) -> tuple[list[str], list[str]]:
        """(the ids written, in the journal's order; the skipped videos' whole lines), read from the file."""
        ok, skipped = [], []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            video_id, status, _ = line.split("\t", 2)
            (ok if status == "ok" else skipped).append(video_id if status == "ok" else line)
        return ok, skipped

    @property
    def closed(self) -> bool:
        return self.handle.closed

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()


def _read_statuses(path: Path) -> dict[str, str]:
    """video -> status from the journal (in its order); a line cut by a kill is dropped from the file."""
    data = path.read_bytes()
    whole = data.rfind(b"\n") + 1
    if whole < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(whole)
    statuses: dict[str, str] = {}
    for line in data[:whole].decode("utf-8").splitlines():
        video_id, status, _ = line.split("\t", 2)
        statuses[video_id] = status
    return statuses
