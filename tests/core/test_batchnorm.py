"""BatchNorm statistics: the saved model scores what its weights score with batch statistics."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from helpers import write_photo_folder

import cvkit
from cvkit.models.batchnorm import batch_norm_layers, recalibrate_batch_norm
from cvkit.training.config import RunConfig


def _accuracy(model, images, labels, training):
    probabilities = model(images, training=training)
    probabilities = probabilities["probabilities"] if isinstance(probabilities, dict) else probabilities
    return float(np.mean(np.argmax(np.asarray(probabilities), axis=-1) == labels))


@pytest.mark.slow
def test_saved_model_scores_like_its_batch_statistics_on_real_photos(tmp_path):
    """A short run on crops of real photos: moving statistics must have caught up with the weights."""
    from cvkit.training.run import load_splits

    write_photo_folder(tmp_path / "photos", per_class=40)
    run = tmp_path / "run"
    spec = cvkit.get_backbone("resnet18")
    config = RunConfig(arch="resnet18", dataset=f"folder:{tmp_path / 'photos'}", image_size=32, epochs=4,
                       batch_size=16, backbone_params=dict(spec.tiny), out=str(run))
    cvkit.train(config, verbose=0)

    saved = cvkit.load_model(run / "model.keras")
    validation = load_splits(config, "classification", 32).validation
    batch = next(iter(validation.batch(1000).as_numpy_iterator()))
    images, labels = batch["images"].astype("float32"), batch["labels"]
    with_saved_statistics = _accuracy(saved, images, labels, training=False)
    # batch statistics over batches of the training size, as the training accuracy saw them
    # (after the line above: a training=True call moves the saved statistics)
    with_batch_statistics = np.mean([_accuracy(saved, images[i:i + 16], labels[i:i + 16], training=True)
                                     for i in range(0, len(labels), 16)])
    assert with_batch_statistics > 0.6, "the run did not learn the photos"
    assert with_saved_statistics >= with_batch_statistics - 0.05, (with_saved_statistics, with_batch_statistics)
    reported = json.loads((run / "metrics.json").read_text())["validation"]["accuracy"]
    assert reported == pytest.approx(with_saved_statistics, abs=1e-6)


def _bn_model(momentum=0.99):
    import keras

    inputs = keras.Input((4, 4, 2))
    x = keras.layers.BatchNormalization(momentum=momentum, name="first_bn")(inputs)
    x = keras.layers.Conv2D(3, 1, name="conv")(x)
    x = keras.layers.BatchNormalization(momentum=momentum, name="second_bn")(x)
    return keras.Model(inputs, x)


def test_recalibration_averages_the_batch_statistics():
    model = _bn_model()
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0 + i, 1.0 + i, (8, 4, 4, 2)).astype("float32") for i in range(3)]
    used = recalibrate_batch_norm(model, batches, max_batches=10)
    assert used == 3
    first = model.get_layer("first_bn")
    expected_mean = np.mean([b.mean(axis=(0, 1, 2)) for b in batches], axis=0)
    expected_variance = np.mean([b.var(axis=(0, 1, 2)) for b in batches], axis=0)
    np.testing.assert_allclose(np.asarray(first.moving_mean), expected_mean, rtol=1e-4)
    np.testing.assert_allclose(np.asarray(first.moving_variance), expected_variance, rtol=1e-3)
    assert first.momentum == 0.99  # restored
    # the second layer sees the first layer's batch-normalised output
    assert not np.allclose(np.asarray(model.get_layer("second_bn").moving_variance), 1.0)


def test_recalibration_stops_at_max_batches_and_keeps_statistics_without_data():
    model = _bn_model()
    batches = [np.full((2, 4, 4, 2), float(i), "float32") for i in range(5)]
    assert recalibrate_batch_norm(model, batches, max_batches=2) == 2
    np.testing.assert_allclose(np.asarray(model.get_layer("first_bn").moving_mean), 0.5)
    assert recalibrate_batch_norm(model, [], max_batches=2) == 0
    np.testing.assert_allclose(np.asarray(model.get_layer("first_bn").moving_mean), 0.5)


def test_every_batch_norm_layer_gets_the_model_momentum_and_keeps_it_when_saved(tmp_path):
    from cvkit.testing import create_tiny_model

    model = create_tiny_model("mobilenet_v2")
    layers = batch_norm_layers(model)
    assert layers and {layer.momentum for layer in layers} == {0.9}
    quick = create_tiny_model("mobilenet_v2", bn_momentum=0.5)
    assert {layer.momentum for layer in batch_norm_layers(quick)} == {0.5}
    assert create_tiny_model("mobilenet_v2", bn_momentum=None).bn_momentum is None  # builders' own
    slow = create_tiny_model("mobilenet_v2", bn_momentum=0.99)
    slow.save(tmp_path / "m.keras")
    loaded = cvkit.load_model(tmp_path / "m.keras")
    assert {layer.momentum for layer in batch_norm_layers(loaded)} == {0.99}


def test_bad_momentum_is_a_user_error():
    from cvkit.training.run import preflight

    with pytest.raises(cvkit.CvkitError, match="BN momentum must be in"):
        preflight(RunConfig(bn_momentum=1.5))
    with pytest.raises(cvkit.CvkitError, match="recalibration batches"):
        preflight(RunConfig(bn_recalibration_batches=-1))


def test_a_run_from_before_bn_momentum_still_evaluates_predicts_and_exports(tmp_path):
    """Old run directories have neither the config keys nor the model's bn_momentum."""
    from PIL import Image

    run = tmp_path / "run"
    spec = cvkit.get_backbone("resnet18")
    cvkit.train(RunConfig(arch="resnet18", dataset="shapes:64", epochs=1, batch_size=16,
                          backbone_params=dict(spec.tiny), out=str(run)), verbose=0)
    config = json.loads((run / "config.json").read_text())
    for key in ("bn_momentum", "bn_recalibration_batches"):
        config.pop(key)
    (run / "config.json").write_text(json.dumps(config))
    _strip_model_key(run / "model.keras", "bn_momentum")

    assert "accuracy" in cvkit.evaluate(run)
    Image.fromarray(np.zeros((40, 24, 3), np.uint8)).save(tmp_path / "x.png")
    model = cvkit.load_model(run / "model.keras")
    assert model.bn_momentum is None
    assert len(cvkit.predict(model, [str(tmp_path / "x.png")])) == 1
    assert (cvkit.export_savedmodel(model, tmp_path / "exported") / "saved_model.pb").is_file()


