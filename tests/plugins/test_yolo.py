"""The yolo head: targets, the YOLO v1 loss, NMS and postprocess, AP50 per epoch, and its bad input."""

from __future__ import annotations

import numpy as np
import pytest

import cvkit
from cvkit import CvkitError, TaskSpec

TINY = cvkit.get_backbone("resnet18").tiny
TASK = TaskSpec("detection", 3)


def _batch(boxes: list[list[list[float]]], labels: list[list[int]], size: int = 64) -> dict:
    return {"images": np.zeros((len(boxes), size, size, 3), "float32"),
            "bounding_boxes": {"boxes": np.asarray(boxes, "float32"), "labels": np.asarray(labels, "int32")}}


def test_targets_put_each_box_in_the_cell_of_its_centre_and_skip_padding():
    from cvkit_head_detection.head import yolo_targets

    boxes = [[[0.1, 0.1, 0.3, 0.3], [0.6, 0.7, 0.7, 0.8], [0.55, 0.6, 0.95, 0.9], [0.0, 0.0, 0.0, 0.0]]]
    target = yolo_targets(_batch(boxes, [[2, 0, 1, -1]]), ["detections"], TASK, grid=2)["detections"].numpy()
    assert target.shape == (1, 2, 2, 5 + 3)
    np.testing.assert_array_equal(target[0, ..., 4], [[1, 0], [0, 1]])  # (row, column): top left, bottom right
    np.testing.assert_allclose(target[0, 0, 0, :4], boxes[0][0])
    np.testing.assert_array_equal(target[0, 0, 0, 5:], [0, 0, 1])
    # two centres in the bottom-right cell: the larger box (class 1) wins, the padding row is ignored
    np.testing.assert_allclose(target[0, 1, 1, :4], boxes[0][2])
    np.testing.assert_array_equal(target[0, 1, 1, 5:], [0, 1, 0])
    assert not target[0, 0, 1].any() and not target[0, 1, 0].any()


def _perfect_prediction(target: np.ndarray, boxes_per_cell: int = 2) -> np.ndarray:
    """Detections whose first box in each object cell is the truth, objectness 1, the rest 0."""
    grid = target.shape[1]
    out = np.zeros(target.shape[:3] + (boxes_per_cell * 5 + 3,), "float32")
    for row in range(grid):
        for column in range(grid):
            if target[0, row, column, 4]:
                x1, y1, x2, y2 = target[0, row, column, :4]
                out[0, row, column, :5] = [(x1 + x2) / 2 * grid - column, (y1 + y2) / 2 * grid - row,
                                           np.sqrt(x2 - x1), np.sqrt(y2 - y1), 1.0]
                out[0, row, column, boxes_per_cell * 5:] = target[0, row, column, 5:]
    return out


def test_yolo_loss_weighs_the_responsible_box_and_the_empty_cells():
    from cvkit_head_detection.head import yolo_targets
    from cvkit_head_detection.yolo import YoloLoss

    target = yolo_targets(_batch([[[0.1, 0.1, 0.3, 0.3]]], [[2]]), ["detections"], TASK, grid=2)["detections"].numpy()
    perfect = _perfect_prediction(target)
    loss = YoloLoss(boxes_per_cell=2, coord_weight=5.0, noobj_weight=0.5)
    assert float(loss(target, perfect)) == pytest.approx(0.0, abs=1e-5)
    shifted = perfect.copy()
    shifted[0, 0, 0, 0] += 0.1  # the responsible box's centre: coord_weight x 0.1^2, and its IoU drops
    assert float(loss(target, shifted)) > 5.0 * 0.01
    lonely = perfect.copy()
    lonely[0, 1, 1, 4] = 0.4  # objectness in an empty cell: noobj_weight x 0.4^2
    assert float(loss(target, lonely)) == pytest.approx(0.5 * 0.16, rel=1e-4)
    other = perfect.copy()
    other[0, 0, 0, 5:9] = [0.9, 0.9, 0.9, 0.0]  # the second box, far from the truth and not responsible: objectness 0
    assert float(loss(target, other)) == pytest.approx(0.0, abs=1e-5)


def _greedy_nms(boxes, scores, classes, score_threshold, iou_threshold):
    """The textbook algorithm, one image at a time, as the reference."""
    from cvkit_head_localization.boxes import box_iou

    kept = []
    for i in np.argsort(-scores, kind="stable"):
        if scores[i] < score_threshold:
            continue
        if all(classes[j] != classes[i] or float(box_iou(boxes[i], boxes[j])) <= iou_threshold for j in kept):
            kept.append(i)
    return kept


def test_nms_matches_the_greedy_algorithm_per_class_and_pads():
    from cvkit.boxes import non_max_suppression

    rng = np.random.default_rng(3)
    corner = rng.uniform(0, 0.7, (2, 40, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(0.1, 0.3, (2, 40, 2))], -1).astype("float32")
    scores = rng.uniform(0, 1, (2, 40)).astype("float32")
    classes = rng.integers(0, 2, (2, 40)).astype("int32")
    found = non_max_suppression(boxes, scores, classes, score_threshold=0.3, iou_threshold=0.3, max_detections=30)
    found = {k: np.asarray(v) for k, v in found.items()}
    for image in range(2):
        reference = _greedy_nms(boxes[image], scores[image], classes[image], 0.3, 0.3)
        count = int(found["num_detections"][image])
        assert count == len(reference) and count < 30
        np.testing.assert_allclose(found["boxes"][image, :count], boxes[image, reference])
        np.testing.assert_allclose(found["scores"][image, :count], scores[image, reference])
        np.testing.assert_array_equal(found["classes"][image, :count], classes[image, reference])
        assert (found["classes"][image, count:] == -1).all() and not found["boxes"][image, count:].any()


