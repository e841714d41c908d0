"""The synthetic retrieval set: held-out clips drawn like the corpus, in its format, never in the corpus."""
from __future__ import annotations

from avtbench.api import SyntheticCopy
from avtbench_plugins.datasets.corpus.synthetic import COPY as CORPUS_COPY
from avtbench_plugins.datasets.corpus.synthetic import CorpusSizes, clip_count, write_corpus_format

SIZES = {"tiny": CorpusSizes(30), "paper": CorpusSizes(1000)}
"""The retrieval set's sizes per world profile (every clip with a raw level); the others have `DEFAULT_SIZES`."""
DEFAULT_SIZES = CorpusSizes(300)

COPY = SyntheticCopy(write=write_corpus_format, default_sizes=DEFAULT_SIZES, sizes=SIZES,
                     descriptions=CORPUS_COPY.descriptions, id_order=3, ids_drawn=clip_count)
"""The retrieval set's synthetic copy: on the shared id stream after the corpus, AVE and AVVP."""
