"""Box operations for detection heads, in ``keras.ops`` (TensorFlow and JAX alike).

Why a non-max suppression of our own: Keras 3.15 core has none (``keras.utils.bounding_boxes``
converts formats and computes IoU, and cvkit uses those; ``keras.ops.image`` has no NMS).
keras-cv's and keras-hub's ``NonMaxSuppression`` layers are class-agnostic and call
``tf.image.non_max_suppression_padded`` on TensorFlow (keras-cv is no longer maintained); a
detector scored per class needs suppression within each class only, the same op on every
backend, and a fixed output size that traces into a SavedModel. :func:`non_max_suppression`
is the greedy algorithm, vectorised over the batch: a ``fori_loop`` over the candidates in
score order, each step one vector operation, on the pairwise IoU matrix. Its cost is
``O(K^2)`` for ``K`` candidates, which suits a grid detector (YOLO v1 at 448 px: 98 boxes).
"""

from __future__ import annotations

from typing import Any

from keras import ops
from keras.utils import bounding_boxes


def pairwise_iou(boxes_a: Any, boxes_b: Any) -> Any:
    """IoU of every box in ``boxes_a`` ``(batch, n, 4)`` with every box in ``boxes_b``
    ``(batch, m, 4)`` -> ``(batch, n, m)``; boxes as corners (``rel_xyxy`` or ``xyxy``)."""
    # IoU does not depend on the unit, so relative corners are passed as absolute ones.
    return bounding_boxes.compute_iou(ops.cast(boxes_a, "float32"), ops.cast(boxes_b, "float32"), "xyxy")


def non_max_suppression(boxes: Any, scores: Any, classes: Any, *, score_threshold: float,
                        iou_threshold: float, max_detections: int) -> dict[str, Any]:
    """Greedy per-class NMS on a batch of candidates.

    ``boxes`` float ``(batch, K, 4)`` corners, ``scores`` float ``(batch, K)``, ``classes``
    int ``(batch, K)``. A candidate is kept when it scores at least ``score_threshold`` and no
    kept candidate of its class with a higher score overlaps it by more than ``iou_threshold``.
    Returns ``boxes`` ``(batch, max_detections, 4)``, ``scores``, ``classes`` (int32) and
    ``num_detections`` (int32 ``(batch,)``), best first; rows past ``num_detections`` are zero,
    their classes -1.
    """
    boxes = ops.cast(boxes, "float32")
    scores = ops.cast(scores, "float32")
    classes = ops.cast(classes, "int32")
    count = ops.shape(scores)[1]
    order = ops.argsort(-scores, axis=-1)  # best first
    boxes = ops.take_along_axis(boxes, order[..., None], axis=1)
    scores = ops.take_along_axis(scores, order, axis=1)
    classes = ops.take_along_axis(classes, order, axis=1)

    same_class = ops.equal(classes[:, :, None], classes[:, None, :])
    overlaps = ops.logical_and(pairwise_iou(boxes, boxes) > iou_threshold, same_class)
    candidates = scores >= score_threshold
    positions = ops.arange(count)

    def visit(index: Any, keep: Any) -> Any:
        # Candidate ``index`` survives unless a kept, better candidate (lower index) overlaps it.
        earlier = ops.logical_and(keep, positions[None, :] < index)
        suppressed = ops.any(ops.logical_and(earlier, ops.take(overlaps, index, axis=1)), axis=-1)
        stays = ops.logical_and(ops.take(candidates, index, axis=1), ops.logical_not(suppressed))
        return ops.where(ops.equal(positions, index)[None, :], stays[:, None], keep)

    keep = ops.fori_loop(0, count, visit, ops.zeros_like(candidates))
    return _gather_kept(boxes, scores, classes, keep, max_detections)


def _gather_kept(boxes: Any, scores: Any, classes: Any, keep: Any, max_detections: int) -> dict[str, Any]:
    """The kept candidates (already best first), packed to ``max_detections`` rows and zero-padded."""
    count = boxes.shape[1]
    if count < max_detections:  # pad so top_k can take max_detections rows
        pad = max_detections - count
        boxes = ops.pad(boxes, [[0, 0], [0, pad], [0, 0]])
        scores = ops.pad(scores, [[0, 0], [0, pad]])
        classes = ops.pad(classes, [[0, 0], [0, pad]])
        keep = ops.pad(keep, [[0, 0], [0, pad]])
        count = max_detections
    # Kept rows first, in their (score) order: rank by position among the kept.
    rank = ops.where(keep, ops.cast(count - ops.arange(count), "float32")[None, :], 0.0)
    _, picked = ops.top_k(rank, k=max_detections, sorted=True)
    kept = ops.take_along_axis(keep, picked, axis=1)
    mask = ops.cast(kept, "float32")
    return {
        "boxes": ops.take_along_axis(boxes, picked[..., None], axis=1) * mask[..., None],
        "scores": ops.take_along_axis(scores, picked, axis=1) * mask,
        "classes": ops.where(kept, ops.take_along_axis(classes, picked, axis=1), -1),
        "num_detections": ops.cast(ops.sum(ops.cast(keep, "int32"), axis=1), "int32"),
    }
