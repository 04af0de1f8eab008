"""The ImageNet twin check: a variant loads its keras.applications twin's weights exactly."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

RANDOM_STATISTICS_SCALE = 0.1  # spread of the random biases and BN statistics
LOGIT_SCALE = 10.0  # the largest logit of a trained ImageNet classifier is about this


def randomise_weights(model: Any, seed: int = 0) -> None:
    """Random values in every weight, BN statistics and biases included (Keras initialises those
    to constants, which would hide a converter that drops or misplaces them)."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for weight in layer.weights:
                positive = weight.path.endswith(("gamma", "moving_variance"))
                low, high = (0.5, 1.5) if positive else (-RANDOM_STATISTICS_SCALE, RANDOM_STATISTICS_SCALE)
                weight.assign(rng.uniform(low, high, weight.shape).astype("float32"))
        else:
            for weight in layer.weights:
                if weight.path.endswith("bias"):
                    weight.assign(rng.normal(0, RANDOM_STATISTICS_SCALE, weight.shape).astype("float32"))


def write_legacy_h5(model: Any, path: Path) -> Path:
    """``model``'s weights in the legacy Keras HDF5 layout of the published weight files."""
    import h5py
    from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

    with h5py.File(path, "w") as file:
        save_weights_to_hdf5_group(file, model)
    return path


def _scale_classifier(twin: Any, factor: float) -> float:
    """Multiply the twin's classifier (so its logits) by ``factor``."""
    top = twin.get_layer("predictions")
    if factor == 1.0 or not top.weights:
        return 1.0
    top.set_weights([w * factor for w in top.get_weights()])
    return factor


def logits(model: Any, images: np.ndarray) -> np.ndarray:
    """A cvkit classifier's class scores before the softmax."""
    import keras

    top = model.get_layer("predictions")
    scores = np.asarray(keras.Model(model.input, top.input)(images))
    if top.weights:  # a Dense classifier: apply it without its softmax
        kernel, bias = (np.asarray(w) for w in top.weights)
        scores = scores @ kernel + bias
    return scores


def check_imagenet_twin(variant: str, size: int = 32, batch: int = 2, tolerance: float = 1e-4,
                        seed: int = 0) -> float:
    """Build ``variant``'s keras.applications twin with random weights at ``size``, write them as
    Keras publishes them, load them through ``--weights imagenet``'s code path, and assert that the
    logits of both models on the same random images differ by at most ``tolerance``.

    The twin gets its own ``preprocess_input``; the cvkit model takes plain pixels, so the check
    covers the preprocessing built into it. Random weights can make logits of hundreds (deep
    ResNets), where float32 rounding alone exceeds 1e-4; the twin's classifier is then scaled
    down so its largest logit is 10, as a trained one's. Returns the largest difference.
    """
    import keras

    from cvkit import create_model
    from cvkit.models.pretrained import application_module, imagenet_weights_of, load_imagenet_weights

    weights = imagenet_weights_of(variant)
    twin = getattr(keras.applications, weights.application)(
        weights=None, input_shape=(size, size, 3), classifier_activation=None)
    randomise_weights(twin, seed)
    images = np.random.default_rng(seed).uniform(0, 255, (batch, size, size, 3)).astype("float32")
    expected = np.array(twin(application_module(weights.application).preprocess_input(images.copy())))
    expected *= _scale_classifier(twin, LOGIT_SCALE / max(LOGIT_SCALE, float(np.max(np.abs(expected)))))
    model = create_model(variant, num_classes=1000, input_shape=(size, size, 3), bn_momentum=None,
                         preprocessing=weights.preprocessing, **weights.backbone_overrides)
    with tempfile.TemporaryDirectory() as tmp:
        load_imagenet_weights(model, write_legacy_h5(twin, Path(tmp) / weights.file().name))
    difference = float(np.max(np.abs(logits(model, images) - expected)))
    assert difference <= tolerance, (
        f"{variant}: logits differ from keras.applications.{weights.application}'s by {difference:.3g} "
        f"(scale {np.max(np.abs(expected)):.3g}), more than {tolerance}")
    return difference
