"""Backbone checks: a tiny instance builds, runs, round-trips, gives its feature maps by the
stride rule and memorises a tiny data set."""

from __future__ import annotations

from typing import Any

import numpy as np


def tiny_input_shape(arch: str, size: int = 32) -> tuple[int, int, int]:
    """The smallest square input ``arch`` takes, at least ``size``, with its channel count."""
    from cvkit import get_backbone

    spec = get_backbone(arch)
    side = max(size, spec.min_input_size)
    return (side, side, spec.input_shape[-1])


def create_tiny_model(arch: str, num_classes: int = 4, size: int = 32, **overrides: Any):
    """``arch`` shrunk by its registered ``tiny`` overrides, at 32x32 (or its smallest input)."""
    from cvkit import create_model, get_backbone

    spec = get_backbone(arch)
    input_shape = overrides.pop("input_shape", None) or tiny_input_shape(arch, size)
    return create_model(arch, num_classes=num_classes, input_shape=input_shape, **{**spec.tiny, **overrides})


def assert_overfits(
    arch: str,
    *,
    num_images: int = 32,
    num_classes: int = 4,
    max_epochs: int = 150,
    learning_rate: float = 3e-3,
    target: float = 0.99,
    seed: int = 0,
    **overrides: Any,
) -> float:
    """The sanity check from the lecture notes: a tiny model memorises a tiny data set.

    Trains full-batch on ``num_images`` random images with random labels and returns the
    training accuracy; fails if it never reaches ``target`` within ``max_epochs`` steps.
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = create_tiny_model(arch, num_classes=num_classes, **overrides)
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (num_images, *model.input_shape[1:])).astype("float32")
    labels = rng.integers(0, num_classes, num_images)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={"probabilities": keras.losses.SparseCategoricalCrossentropy()},
        metrics={"probabilities": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]},
    )

    class StopAtTarget(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            if (logs or {}).get("accuracy", 0.0) >= target:
                self.model.stop_training = True

    history = model.fit(
        images, {"probabilities": labels}, batch_size=num_images, epochs=max_epochs, verbose=0,
        callbacks=[StopAtTarget()],
    )
    accuracy = max(history.history["accuracy"])
    assert accuracy >= target, (
        f"{arch} reached only {accuracy:.3f} training accuracy on {num_images} images in "
        f"{len(history.history['accuracy'])} steps; the model cannot learn"
    )
    return accuracy


def _random_images(model: Any, count: int = 2) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (count, *model.input_shape[1:])).astype("float32")


def check_round_trip(name: str, directory: str | None = None) -> None:
    """Built at its default training size, ``name`` predicts, saves to .keras and loads back equal."""
    import tempfile
    from pathlib import Path

    from cvkit import count_params, load_model

    model = create_tiny_model(name, num_classes=3)
    images = _random_images(model)
    probabilities = model.predict(images, verbose=0)["probabilities"]
    assert probabilities.shape == (2, 3), f"{name}: probabilities have shape {probabilities.shape}, not (2, 3)"
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5, err_msg=f"{name}: probabilities do not sum to 1")
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        loaded = load_model(path)  # rebuilt from get_config() alone, then the weights restored
    assert loaded.get_config() == model.get_config(), f"{name}: get_config() changed through a .keras round trip"
    assert count_params(loaded) == count_params(model), f"{name}: the loaded model has another parameter count"
    np.testing.assert_allclose(loaded.predict(images, verbose=0)["probabilities"], probabilities, atol=1e-5,
                               err_msg=f"{name}: the loaded model predicts differently")


def check_feature_maps(name: str) -> None:
    """Headless, at another size, ``name`` outputs its deepest map and keeps the stride rule."""
    from cvkit import FEATURE_STRIDES, get_backbone, required_feature_strides

    spec = get_backbone(name)
    size = max(64, 2 * spec.min_input_size)
    model = create_tiny_model(name, include_top=False, input_shape=(size, size, spec.input_shape[-1]))
    maps = model.feature_maps
    assert maps, f"{name} exposes no feature maps"
    assert set(maps) <= set(FEATURE_STRIDES), f"{name}: feature maps at strides {sorted(maps)}; allowed {FEATURE_STRIDES}"
    total = max(maps)
    missing = sorted(set(required_feature_strides(total)) - set(maps))
    assert not missing, (f"{name}: total stride {total} needs maps at {list(required_feature_strides(total))} "
                         f"(cvkit.required_feature_strides), missing {missing}")
    assert spec.min_input_size >= total, f"{name}: min_input_size {spec.min_input_size} is below its total stride {total}"
    assert model.output is maps[total], f"{name}: without its top a backbone must output its deepest feature map"
    for stride, tensor in maps.items():
        assert len(tensor.shape) == 4 and tensor.shape[-1] > 0, f"{name}: the stride-{stride} map is not NHWC"
        # "same" padding gives ceil(size / stride); unpadded paper layouts lose a few border pixels.
        assert size // stride // 2 <= tensor.shape[1] <= -(-size // stride), (
            f"{name}: the stride-{stride} map of a {size}x{size} input is {tensor.shape[1]} high")
    check_stages(name, model)


def check_stages(name: str, model: Any) -> None:
    """Each stage (ended by the stride-4, 8, ... map) builds on the one before, so ``--freeze-stages N``
    freezes the stem and exactly the first N stages."""
    from cvkit.training.finetune import stage_layers, stage_maps

    stages = [{id(layer) for layer in stage_layers(model, n)} for n in range(1, len(stage_maps(model)) + 1)]
    for n, (earlier, later) in enumerate(zip(stages, stages[1:]), start=1):
        assert earlier < later, (f"{name}: stage {n + 1} does not build on stage {n} (its feature map must depend on "
                                 f"every layer of the one before, and add layers)")


def check_backbone(name: str, *, overfit: bool = True) -> None:
    """Every rule a registered backbone keeps, at its tiny size; AssertionError names the broken one.

    Its family resolves to a variant; it builds, predicts and round-trips through .keras; headless
    it gives feature maps by :func:`cvkit.required_feature_strides`; and (``overfit``) a tiny
    instance memorises 32 random images, with dropout off where the variant has it.
    """
    from cvkit import get_backbone

    spec = get_backbone(name)
    assert get_backbone(spec.family).family == spec.family, f"family {spec.family!r} has no default variant"
    check_round_trip(name)
    check_feature_maps(name)
    if overfit:
        assert_overfits(name, **({"dropout": 0.0} if "dropout" in spec.defaults else {}))
