"""Detection outside training: ``cvkit.predict`` lists post-NMS boxes and draws them, and the
SavedModel, served where cvkit cannot be imported, gives the same boxes and obeys its threshold
arguments. An untrained tiny model is enough: only non-empty detections matter here."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import cvkit
from cvkit.errors import CvkitError

CLASSES = ["circle", "square", "triangle"]
HEIGHT, WIDTH = 48, 80  # not the model's 64x64 and not square: resized in, boxes scaled back out
LOW = 0.01  # an untrained model scores low; this keeps several boxes per image

# Runs where cvkit cannot be imported. Argument: JSON [savedmodel dir, images .npy, result .npz];
# each call's outputs are saved under its name, an error under "<name>.error".
SERVE = r"""
import json, sys
sys.modules["cvkit"] = None
import numpy as np
import tensorflow as tf

directory, images_file, result = json.loads(sys.argv[1])
loaded = tf.saved_model.load(directory)
images = tf.constant(np.load(images_file))
detect = loaded.signatures["detect"]
calls = {
    "default": lambda: loaded.signatures["serving_default"](images=images),
    "function_defaults": lambda: loaded.detect(images),
    "low": lambda: detect(images=images, score_threshold=tf.constant(0.01), iou_threshold=tf.constant(0.5),
                          max_detections=tf.constant(100)),
    "high": lambda: detect(images=images, score_threshold=tf.constant(0.3), iou_threshold=tf.constant(0.5),
                           max_detections=tf.constant(100)),
    "no_nms": lambda: loaded.detect(images, score_threshold=0.01, iou_threshold=1.0),
    "strict": lambda: loaded.detect(images, score_threshold=0.01, iou_threshold=0.0),
    "two": lambda: loaded.detect(images, score_threshold=0.01, max_detections=2),
    "bad": lambda: loaded.detect(images, score_threshold=1.5),
}
saved = {}
for name, call in calls.items():
    try:
        saved.update({f"{name}.{k}": v.numpy() for k, v in call().items()})
    except tf.errors.InvalidArgumentError as error:
        saved[f"{name}.error"] = np.array(error.message)
np.savez(result, **saved)
"""


@pytest.fixture(scope="module")
def detector():
    import keras

    keras.utils.set_random_seed(0)
    spec = cvkit.get_backbone("resnet18")
    return cvkit.create_model("resnet18", head="yolo", num_classes=len(CLASSES), input_shape=(64, 64, 3),
                              task="detection", class_names=CLASSES, **spec.tiny)


def _pictures(tmp_path, count=2, seed=0):
    images = np.random.default_rng(seed).integers(0, 256, (count, HEIGHT, WIDTH, 3), dtype=np.uint8)
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"picture{i}.png"))
        Image.fromarray(image).save(paths[-1])
    return images, paths


def _served(tmp_path, directory, images):
    np.save(tmp_path / "images.npy", images)
    job = json.dumps([str(directory), str(tmp_path / "images.npy"), str(tmp_path / "served.npz")])
    result = subprocess.run([sys.executable, "-c", SERVE, job], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    flat = dict(np.load(tmp_path / "served.npz"))
    calls: dict[str, dict] = {}
    for key, value in flat.items():
        name, _, field = key.partition(".")
        calls.setdefault(name, {})[field] = value
    return calls


def _same_boxes(served, rows):
    """The served detections of each image equal ``cvkit.predict``'s rows (within 1e-4)."""
    for i, image_rows in enumerate(rows):
        n = int(served["num_detections"][i])
        assert n == len(image_rows), (i, n, len(image_rows))
        np.testing.assert_allclose(served["boxes"][i, :n], [r["box"] for r in image_rows], atol=1e-4)
        np.testing.assert_allclose(served["scores"][i, :n], [r["score"] for r in image_rows], atol=1e-4)
        np.testing.assert_array_equal(served["classes"][i, :n], [r["class_id"] for r in image_rows])
        assert (served["classes"][i, n:] == -1).all() and not served["boxes"][i, n:].any()


