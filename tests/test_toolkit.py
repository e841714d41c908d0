"""`avtbench.toolkit`, the helpers plugins share: the seeded RNG context, the synthetic CLIP/CLAP
recipes (one place, so methods share cached backbones), the commands' error guard; and the JSON
forms of `avtbench.hashing` that keep every cache key computed before them."""
from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from avtbench.errors import UserError
from avtbench.hashing import SPACED, hash_json, json_digest
from avtbench.toolkit import cli_guard
from avtbench_plugins.methods.cmcr.embeddings import KEY_FORM
from avtbench_plugins.methods.lg_cav_mae import captioner


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
