"""The pretraining corpus, in avtbench's corpus format: its card; the declaration (`declaration.py`),
reader (`reader.py`), layout (`layout.py`) and synthetic copy (`synthetic.py`). The format has no class
vocabulary of its own: a synthetic corpus names the world's event classes in its events.h5. Its converter,
`avtbench convert vggsound-avel40k` (`convert_cmg.py`), writes CMG's released VGGSound-AVEL 40K in it."""
from avtbench.cards import Card, ConverterCard, DatasetCard
from avtbench.hookspecs import hookimpl

CORPUS_FORMAT = "audio_feature.h5, visual_feature.h5 (key avadataset), video_ids.txt, optional captions.tsv and events.h5"
"""The corpus format in one line (`Dataset.format`), also of the datasets stored in it."""

CARD = DatasetCard(
    name="corpus",
    target="avtbench_plugins.datasets.corpus.declaration:DATASET",
    format=f"pretraining corpus: {CORPUS_FORMAT}",
)


CONVERTER_CARD = ConverterCard(
    name="vggsound-avel40k",
    target="avtbench_plugins.datasets.corpus.convert_cmg:CONVERTER",
    dataset="corpus",
    summary="CMG's VGGSound-AVEL 40K release (one zip of pickled features per video) into the corpus format.",
)


@hookimpl
def avtbench_cards() -> list[Card]:
    return [CARD, CONVERTER_CARD]