@pytest.mark.slow
def test_savedmodel_gives_the_boxes_of_predict_and_follows_its_thresholds(detector, tmp_path):
    images, paths = _pictures(tmp_path)
    low = [r["detections"] for r in cvkit.predict(detector, paths, score_threshold=LOW)]
    default = [r["detections"] for r in cvkit.predict(detector, paths)]
    assert all(len(rows) >= 2 for rows in low), "parity needs several boxes per image"
    cvkit.export_savedmodel(detector, tmp_path / "saved")
    served = _served(tmp_path, tmp_path / "saved", images)

    assert sorted(served["default"]) == ["boxes", "classes", "num_detections", "scores"]
    assert served["default"]["classes"].dtype == np.int32 and served["default"]["num_detections"].dtype == np.int32
    _same_boxes(served["low"], low)
    _same_boxes(served["default"], default)
    _same_boxes(served["function_defaults"], default)  # left-out arguments take cvkit.DETECTION_DEFAULTS

    # a higher score threshold keeps exactly the boxes scoring above it
    high, kept = served["high"], served["low"]
    for i in range(len(images)):
        n_low, n_high = int(kept["num_detections"][i]), int(high["num_detections"][i])
        above = kept["scores"][i, :n_low] >= 0.3
        assert n_high == above.sum() < n_low
        np.testing.assert_allclose(high["boxes"][i, :n_high], kept["boxes"][i, :n_low][above], atol=1e-6)
    # IoU threshold 1 suppresses nothing (every candidate above the score threshold stays);
    # 0 suppresses any overlap within a class, so fewer stay, best first
    candidates = detector.output["detections"].shape[1] ** 2 * detector.head_params["boxes_per_cell"]
    np.testing.assert_array_equal(served["no_nms"]["num_detections"], candidates)
    strict = served["strict"]
    assert (strict["num_detections"] <= kept["num_detections"]).all() and (strict["num_detections"] < candidates).any()
    assert (np.diff(strict["scores"], axis=1) <= 0).all()
    # max_detections cuts to the best rows
    assert served["two"]["boxes"].shape[1] == 2 and (served["two"]["num_detections"] == 2).all()
    np.testing.assert_allclose(served["two"]["boxes"], kept["boxes"][:, :2], atol=1e-6)
    assert "score_threshold must be in [0, 1]" in str(served["bad"]["error"])


def test_predict_lists_boxes_in_pixels_and_draws_them(detector, tmp_path):
    _, paths = _pictures(tmp_path, count=1, seed=1)
    [row] = cvkit.predict(detector, paths, out_dir=tmp_path / "out", score_threshold=LOW, iou_threshold=0.3)
    assert len(row["detections"]) >= 2
    scores = [found["score"] for found in row["detections"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= LOW
    for found in row["detections"]:
        assert found["class"] == CLASSES[found["class_id"]]
        np.testing.assert_allclose(found["box_pixels"], np.array(found["box"]) * [WIDTH, HEIGHT, WIDTH, HEIGHT])
    drawn = np.asarray(Image.open(row["output"]).convert("RGB")).astype(int)
    original = np.asarray(Image.open(paths[0]).convert("RGB")).astype(int)
    assert drawn.shape == (HEIGHT, WIDTH, 3)
    x1, y1, _, _ = (int(round(v)) for v in row["detections"][0]["box_pixels"])
    assert (drawn[y1, x1] != original[y1, x1]).any(), "the best box's corner is drawn"

    with pytest.raises(CvkitError, match=r"score_threshold must be in \[0, 1\], got 1.5"):
        cvkit.predict(detector, paths, score_threshold=1.5)
    with pytest.raises(CvkitError, match=r"iou_threshold must be in \[0, 1\], got -0.1"):
        cvkit.predict(detector, paths, iou_threshold=-0.1)
    classifier = cvkit.create_model("lenet5", num_classes=2, input_shape=(32, 32, 3))
    with pytest.raises(CvkitError, match="thresholds apply to detection models"):
        cvkit.predict(classifier, paths, score_threshold=0.5)
