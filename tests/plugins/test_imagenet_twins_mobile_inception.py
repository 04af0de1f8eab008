"""ImageNet weights for MobileNet v1/v2, EfficientNet-B0...B7 and Inception v3: each variant,
loaded with its keras.applications twin's weights (random ones, in the layout of Keras'
published files, read as ``--weights imagenet`` reads them), gives the twin's logits within 1e-4.

With Keras' initial kernels and random BN statistics the logits hardly depend on the image (6e-8
apart for two images in MobileNetV2; statistics measured on images instead make EfficientNet
chaotic: 0.15 between two runs of the same model), so a misplaced early layer could go unseen
in the logits: every BN layer's output is compared too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cvkit import create_model
from cvkit.models.pretrained import application_module, imagenet_weights_of, load_imagenet_weights
from cvkit.testing.imagenet import logits, randomise_weights, write_legacy_h5

TOLERANCE = 1e-4
EFFICIENTNETS = [f"efficientnet_b{i}" for i in range(8)]


def assert_same_batchnorm_outputs(model, twin, images: np.ndarray, twin_images: np.ndarray) -> None:
    """Every BN layer of ``model`` outputs what the twin's BN with the same statistics does."""
    import keras

    def norms(network):
        return [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]

    twin_norms = {np.asarray(layer.moving_mean).tobytes(): layer for layer in norms(twin)}
    pairs = [(layer, twin_norms[np.asarray(layer.moving_mean).tobytes()]) for layer in norms(model)]
    assert len(pairs) == len(twin_norms)
    ours = keras.Model(model.input, [layer.output for layer, _ in pairs])(images)
    theirs = keras.Model(twin.input, [layer.output for _, layer in pairs])(twin_images)
    worst = max((float(np.max(np.abs(np.asarray(a) - np.asarray(b)))), pair[0].name)
                for a, b, pair in zip(ours, theirs, pairs))
    assert worst[0] <= TOLERANCE, f"{model.arch}: {worst[1]} differs from the twin's layer by {worst[0]:.3g}"


def randomise_normalization(twin, rng: np.random.Generator) -> None:
    """Random per-channel mean and variance in EfficientNet's input Normalization layer."""
    layer = twin.get_layer("normalization")
    mean, variance, count = (np.asarray(w) for w in layer.weights)
    layer.set_weights([rng.uniform(0.3, 0.6, mean.shape), rng.uniform(0.03, 0.3, variance.shape), count])
    layer.finalize_state()  # the layer reads its mean and variance here, not at each call


def check_twin(variant: str, twin, size: int, path: Path) -> None:
    weights = imagenet_weights_of(variant)
    preprocess = application_module(weights.application).preprocess_input
    rng = np.random.default_rng(0)
    randomise_weights(twin)
    if any(layer.name == "normalization" for layer in twin.layers):
        randomise_normalization(twin, rng)
    model = create_model(variant, num_classes=1000, input_shape=(size, size, 3), bn_momentum=None,
                         preprocessing=weights.preprocessing, **weights.backbone_overrides)
    load_imagenet_weights(model, write_legacy_h5(twin, path / weights.file().name))
    images = rng.uniform(0, 255, (2, size, size, 3)).astype("float32")
    expected = np.asarray(twin(preprocess(images.copy())))
    difference = float(np.max(np.abs(logits(model, images) - expected)))
    assert difference <= TOLERANCE, f"{variant}: logits differ from the twin's by {difference:.3g}"
    assert_same_batchnorm_outputs(model, twin, images, preprocess(images.copy()))


@pytest.mark.slow
@pytest.mark.parametrize("variant,size", [("mobilenet_v1", 32), ("mobilenet_v2", 32), ("inception_v3", 75)])
def test_twin_logits(variant: str, size: int, tmp_path: Path) -> None:
    import keras

    application = getattr(keras.applications, imagenet_weights_of(variant).application)
    check_twin(variant, application(weights=None, input_shape=(size, size, 3), classifier_activation=None),
               size, tmp_path)


def imagenet_efficientnet(application: str, size: int, monkeypatch: pytest.MonkeyPatch):
    """keras.applications' EfficientNet as it is built for its ImageNet weights, variance
    correction included, but at ``size`` and with its initial weights instead of the file's."""
    import keras
    from keras.src.applications import efficientnet

    monkeypatch.setattr(efficientnet.imagenet_utils, "obtain_input_shape", lambda *args, **kwargs: (size, size, 3))
    monkeypatch.setattr(efficientnet.file_utils, "get_file", lambda *args, **kwargs: "no-download")
    monkeypatch.setattr(keras.Model, "load_weights", lambda *args, **kwargs: None)
    return getattr(keras.applications, application)(weights="imagenet", classifier_activation=None)


@pytest.mark.slow
@pytest.mark.parametrize("variant", EFFICIENTNETS)
def test_efficientnet_twin_logits(variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The twin normalises its input inside, and with ImageNet weights divides once more by the
    square root of the file's variance (which holds standard deviations): cvkit must match that."""
    twin = imagenet_efficientnet(imagenet_weights_of(variant).application, 32, monkeypatch)
    check_twin(variant, twin, 32, tmp_path)
