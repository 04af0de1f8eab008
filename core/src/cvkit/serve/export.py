"""Export to a TensorFlow SavedModel that serves without cvkit installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError
from cvkit.models.detection import is_detection
from cvkit.serve.detection_export import detection_endpoints

FORMATS = ("savedmodel", "keras", "onnx")


def serving_outputs(model: Any, outputs: Any) -> dict[str, Any]:
    """Named serving outputs: drop training-only ``aux*`` ones; a ``masks`` output of per-pixel
    probabilities becomes ``masks`` (class ids) plus ``probabilities`` (the per-pixel softmax)."""
    import tensorflow as tf

    if not isinstance(outputs, dict):
        outputs = {"probabilities": outputs}
    named = {}
    for name, value in outputs.items():
        if name.startswith("aux"):
            continue
        if name == "masks":
            named["probabilities"] = value
            named["masks"] = tf.cast(tf.argmax(value, axis=-1), tf.int32)
        else:
            named[name] = value
    return named


def is_segmentation(model: Any) -> bool:
    return isinstance(model.output, dict) and "masks" in model.output


def fully_convolutional(model: Any) -> Any:
    """``model`` rebuilt for any input height and width (weights shared by copy), or None.

    Segmentation heads are fully convolutional, so the SavedModel can run them at the image's
    own size. A backbone that cannot build without a fixed size (LeNet's FC layers) gives None.
    """
    from cvkit.models.assembly import CvkitModel

    if not isinstance(model, CvkitModel) or model.image_shape[0] is None:
        return model if isinstance(model, CvkitModel) else None
    config = model.get_config()
    try:
        clone = CvkitModel.from_config({**config, "input_shape": [None, None, config["input_shape"][-1]]})
    except (ValueError, TypeError, CvkitError):
        return None
    for layer in clone.layers:
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return clone


def resize_probabilities(probabilities: Any, size: Any) -> Any:
    """Per-pixel class probabilities ``[B, h, w, C]`` resized to ``size`` (bilinear, antialiased
    when shrinking): ``predict`` and the SavedModel both bring masks back to the image this way."""
    import tensorflow as tf

    return tf.image.resize(probabilities, size, antialias=True)


def export_savedmodel(model: Any, out_dir: str | Path, *, native_size: bool = False) -> Path:
    """Write ``model`` as a SavedModel whose ``serving_default`` takes uint8 images.

    The endpoint accepts any batch size, is cast and scaled by the model's own preprocessing,
    and runs with ``training=False``, so no augmentation or dropout is active. Outputs:
    ``probabilities`` (and ``boxes``, rel_xyxy, for localization); for segmentation ``masks``
    (class ids, int32 ``[B, H, W]``) and ``probabilities`` (``[B, H, W, classes]``); for detection
    the post-NMS ``boxes``, ``scores``, ``classes`` and ``num_detections``, with a second endpoint
    ``detect`` taking the thresholds (:mod:`cvkit.serve.detection_export`).

    Every model resizes any height and width to its training size, as ``cvkit.predict`` does;
    a segmentation model then resizes its per-pixel probabilities back to the image's size, so
    its masks equal ``predict``'s. With ``native_size`` a segmentation model instead runs at the
    image's own size, which must be a multiple of the backbone's total stride (an error names
    it otherwise); a backbone that needs a fixed size (LeNet) keeps resizing.
    """
    import keras

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise CvkitError(f"export directory {out_dir} already exists and is not empty; pass another --out")
    dynamic = fully_convolutional(model) if native_size and is_segmentation(model) else None
    served = dynamic if dynamic is not None else model
    stride = max(dynamic.feature_maps) if dynamic is not None else None
    archive = keras.export.ExportArchive()
    archive.track(served)
    if is_detection(model):
        if keras.backend.backend() == "jax":  # the NMS is traced into the SavedModel as TensorFlow ops
            raise CvkitError("a detection model exports from the TensorFlow backend; run cvkit export --backend "
                             "tensorflow (the .keras file of a JAX run loads there as it is)")
        endpoints = detection_endpoints(served)
    else:
        serve = _serving_function(served, stride, _model_call(archive, served))
        serve.get_concrete_function()  # traced now: Keras takes a traced tf.function as it is
        endpoints = {"serving_default": serve}
    for name, endpoint in endpoints.items():
        archive.add_endpoint(name, endpoint)
    tmp = out_dir.with_name(f".{out_dir.name}.partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    archive.write_out(str(tmp), verbose=False)
    if out_dir.exists():  # empty, checked above
        out_dir.rmdir()
    tmp.replace(out_dir)
    return out_dir


def _model_call(archive: Any, served: Any) -> Any:
    """``served(x, training=False)`` on TensorFlow tensors. On JAX that is the model converted
    by jax2tf, which Keras does for an endpoint of the archive (``model_call``: float images at
    the model's input size, any batch); the serving function's TensorFlow steps wrap it."""
    import keras

    if keras.backend.backend() != "jax":
        return lambda x: served(x, training=False)
    signature = [keras.InputSpec(shape=(None, *served.input_shape[1:]), dtype="float32")]
    return archive.add_endpoint("model_call", lambda x: served(x, training=False), input_signature=signature)


def _serving_function(served: Any, stride: int | None, call: Any) -> Any:
    """The tf.function the SavedModel serves: at the image's size when ``stride`` is given
    (a fully convolutional model), else at the model's input size and back. ``call`` runs the
    model on float images."""
    import tensorflow as tf

    height, width, channels = served.input_shape[1:]
    fixed = stride is None and height is not None and width is not None

    def at_size(x: Any, size: Any, resize: Any) -> Any:
        same = tf.reduce_all(tf.equal(tf.shape(x)[1:3], size))
        return tf.cond(same, lambda: x, lambda: resize(x, size))

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")])
    def serve(images: Any) -> dict[str, Any]:
        x = tf.cast(images, tf.float32)
        in_size = tf.shape(x)[1:3]
        if stride is not None:
            tf.debugging.assert_equal(
                tf.math.floormod(in_size, stride), 0,
                message=f"image height and width must be multiples of {stride}, the backbone's total stride; pad or resize the image",
            )
        elif fixed:
            x = at_size(x, [height, width], lambda t, size: tf.image.resize(t, size, antialias=True))
            x = tf.ensure_shape(x, [None, height, width, channels])  # the cond hides the static size
        outputs = serving_outputs(served, call(x))
        if "masks" in outputs and fixed:
            probabilities = at_size(outputs["probabilities"], in_size, resize_probabilities)
            outputs = {"probabilities": probabilities, "masks": tf.cast(tf.argmax(probabilities, axis=-1), tf.int32)}
        return outputs

    return serve
