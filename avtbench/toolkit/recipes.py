"""The recipes of the synthetic backbones methods share, `synth://clip` and `synth://clap`.

A synthetic backbone is cached under a key that hashes its recipe (with its training data and
vocabulary, `avtbench.backbones.synthetic.synth_key`), so two methods share one cached backbone
only when they build equal recipes. Every method that trains one builds it here, from its own
settings, instead of keeping a copy of the recipe that must be kept equal by hand.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from avtbench.backbones.clap import SynthClapConfig
    from avtbench.backbones.clip import SynthClipConfig


class SynthClipSettings(Protocol):
    """The `synth://clip` settings of a method's config (field names as the built-ins declare them)."""

    synth_clip_image_size: int
    synth_clip_hidden: int
    synth_clip_layers: int
    synth_clip_epochs: int
    synth_clip_seed: int


class SynthClapSettings(Protocol):
    """The `synth://clap` settings of a method's config."""

    synth_clap_hidden: int
    synth_clap_layers: int
    synth_clap_epochs: int
    synth_clap_seed: int


def attention_heads(width: int) -> int:
    """Heads of a tower `width` wide: 4 from 128 on (when they divide it), else 2."""
    return 4 if width % 4 == 0 and width >= 128 else 2


def synthetic_clip_recipe(settings: SynthClipSettings) -> "SynthClipConfig":
    """`synth://clip` at these settings: both towers `synth_clip_hidden` wide and `synth_clip_layers`
    deep, the image tower on `synth_clip_image_size` pixels, projected to the same width."""
    from avtbench.backbones.clip import SynthClipConfig
    from avtbench.backbones.contrastive import ContrastiveSchedule

    hidden, layers, heads = settings.synth_clip_hidden, settings.synth_clip_layers, attention_heads(settings.synth_clip_hidden)
    return SynthClipConfig(image_size=settings.synth_clip_image_size, vision_hidden=hidden, vision_layers=layers,
                           vision_heads=heads, text_hidden=hidden, text_layers=layers, text_heads=heads,
                           projection_dim=hidden,
                           schedule=ContrastiveSchedule(epochs=settings.synth_clip_epochs, seed=settings.synth_clip_seed))


def synthetic_clap_recipe(settings: SynthClapSettings) -> "SynthClapConfig":
    """`synth://clap` at these settings: text tower and projection `synth_clap_hidden` wide and
    `synth_clap_layers` deep, audio patches half as wide (HTSAT heads (2, 4) from 16 on, else (1, 2))."""
    from avtbench.backbones.clap import SynthClapConfig
    from avtbench.backbones.contrastive import ContrastiveSchedule

    hidden = settings.synth_clap_hidden
    patch = hidden // 2
    audio_heads = (2, 4) if patch >= 16 and patch % 2 == 0 else (1, 2)
    return SynthClapConfig(patch_embeds_hidden=patch, audio_heads=audio_heads, text_hidden=hidden,
                           text_layers=settings.synth_clap_layers, text_heads=attention_heads(hidden),
                           projection_dim=hidden,
                           schedule=ContrastiveSchedule(epochs=settings.synth_clap_epochs, seed=settings.synth_clap_seed))
