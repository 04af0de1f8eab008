"""Checkpoint ensembles and weight averaging on one tiny trained run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import cvkit
from cvkit.errors import CvkitError
from cvkit.training.config import RunConfig


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble") / "run"
    cvkit.train(RunConfig(arch="resnet18", dataset="shapes:96", epochs=4, batch_size=16, image_size=32, keep_checkpoints=4,
                          backbone_params=dict(cvkit.get_backbone("resnet18").tiny), out=str(out)), verbose=0)
    return out


def _only(outputs):
    """The classification head's one output (a dict of one)."""
    (value,) = outputs.values() if isinstance(outputs, dict) else (outputs,)
    return value


def _checkpoint(run, epoch):
    return cvkit.load_model(run / "checkpoints" / f"epoch-{epoch:03d}.keras")


def _validation(run):
    from cvkit.training.ensemble import _datasets, _run_context

    model, plan, _ = _run_context(run)
    images, labels = zip(*((x.numpy(), _only(y).numpy())
                           for x, y in _datasets(plan, model)[1]))
    return np.concatenate(images), np.concatenate(labels).reshape(-1)


def test_averaged_weights_are_the_mean_of_the_checkpoints(run):
    from cvkit.training.ensemble import averaged_model

    model, chosen, _ = averaged_model(run, last=3)
    assert [c.epoch for c in chosen] == [2, 3, 4]
    members = [_checkpoint(run, e).get_weights() for e in (2, 3, 4)]
    names = [w.path for w in model.weights]
    moved = 0
    for name, got, *values in zip(names, model.get_weights(), *members):
        np.testing.assert_allclose(got, np.mean(values, axis=0), rtol=1e-6, atol=1e-7, err_msg=name)
        moved += not np.allclose(got, values[-1])
    assert moved > len(names) // 2  # the mean is not just the last checkpoint
    assert any("moving_mean" in n for n in names)


def test_ensemble_predicts_the_mean_and_reports_recomputable_numbers(run):
    from cvkit.training.ensemble import MeanOfModels, ensemble_run

    members = [_checkpoint(run, e) for e in (3, 4)]
    images, labels = _validation(run)
    each = [_only(m.predict(images, verbose=0)) for m in members]
    mean = _only(MeanOfModels(members)(images))
    np.testing.assert_allclose(np.asarray(mean), np.mean(each, axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(each[0], each[1])

    result = ensemble_run(run, 2)
    assert result.checkpoints == ["epoch-003.keras", "epoch-004.keras"]
    assert result.combined["accuracy"] == pytest.approx(np.mean(np.argmax(np.mean(each, axis=0), -1) == labels), abs=1e-6)
    assert result.last["accuracy"] == pytest.approx(np.mean(np.argmax(each[1], -1) == labels), abs=1e-6)
    assert result.gain()["accuracy"] == pytest.approx(result.combined["accuracy"] - result.last["accuracy"])


def test_average_writes_a_model_that_loads_evaluates_and_can_replace_the_runs(run, tmp_path):
    from cvkit.training.ensemble import average_run

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    before = (copy / "model.keras").read_bytes()
    result = average_run(copy, last=3, replace=True)
    images, labels = _validation(copy)
    averaged = cvkit.load_model(copy / "averaged.keras")
    predicted = np.argmax(_only(averaged.predict(images, verbose=0)), -1)
    assert result.combined["accuracy"] == pytest.approx(np.mean(predicted == labels), abs=1e-6)
    last = np.argmax(_only(_checkpoint(copy, 4).predict(images, verbose=0)), -1)
    assert result.last["accuracy"] == pytest.approx(np.mean(last == labels), abs=1e-6)
    # --replace: evaluate uses the averaged model; the old one is kept
    assert (copy / "model.before-average.keras").read_bytes() == before
    assert (copy / "model.keras").read_bytes() == (copy / "averaged.keras").read_bytes()
    assert json.loads((copy / "metrics.json").read_text())["validation"] == result.combined
    assert cvkit.evaluate(copy)["accuracy"] == pytest.approx(result.combined["accuracy"], abs=1e-6)


def test_best_ranks_by_the_validation_metric_and_keeps_those_checkpoints(run, tmp_path):
    from cvkit.training.checkpoints import mark_kept, select_best

    copy = tmp_path / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("*.keras"))
    for epoch in range(1, 5):
        (copy / "checkpoints" / f"epoch-{epoch:03d}.keras").write_bytes(b"")
    (copy / "metrics.csv").write_text("epoch,accuracy,loss,val_accuracy,val_loss\n"
                                      "0,0.1,2,0.50,1\n1,0.2,2,0.90,1\n2,0.3,2,0.40,1\n3,0.4,2,0.70,1\n")
    chosen, metric = select_best(copy, 2, "classification")
    assert metric == "val_accuracy" and [c.epoch for c in chosen] == [2, 4]
    mark_kept(copy, chosen)
    assert json.loads((copy / "checkpoints" / "keep.json").read_text()) == {"keep": ["epoch-002.keras", "epoch-004.keras"]}


def test_bad_input_is_one_line(run, tmp_path):
    from cvkit.training.ensemble import average_run, ensemble_run

    cases = [
        (lambda: average_run(tmp_path, last=2), "not a cvkit run directory"),
        (lambda: average_run(run, last=0), "--last must be at least 1"),
        (lambda: ensemble_run(run, 5), "--ensemble 5 asks for more checkpoints"),
        (lambda: average_run(run, last=2, best=2), "pass only one of them"),
    ]
    for call, fragment in cases:
        with pytest.raises(CvkitError, match=fragment) as caught:
            call()
        assert "\n" not in str(caught.value)

    pruned = tmp_path / "pruned"
    shutil.copytree(run, pruned)
    (pruned / "checkpoints" / "epoch-001.keras").unlink()
    with pytest.raises(CvkitError, match=r"keeps \(3: epoch-002.keras"):
        average_run(pruned, last=4)
    from cvkit.testing.models import create_tiny_model

    create_tiny_model("vgg11", num_classes=4).save(pruned / "checkpoints" / "epoch-003.keras")
    with pytest.raises(CvkitError, match="epoch-003.keras is a vgg11 model"):
        ensemble_run(pruned, 2)
