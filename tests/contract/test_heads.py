"""Every registered head trains a step on one variant of every backbone family, at a tiny size.

Parametrised over the registries (heads x families), so a new head or family is tested the
moment it registers. The step goes through the head's own objectives and targets, fed a batch
dict like the data pipeline's, with images, labels, boxes and masks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import cvkit
from cvkit import TaskSpec, resolve_callable
from cvkit.testing import check_head

NUM_CLASSES = 3
HEADS = cvkit.list_heads()
FAMILIES = sorted({spec.family: spec.name for spec in cvkit.get_registries().backbones}.items())


def _family_variant(family: str) -> str:
    return cvkit.get_backbone(family).name


def _size(arch: str) -> int:
    """The smallest input of ``arch`` that is a multiple of 32 (dense heads need that)."""
    return -(-max(32, cvkit.get_backbone(arch).min_input_size) // 32) * 32


def _batch(size: int, channels: int, count: int = 2) -> dict:
    rng = np.random.default_rng(0)
    labels = np.arange(count) % NUM_CLASSES
    masks = np.zeros((count, size, size, 1), np.int32)
    masks[:, size // 4: size // 2, size // 4: 3 * size // 4] = labels[:, None, None, None] + 1
    return {
        "images": rng.uniform(0, 255, (count, size, size, channels)).astype("float32"),
        "labels": labels.astype("int32"),
        "bounding_boxes": {"boxes": np.tile([[[0.25, 0.25, 0.75, 0.5]]], (count, 1, 1)).astype("float32"),
                           "labels": labels[:, None].astype("int32")},
        "segmentation_masks": masks,
    }


@pytest.mark.parametrize("head", HEADS)
def test_head_keeps_the_contract(head):
    """On a tiny ResNet-18 the head learns a few rectangles; the check plugins' tests call too."""
    check_head(head)


@pytest.mark.parametrize("family", [f for f, _ in FAMILIES])
@pytest.mark.parametrize("head", HEADS)
def test_head_trains_a_step_on_every_family(head, family):
    import keras

    spec = cvkit.get_registries().heads.get(head)
    arch = _family_variant(family)
    backbone = cvkit.get_backbone(arch)
    size, channels = _size(arch), backbone.input_shape[-1]
    task = TaskSpec(task=sorted(spec.tasks)[0], num_classes=NUM_CLASSES)
    model = cvkit.create_model(arch, head=head, num_classes=NUM_CLASSES, input_shape=(size, size, channels),
                               task=task.task, **backbone.tiny)
    outputs = list(model.output)
    params = dict(spec.defaults)
    objectives = resolve_callable(spec.objectives)(task, outputs, **params)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=objectives.losses, loss_weights=objectives.loss_weights or None,
                  metrics=objectives.metrics, run_eagerly=True)  # one step: eager is quicker than tracing
    batch = _batch(size, channels)
    targets = resolve_callable(spec.targets)(batch, outputs, task, **params)
    logs = model.train_on_batch(batch["images"], targets, return_dict=True)
    assert math.isfinite(logs["loss"]), logs

    predicted = model.predict_on_batch(batch["images"])
    if task.task == "segmentation":
        assert predicted["masks"].shape == (2, size, size, NUM_CLASSES + 1)
        np.testing.assert_allclose(predicted["masks"].sum(-1), 1.0, rtol=1e-4)
    elif task.task == "detection":
        grid = size // 32
        assert predicted["detections"].shape == (2, grid, grid, 2 * 5 + NUM_CLASSES)
    else:
        assert predicted["probabilities"].shape == (2, NUM_CLASSES)
    if task.task == "localization":
        boxes = predicted["boxes"]
        assert boxes.shape == (2, 4) and (boxes >= 0).all() and (boxes <= 1).all()
        assert (boxes[:, 2:] >= boxes[:, :2]).all()


@pytest.fixture
def mixed_bfloat16():
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("head", HEADS)
def test_outputs_losses_and_metrics_are_float32_under_mixed_precision(head, mixed_bfloat16):
    """Boxes in bfloat16 are off by up to 1/256 of the image; every output must stay float32."""
    import keras

    spec = cvkit.get_registries().heads.get(head)
    task = TaskSpec(task=sorted(spec.tasks)[0], num_classes=NUM_CLASSES)
    model = cvkit.create_model("resnet18", head=head, num_classes=NUM_CLASSES, input_shape=(32, 32, 3), task=task.task,
                               **cvkit.get_backbone("resnet18").tiny)
    assert any(layer.compute_dtype == "bfloat16" for layer in model.layers), "the policy did not reach the backbone"
    assert {name: str(tensor.dtype) for name, tensor in model.output.items()} == dict.fromkeys(model.output, "float32")
    batch = _batch(32, 3)
    predicted = model.predict_on_batch(batch["images"])
    assert {name: str(value.dtype) for name, value in predicted.items()} == dict.fromkeys(predicted, "float32")

    objectives = resolve_callable(spec.objectives)(task, list(model.output), **spec.defaults)
    targets = resolve_callable(spec.targets)(batch, list(model.output), task, **spec.defaults)
    for name, loss in objectives.losses.items():
        assert keras.backend.standardize_dtype(keras.ops.convert_to_tensor(loss(targets[name], predicted[name])).dtype) == "float32", name
    for name, metrics in objectives.metrics.items():
        for metric in metrics:
            metric.update_state(targets[name], predicted[name])
            assert keras.backend.standardize_dtype(keras.ops.convert_to_tensor(metric.result()).dtype) == "float32", (name, metric.name)


def test_exported_boxes_are_float32_under_mixed_precision(tmp_path, mixed_bfloat16):
    import tensorflow as tf

    model = cvkit.create_model("resnet18", head="localization", num_classes=NUM_CLASSES, input_shape=(32, 32, 3),
                               **cvkit.get_backbone("resnet18").tiny)
    cvkit.export_savedmodel(model, tmp_path / "sm")
    outputs = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"].structured_outputs
    assert {name: spec.dtype.name for name, spec in outputs.items()} == {"boxes": "float32", "probabilities": "float32"}
