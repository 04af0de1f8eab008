"""Resuming runs, checkpoint retention and label smoothing (the in-process side; the SIGKILL test is in tests/cli)."""

from __future__ import annotations

import csv
import json

import pytest

import cvkit
from cvkit import CvkitError
from cvkit.training.config import RunConfig
from cvkit.training.resume import ResumePoint, resume, resume_point

TINY = dict(arch="lenet5", dataset="shapes:64", batch_size=16, image_size=32)


def epochs_in(run) -> list[int]:
    with open(run / "metrics.csv") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("resume") / "run"
    cvkit.train(RunConfig(**TINY, epochs=3, keep_checkpoints=2, out=str(run)), verbose=0)
    return run


def test_only_the_last_checkpoints_are_kept(finished_run):
    kept = sorted(p.name for p in (finished_run / "checkpoints").glob("epoch-*.keras"))
    assert kept == ["epoch-002.keras", "epoch-003.keras"]
    assert not list((finished_run / "checkpoints").glob(".*"))  # no temporary files left


def test_training_longer_continues_the_optimizer_and_the_metrics(finished_run, tmp_path):
    import shutil

    import keras

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    result = resume(run, {"epochs": 5}, verbose=0)
    assert result.run_dir == run and "accuracy" in result.validation
    assert epochs_in(run) == [0, 1, 2, 3, 4]
    assert json.loads((run / "config.json").read_text())["epochs"] == 5
    steps = -(-json.loads((run / "config.json").read_text())["num_train"] // 16)
    restored = keras.saving.load_model(run / "checkpoints" / "epoch-005.keras", compile=True)
    assert int(restored.optimizer.iterations) == 5 * steps  # 3 epochs restored + 2 trained


def test_a_crash_after_the_last_epoch_resumes_to_the_final_save(finished_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "model.keras").unlink()
    (run / "metrics.json").unlink()
    resume(run, {}, verbose=0)
    assert (run / "model.keras").is_file() and (run / "metrics.json").is_file()
    assert epochs_in(run) == [0, 1, 2]


def test_resume_refuses_a_finished_run_and_names_the_way_to_train_longer(finished_run):
    with pytest.raises(CvkitError, match=r"already finished its 3 epochs.*--epochs N with N larger than 3"):
        resume_point(finished_run, {})


def test_resume_refuses_contradicting_settings(finished_run):
    with pytest.raises(CvkitError, match=r"arch='resnet18' contradicts .* arch='lenet5'.*only --epochs"):
        resume_point(finished_run, {"arch": "resnet18", "epochs": 9})
    resume_point(finished_run, {"arch": "lenet5", "epochs": 9})  # the stored value itself is no contradiction


def test_resume_refuses_a_directory_that_is_not_a_run(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CvkitError, match="not a cvkit run directory"):
        resume_point(tmp_path, {})
    with pytest.raises(CvkitError, match="no such directory"):
        resume_point(tmp_path / "missing", {})
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_metrics_rows_after_the_checkpoint_are_dropped(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text("epoch,loss\n0,1.0\n1,0.8\n2,0.7\n")
    ResumePoint(tmp_path, 2, tmp_path / "x.keras").trim_metrics(path)
    assert path.read_text() == "epoch,loss\n0,1.0\n1,0.8\n"


def test_label_smoothing_reaches_the_head_and_config_json(tmp_path):
    run = tmp_path / "run"
    cvkit.train(RunConfig(**TINY, epochs=1, label_smoothing=0.1, out=str(run)), verbose=0)
    assert json.loads((run / "config.json").read_text())["label_smoothing"] == 0.1
    plan = cvkit.training.plan.resolve_plan(RunConfig(**TINY, label_smoothing=0.1))
    assert plan.head_params["label_smoothing"] == 0.1


def test_label_smoothing_is_refused_for_heads_without_it_and_out_of_range():
    with pytest.raises(CvkitError, match="head 'fcn32s' does not take label smoothing"):
        cvkit.training.plan.resolve_plan(RunConfig(arch="lenet5", head="fcn32s", dataset="shapes", label_smoothing=0.1))
    with pytest.raises(CvkitError, match=r"label smoothing must be in \[0, 1\)"):
        RunConfig(label_smoothing=1.0).validate()
    with pytest.raises(CvkitError, match="keep checkpoints must be a positive whole number"):
        RunConfig(keep_checkpoints=0).validate()


def test_atomic_writes_sync_the_file_and_its_directory_before_and_after_the_rename(tmp_path, monkeypatch):
    import os

    from cvkit.fileio import write_text_atomic

    synced, real_fsync = [], os.fsync

    def fsync(fd):
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_text_atomic(tmp_path / "state.json", "{}")
    assert len(synced) == 2 and synced[0].startswith(".state.json.") and synced[1] == tmp_path.name
    assert (tmp_path / "state.json").read_text() == "{}" and os.listdir(tmp_path) == ["state.json"]


def test_a_nan_after_a_good_epoch_names_resume(tmp_path, monkeypatch):
    from cvkit.training.engine import AtomicCheckpoint

    checkpoint_epoch = AtomicCheckpoint.on_epoch_end

    def nan_in_epoch_2(self, epoch, logs=None):
        checkpoint_epoch(self, epoch, {**(logs or {}), "loss": float("nan")} if epoch == 1 else logs)

    monkeypatch.setattr(AtomicCheckpoint, "on_epoch_end", nan_in_epoch_2)
    run = tmp_path / "run"
    with pytest.raises(CvkitError, match=rf"NaN in epoch 2.*epoch-001.keras.*cvkit train --resume {run}"):
        cvkit.train(RunConfig(**TINY, epochs=2, out=str(run)), verbose=0)


def test_a_crash_names_resume(tmp_path, monkeypatch, capsys):
    import cvkit.training.run as run_module

    def crash(*args, **kwargs):
        raise RuntimeError("the machine went away")

    monkeypatch.setattr(run_module, "_finish", crash)
    run = tmp_path / "run"
    with pytest.raises(RuntimeError):
        cvkit.train(RunConfig(**TINY, epochs=1, out=str(run)), verbose=0)
    assert f"cvkit train --resume {run}" in capsys.readouterr().err
    assert (run / "checkpoints" / "epoch-001.keras").is_file()


def test_pruning_keeps_the_last_checkpoints_and_those_keep_json_names(tmp_path):
    import json

    from cvkit.training.engine import prune_checkpoints

    for epoch in range(1, 7):
        (tmp_path / f"epoch-{epoch:03d}.keras").write_bytes(b"x")
    (tmp_path / "keep.json").write_text(json.dumps({"keep": ["epoch-002.keras"]}))
    prune_checkpoints(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.glob("epoch-*.keras")) == [
        "epoch-002.keras", "epoch-004.keras", "epoch-005.keras", "epoch-006.keras"]
