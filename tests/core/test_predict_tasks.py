"""``cvkit.predict`` brings boxes and masks back to each image's own, non-square size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import cvkit

TINY = dict(blocks=[1, 1, 1, 1], stage_widths=[8, 16, 32, 64], stem_filters=8)
HEIGHT, WIDTH = 48, 80  # not square, so a width/height swap shows


@pytest.fixture
def picture(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "wide.png")
    return str(tmp_path / "wide.png"), image


def _at_model_size(image):
    import tensorflow as tf

    return tf.image.resize(image[None].astype("float32"), (32, 32), antialias=True).numpy()


def test_boxes_in_pixels_scale_x_by_the_width_and_y_by_the_height(picture, tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    model = cvkit.create_model("resnet18", head="localization", num_classes=2, input_shape=(32, 32, 3), **TINY)
    path, image = picture
    [row] = cvkit.predict(model, [path], out_dir=tmp_path / "out")
    box = model.predict(_at_model_size(image), verbose=0)["boxes"][0]
    np.testing.assert_allclose(row["box"], box, atol=1e-5)
    np.testing.assert_allclose(row["box_pixels"], box * [WIDTH, HEIGHT, WIDTH, HEIGHT], atol=1e-3)
    assert Image.open(row["output"]).size == (WIDTH, HEIGHT)


def test_masks_come_back_at_the_image_height_and_width(picture, tmp_path):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = cvkit.create_model("resnet18", head="unet", num_classes=2, input_shape=(32, 32, 3), **TINY)
    path, image = picture
    [row] = cvkit.predict(model, [path], out_dir=tmp_path / "out")
    probabilities = model.predict(_at_model_size(image), verbose=0)["masks"]
    expected = tf.image.resize(probabilities, (HEIGHT, WIDTH), antialias=True).numpy()[0].argmax(-1)
    assert row["mask"].shape == (HEIGHT, WIDTH)
    assert len(np.unique(expected)) > 1 and (row["mask"] == expected).mean() > 0.999
    assert sum(row["pixel_shares"].values()) == pytest.approx(1.0)
    assert Image.open(row["output"]).size == (WIDTH, HEIGHT)
