"""`avtbench triplets`: the triplet step of LG-CAV-MAE on its own (hook `avtbench_commands`).

It reads the corpus that `lg_cav_mae` pretrains on (the same `data` settings, at the raw level),
generates or reuses the cached triplets under the method's settings (`--set lg_cav_mae.<field>=...`;
`--captioner`, `--clap`, `--keep` and `--no-filter` override them) and prints the kept share and a
few triplets with their CLAP scores. `lg_cav_mae` later finds the same folder in the cache.
"""
from __future__ import annotations

import click

from avtbench.errors import UserError
from avtbench.toolkit import cli_guard

SECTION = "lg_cav_mae"
INTERRUPTED = "interrupted: trained backbones are cached; run the same command again to go on from them"


@click.command("triplets")
@click.option("--captioner", default=None, help="Image captioner: a Hugging Face id, a local folder, or synth://captioner.")
@click.option("--clap", default=None, help="CLAP scoring captions against audio: an id, a folder, or synth://clap.")
@click.option("--keep", default=None, type=float, help="Keep the top k % of the CLAP-ranked clips (paper: 50, 30, 10).")
@click.option("--no-filter", "no_filter", is_flag=True, help="Keep every captioned clip (lg_cav_mae.triplets_filter=false).")
@click.option("--show", default=5, show_default=True, type=int, help="How many kept triplets to print.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="YAML file: `lg_cav_mae` and `data` sections.")
@click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE", help="e.g. lg_cav_mae.caption_frames=5, data.profile=tiny.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), help="Artifact cache (default $AVTBENCH_CACHE or ~/.cache/avtbench).")
@click.option("--device", default="auto", type=click.Choice(["auto", "cpu", "cuda"]), show_default=True)
@cli_guard(interrupted=INTERRUPTED)
def triplets_command(captioner, clap, keep, no_filter, show, config_file, sets, cache_dir, device) -> None:
    """Generate LG-CAV-MAE's audio-visual-text triplets: caption frames, score by CLAP, keep the top k %."""
    _run(captioner, clap, keep, no_filter, show, config_file, sets, cache_dir, device)


def _run(captioner, clap, keep, no_filter, show, config_file, sets, cache_dir, device) -> None:
    from avtbench import config as cfg
    from avtbench.logs import RunLog
    from avtbench.progress import make_progress
    from avtbench.toolkit import Where, cache_root, configured, method_corpus
    from avtbench.toolkit import device as resolved_device

    from .report import summary_lines
    from .triplets import generate

    if keep is not None and not 0 < keep <= 100:
        raise UserError(f"--keep must be a percentage in (0, 100], got {keep:g}; e.g. --keep 30")
    if show < 0:
        raise UserError(f"--show must be 0 or more, got {show}")
    document = cfg.merge(cfg.load_yaml(config_file) if config_file else {}, cfg.parse_sets(sets))
    unknown = sorted(set(document) - {SECTION, "data"})
    if unknown:
        raise UserError(f"avtbench triplets reads only the lg_cav_mae and data sections, not {unknown[0]!r}; drop that --set")
    values = dict(document.get(SECTION, {}))
    values.update({k: v for k, v in (("captioner", captioner), ("clap", clap), ("keep", keep)) if v is not None})
    if no_filter:
        values["triplets_filter"] = False
    settings = {**document, SECTION: values}
    _, config = configured(SECTION, settings)
    where = Where(cache=cache_dir, device=device)
    with RunLog() as out:
        corpus = method_corpus(SECTION, settings, where)
        with make_progress(out.bars, out.stage_lines) as progress:
            made = generate(corpus, config, cache_root(where), resolved_device(where), progress)
    for line in summary_lines(made.triplets.folder, made.triplets.provenance, corpus, made.cached, show):
        click.echo(line)
