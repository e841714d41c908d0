"""Peak memory of reading a corpus in avtbench's own format at the papers' feature sizes.

    python benchmarks/bench_read.py --clips 1000 3000

Writes a corpus of random features per size (VGGish 128 audio and VGG19 pool5 7x7x512 visual, 10
segments, float32: 1.0 MB per clip, HDF5 chunked by clip as the synthetic world writes it) into a
temporary folder, then reads it with `read_corpus` in a fresh process and prints that process's
peak RSS and the RSS per clip. A reader that holds the data once costs about 1.0 MB per clip; the
toolkit's goal (a streaming reader) is a peak that does not grow with the clips at all.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SEGMENTS, AUDIO, VISUAL = 10, (128,), (7, 7, 512)
READ = """
import resource, sys
from avtbench_plugins.datasets.corpus.reader import read_corpus
clips = read_corpus(sys.argv[1])
print(len(clips), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def write_corpus(folder: Path, clips: int) -> None:
    import h5py

    folder.mkdir(parents=True)
    (folder / "video_ids.txt").write_text("".join(f"clip{i:07d}\n" for i in range(clips)))
    rng = np.random.default_rng(0)
    for name, shape in (("audio_feature.h5", AUDIO), ("visual_feature.h5", VISUAL)):
        with h5py.File(folder / name, "w") as f:
            ds = f.create_dataset("avadataset", shape=(clips, SEGMENTS, *shape), dtype=np.float32,
                                  chunks=(1, SEGMENTS, *shape))
            for start in range(0, clips, 100):
                rows = min(100, clips - start)
                ds[start:start + rows] = rng.standard_normal((rows, SEGMENTS, *shape), dtype=np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, nargs="+", default=[1000, 3000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for clips in args.clips:
            folder = Path(tmp) / f"corpus-{clips}"
            write_corpus(folder, clips)
            out = subprocess.run([sys.executable, "-c", READ, str(folder)], capture_output=True, text=True, check=True)
            read, peak_kib = map(int, out.stdout.split())
            print(f"{clips} clips: read {read}, peak RSS {peak_kib / 1024**2:.2f} GiB, "
                  f"{peak_kib / 1024 / clips:.2f} MiB per clip")


if __name__ == "__main__":
    main()