def _strip_model_key(path, key):
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    assert key in config["config"]
    del config["config"][key]
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_weight_decay_skips_batch_norm_and_bias_variables(optimizer):
    import keras

    from cvkit.training.engine import make_optimizer

    inputs = keras.Input((4, 4, 2))
    x = keras.layers.Conv2D(3, 1, use_bias=True, name="conv")(inputs)
    outputs = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("bn").gamma.assign(np.full(3, 2.0, "float32"))
    model.get_layer("conv").bias.assign(np.full(3, 1.0, "float32"))
    before = {v.path: np.array(v) for v in model.trainable_variables}
    config = RunConfig(optimizer=optimizer, weight_decay=0.5, learning_rate=0.1, schedule="constant")
    opt = make_optimizer(config, steps_per_epoch=1, model=model)
    opt.apply_gradients([(keras.ops.zeros_like(v), v) for v in model.trainable_variables])
    after = {v.path: np.array(v) for v in model.trainable_variables}
    decayed = {path for path in before if not np.allclose(before[path], after[path])}
    assert decayed == {model.get_layer("conv").kernel.path}, decayed


def test_statistics_are_recalibrated_before_each_validation():
    """With Keras' slow momentum, three steps leave the moving mean near 0; the callback sets it."""
    import keras

    from cvkit.training.engine import RecalibrateBeforeValidation

    inputs = keras.Input((4, 4, 1))
    x = keras.layers.BatchNormalization(momentum=0.99, name="bn")(inputs)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "sparse_categorical_crossentropy")
    images = np.random.default_rng(0).normal(5.0, 1.0, (24, 4, 4, 1)).astype("float32")
    labels = np.zeros(24, "int32")
    image_batches = [images[i:i + 8] for i in range(0, 24, 8)]
    seen = []

    class Record(keras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen.append(float(np.asarray(self.model.get_layer("bn").moving_mean)[0]))

    model.fit(images, labels, batch_size=8, epochs=1, validation_data=(images, labels), verbose=0,
              callbacks=[RecalibrateBeforeValidation(image_batches, batches=8), Record()])
    assert seen and seen[0] == pytest.approx(images.mean(), abs=0.05)


def test_the_per_epoch_and_final_recalibrations_share_one_traced_forward_pass(monkeypatch):
    """A run recalibrates before each validation and once more before the save: the model's
    forward pass in training mode is traced once for all of them, not once per caller."""
    import keras

    from cvkit.models import batchnorm
    from cvkit.models.batchnorm import recalibrator_for
    from cvkit.training.engine import RecalibrateBeforeValidation

    made = []
    original_init = batchnorm.BatchNormRecalibrator.__init__
    monkeypatch.setattr(batchnorm.BatchNormRecalibrator, "__init__",
                        lambda self, model: (made.append(model), original_init(self, model))[1])
    model = _bn_model()
    model.compile("sgd", "mse")
    images = np.random.default_rng(0).normal(2.0, 1.0, (16, 4, 4, 2)).astype("float32")
    batches = [images[:8], images[8:]]
    callback = RecalibrateBeforeValidation(batches, batches=2)
    callback.set_model(model)
    callback.on_test_begin()
    recalibrate_batch_norm(model, batches, max_batches=2)  # what the run does before it saves
    recalibrator = recalibrator_for(model)
    assert made == [model]  # one recalibrator, so one trace
    if keras.backend.backend() == "tensorflow":
        assert recalibrator._compiled_forward().experimental_get_tracing_count() == 1
    assert recalibrator_for(_bn_model()) is not recalibrator  # one per model
