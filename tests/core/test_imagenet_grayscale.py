"""--weights imagenet on grayscale data: every preprocessing mode takes one channel as R = G = B."""

from __future__ import annotations

import numpy as np
import pytest

from cvkit import CvkitError, create_model
from cvkit.contract.plugins import get_registries
from cvkit.models.pretrained import application_module, load_imagenet_weights
from cvkit.models.preprocessing import IMAGENET_MODES, ImagenetPreprocessing
from cvkit.testing.imagenet import build_twin, logits, randomise_weights, write_legacy_h5
from cvkit.training.config import RunConfig
from cvkit.training.weights import build_options

SIZE = 32


@pytest.mark.slow
def test_a_grayscale_model_takes_the_tf_twins_weights(tmp_path) -> None:
    """MobileNet ("tf" preprocessing) at 32x32x1 loads its twin's file; gray images give the
    twin's logits on the same images repeated to RGB."""
    spec = get_registries().backbones.get("mobilenet_v1")
    twin = build_twin(spec.imagenet.application, SIZE)
    randomise_weights(twin)
    options = build_options(RunConfig(arch="mobilenet_v1", dataset="digits", weights="imagenet"), spec)
    model = create_model("mobilenet_v1", num_classes=1000, input_shape=(SIZE, SIZE, 1), bn_momentum=None, **options)
    load_imagenet_weights(model, write_legacy_h5(twin, tmp_path / spec.imagenet.file().name))
    gray = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 1)).astype("float32")
    rgb = application_module(spec.imagenet.application).preprocess_input(np.repeat(gray, 3, axis=-1))
    np.testing.assert_allclose(logits(model, gray), np.asarray(twin(rgb)), atol=1e-4)


@pytest.mark.parametrize("mode", IMAGENET_MODES)
def test_every_imagenet_mode_repeats_one_channel_to_rgb(mode: str) -> None:
    gray = np.random.default_rng(0).uniform(0, 255, (1, 4, 4, 1)).astype("float32")
    layer = ImagenetPreprocessing(mode)
    np.testing.assert_allclose(np.asarray(layer(gray)), np.asarray(layer(np.repeat(gray, 3, axis=-1))), rtol=1e-6)


def test_two_channel_images_are_a_one_line_error() -> None:
    import keras

    with pytest.raises(CvkitError, match="RGB or grayscale images, but these have 2 channels") as error:
        ImagenetPreprocessing("none")(keras.Input((4, 4, 2)))
    assert "\n" not in str(error.value)