def test_postprocess_traces_into_a_tf_function_with_tensor_thresholds():
    import tensorflow as tf

    from cvkit_head_detection.head import yolo_postprocess

    detections = np.random.default_rng(0).uniform(0, 1, (2, 2, 2, 13)).astype("float32")
    eager = yolo_postprocess({"detections": detections}, score_threshold=0.2, iou_threshold=0.5, max_detections=4)
    traced = tf.function(lambda d, s: yolo_postprocess({"detections": d}, score_threshold=s, iou_threshold=0.5,
                                                       max_detections=4))(tf.constant(detections), tf.constant(0.2))
    for key in ("boxes", "scores", "classes", "num_detections"):
        np.testing.assert_allclose(np.asarray(traced[key]), np.asarray(eager[key]), atol=1e-6)
    assert int(eager["num_detections"][0]) > 0


@pytest.mark.parametrize("thresholds, message", [
    (dict(score_threshold=1.5), r"score_threshold must be in \[0, 1\], got 1.5"),
    (dict(iou_threshold=-0.1), r"iou_threshold must be in \[0, 1\], got -0.1"),
])
def test_thresholds_outside_zero_to_one_are_one_line_errors(thresholds, message):
    from cvkit_head_detection.head import yolo_postprocess

    with pytest.raises(CvkitError, match=message):
        cvkit.DetectionThresholds(**thresholds).checked()
    arguments = {**cvkit.DETECTION_DEFAULTS.as_kwargs(), **thresholds}
    with pytest.raises(CvkitError, match=message):
        yolo_postprocess({"detections": np.zeros((1, 1, 1, 13), "float32")}, **arguments)


@pytest.mark.parametrize("size, grid, message", [
    (64, 5, r"grid 5 does not divide the 64 px input.*grid= one of 1, 2, 4, 8, 16, or with grid 5 an --image-size "
            r"that is a multiple of 5 \(at least 20\), e.g. 65"),
    (100, 0, r"the default grid 3 \(image size / 32\) does not divide the 100 px input.*one of 1, 2, 4, 5, 10, 20, 25"),
])
def test_a_grid_that_does_not_divide_the_input_says_what_fits(size, grid, message):
    with pytest.raises(CvkitError, match=message):
        cvkit.create_model("resnet18", head="yolo", num_classes=3, input_shape=(size, size, 3), task="detection",
                           head_params={"grid": grid}, **TINY)


def test_the_default_grid_is_the_stride_32_map_and_finer_grids_use_finer_maps():
    def grid_of(size: int, grid: int) -> tuple:
        model = cvkit.create_model("resnet18", head="yolo", num_classes=3, input_shape=(size, size, 3),
                                   task="detection", head_params={"grid": grid, "width": 8}, **TINY)
        return tuple(model.output["detections"].shape[1:])

    assert grid_of(96, 0) == (3, 3, 13)
    assert grid_of(64, 8) == (8, 8, 13)  # the stride-8 map, no resizing
    assert grid_of(64, 1) == (1, 1, 13)  # the stride-32 map pooled


def test_yolo_on_data_without_boxes_names_the_heads_that_fit():
    from cvkit.training.config import RunConfig
    from cvkit.training.plan import resolve_plan
    from cvkit_head_detection.head import yolo_targets

    with pytest.raises(CvkitError, match=r"dataset 'digits' only provides classification; pick a head for that "
                                         r"data \(--head classification\)"):
        resolve_plan(RunConfig(arch="resnet18", head="yolo", dataset="digits"))
    with pytest.raises(CvkitError, match=r"gives no boxes; the yolo head needs detection data .*classification"):
        yolo_targets({"images": np.zeros((1, 32, 32, 3))}, ["detections"], TASK)


def test_the_head_adds_val_ap50_to_the_epoch_logs():
    """The head's validation callback (what the engine adds to fit) on a tiny model and 4 images."""
    import tensorflow as tf

    from cvkit_head_detection.head import yolo_objectives

    boxes = np.zeros((4, 2, 4), "float32")
    boxes[:, 0] = [0.2, 0.2, 0.6, 0.7]
    labels = np.array([[0, -1], [1, -1], [2, -1], [0, -1]], "int32")
    split = tf.data.Dataset.from_tensor_slices({"images": np.zeros((4, 32, 32, 3), "uint8"), "labels": labels[:, 0],
                                                "bounding_boxes": {"boxes": boxes, "labels": labels}})
    model = cvkit.create_model("resnet18", head="yolo", num_classes=3, input_shape=(32, 32, 3), task="detection",
                               head_params={"width": 8}, **TINY)
    (make,) = yolo_objectives(TASK, ["detections"]).validation_callbacks
    callback = make(split)
    callback.set_model(model)
    logs = {"val_loss": 1.0}
    callback.on_epoch_end(0, logs)
    assert set(logs) == {"val_loss", "val_ap50"} and 0.0 <= logs["val_ap50"] <= 1.0


@pytest.mark.slow
@pytest.mark.heavy
def test_training_logs_ap50_on_validation_each_epoch(tmp_path):
    import csv

    from cvkit.training.config import RunConfig

    config = RunConfig(arch="resnet18", head="yolo", dataset="shapes:40", image_size=32, epochs=2, batch_size=16,
                       backbone_params=dict(TINY), head_params={"width": 16}, bn_recalibration_batches=0,
                       out=str(tmp_path / "run"))
    cvkit.train(config, verbose=0)
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert len(rows) == 2 and all(0.0 <= float(row["val_ap50"]) <= 1.0 for row in rows), rows
