"""Head checks: a head on a tiny backbone trains through its own objectives and targets."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from cvkit.testing.augmentations import aligned_examples

NUM_CLASSES = 3


def _default_backbone() -> str:
    from cvkit import list_backbones

    names = list_backbones()
    return "resnet18" if "resnet18" in names else names[0]


def _batch(count: int) -> dict:
    """``count`` rectangles of three classes with their boxes and masks, as the pipeline gives them."""
    examples = aligned_examples(count)
    return {key: value[:count] if not isinstance(value, dict) else {k: v[:count] for k, v in value.items()}
            for key, value in examples.items()}


def check_postprocess(name: str, predicted: dict, count: int, max_detections: int = 5) -> None:
    """A head's ``postprocess`` keeps the contract: shapes, dtypes, padding and boxes inside the image."""
    from keras import ops

    from cvkit import get_registries

    spec = get_registries().heads.get(name)
    postprocess = spec.load_postprocess()
    assert postprocess is not None, f"head {name}: a detection head must register postprocess="
    found = postprocess(predicted, score_threshold=0.0, iou_threshold=0.5, max_detections=max_detections, **spec.defaults)
    found = {key: ops.convert_to_numpy(value) for key, value in found.items()}
    shapes = {"boxes": (count, max_detections, 4), "scores": (count, max_detections),
              "classes": (count, max_detections), "num_detections": (count,)}
    dtypes = {"boxes": "float32", "scores": "float32", "classes": "int32", "num_detections": "int32"}
    assert {k: (v.shape, str(v.dtype)) for k, v in found.items()} == {k: (shapes[k], dtypes[k]) for k in shapes}, (
        f"head {name}: postprocess returned {({k: (v.shape, str(v.dtype)) for k, v in found.items()})}")
    boxes = found["boxes"]
    assert ((boxes >= 0) & (boxes <= 1)).all() and (boxes[..., 2:] >= boxes[..., :2]).all(), (
        f"head {name}: postprocessed boxes are not rel_xyxy inside the image")
    for row, kept in enumerate(found["num_detections"]):
        assert 0 < kept <= max_detections, f"head {name}: score_threshold 0 kept {kept} boxes in image {row}"
        assert (found["classes"][row, kept:] == -1).all() and not found["scores"][row, kept:].any(), (
            f"head {name}: rows past num_detections must be zero with class -1")
        assert (found["classes"][row, :kept] >= 0).all() and (found["classes"][row, :kept] < NUM_CLASSES).all()


def check_outputs(name: str, predicted: dict, task: str, count: int, size: int) -> None:
    """The named outputs of a head for its task: shapes, probabilities, boxes inside the image."""
    if task == "detection":
        detections = predicted.get("detections")
        assert detections is not None and detections.ndim == 4 and detections.shape[0] == count, (
            f"head {name}: detection needs 'detections' of shape (batch, S, S, B*5 + C)")
        check_postprocess(name, predicted, count)
        return
    if task == "segmentation":
        masks = predicted.get("masks")
        assert masks is not None and masks.shape == (count, size, size, NUM_CLASSES + 1), (
            f"head {name}: segmentation needs 'masks' of shape {(count, size, size, NUM_CLASSES + 1)}")
        np.testing.assert_allclose(masks.sum(-1), 1.0, rtol=1e-4, err_msg=f"head {name}: mask probabilities do not sum to 1")
        return
    probabilities = predicted.get("probabilities")
    assert probabilities is not None and probabilities.shape == (count, NUM_CLASSES), (
        f"head {name}: {task} needs 'probabilities' of shape {(count, NUM_CLASSES)}")
    if task == "localization":
        boxes = predicted.get("boxes")
        assert boxes is not None and boxes.shape == (count, 4), f"head {name}: localization needs 'boxes' of shape {(count, 4)}"
        assert ((boxes >= 0) & (boxes <= 1)).all() and (boxes[:, 2:] >= boxes[:, :2]).all(), (
            f"head {name}: boxes {boxes} are not rel_xyxy inside the image")


def check_head(name: str, *, backbone: str | None = None, steps: int = 12, count: int = 8, **params: Any) -> None:
    """Every rule a registered head keeps, for each of its tasks; AssertionError names the broken one.

    On a tiny ``backbone`` (default ResNet-18) at 32x32 the head builds, its ``objectives`` and
    ``targets`` compile and feed a batch with images, labels, boxes and masks, the loss is finite
    and falls over ``steps`` full-batch steps on ``count`` rectangles, and its outputs have the
    shapes its task promises. ``params`` override the head's defaults.
    """
    import keras

    from cvkit import TaskSpec, create_model, get_backbone, get_registries, resolve_callable

    spec = get_registries().heads.get(name)
    arch = get_backbone(backbone or _default_backbone())
    size = 32
    batch = _batch(count)
    for task_name in sorted(spec.tasks):
        keras.utils.set_random_seed(0)
        task = TaskSpec(task=task_name, num_classes=NUM_CLASSES)
        model = create_model(arch.name, head=name, num_classes=NUM_CLASSES, input_shape=(size, size, 3),
                             task=task_name, head_params=params, **arch.tiny)
        outputs, merged = list(model.output), {**spec.defaults, **params}
        objectives = resolve_callable(spec.objectives)(task, outputs, **merged)
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=objectives.losses,
                      loss_weights=objectives.loss_weights or None, run_eagerly=True)  # quicker than tracing, for a few steps
        targets = resolve_callable(spec.targets)(batch, outputs, task, **merged)
        losses = model.fit(batch["images"], targets, batch_size=count, epochs=steps, verbose=0).history["loss"]
        assert all(math.isfinite(loss) for loss in losses), f"head {name} ({task_name}): the loss is not finite: {losses}"
        assert min(losses[-3:]) < 0.8 * losses[0], (
            f"head {name} ({task_name}) did not learn: loss {losses[0]:.3f} -> {losses[-1]:.3f} in {steps} steps")
        check_outputs(name, model.predict_on_batch(batch["images"]), task_name, count, size)
