"""What several built-in tasks share, in one place: CMG's classifier heads and their training loop
(`classifiers.py`), the segment-level head trained and scored as AVVP and AVE->AVVP do (`segments.py`),
and clip pooling (`pooling.py`, for retrieval and zero-shot). Not a plugin: it has no entry point."""
