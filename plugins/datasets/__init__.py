"""The built-in datasets, one package each: the pretraining corpus (`corpus`), AVE (`ave`), AVVP
(`avvp`), the held-out retrieval set (`retrieval`) and AVSBench S4 (`avs_s4`).

A package holds the dataset's card (an `avtbench.cards.DatasetCard` returned by its `avtbench_cards`
hook, in its `__init__.py`, which imports nothing heavy), its declaration (an `avtbench.api.Dataset`,
`declaration.py`, imported on first use), its reader (`reader.py`), its vocabulary (`vocab.py`) and its
synthetic copy (`synthetic.py`: the writer the synthetic world calls, and its sizes per world profile).
Each registers through its own entry point of the `avtbench` group (`dataset_<name>`), the way a
third-party dataset does.
"""
