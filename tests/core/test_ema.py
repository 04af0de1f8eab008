"""Model EMA (--ema): the warmed-up average, its validation, the saved model and resume."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError
from cvkit.training.config import RunConfig

TINY_DENSENET = {"blocks": [1, 1, 1, 1], "growth_rate": 4}
EMA_RUN = dict(arch="densenet", dataset="shapes:64", batch_size=16, image_size=32, backbone_params=TINY_DENSENET,
               ema=0.999, keep_checkpoints=2)


def tiny_model():
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model


def tiny_data(steps: int = 12):
    rng = np.random.default_rng(0)
    return rng.normal(size=(4 * steps, 4)).astype("float32"), rng.normal(size=(4 * steps, 1)).astype("float32")


class WeightTrail:
    """Records the float weights after every step (what the average is taken of)."""

    def __init__(self):
        import keras

        class Trail(keras.callbacks.Callback):
            def on_train_batch_end(inner, batch, logs=None):
                self.steps.append([np.array(w) for w in inner.model.weights])

        self.steps: list[list[np.ndarray]] = []
        self.callback = Trail()


@pytest.mark.parametrize("warmup", [True, False])
def test_the_average_warms_up_so_early_steps_follow_the_weights(warmup):
    from cvkit.training.ema import WeightEma

    model = tiny_model()
    start = [np.array(w) for w in model.weights]
    trail, ema = WeightTrail(), WeightEma(0.999, warmup=warmup)
    x, y = tiny_data()
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[ema, trail.callback])
    expected = [w.copy() for w in start]
    for step, weights in enumerate(trail.steps, start=1):
        decay = min(0.999, (1 + step) / (10 + step)) if warmup else 0.999
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights)]
    averages = [np.array(a) for a in ema.averages]
    for got, want in zip(averages, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    last = trail.steps[-1]
    moved = sum(np.abs(w - s).sum() for w, s in zip(last, start))
    behind = sum(np.abs(w - a).sum() for w, a in zip(last, averages))
    if warmup:
        assert behind < 0.25 * moved  # near the trained weights, not the random start
    else:
        assert behind > 0.9 * moved  # Keras' fixed decay: still the random start


def test_a_resumed_run_continues_the_stored_average(tmp_path):
    from cvkit.training.ema import WeightEma, ema_file

    model = tiny_model()
    x, y = tiny_data()
    first = WeightEma(0.9, tmp_path)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[first])
    assert ema_file(tmp_path, 1).is_file()
    stored = [np.array(a) for a in first.averages]
    assert any(not np.allclose(s, np.array(w)) for s, w in zip(stored, model.weights))
    resumed = WeightEma(0.9, tmp_path, first_epoch=1)
    resumed.set_model(model)
    resumed.on_train_begin()
    for got, want in zip(resumed.averages, stored):
        np.testing.assert_array_equal(np.array(got), want)
    missing = WeightEma(0.9, tmp_path, first_epoch=2)
    missing.set_model(model)
    with pytest.raises(CvkitError, match=r"ema-epoch-002\.npz is missing.*--ema"):
        missing.on_train_begin()


@pytest.fixture(scope="module")
def ema_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("ema") / "run"
    cvkit.train(RunConfig(**EMA_RUN, epochs=2, out=str(run)), verbose=0)
    return run


def rows(run):
    with open(run / "metrics.csv") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_validation_reports_the_weights_and_their_average(ema_run):
    table = rows(ema_run)
    assert [int(r["epoch"]) for r in table] == [0, 1]
    for row in table:
        assert float(row["val_accuracy"]) >= 0 and float(row["val_ema_accuracy"]) >= 0
        assert float(row["val_ema_loss"]) > 0


@pytest.mark.slow
def test_the_saved_model_is_the_average_with_recalibrated_batch_norm(ema_run):
    from cvkit.training.ema import averaged_variables, ema_file

    saved = cvkit.load_model(ema_run / "model.keras")
    raw = cvkit.load_model(ema_run / "checkpoints" / "epoch-002.keras")
    with np.load(ema_file(ema_run, 2)) as stored:
        average = [stored[f"w{i}"] for i in range(len(stored.files))]
    pairs = list(zip(averaged_variables(saved), average, averaged_variables(raw)))
    trainable = [(np.array(s), a, np.array(r)) for s, a, r in pairs if s.trainable]
    assert trainable and all(np.array_equal(s, a) for s, a, _ in trainable)
    assert any(not np.allclose(s, r) for s, _, r in trainable)  # not the training weights
    statistics = [(np.array(s), a) for s, a, _ in pairs if "moving" in s.path]
    assert statistics and any(not np.allclose(s, a) for s, a in statistics)  # recalibrated, not averaged


@pytest.mark.slow
def test_resume_keeps_the_average_going(ema_run, tmp_path):
    from cvkit.training.resume import resume

    run = tmp_path / "run"
    shutil.copytree(ema_run, run)
    resume(run, {"epochs": 3}, verbose=0)
    table = rows(run)
    assert [int(r["epoch"]) for r in table] == [0, 1, 2] and all(r["val_ema_accuracy"] for r in table)
    kept = sorted(p.name for p in (run / "checkpoints").glob("ema-epoch-*.npz"))
    assert kept[-1] == "ema-epoch-003.npz" and len(kept) <= 3


def test_ema_and_strategy_values_are_checked():
    with pytest.raises(CvkitError, match=r"EMA decay must be between 0 and 1, got 1\.5"):
        RunConfig(ema=1.5).validate()
    with pytest.raises(CvkitError, match=r"unknown strategy 'mirorred' \(did you mean 'mirrored'\?\); choose one of none, mirrored"):
        RunConfig(strategy="mirorred").validate()
    RunConfig(ema=0.999, strategy="mirrored").validate()
