"""`cvkit train --freeze-stages/--unfreeze-at/--finetune-lr-factor/--overfit-batches` from the command line."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_user_error, run_cli, run_cli_here

TRAIN = ("train", "-a", "lenet5", "-d", "shapes:64", "--batch-size", "8", "--image-size", "32")


@pytest.mark.parametrize("args,fragments", [
    (("--epochs", "3", "--unfreeze-at", "2"), ("--unfreeze-at needs --freeze-stages",)),
    (("--epochs", "3", "--freeze-stages", "1", "--unfreeze-at", "4"), ("--unfreeze-at 4 is beyond --epochs 3",)),
    (("--freeze-stages", "-1"), ("--freeze-stages must be a whole number >= 0",)),
    (("--freeze-stages", "1", "--unfreeze-at", "2", "--finetune-lr-factor", "0"), ("--finetune-lr-factor must be in (0, 1]",)),
    (("--overfit-batches", "0"), ("--overfit-batches must be a whole number >= 1",)),
    (("--epochs", "1", "--freeze-stages", "2"), ("--freeze-stages 2 is more than the 1 stage of lenet5",)),
])
def test_bad_finetune_settings_get_one_line_and_write_nothing(tmp_path, args, fragments):
    out = tmp_path / "run"
    assert_user_error(run_cli_here(*TRAIN, "--out", str(out), *args), *fragments)
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.heavy  # tests/core/test_finetune.py checks the overfit mode in process; this is the CLI run
def test_overfit_batches_drives_the_loss_near_zero_without_augmentation(tmp_path):
    out = tmp_path / "run"
    result = run_cli(*TRAIN, "--epochs", "30", "--lr", "0.003", "--optimizer", "adamw", "--weight-decay", "0.01",
                     "--aug", "flip,jitter", "--overfit-batches", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr[-2000:]
    verdict = result.stdout.strip().splitlines()[-1]
    assert verdict.startswith("overfit check on 2 fixed batches") and "near zero: the model" in verdict, verdict
    first, final = (float(value) for value in verdict.split("training loss ")[1].split(" in ")[0].split(" -> "))
    assert final < 0.05 < first, verdict
    config = json.loads((out / "config.json").read_text())
    assert (config["overfit_batches"], config["augmentations"], config["weight_decay"]) == (2, [], 0.0)
