"""The ImageNet twin check: a variant loads its keras.applications twin's weights exactly."""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

RANDOM_STATISTICS_SCALE = 0.1  # spread of the random biases and BN statistics
LOGIT_SCALE = 10.0  # the largest logit of a trained ImageNet classifier is about this
# The smallest input keras.applications' twins allow; VGG's FC layers need the 7x7 map of 224x224.
SMALLEST_INPUT = {"VGG16": 224, "VGG19": 224, "InceptionV3": 75}
DEFAULT_SMALLEST_INPUT = 32


def smallest_input(application: str) -> int:
    return SMALLEST_INPUT.get(application, DEFAULT_SMALLEST_INPUT)


def randomise_weights(model: Any, seed: int = 0) -> None:
    """Random values in every weight, BN statistics, biases and input normalisation included
    (Keras initialises those to constants, which would hide a converter that drops or misplaces them)."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for weight in layer.weights:
                positive = weight.path.endswith(("gamma", "moving_variance"))
                low, high = (0.5, 1.5) if positive else (-RANDOM_STATISTICS_SCALE, RANDOM_STATISTICS_SCALE)
                weight.assign(rng.uniform(low, high, weight.shape).astype("float32"))
        elif isinstance(layer, keras.layers.Normalization) and layer.weights:
            mean, variance, count = (np.asarray(w) for w in layer.weights)
            layer.set_weights([rng.uniform(0.3, 0.6, mean.shape), rng.uniform(0.03, 0.3, variance.shape), count])
            layer.finalize_state()  # the layer reads its mean and variance here, not at each call
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


@contextlib.contextmanager
def _without_weight_file() -> Iterator[None]:
    """keras.applications builders take any input size and neither fetch nor load a weight file."""
    import keras
    from keras.src.applications import imagenet_utils
    from keras.src.utils import file_utils

    with mock.patch.object(imagenet_utils, "obtain_input_shape", lambda input_shape, *args, **kwargs: input_shape), \
            mock.patch.object(file_utils, "get_file", lambda *args, **kwargs: "no-download"), \
            mock.patch.object(keras.Model, "load_weights", lambda *args, **kwargs: None), \
            warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will be loaded as the default")  # MobileNet off 224
        yield


def build_twin(application: str, size: int) -> Any:
    """keras.applications' model as it is built for its ImageNet weights (EfficientNet's variance
    correction included), but at ``size`` and with its initial weights instead of the file's."""
    import keras

    with _without_weight_file():
        return getattr(keras.applications, application)(
            weights="imagenet", input_shape=(size, size, 3), classifier_activation=None)


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


def _fingerprint(layer: Any) -> bytes:
    """What identifies a layer's twin: a BN's beta (or gamma), unchanged by bias folding and
    epsilon matching, or a conv's kernel."""
    import keras

    if isinstance(layer, keras.layers.BatchNormalization):
        return np.asarray(layer.beta if layer.center else layer.gamma).tobytes()
    return np.asarray(layer.kernel).tobytes()


def matched_layers(model: Any, twin: Any) -> list[tuple[Any, Any]]:
    """Every BN layer of ``model`` with the twin's that has its weights; for a network without
    BN (VGG), every conv layer."""
    import keras

    kind = keras.layers.BatchNormalization
    if not any(isinstance(layer, kind) for layer in twin.layers):
        kind = keras.layers.Conv2D
    theirs = {_fingerprint(layer): layer for layer in twin.layers if isinstance(layer, kind)}
    ours = [layer for layer in model.layers if isinstance(layer, kind)]
    unmatched = [layer.name for layer in ours if _fingerprint(layer) not in theirs]
    assert not unmatched and len(ours) == len(theirs), (
        f"{model.arch}: {len(ours)} {kind.__name__} layers, the twin has {len(theirs)}; "
        f"without the twin's weights: {unmatched[:3]}")
    return [(layer, theirs[_fingerprint(layer)]) for layer in ours]


def assert_same_layer_outputs(model: Any, twin: Any, images: np.ndarray, twin_images: np.ndarray,
                              tolerance: float) -> None:
    """Every matched layer outputs what its twin layer does, within ``tolerance`` times the
    layer's largest output (at least 1): a misplaced early layer shows here, not in the logits."""
    import keras

    pairs = matched_layers(model, twin)
    ours = keras.Model(model.input, [layer.output for layer, _ in pairs])(images)
    theirs = keras.Model(twin.input, [layer.output for _, layer in pairs])(twin_images)
    worst = (0.0, "")
    for (layer, twin_layer), mine, expected in zip(pairs, ours, theirs):
        mine, expected = np.asarray(mine), np.asarray(expected)
        if getattr(layer, "activation", None) is keras.activations.linear:  # the twin's conv holds its ReLU
            mine = np.asarray(twin_layer.activation(mine))
        relative = float(np.max(np.abs(mine - expected))) / max(1.0, float(np.max(np.abs(expected))))
        worst = max(worst, (relative, f"{layer.name} (twin's {twin_layer.name})"))
    assert worst[0] <= tolerance, (f"{model.arch}: {worst[1]} differs from the twin's layer by {worst[0]:.3g} "
                                   f"of its magnitude, more than {tolerance}")


def check_imagenet_twin(variant: str, size: int | None = None, batch: int = 2, tolerance: float = 1e-4,
                        seed: int = 0) -> Any:
    """Build ``variant``'s keras.applications twin with random weights at ``size`` (default: the
    smallest the twin allows), write them as Keras publishes them, load them through
    ``--weights imagenet``'s code path, and assert that the logits of both models on the same
    random images differ by at most ``tolerance``, and so does every BN layer's output (every
    conv's, without BN) relative to its magnitude. Returns the cvkit model.

    The twin gets its own ``preprocess_input``; the cvkit model takes plain pixels, so the check
    covers the preprocessing built into it. Random weights can make logits of hundreds (deep
    ResNets), where float32 rounding alone exceeds 1e-4; the twin's classifier is then scaled
    down so its largest logit is 10, as a trained one's.
    """
    from cvkit import create_model
    from cvkit.models.pretrained import application_module, imagenet_weights_of, load_imagenet_weights

    weights = imagenet_weights_of(variant)
    size = size or smallest_input(weights.application)
    twin = build_twin(weights.application, size)
    randomise_weights(twin, seed)
    preprocess = application_module(weights.application).preprocess_input
    images = np.random.default_rng(seed).uniform(0, 255, (batch, size, size, 3)).astype("float32")
    expected = np.array(twin(preprocess(images.copy())))
    expected *= _scale_classifier(twin, LOGIT_SCALE / max(LOGIT_SCALE, float(np.max(np.abs(expected)))))
    model = create_model(variant, num_classes=1000, input_shape=(size, size, 3), bn_momentum=None,
                         preprocessing=weights.model_preprocessing, **weights.backbone_overrides)
    with tempfile.TemporaryDirectory() as tmp:
        load_imagenet_weights(model, write_legacy_h5(twin, Path(tmp) / weights.file().name))
    difference = float(np.max(np.abs(logits(model, images) - expected)))
    assert difference <= tolerance, (
        f"{variant}: logits differ from keras.applications.{weights.application}'s by {difference:.3g} "
        f"(scale {np.max(np.abs(expected)):.3g}), more than {tolerance}")
    assert_same_layer_outputs(model, twin, images, preprocess(images.copy()), tolerance)
    return model
