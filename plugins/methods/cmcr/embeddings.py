"""The cached corpus embeddings of `cmcr`: the CLIP and CLAP text embeddings of every caption, the
image memory (through CLIP) and the audio memory (through CLAP).

The trunks are frozen, so the corpus is encoded once and kept in the artifact cache under `cmcr/`,
keyed by both trunks (`backbone_identity` for a real one, the synthetic key otherwise) and the
corpus data; only the heads train, on these embeddings.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from avtbench.api import Progress
from avtbench.atomic import atomic_path, current_umask
from avtbench.backbones.synthetic import cache_root, data_fingerprint

from .data import Memories
from .trunks import FrozenClap, FrozenClip

EMBEDDINGS_VERSION = 1
"""Bump when what the embedding cache holds changes, so that old files are not reused."""
EMBEDDING_KEYS = ("clip_text", "clap_text", "image_memory", "audio_memory")


def corpus_embeddings(clip: FrozenClip, clap: FrozenClap, keys: tuple[str, str], texts: list[str], found: Memories,
                      audio: np.ndarray, visual: np.ndarray, *, cache_dir: Path | None, chunk: int,
                      progress: Progress) -> tuple[dict[str, Tensor], str]:
    """CLIP and CLAP text embeddings of `texts`, the image memory and the audio memory, from the
    artifact cache when both trunks (their cache `keys`, CLIP's then CLAP's) and the data are the
    same, else computed and cached. Returns them and "cached" or "computed"."""
    frames = found.frames(visual)
    waves = found.waveforms(audio)
    digest = hashlib.sha256(json.dumps({"v": EMBEDDINGS_VERSION, "clip": keys[0],
                                        "clap": keys[1], "texts": texts}).encode())
    digest.update(data_fingerprint(frames, found.image_ids).encode())
    digest.update(data_fingerprint(waves, found.audio_ids).encode())
    target = cache_root(cache_dir) / "cmcr" / f"embeddings-{digest.hexdigest()[:20]}.safetensors"
    cached = _read_embeddings(target)
    if cached is not None:
        return cached, "cached"
    jobs = {
        "clip_text": lambda: clip.texts(texts),
        "clap_text": lambda: clap.texts(texts),
        "image_memory": lambda: clip.images(torch.from_numpy(np.ascontiguousarray(frames)), chunk=chunk),
        "audio_memory": lambda: clap.audio(torch.from_numpy(waves), chunk=chunk),
    }
    embedded = {k: jobs[k]() for k in progress.track(list(jobs), total=len(jobs), description="cmcr corpus embeddings")}
    _write_embeddings(target, embedded)
    return embedded, "computed"


def backbone_identity(name: str) -> str:
    """What keys the embedding cache for a real trunk: its name, and for a local folder the size and
    modification time of its files (a changed checkpoint gets new embeddings)."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return name
    stamp = sorted((p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in folder.iterdir() if p.is_file())
    return hashlib.sha256(json.dumps([str(folder.resolve()), stamp]).encode()).hexdigest()[:16]


def _read_embeddings(path: Path) -> dict[str, Tensor] | None:
    """The cached corpus embeddings, or None when absent or unreadable (then they are recomputed)."""
    if not path.is_file():
        return None
    from safetensors.torch import load_file

    try:
        loaded = load_file(str(path))
    except Exception:  # noqa: BLE001 - a damaged cache file is recomputed, not fatal
        return None
    return loaded if set(loaded) == set(EMBEDDING_KEYS) else None


def _write_embeddings(path: Path, embedded: dict[str, Tensor]) -> None:
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in embedded.items()}, str(tmp))
        os.chmod(tmp, 0o666 & ~current_umask())  # safetensors writes the file afresh; cached files respect the umask
