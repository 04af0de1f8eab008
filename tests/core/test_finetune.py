"""--freeze-stages, --unfreeze-at and --overfit-batches (the in-process side; bad input is in tests/cli)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError
from cvkit.training.config import RunConfig

FREEZE = 2
UNFREEZE_AT = 3
LEARNING_RATE = 1e-3


def tiny_resnet_config(**settings) -> RunConfig:
    tiny = dict(cvkit.get_registries().backbones.get("resnet18").tiny)
    return RunConfig(arch="resnet18", backbone_params=tiny, dataset="shapes:64", batch_size=16, image_size=32,
                     schedule="constant", learning_rate=LEARNING_RATE, **settings)


def initial_weights(config: RunConfig) -> tuple[dict[str, list[np.ndarray]], list[str]]:
    """The weights a run of ``config`` starts from (same seed, same build), by layer, and the
    names of the layers ``config.freeze_stages`` freezes."""
    import keras

    from cvkit.training.finetune import stage_layers
    from cvkit.training.run import preflight, prepare

    keras.utils.set_random_seed(config.seed)
    model = prepare(preflight(config)).model
    frozen = [layer.name for layer in stage_layers(model, config.freeze_stages) if layer.weights]
    return {layer.name: [np.array(w) for w in layer.weights] for layer in model.layers if layer.weights}, frozen


def same_weights(model, reference: dict[str, list[np.ndarray]], names: list[str]) -> bool:
    return all(np.array_equal(np.array(w), r) for name in names
               for w, r in zip(model.get_layer(name).weights, reference[name], strict=True))


def checkpoint(run, epoch: int, compile: bool = False):
    import keras

    import cvkit.training.phases  # noqa: F401  (registers the scaled schedule the optimizer config names)

    return keras.saving.load_model(run / "checkpoints" / f"epoch-{epoch:03d}.keras", compile=compile)


def test_stages_end_at_the_feature_maps_and_a_stage_too_many_is_refused():
    from cvkit.testing import create_tiny_model
    from cvkit.training.finetune import ancestor_layers, stage_layers

    model = create_tiny_model("resnet18")
    maps = model.feature_maps
    frozen = {id(layer) for layer in stage_layers(model, FREEZE)}
    assert frozen == {id(layer) for layer in ancestor_layers(maps[8])}  # stage 2 ends at stride 8
    assert maps[8]._keras_history[0] is not maps[16]._keras_history[0]
    assert id(maps[16]._keras_history[0]) not in frozen and id(model.layers[-1]) not in frozen
    with pytest.raises(CvkitError, match="is more than the 4 stages of resnet18"):
        stage_layers(model, 5)
    with pytest.raises(CvkitError, match="the 1 stage of lenet5"):
        stage_layers(create_tiny_model("lenet5"), 2)


@pytest.fixture(scope="module")
def unfrozen_run(tmp_path_factory):
    """Stem and 2 stages frozen for epochs 1-2, everything trains in epoch 3."""
    run = tmp_path_factory.mktemp("finetune") / "run"
    config = tiny_resnet_config(epochs=UNFREEZE_AT, freeze_stages=FREEZE, unfreeze_at=UNFREEZE_AT, out=str(run))
    start, frozen = initial_weights(config)
    cvkit.train(config, verbose=0)
    return run, start, frozen


def test_frozen_stages_stay_bit_identical_until_unfrozen(unfrozen_run):
    run, start, frozen = unfrozen_run
    assert any("bn" in name for name in frozen)  # BatchNorm statistics are among the frozen weights
    trainable = [name for name in start if name not in frozen]
    for epoch in (1, UNFREEZE_AT - 1):
        model = checkpoint(run, epoch)
        assert same_weights(model, start, frozen), f"a frozen weight changed in epoch {epoch}"
        assert not same_weights(model, start, trainable)
    unfrozen = checkpoint(run, UNFREEZE_AT)
    assert all(not same_weights(unfrozen, start, [name]) for name in frozen), "a stage stayed frozen after --unfreeze-at"
    assert "accuracy" in json.loads((run / "metrics.json").read_text())["validation"]
    from cvkit.models.assembly import load_model

    assert load_model(run / "model.keras").count_params() == unfrozen.count_params()


def test_unfreezing_scales_the_learning_rate_once_even_after_a_resume(unfrozen_run, tmp_path):
    from cvkit.training.resume import resume

    run = tmp_path / "run"
    shutil.copytree(unfrozen_run[0], run)
    assert float(checkpoint(run, UNFREEZE_AT - 1, compile=True).optimizer.learning_rate) == pytest.approx(LEARNING_RATE)
    assert float(checkpoint(run, UNFREEZE_AT, compile=True).optimizer.learning_rate) == pytest.approx(LEARNING_RATE * 0.1)
    resume(run, {"epochs": UNFREEZE_AT + 1}, verbose=0)  # resumed past the unfreeze epoch: everything trains
    before, after = checkpoint(run, UNFREEZE_AT), checkpoint(run, UNFREEZE_AT + 1, compile=True)
    reference = {layer.name: [np.array(w) for w in layer.weights] for layer in before.layers if layer.weights}
    assert all(not same_weights(after, reference, [name]) for name in unfrozen_run[2])
    assert float(after.optimizer.learning_rate) == pytest.approx(LEARNING_RATE * 0.1)


def test_the_saved_copy_of_a_model_keeps_its_frozen_stages_frozen():
    from cvkit.testing import create_tiny_model
    from cvkit.training.finetune import stage_layers
    from cvkit.training.run import inference_model

    overrides = dict(cvkit.get_backbone("googlenet").training_overrides)  # auxiliary classifiers: a copy is saved
    model = create_tiny_model("googlenet", **overrides)
    for layer in stage_layers(model, FREEZE):
        layer.trainable = False
    final = inference_model(model, overrides)  # frozen (BN) layers must stay frozen for the final recalibration
    assert final is not model
    frozen = [layer.name for layer in final.layers if layer.weights and not layer.trainable]
    assert frozen and frozen == [layer.name for layer in final.layers if layer.weights and not model.get_layer(layer.name).trainable]


def test_the_schedule_is_scaled_from_the_unfreeze_step_and_saves():
    import keras

    from cvkit.testing import create_tiny_model
    from cvkit.training.phases import ScaledAfter, StageFreezer

    cosine = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=100)
    scaled = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(ScaledAfter(cosine, 40, 0.1)))
    assert float(scaled(39)) == pytest.approx(float(cosine(39)))
    assert float(scaled(40)) == pytest.approx(0.1 * float(cosine(40)))
    assert float(scaled(99)) == pytest.approx(0.1 * float(cosine(99)))

    model = create_tiny_model("lenet5")
    model.compile(optimizer=keras.optimizers.Adam(cosine), loss="mse")
    trainable = len(model.trainable_weights)
    freezer = StageFreezer(model, RunConfig(epochs=3, freeze_stages=1, unfreeze_at=2), steps_per_epoch=20, first_epoch=0)
    freezer.set_model(model)
    freezer.on_train_begin()
    assert 0 < len(model.trainable_weights) < trainable
    assert len(model.optimizer._trainable_variables) == trainable  # built over every variable, for the unfreeze
    assert float(model.optimizer._learning_rate(20)) == pytest.approx(0.1 * float(cosine(20)))
    assert float(model.optimizer._learning_rate(19)) == pytest.approx(float(cosine(19)))
    freezer.on_epoch_begin(1)
    assert len(model.trainable_weights) == trainable


def test_overfit_mode_repeats_the_same_batches_without_augmentation_or_dropout():
    import keras

    from cvkit.training.phases import fixed_batches
    from cvkit.training.run import compile_model, make_datasets, preflight, prepare

    config = RunConfig(arch="lenet5", dataset="shapes:64", batch_size=8, augmentations=["flip", "jitter"],
                       weight_decay=0.01, optimizer="adamw", label_smoothing=0.1, head_params={"dropout": 0.5},
                       overfit_batches=2)
    plan = preflight(config)
    assert (plan.config.augmentations, plan.config.weight_decay, plan.config.label_smoothing) == ([], 0.0, 0.0)
    prepared = prepare(plan)
    model = prepared.model
    outputs = compile_model(model, plan, prepared.task, keras.optimizers.AdamW(weight_decay=0.004))
    train = fixed_batches(model, make_datasets(prepared, outputs)[0], config.overfit_batches)
    first, second = ([np.array(x) for x, _ in train] for _ in range(2))
    assert len(first) == 2 and all(np.array_equal(a, b) for a, b in zip(first, second))
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts and all(layer.rate == 0 for layer in dropouts)
    assert model.optimizer.weight_decay is None


def test_the_overfit_verdict():
    from cvkit.training.finetune import OverfitCheck

    assert OverfitCheck(2, 30, 2.3, 0.04).passed
    assert OverfitCheck(2, 30, 20.0, 0.5).passed  # under 5% of the start
    failed = OverfitCheck(2, 30, 2.3, 0.5)
    assert not failed.passed and "NOT near zero" in str(failed) and "2.3 -> 0.5" in str(failed)
