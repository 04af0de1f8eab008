"""The segmentation heads: FCN-32s/16s/8s skips, U-Net, learnable upsampling, any input size."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError, TaskSpec

TINY = dict(blocks=[1, 1, 1, 1], stage_widths=[8, 16, 32, 64], stem_filters=8)


def _images(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def test_match_size_is_the_identity_when_sizes_agree_and_nearest_otherwise():
    from cvkit_head_segmentation.layers import MatchSize

    x = np.arange(2 * 4 * 6 * 1, dtype="float32").reshape(2, 4, 6, 1)
    np.testing.assert_array_equal(MatchSize()(x, np.zeros((2, 4, 6, 3))), x)
    grown = np.asarray(MatchSize()(x, np.zeros((2, 8, 12, 3))))
    np.testing.assert_array_equal(grown, x.repeat(2, axis=1).repeat(2, axis=2))  # nearest: no new values
    shrunk = np.asarray(MatchSize()(x, np.zeros((2, 3, 5, 3))))
    assert shrunk.shape == (2, 3, 5, 1) and set(shrunk.ravel()) <= set(x.ravel())


def test_upsampling_starts_as_bilinear_interpolation():
    import keras

    from cvkit_head_segmentation.layers import BilinearUpsampling

    layer = keras.layers.Conv2DTranspose(2, 8, strides=4, padding="same", use_bias=False, kernel_initializer=BilinearUpsampling())
    up = np.asarray(layer(np.ones((1, 4, 4, 2), "float32")))
    assert up.shape == (1, 16, 16, 2)
    np.testing.assert_allclose(up[:, 4:-4, 4:-4], 1.0, atol=1e-6)  # a constant stays constant inside
    assert layer.trainable_weights, "the upsampling must be learnable"


def _layer_names(head):
    model = cvkit.create_model("resnet18", head=head, num_classes=2, input_shape=(32, 32, 3), **TINY)
    return {layer.name for layer in model.layers}


def test_fcn_variants_differ_by_their_skips():
    fcn32, fcn16, fcn8 = (_layer_names(h) for h in ("fcn32s", "fcn16s", "fcn8s"))
    assert {"score_32", "upsample_32_to_1"} <= fcn32 and not fcn32 & {"score_16", "score_8"}
    assert {"score_16", "upsample_16_to_1"} <= fcn16 and "score_8" not in fcn16
    assert {"score_16", "score_8", "fuse_8", "upsample_8_to_1"} <= fcn8
    unet = _layer_names("unet")
    assert {f"decoder_{s}_concat" for s in (16, 8, 4, 2)} <= unet and "decoder_1_conv2_conv" in unet


@pytest.mark.parametrize("head", ["fcn8s", "unet"])
def test_any_multiple_of_the_total_stride_runs(head):
    model = cvkit.create_model("resnet18", head=head, num_classes=2, input_shape=(None, None, 3), **TINY)
    for height, width in ((32, 32), (64, 96)):
        masks = model.predict(_images((1, height, width, 3)), verbose=0)["masks"]
        assert masks.shape == (1, height, width, 3)


def test_valid_padding_backbone_still_gives_masks_at_the_input_size():
    spec = cvkit.get_backbone("alexnet")
    model = cvkit.create_model("alexnet", head="fcn8s", num_classes=2, input_shape=(96, 96, 3), **spec.tiny)
    assert model.predict(_images((1, 96, 96, 3)), verbose=0)["masks"].shape == (1, 96, 96, 3)


def test_round_trip(tmp_path):
    model = cvkit.create_model("resnet18", head="fcn16s", num_classes=2, input_shape=(32, 32, 3), head_params={"filters": 8}, **TINY)
    images = _images((2, 32, 32, 3))
    model.save(tmp_path / "m.keras")
    loaded = cvkit.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(images, verbose=0)["masks"], model.predict(images, verbose=0)["masks"], atol=1e-6)


def test_foreground_mean_iou_leaves_the_background_out():
    from cvkit_head_segmentation.head import segmentation_objectives

    rng = np.random.default_rng(0)
    true = rng.choice(4, size=(3, 8, 10), p=[0.7, 0.1, 0.1, 0.1])
    predicted = np.where(rng.random(true.shape) < 0.6, true, rng.integers(0, 4, true.shape))
    predicted[predicted == 3] = 0  # class 3 is never predicted: its IoU is 0, and it still counts
    probabilities = np.eye(4, dtype="float32")[predicted] * 0.7 + 0.1
    metrics = {m.name: m for m in segmentation_objectives(TaskSpec("segmentation", 3), ["masks"]).metrics["masks"]}
    for metric in metrics.values():
        metric.update_state(true[..., None], probabilities)

    def iou(c):
        return ((true == c) & (predicted == c)).sum() / ((true == c) | (predicted == c)).sum()

    assert float(metrics["foreground_mean_iou"].result()) == pytest.approx(np.mean([iou(c) for c in (1, 2, 3)]), abs=1e-5)
    assert float(metrics["mean_iou"].result()) == pytest.approx(np.mean([iou(c) for c in range(4)]), abs=1e-5)
    assert float(metrics["foreground_mean_iou"].result()) < float(metrics["mean_iou"].result())


@pytest.mark.parametrize("head", ["fcn8s", "unet"])
def test_head_overfits_sixteen_shapes(head):
    from plugins.test_localization import overfit_shapes

    predicted, _, _, masks = overfit_shapes(head, steps=40)
    ids = predicted["masks"].argmax(-1)
    present = [c for c in np.unique(masks) if c > 0]
    foreground_iou = np.mean([((ids == c) & (masks == c)).sum() / ((ids == c) | (masks == c)).sum() for c in present])
    assert foreground_iou > 0.35  # predicting background everywhere scores 0
    assert (ids == masks).mean() > (masks == 0).mean() + 0.05  # and beats its pixel accuracy


def test_targets_without_masks_say_which_data_sets_have_them():
    from cvkit_head_segmentation.head import segmentation_targets

    with pytest.raises(CvkitError, match="gives no segmentation masks"):
        segmentation_targets({"images": None, "labels": None}, ["masks"], TaskSpec("segmentation", 2))


@pytest.mark.slow
def test_cli_trains_evaluates_and_predicts_masks(tmp_path, capsys):
    from PIL import Image

    from cvkit_cli.main import main
    from cvkit_data_shapes.generate import CLASS_NAMES
    from plugins.test_localization import shape_pictures, train_tiny_run

    run = train_tiny_run(tmp_path, "unet", "flip,resized_crop,jitter")
    assert "validation mean_iou" in capsys.readouterr().out
    assert main(["evaluate", str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == ["foreground_mean_iou", "mean_iou", "pixel_accuracy"]

    paths = shape_pictures(tmp_path, 40)
    assert main(["predict", str(run), *paths, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        assert set(row["pixel_shares"]) <= {"background", *CLASS_NAMES}
        assert sum(row["pixel_shares"].values()) == pytest.approx(1.0)
        assert Image.open(row["output"]).size == (40, 40)
    assert main(["predict", str(run), paths[0]]) == 0
    assert "%" in capsys.readouterr().out
