"""Write files and folders so that a reader (or a killed run) never sees half of one."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from avtbench.errors import UserError


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it is fsynced and renamed over `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~current_umask())  # mkstemp makes it 0600; published files respect the umask
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text)


def publish_folder(target: Path, write: Callable[[Path], None], complete: str | None = None) -> Path:
    """Fill a fresh temporary folder beside `target` with `write`, then rename it to `target`.

    Readers never see a half-written folder. When another process published `target` first, its
    copy is kept and ours dropped; a folder at `target` without the `complete` marker file (when
    one is named) is left from elsewhere unfinished and is replaced.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{_temp_prefix(target)}{os.getpid()}-", dir=target.parent))
    try:
        write(tmp)
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it 0700
        _rename_into_place(tmp, target, complete)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _rename_into_place(tmp: Path, target: Path, complete: str | None) -> None:
    for _ in range(3):
        try:
            os.rename(tmp, target)
            return
        except OSError:
            if complete is None or (target / complete).exists():
                if target.is_dir():
                    return  # a concurrent writer finished first
                raise
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.stale-", dir=target.parent))
            try:
                os.rename(target, stale / "old")
            except OSError:
                pass
            shutil.rmtree(stale, ignore_errors=True)
    raise OSError(f"could not move {tmp} to {target}")


def move_aside(path: Path) -> Path:
    """Rename a damaged file or folder to `<name>.corrupt-<UTC time>` beside it (kept for a look, never
    read again); return the new path."""
    from datetime import datetime, timezone

    path = Path(path)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(target)
    return target


def remove_dead_temps(target: Path) -> None:
    """Delete the temporary folders that killed `publish_folder` calls on this host left beside `target`."""
    target = Path(target)
    if not target.parent.is_dir():
        return
    prefix = _temp_prefix(target)
    for path in target.parent.iterdir():
        if path.name.startswith(prefix):
            pid = path.name[len(prefix):].split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(f".{target.name}.stale-"):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _temp_prefix(target: Path) -> str:
    """Temporary folders name their host and pid, so that only dead ones of this host are removed."""
    return f".{target.name}.tmp-{socket.gethostname()}-"


def current_umask() -> int:
    """The process umask (reading it means setting it; it is put back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def prepare_folder(path: Path, option: str) -> Path:
    """mkdir -p `path`; a regular file in the way, or no permission, is a one-line UserError."""
    path = Path(path)
    for parent in (path, *path.parents):
        if parent.exists() and not parent.is_dir():
            raise UserError(f"{option} {path}: {parent} is a file, not a folder; pass another {option} path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot create the folder ({exc.strerror}); pass another {option} path") from None
    return path
