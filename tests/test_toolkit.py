"""`avtbench.toolkit`, the helpers plugins share: the seeded RNG context, the synthetic CLIP/CLAP
recipes (one place, so methods share cached backbones), the commands' error guard; and the JSON
forms of `avtbench.hashing` that keep every cache key computed before them."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import click
import pytest
import torch
from click.testing import CliRunner

from avtbench import config as cfg
from avtbench.backbones.synthetic import synth_key
from avtbench.errors import UserError
from avtbench.hashing import SPACED, hash_json, json_digest
from avtbench.toolkit import cli_guard, seeded_rng, synthetic_clap_recipe, synthetic_clip_recipe
from avtbench.toolkit.rng import cuda_devices
from avtbench_plugins.methods.cmcr.config import CMCRConfig
from avtbench_plugins.methods.cmcr.embeddings import KEY_FORM
from avtbench_plugins.methods.lg_cav_mae import captioner
from avtbench_plugins.methods.lg_cav_mae.config import LGCavMaeConfig
from avtbench_plugins.methods.vip_ant.config import VipAntConfig

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"


# ---------------------------------------------------------------- seeded_rng

def test_seeded_rng_draws_from_the_seed_alone_and_restores_the_caller_state():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with seeded_rng(7):
        first = torch.rand(4)
    assert torch.equal(torch.get_rng_state(), before)
    torch.rand(10)  # the caller's draws never shift what the block draws
    with seeded_rng(7):
        again = torch.rand(4)
    assert torch.equal(first, again)
    assert torch.equal(first, torch.rand(4, generator=torch.Generator().manual_seed(7)))


def test_seeded_rng_restores_the_state_when_the_block_raises():
    before = torch.get_rng_state()
    with pytest.raises(RuntimeError), seeded_rng(3):
        torch.rand(5)
        raise RuntimeError("boom")
    assert torch.equal(torch.get_rng_state(), before)


def test_only_a_cuda_device_is_forked_besides_the_cpu():
    assert cuda_devices(None) == [] and cuda_devices("cpu") == []
    assert cuda_devices("cuda:1") == [1]


# ---------------------------------------------------------------- recipes

def _configs(preset: str, **sizes: int) -> tuple[CMCRConfig, VipAntConfig, LGCavMaeConfig]:
    def only(word: str) -> dict[str, int]:
        return {k: v for k, v in sizes.items() if word in k}

    return (cfg.build(CMCRConfig, {"preset": preset, **sizes}, "cmcr"),
            cfg.build(VipAntConfig, {"preset": preset, **only("clip")}, "vip_ant"),
            cfg.build(LGCavMaeConfig, {"preset": preset, **only("clap")}, "lg_cav_mae"))


# synth_key(kind, recipe, "f" * 16, ["a dog barks"]) as the methods' own copies of the recipes gave it
# before they moved here: a changed recipe would orphan every cached synthetic backbone.
PINNED = {
    ("default", None): ("b71e7fae4570ab71", "8918a631b0f98789"),
    ("default", 128): ("239ecfdd47039a38", "355a9d79530b28af"),
    ("tiny", None): ("573882a557c22948", "c06aa0c7c5e2641f"),
    ("tiny", 128): ("23763d4d0d6315f0", "e872b289d4fd7018"),
}


@pytest.mark.parametrize("preset, hidden", list(PINNED))
def test_methods_at_equal_settings_share_one_recipe_and_its_cache_key(preset, hidden):
    sizes = {"synth_clip_hidden": hidden, "synth_clap_hidden": hidden} if hidden else {}
    cmcr, vip_ant, lg_cav_mae = _configs(preset, **sizes)
    clip, clap = synthetic_clip_recipe(cmcr), synthetic_clap_recipe(cmcr)
    assert synthetic_clip_recipe(vip_ant) == clip and synthetic_clap_recipe(lg_cav_mae) == clap
    keys = (synth_key("clip", clip, "f" * 16, ["a dog barks"]), synth_key("clap", clap, "f" * 16, ["a dog barks"]))
    assert keys == PINNED[preset, hidden]
    if hidden == 128:
        assert (clip.vision_heads, clip.text_heads, clap.text_heads, clap.audio_heads) == (4, 4, 4, (2, 4))


def test_no_plugin_builds_a_synthetic_clip_or_clap_recipe_itself():
    """The cache rule is held by code: a recipe built elsewhere could drift from the shared one."""
    built = [f"{path.relative_to(PLUGINS)}:{node.lineno}" for path in PLUGINS.rglob("*.py")
             for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
             and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("SynthClipConfig", "SynthClapConfig")]
    assert built == []


# ---------------------------------------------------------------- cli_guard

def _command(raise_what: BaseException | None, **guard: str) -> click.Command:
    @click.command()
    @cli_guard(**guard) if guard else cli_guard
    def command() -> None:
        if raise_what is not None:
            raise raise_what
        click.echo("done")

    return command


def test_cli_guard_turns_a_user_error_into_one_line_and_exit_2():
    result = CliRunner().invoke(_command(UserError("no such thing; try another")))
    assert result.exit_code == 2 and result.stderr == "error: no such thing; try another\n"
    assert result.stdout == ""


def test_cli_guard_says_what_is_kept_on_ctrl_c_and_exits_130():
    result = CliRunner().invoke(_command(KeyboardInterrupt()))
    assert result.exit_code == 130 and result.stderr.startswith("interrupted: finished cells are saved")
    custom = CliRunner().invoke(_command(KeyboardInterrupt(), interrupted="interrupted: nothing is kept"))
    assert custom.exit_code == 130 and custom.stderr == "interrupted: nothing is kept\n"


def test_cli_guard_leaves_a_good_run_and_other_errors_alone():
    assert CliRunner().invoke(_command(None)).stdout == "done\n"
    failed = CliRunner().invoke(_command(ValueError("a bug")))
    assert failed.exit_code == 1 and isinstance(failed.exception, ValueError)


def test_a_plugin_command_gets_the_guard():
    from avtbench_plugins.methods.lg_cav_mae.command import triplets_command

    result = CliRunner().invoke(triplets_command, ["--keep", "150"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --keep must be a percentage in (0, 100]")


def test_importing_the_toolkit_imports_no_torch():
    code = "import sys, avtbench.toolkit, avtbench.cli\nassert 'torch' not in sys.modules, 'torch was imported'\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# ---------------------------------------------------------------- hashing forms

OBJ = {"b": 1, "a": [1, "x", {"d": 2.5, "c": None}]}


def test_json_forms_keep_the_digests_computed_before_them():
    assert hash_json(OBJ) == "ec9eccf1099ed251"  # canonical: cell hashes
    assert hash_json(OBJ, form=SPACED) == "a3ae7d98342220c0"  # sha256(json.dumps(OBJ, sort_keys=True))[:16]
    # cmcr's embedding cache key starts from json.dumps of its dict, keys in the order written
    embeddings = {"v": 2, "clip": "k1", "clap": "k2", "texts": ["a dog", "rain"]}
    assert json_digest(embeddings, KEY_FORM).hexdigest() == \
        "5908d4b08f73c8d429f335544d8e662a403676c0183fdb97c08330010848e2e8"
    assert captioner.synth_key(captioner.SynthCaptionerConfig(), "f" * 16, ["a dog barks"]) == "7e67c4a1e5018a2b"
