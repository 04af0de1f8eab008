"""The SavedModel endpoints of a detection model: post-NMS boxes with threshold arguments.

A SavedModel signature cannot leave an input out, so there are two:

- ``serving_default(images)``: the thresholds of ``cvkit.DETECTION_DEFAULTS``;
- ``detect(images, score_threshold, iou_threshold, max_detections)``: all four given.
  Called as a function of the loaded object (``loaded.detect(images, score_threshold=0.1)``)
  the thresholds left out take the same defaults.

Both return ``boxes`` (rel_xyxy, ``[B, max_detections, 4]``), ``scores``, ``classes`` (int32,
-1 past the detections) and ``num_detections`` (int32 ``[B]``), as ``cvkit predict`` lists them.
"""

from __future__ import annotations

from typing import Any


def detection_endpoints(served: Any) -> dict[str, Any]:
    """``{"serving_default": fn, "detect": fn}``: tf.functions with input signatures."""
    import tensorflow as tf

    import cvkit
    from cvkit.models.detection import head_postprocess

    defaults = cvkit.DETECTION_DEFAULTS
    cap = int(defaults.max_detections)  # rows past max_detections are cut from this many
    height, width, channels = served.input_shape[1:]
    postprocess = head_postprocess(served)

    def at_model_size(images: Any) -> Any:
        x = tf.cast(images, tf.float32)
        if height is None or width is None:
            return x
        same = tf.reduce_all(tf.equal(tf.shape(x)[1:3], [height, width]))
        x = tf.cond(same, lambda: x, lambda: tf.image.resize(x, [height, width], antialias=True))
        return tf.ensure_shape(x, [None, height, width, channels])  # the cond hides the static size

    def run(images: Any, score_threshold: Any, iou_threshold: Any, max_detections: Any) -> dict[str, Any]:
        found = postprocess(served(at_model_size(images), training=False), score_threshold=score_threshold,
                            iou_threshold=iou_threshold, max_detections=cap)
        # greedy NMS keeps boxes best first, so the first k rows are what max_detections=k keeps
        return {"boxes": found["boxes"][:, :max_detections], "scores": found["scores"][:, :max_detections],
                "classes": tf.cast(found["classes"][:, :max_detections], tf.int32),
                "num_detections": tf.minimum(tf.cast(found["num_detections"], tf.int32), max_detections)}

    images_spec = tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")

    @tf.function(input_signature=[images_spec])
    def serve(images: Any) -> dict[str, Any]:
        return run(images, defaults.score_threshold, defaults.iou_threshold, cap)

    @tf.function(input_signature=[images_spec, tf.TensorSpec([], tf.float32, name="score_threshold"),
                                  tf.TensorSpec([], tf.float32, name="iou_threshold"),
                                  tf.TensorSpec([], tf.int32, name="max_detections")])
    def detect(images: Any, score_threshold: Any = defaults.score_threshold,
               iou_threshold: Any = defaults.iou_threshold, max_detections: Any = cap) -> dict[str, Any]:
        checks = [
            tf.debugging.assert_greater_equal(score_threshold, 0.0, message="score_threshold must be in [0, 1]"),
            tf.debugging.assert_less_equal(score_threshold, 1.0, message="score_threshold must be in [0, 1]"),
            tf.debugging.assert_greater_equal(iou_threshold, 0.0, message="iou_threshold must be in [0, 1]"),
            tf.debugging.assert_less_equal(iou_threshold, 1.0, message="iou_threshold must be in [0, 1]"),
            tf.debugging.assert_greater_equal(max_detections, 0, message=f"max_detections must be in [0, {cap}]"),
            tf.debugging.assert_less_equal(max_detections, cap, message=f"max_detections must be in [0, {cap}]"),
        ]
        with tf.control_dependencies(checks):
            return run(tf.identity(images), score_threshold, iou_threshold, max_detections)

    return {"serving_default": serve, "detect": detect}
