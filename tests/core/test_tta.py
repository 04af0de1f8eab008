"""Test-time augmentation maps every view's masks and boxes back before averaging.

The flip views and the five crops are symmetric under a mirror, so a correct TTA commutes with
flipping: TTA(mirror(x)), mirrored back, equals TTA(x). A view left un-flipped breaks this.
"""

from __future__ import annotations

import numpy as np
import pytest

import cvkit
from cvkit.errors import CvkitError


def _model(head: str):
    task = "segmentation" if head == "fcn8s" else "localization"
    return cvkit.create_model("resnet18", head=head, num_classes=3, input_shape=(32, 32, 3), task=task,
                              **cvkit.get_backbone("resnet18").tiny)


def _mirror_back(outputs: dict) -> dict:
    back = dict(outputs)
    if "masks" in outputs:
        back["masks"] = outputs["masks"][:, :, ::-1]
    if "boxes" in outputs:
        x1, y1, x2, y2 = np.moveaxis(outputs["boxes"], -1, 0)
        back["boxes"] = np.stack([1 - x2, y1, 1 - x1, y2], axis=-1)
    return back


def test_tta_of_a_pixelwise_segmenter_is_its_own_prediction():
    """A per-pixel model commutes with flipping, so un-flipped views agree with the plain one."""
    import keras

    from cvkit.models.tta import test_time_augmented

    inputs = keras.Input((32, 32, 3))
    masks = keras.layers.Conv2D(4, 1, activation="softmax", kernel_initializer="random_normal")(inputs / 64.0)
    model = keras.Model(inputs, {"masks": masks})
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    plain = np.asarray(model(images)["masks"])
    np.testing.assert_allclose(np.asarray(test_time_augmented(model, ("flip",))(images)["masks"]), plain, atol=1e-5)


@pytest.mark.parametrize(("head", "views"), [("fcn8s", ("flip", "crop")), ("localization", ("flip", "crop"))])
def test_tta_undoes_the_flip_and_the_crops(head, views):
    from cvkit.models.tta import test_time_augmented

    model = _model(head)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    tta = test_time_augmented(model, views)
    direct = {k: np.asarray(v) for k, v in tta(images).items()}
    mirrored = _mirror_back({k: np.asarray(v) for k, v in tta(images[:, :, ::-1]).items()})
    key = "masks" if head == "fcn8s" else "boxes"
    np.testing.assert_allclose(mirrored[key], direct[key], atol=1e-5)
    plain = np.asarray(model(images)[key])
    assert not np.allclose(plain, direct[key], atol=1e-4), "TTA averaged nothing"
    if key == "masks":
        np.testing.assert_allclose(direct[key].sum(axis=-1), 1.0, atol=1e-4)


@pytest.mark.parametrize(("text", "task", "message"), [
    ("rotate", "segmentation", "has no inverse for segmentation"),
    ("flipp", "classification", "did you mean"),
])
def test_tta_refuses_views_it_cannot_undo(text, task, message):
    from cvkit.models.tta_views import parse_tta

    with pytest.raises(CvkitError, match=message):
        parse_tta(text, task)
