"""Export to a TensorFlow SavedModel that serves without cvkit installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError

FORMATS = ("savedmodel", "keras", "onnx")


def serving_outputs(model: Any, outputs: Any) -> dict[str, Any]:
    """Named serving outputs: drop training-only ones, turn mask probabilities into class ids."""
    import tensorflow as tf

    if not isinstance(outputs, dict):
        outputs = {"probabilities": outputs}
    named = {}
    for name, value in outputs.items():
        if name.startswith("aux"):
            continue
        if name == "masks":
            named["mask_probabilities"] = value
            named["masks"] = tf.cast(tf.argmax(value, axis=-1), tf.int32)
        else:
            named[name] = value
    return named


def export_savedmodel(model: Any, out_dir: str | Path) -> Path:
    """Write ``model`` as a SavedModel whose ``serving_default`` takes uint8 images.

    The endpoint accepts any batch size and any height and width: images are resized to the
    model's input size inside the graph (segmentation masks are resized back), cast and
    scaled by the model's own preprocessing, and run with ``training=False``, so no
    augmentation or dropout is active.
    """
    import keras
    import tensorflow as tf

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise CvkitError(f"export directory {out_dir} already exists and is not empty; pass another --out")
    height, width, channels = model.input_shape[1:]

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, channels], tf.uint8, name="images")])
    def serve(images: Any) -> dict[str, Any]:
        x = tf.cast(images, tf.float32)
        in_size = tf.shape(x)[1:3]
        if height is not None and width is not None:
            x = tf.cond(
                tf.reduce_all(tf.equal(in_size, [height, width])),
                lambda: x,
                lambda: tf.image.resize(x, (height, width), antialias=True),
            )
            x = tf.ensure_shape(x, [None, height, width, channels])  # the cond hides the static size
        outputs = serving_outputs(model, model(x, training=False))
        if "masks" in outputs and height is not None:
            ids = outputs["masks"][..., None]
            outputs["masks"] = tf.image.resize(ids, in_size, method="nearest")[..., 0]
            outputs.pop("mask_probabilities")
        return outputs

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve)
    tmp = out_dir.with_name(f".{out_dir.name}.partial")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    archive.write_out(str(tmp), verbose=False)
    if out_dir.exists():  # empty, checked above
        out_dir.rmdir()
    tmp.replace(out_dir)
    return out_dir
