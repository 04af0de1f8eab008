"""``cvkit train --resume``: a run killed with SIGKILL in the middle of an epoch finishes as if uninterrupted."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import assert_user_error, run_cli, run_cli_here

EPOCHS = 5
TRAIN = ("train", "-a", "lenet5", "-d", "shapes:1600", "--epochs", str(EPOCHS), "--batch-size", "16",
         "--image-size", "32", "--keep-checkpoints", "2", "--aug", "flip,crop", "--deterministic")


def finished_epochs(run: Path) -> int:
    try:
        return json.loads((run / "checkpoints" / "state.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def csv_epochs(run: Path) -> list[int]:
    with open(run / "metrics.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def wait_for_epoch(run: Path, process: subprocess.Popen, epoch: int, timeout: float = 180) -> float:
    deadline = time.monotonic() + timeout
    while finished_epochs(run) < epoch:
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, f"epoch {epoch} did not finish"
        time.sleep(0.02)
    return time.monotonic()


def snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def killed_and_resumed(tmp_path_factory):
    """A run killed halfway through epoch 3, refused by --out, then resumed."""
    run = tmp_path_factory.mktemp("killed") / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen([sys.executable, "-m", "cvkit_cli.main", *TRAIN, "--out", str(run)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = wait_for_epoch(run, process, 1)
        second = wait_for_epoch(run, process, 2)
        time.sleep((second - first) / 2)  # about the middle of epoch 3
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    before = {"state": finished_epochs(run), "csv": csv_epochs(run)}
    assert before["state"] < EPOCHS and not (run / "model.keras").exists(), "killed too late"
    out_refused = run_cli_here(*TRAIN, "--out", str(run))
    resumed = run_cli("train", "--resume", str(run))
    return run, before, out_refused, resumed


def test_a_killed_run_resumes_and_finishes_with_every_epoch_once(killed_and_resumed):
    run, before, _, resumed = killed_and_resumed
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    first_resumed = int(re.search(r"Epoch (\d+)/%d" % EPOCHS, resumed.stdout).group(1)) - 1
    assert first_resumed == before["state"]  # from the last complete epoch
    redone = [epoch for epoch in before["csv"] if epoch >= first_resumed]
    assert len(redone) <= 1, (before, first_resumed)
    assert csv_epochs(run) == list(range(EPOCHS))  # every epoch exactly once, in order
    assert (run / "model.keras").is_file()
    assert set(json.loads((run / "metrics.json").read_text())["validation"]) >= {"accuracy", "loss"}
    kept = sorted(p.name for p in (run / "checkpoints").glob("epoch-*.keras"))
    assert kept == [f"epoch-{EPOCHS - 1:03d}.keras", f"epoch-{EPOCHS:03d}.keras"]
    assert len(list((run / "tensorboard").rglob("*.tfevents.*"))) >= 2  # the log continues beside the first


def weights(path: Path) -> list:
    from cvkit.models.assembly import load_model

    return load_model(path).get_weights()


def test_a_killed_deterministic_run_ends_bit_identical_to_an_uninterrupted_one(killed_and_resumed, tmp_path):
    run = killed_and_resumed[0]
    reference = tmp_path / "uninterrupted"
    result = run_cli(*TRAIN, "--out", str(reference))
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("model.keras", f"checkpoints/epoch-{EPOCHS:03d}.keras"):
        for got, want in zip(weights(run / name), weights(reference / name), strict=True):
            assert got.tobytes() == want.tobytes(), name
    assert (run / "metrics.csv").read_text() == (reference / "metrics.csv").read_text()


def test_out_on_an_unfinished_run_suggests_resume(killed_and_resumed):
    run, _, out_refused, _ = killed_and_resumed
    assert_user_error(out_refused, "unfinished run", f"--resume {run}")


@pytest.mark.parametrize("args,fragments", [
    ((), ("already finished its 5 epochs", "--epochs N with N larger than 5")),
    (("--arch", "resnet18"), ("arch='resnet18' contradicts", "only --epochs")),
    (("--epochs", "6", "--lr", "0.5"), ("learning_rate=0.5 contradicts", "learning_rate=0.001")),
])
def test_resume_refuses_bad_input_and_changes_nothing(killed_and_resumed, args, fragments):
    run = killed_and_resumed[0]
    before = snapshot(run)
    assert_user_error(run_cli_here("train", "--resume", str(run), *args), *fragments)
    assert snapshot(run) == before


def test_resume_refuses_a_directory_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert_user_error(run_cli_here("train", "--resume", str(tmp_path)), "not a cvkit run directory")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_train_config_takes_a_runs_config_json_and_refuses_changed_data(killed_and_resumed, tmp_path):
    """The file a run writes is a valid --config (its facts checked, its out ignored)."""
    run = killed_and_resumed[0]
    before = snapshot(run)
    num_train = json.loads((run / "config.json").read_text())["num_train"]
    result = run_cli_here("train", "--config", str(run / "config.json"), "-d", "shapes:600", cwd=tmp_path)
    assert_user_error(result, f"num_train={num_train}", "cannot be reproduced")
    assert snapshot(run) == before and not any(tmp_path.iterdir())
