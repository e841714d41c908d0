"""The cached corpus embeddings of `cmcr`: the CLIP and CLAP text embeddings of every caption, the
image memory (through CLIP) and the audio memory (through CLAP).

The trunks are frozen, so the corpus is encoded once and kept in the artifact cache under `cmcr/`,
keyed by both trunks (`backbone_identity` for a real one, the synthetic key otherwise) and the
corpus data; only the heads train, on these embeddings. Frames and waveforms are read and encoded
a chunk at a time straight into .npy files (`avtbench.data.npyfile.NpyWriter`), which training reads
by the rows it needs (`NpyRows`; not memory maps, whose touched pages would stay resident): nothing
here holds the corpus, or all of its embeddings, in memory.
"""
from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from avtbench.api import DamagedArtifact, Progress
from avtbench.atomic import publish_folder
from avtbench.backbones.synthetic import cache_root
from avtbench.data.blocks import fingerprint
from avtbench.data.npyfile import NpyRows, NpyWriter
from avtbench.hashing import SPACED, JsonForm, hash_json, json_digest

from .data import Memories
from .trunks import FrozenClap, FrozenClip

EMBEDDINGS_VERSION = 2
"""Bump when what the embedding cache holds changes, so that old files are not reused (2: a folder
of .npy files read by rows, instead of one safetensors file read whole; the files are the same
whether written through a memory map, as before, or by `NpyWriter`)."""
EMBEDDING_KEYS = ("clip_text", "clap_text", "image_memory", "audio_memory")
RECORD = "embeddings.json"
"""Written last into a cache folder: its shapes (a folder without it is incomplete)."""
TEXT_CHUNK = 512
"""Captions per pass of the text towers (`FrozenClip.texts`' own chunk)."""
KEY_FORM = JsonForm(separators=(", ", ": "), sort_keys=False, default=None)
"""How the cache key writes its trunks and texts: `json.dumps`'s own bytes, keys in the order written
(the key's form since the cache has existed; another form would orphan every cached folder)."""


def corpus_embeddings(clip: FrozenClip, clap: FrozenClap, keys: tuple[str, str], texts: list[str], found: Memories,
                      audio: Any, visual: Any, *, cache_dir: Path | None, chunk: int,
                      progress: Progress) -> tuple[dict[str, NpyRows], str]:
    """CLIP and CLAP text embeddings of `texts`, the image memory and the audio memory, as lazy arrays
    over the .npy files of the artifact cache's folder for both trunks (their cache `keys`, CLIP's then CLAP's) and the
    data, computed block by block and cached when it is not there. Returns them and "cached" or
    "computed"."""
    frames, waves = found.frames(visual), found.waveforms(audio)
    digest = json_digest({"v": EMBEDDINGS_VERSION, "clip": keys[0], "clap": keys[1], "texts": texts}, KEY_FORM)
    digest.update(fingerprint(frames, found.image_ids).encode())
    digest.update(fingerprint(waves, found.audio_ids).encode())
    target = cache_root(cache_dir) / "cmcr" / f"embeddings-{digest.hexdigest()[:20]}"
    cached = _read_embeddings(target)
    if cached is not None:
        return cached, "cached"
    jobs = {
        "clip_text": (texts, TEXT_CHUNK, clip.dim, lambda part: clip.texts(part)),
        "clap_text": (texts, TEXT_CHUNK, clap.dim, lambda part: clap.texts(part)),
        "image_memory": (frames, chunk, clip.dim, lambda part: clip.images(torch.from_numpy(part), chunk=chunk)),
        "audio_memory": (waves, chunk, clap.dim, lambda part: clap.audio(torch.from_numpy(part), chunk=chunk)),
    }

    def write(folder: Path) -> None:
        for key in progress.track(list(jobs), total=len(jobs), description="cmcr corpus embeddings"):
            _encode_into(folder / f"{key}.npy", *jobs[key])
        shapes = {key: list(NpyRows(folder / f"{key}.npy").shape) for key in EMBEDDING_KEYS}
        (folder / RECORD).write_text(json.dumps(shapes) + "\n")

    publish_folder(target, write, complete=RECORD)
    found_again = _read_embeddings(target)
    if found_again is None:
        raise DamagedArtifact(f"{target}: the corpus embeddings just written cannot be read back; delete it and run again")
    return found_again, "computed"


def _encode_into(path: Path, inputs: Any, chunk: int, dim: int, encode: Callable[[Any], Tensor]) -> None:
    """`encode` of `inputs` (captions, or a lazy array of frames or waveforms) `chunk` at a time, into
    a .npy file [len(inputs), dim]."""
    with NpyWriter(path, (len(inputs), dim)) as out:
        for start in range(0, len(inputs), chunk):
            out.write(start, encode(inputs[start:start + chunk]).detach().cpu().numpy())


def backbone_identity(name: str) -> str:
    """What keys the embedding cache for a real trunk: its name, and for a local folder the size and
    modification time of its files (a changed checkpoint gets new embeddings)."""
    folder = Path(name).expanduser()
    if not folder.is_dir():
        return name
    stamp = sorted((p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in folder.iterdir() if p.is_file())
    return hash_json([str(folder.resolve()), stamp], form=SPACED)


def _read_embeddings(folder: Path) -> dict[str, NpyRows] | None:
    """The cached corpus embeddings as lazy arrays over their files (nothing is read until rows are
    asked for), or None when absent or unreadable (then they are computed again)."""
    try:
        shapes = json.loads((folder / RECORD).read_text())
        loaded = {key: NpyRows(folder / f"{key}.npy") for key in EMBEDDING_KEYS}
    except (OSError, ValueError):
        return None
    return loaded if all(list(loaded[k].shape) == shapes.get(k) for k in EMBEDDING_KEYS) else None
