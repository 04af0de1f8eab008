"""The localization head: valid boxes, class-specific boxes, the three box losses, the metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError, TaskSpec
from helpers import run_cli

TINY = dict(blocks=[1, 1, 1, 1], stage_widths=[8, 16, 32, 64], stem_filters=8)
TINY_FLAGS = ["--set", "blocks=[1,1,1,1]", "--set", "stage_widths=[8,16,32,64]", "--set", "stem_filters=8"]


def test_decoded_boxes_are_inside_the_image_and_never_inverted():
    from cvkit_head_localization.layers import DecodeBoxes

    raw = np.random.default_rng(0).normal(0, 20, (64, 12)).astype("float32")
    boxes = np.asarray(DecodeBoxes(3)(raw))
    assert boxes.shape == (64, 3, 4)
    assert (boxes >= 0).all() and (boxes <= 1).all()
    assert (boxes[..., 2:] >= boxes[..., :2]).all()


def test_class_specific_head_serves_the_box_of_the_predicted_class():
    model = cvkit.create_model("resnet18", head="localization", num_classes=4, input_shape=(32, 32, 3),
                               head_params={"class_specific": True}, **TINY)
    images = np.random.default_rng(1).uniform(0, 255, (5, 32, 32, 3)).astype("float32")
    out = model.predict(images, verbose=0)
    assert out["aux_localization"].shape == (5, 4 + 4 * 4)
    every = out["aux_localization"][:, 4:].reshape(5, 4, 4)
    chosen = every[np.arange(5), out["probabilities"].argmax(-1)]
    np.testing.assert_allclose(out["boxes"], chosen, atol=1e-6)


def _joint(probabilities, boxes):
    return np.concatenate([np.asarray(probabilities, "float32"), np.asarray(boxes, "float32").reshape(len(boxes), -1)], -1)


def test_box_losses_on_known_boxes():
    from keras_cv.losses import GIoULoss

    from cvkit_head_localization.boxes import BoxLoss

    true = np.array([[0.1, 0.1, 0.5, 0.5], [0.0, 0.0, 0.2, 0.2]], "float32")
    pred = np.array([[0.2, 0.1, 0.6, 0.5], [0.6, 0.6, 0.8, 0.8]], "float32")
    y_true = np.concatenate([true, [[0.0], [1.0]]], -1)
    y_pred = _joint([[1, 0], [0, 1]], pred[:, None])
    l2 = BoxLoss("l2", num_classes=2).call(y_true, y_pred).numpy()
    np.testing.assert_allclose(l2, ((pred - true) ** 2).sum(-1), rtol=1e-6)
    smooth = BoxLoss("smooth_l1", num_classes=2).call(y_true, y_pred).numpy()
    # x1 and x2 are 0.1 off, at the switch from quadratic to linear: 0.1 - 0.05 each
    np.testing.assert_allclose(smooth[0], 2 * (0.1 - 0.05), rtol=1e-5)
    giou = BoxLoss("giou", num_classes=2).call(y_true, y_pred).numpy()
    reference = [float(GIoULoss("rel_xyxy")(true[i:i + 1], pred[i:i + 1])) for i in range(2)]
    np.testing.assert_allclose(giou, reference, rtol=1e-5)
    assert giou[0] == pytest.approx(0.4, abs=1e-5) and giou[1] > 1.0  # overlap 0.6 IoU; disjoint boxes


def test_class_specific_loss_reads_the_box_of_the_true_class():
    from cvkit_head_localization.boxes import BoxLoss

    true = np.array([[0.1, 0.1, 0.5, 0.5, 1.0]], "float32")  # class 1
    boxes = np.array([[[0.6, 0.6, 0.9, 0.9], [0.1, 0.1, 0.5, 0.5]]], "float32")  # class 0 wrong, class 1 exact
    loss = BoxLoss("l2", num_classes=2, class_specific=True).call(true, _joint([[0.9, 0.1]], boxes)).numpy()
    assert loss[0] == pytest.approx(0.0, abs=1e-7)


def test_mean_iou_and_accuracy_at_iou_half():
    from cvkit_head_localization.boxes import LocalizationAccuracy, MeanBoxIoU

    true = np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5]], "float32")
    pred = np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.25], [0.0, 0.0, 0.5, 0.5]], "float32")
    iou = MeanBoxIoU()
    iou.update_state(true, pred)
    assert float(iou.result()) == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-6)
    accuracy = LocalizationAccuracy(num_classes=2)
    labels = np.array([[0.0], [0.0], [1.0]], "float32")
    # right class and IoU 1; right class and IoU exactly 0.5; wrong class
    accuracy.update_state(np.concatenate([true, labels], -1), _joint([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]], pred[:, None]))
    assert float(accuracy.result()) == pytest.approx(2 / 3, abs=1e-6)


@pytest.mark.parametrize("params, message", [
    ({"box_loss": "iou"}, r"unknown box loss 'iou'; choose one of l2, smooth_l1, giou"),
    ({"box_weight": 0}, r"box_weight must be positive"),
])
def test_bad_head_params_are_one_line_errors(params, message):
    with pytest.raises(CvkitError, match=message):
        cvkit.create_model("resnet18", head="localization", num_classes=2, input_shape=(32, 32, 3), head_params=params, **TINY)


def test_targets_without_boxes_say_which_data_sets_have_them():
    from cvkit_head_localization.head import localization_targets

    with pytest.raises(CvkitError, match="gives no boxes"):
        localization_targets({"images": None, "labels": None}, [], TaskSpec("localization", 2))


def test_class_specific_model_round_trips(tmp_path):
    model = cvkit.create_model("resnet18", head="localization", num_classes=3, input_shape=(32, 32, 3),
                               head_params={"class_specific": True, "box_loss": "smooth_l1"}, **TINY)
    images = np.random.default_rng(2).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = cvkit.load_model(tmp_path / "m.keras")
    for key, value in model.predict(images, verbose=0).items():
        np.testing.assert_allclose(loaded.predict(images, verbose=0)[key], value, atol=1e-6)


def overfit_shapes(head: str, steps: int, count: int = 16, size: int = 32):
    """A tiny ResNet-18 with ``head`` trained full-batch for ``steps`` on ``count`` shapes
    through the head's own objectives and targets; its ``training=False`` outputs on them.

    BatchNorm gets momentum 0.5 so that after a few dozen steps its moving statistics, which
    inference uses, have caught up with the batch statistics training used (at Keras' 0.99
    they still hold mostly their initial values and the scores mean nothing).
    """
    import keras

    from cvkit import resolve_callable
    from cvkit_data_shapes.generate import CLASS_NAMES, generate

    keras.utils.set_random_seed(0)
    images, labels, boxes, masks = generate(count, seed=0, size=size)
    spec = cvkit.get_registries().heads.get(head)
    task = TaskSpec(sorted(spec.tasks)[0], len(CLASS_NAMES))
    model = cvkit.create_model("resnet18", head=head, num_classes=task.num_classes, input_shape=(size, size, 3), task=task.task, **TINY)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.5
    outputs = list(model.output)
    objectives = resolve_callable(spec.objectives)(task, outputs, **spec.defaults)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=objectives.losses, loss_weights=objectives.loss_weights or None)
    batch = {"images": images.astype("float32"), "labels": labels, "segmentation_masks": masks[..., None],
             "bounding_boxes": {"boxes": boxes[:, None], "labels": labels[:, None]}}
    targets = resolve_callable(spec.targets)(batch, outputs, task, **spec.defaults)
    model.fit(batch["images"], targets, batch_size=count, epochs=steps, verbose=0)
    return model.predict(batch["images"], verbose=0), labels, boxes, masks


def test_localization_overfits_sixteen_shapes():
    from cvkit_head_localization.boxes import box_iou

    predicted, labels, boxes, _ = overfit_shapes("localization", steps=40)
    assert float(np.mean(box_iou(boxes, predicted["boxes"]))) > 0.6
    assert (predicted["probabilities"].argmax(-1) == labels).mean() >= 0.9


def train_tiny_run(tmp_path, head: str, augmentations: str):
    """`cvkit train` in-process: a tiny ResNet-18 with ``head``, one epoch on 48 shapes."""
    from cvkit_cli.main import main

    run = tmp_path / "run"
    assert main(["train", "--arch", "resnet18", *TINY_FLAGS, "--head", head, "--dataset", "shapes:48",
                 "--epochs", "1", "--batch-size", "16", "--aug", augmentations, "--out", str(run)]) == 0
    return run


def shape_pictures(tmp_path, size: int, count: int = 2) -> list[str]:
    """PNG files of fresh shapes, ``size`` x ``size``, to predict on."""
    from PIL import Image

    from cvkit_data_shapes.generate import generate

    images, *_ = generate(count, seed=5, size=size)
    paths = [tmp_path / f"shape{i}.png" for i in range(count)]
    for path, image in zip(paths, images):
        Image.fromarray(image).save(path)
    return [str(p) for p in paths]


@pytest.mark.slow
def test_cli_trains_evaluates_and_predicts_boxes(tmp_path, capsys):
    from PIL import Image

    from cvkit_cli.main import main

    run = train_tiny_run(tmp_path, "localization", "flip,crop,rotate,jitter")
    assert "validation boxes_mean_iou" in capsys.readouterr().out
    # a fresh process: loading finds the box loss and metrics the saved model names
    evaluated = run_cli("evaluate", str(run), "--json")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    metrics = json.loads(evaluated.stdout)
    assert {"boxes_mean_iou", "aux_localization_accuracy", "probabilities_accuracy"} <= set(metrics)

    paths = shape_pictures(tmp_path, 48)
    assert main(["predict", str(run), *paths, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        x1, y1, x2, y2 = row["box_pixels"]
        assert 0 <= x1 <= x2 <= 48 and 0 <= y1 <= y2 <= 48
        assert Image.open(row["output"]).size == (48, 48)
    assert main(["predict", str(run), paths[0]]) == 0
    assert "(x1,y1,x2,y2 px)" in capsys.readouterr().out
