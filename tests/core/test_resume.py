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
    cvkit.train(RunConfig(**TINY, epochs=3, keep_checkpoints=2, augmentations=["flip", "crop"],
                          deterministic=True, out=str(run)), verbose=0)
    return run


def same_weights(a, b) -> bool:
    from cvkit.models.assembly import load_model

    first, second = (load_model(path).get_weights() for path in (a, b))
    return len(first) == len(second) and all(x.tobytes() == y.tobytes() for x, y in zip(first, second))


def test_a_resumed_run_ends_bit_identical_to_the_uninterrupted_one(finished_run, tmp_path):
    """A run that lost its last epoch (as after a crash) redoes it with the same batches and draws."""
    import shutil

    from tensorflow.python.framework import config as tf_config

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    for lost in ("model.keras", "metrics.json", "checkpoints/epoch-003.keras"):
        (run / lost).unlink()
    (run / "checkpoints" / "state.json").write_text(json.dumps({"epoch": 2, "checkpoint": "epoch-002.keras"}))
    resume(run, {}, verbose=0)
    assert same_weights(run / "checkpoints" / "epoch-003.keras", finished_run / "checkpoints" / "epoch-003.keras")
    assert same_weights(run / "model.keras", finished_run / "model.keras")
    assert (run / "metrics.csv").read_text() == (finished_run / "metrics.csv").read_text()
    assert [entry["from_epoch"] for entry in json.loads((run / "manifest.json").read_text())["resumes"]] == [2]
    assert not tf_config.is_op_determinism_enabled()  # --deterministic is undone after the run


def test_rerunning_a_runs_config_json_gives_bit_identical_weights(finished_run, tmp_path):
    from cvkit.training.config import read_config_file, split_run_facts

    settings, facts = split_run_facts(read_config_file(finished_run / "config.json"))
    assert "out" not in settings and facts["class_names"] and facts["num_train"]
    stored = RunConfig.from_dict(json.loads((finished_run / "config.json").read_text()))  # facts and all
    assert stored == RunConfig.from_dict({**settings, "out": str(finished_run)})
    with pytest.raises(CvkitError, match=r"class_names=.* cannot be reproduced"):
        cvkit.train(RunConfig.from_dict({**settings, "out": str(tmp_path / "refused")}), verbose=0,
                    facts={**facts, "class_names": facts["class_names"][::-1]})
    assert not (tmp_path / "refused").exists()
    rerun = tmp_path / "rerun"
    cvkit.train(RunConfig.from_dict({**settings, "out": str(rerun)}), verbose=0, facts=facts)
    assert same_weights(rerun / "model.keras", finished_run / "model.keras")


def test_the_manifest_records_versions_and_the_scaled_learning_rate(finished_run):
    import keras

    from cvkit.training.engine import make_schedule

    written = json.loads((finished_run / "manifest.json").read_text())
    assert written["packages"]["keras"] == keras.__version__ and written["backend"] == "tensorflow"
    assert written["plugins"]["cvkit-lenet"] and written["devices"] and written["deterministic"] is True
    assert (written["global_batch_size"], written["scaled_learning_rate"]) == (16, 0.001)
    linear = RunConfig(batch_size=64, learning_rate=0.1, lr_scale="linear", schedule="constant")
    assert linear.scaled_learning_rate() == make_schedule(linear, steps_per_epoch=10) == 0.1 * 64 / 256
    with pytest.raises(CvkitError, match="unknown --lr-scale 'sqrt'"):
        RunConfig(lr_scale="sqrt").validate()


def test_early_stopping_and_plateau_state_survive_a_resume(tmp_path):
    import keras

    from cvkit.training.engine import AtomicCheckpoint
    from cvkit.training.reproduce import RestoreCallbackStates, callback_states

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    stopping, plateau = keras.callbacks.EarlyStopping(patience=5), keras.callbacks.ReduceLROnPlateau()
    stopping.wait, stopping.best, stopping.best_epoch, plateau.wait, plateau.best = 2, 0.25, 3, 1, 0.5
    checkpoint = AtomicCheckpoint(tmp_path, states=lambda: callback_states([stopping, plateau]))
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(5, {"loss": 1.0})
    saved = json.loads((tmp_path / "checkpoints" / "state.json").read_text())["callbacks"]
    fresh = [keras.callbacks.EarlyStopping(patience=5), keras.callbacks.ReduceLROnPlateau()]
    for callback in fresh + [RestoreCallbackStates(fresh, saved, tmp_path / "checkpoints")]:
        callback.set_model(model)
        callback.on_train_begin()
    assert (fresh[0].wait, fresh[0].best, fresh[0].best_epoch) == (2, 0.25, 3)
    assert (fresh[1].wait, fresh[1].best) == (1, 0.5)


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


def test_epoch_reseeding_keeps_tensorflows_global_seed_and_kernel_cache():
    """Setting TensorFlow's global seed clears its eager kernel cache, and every later training
    step of the process ran 2-3x slower; EpochSeeds reseeds Python, NumPy and the model's layers only."""
    import random

    import keras
    import numpy as np
    import tensorflow as tf

    from cvkit.training.reproduce import EpochSeeds, epoch_seed

    tf.random.set_seed(1234)
    reseed = EpochSeeds(7)
    reseed.set_model(keras.Sequential([keras.Input((2,)), keras.layers.Dropout(0.5, seed=1)]))
    reseed.on_epoch_begin(3)
    assert tf.compat.v1.get_seed(None)[0] == 1234
    drawn = (random.random(), np.random.rand())
    random.seed(epoch_seed(7, 3))
    np.random.seed(epoch_seed(7, 3))
    assert drawn == (random.random(), np.random.rand())
