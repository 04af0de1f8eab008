"""ImageNet weights for MobileNet v1/v2, EfficientNet-B0...B7 and Inception v3: each variant,
loaded with its keras.applications twin's weights, gives the twin's logits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cvkit import create_model
from cvkit.models.pretrained import imagenet_weights_of, load_imagenet_weights
from cvkit.testing import check_imagenet_twin
from cvkit.testing.imagenet import logits, randomise_weights, write_legacy_h5

TOLERANCE = 1e-4
EFFICIENTNETS = [f"efficientnet_b{i}" for i in range(8)]


@pytest.mark.slow
@pytest.mark.parametrize("variant,size", [("mobilenet_v1", 32), ("mobilenet_v2", 32), ("inception_v3", 75)])
def test_twin_logits(variant: str, size: int) -> None:
    assert check_imagenet_twin(variant, size=size, tolerance=TOLERANCE) <= TOLERANCE


def randomise_normalization(twin, rng: np.random.Generator) -> None:
    """Random per-channel mean and variance in the twin's input Normalization layer."""
    layer = twin.get_layer("normalization")
    mean, variance, count = (np.asarray(w) for w in layer.weights)
    layer.set_weights([rng.uniform(0.3, 0.6, mean.shape), rng.uniform(0.03, 0.3, variance.shape), count])


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
    size, rng = 32, np.random.default_rng(0)
    weights = imagenet_weights_of(variant)
    twin = imagenet_efficientnet(weights.application, size, monkeypatch)
    randomise_weights(twin)
    randomise_normalization(twin, rng)
    model = create_model(variant, num_classes=1000, input_shape=(size, size, 3), bn_momentum=None,
                         preprocessing=weights.preprocessing, **weights.backbone_overrides)
    load_imagenet_weights(model, write_legacy_h5(twin, tmp_path / weights.file().name))
    images = rng.uniform(0, 255, (2, size, size, 3)).astype("float32")
    difference = float(np.max(np.abs(logits(model, images) - np.asarray(twin(images)))))
    assert difference <= TOLERANCE, f"{variant}: logits differ from the twin's by {difference:.3g}"
