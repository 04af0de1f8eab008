"""Why a model predicts a class: Grad-CAM, saliency and occlusion maps of image files.

Each map is a float array at the model's input size, scaled to [0, 1]. Gradients come from
TensorFlow's GradientTape (Keras 3 has no backend-neutral gradient API); the rest is numpy.
Segmentation models are explained through one chosen pixel's class probabilities (``pixel``),
or else the mean of a class's pixel probabilities over the whole image; classification and
localization models through their class output (a localization model's predicted box is kept
to be drawn: its class output reads the whole image, so a box cannot be chosen).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.errors import CvkitError, close_matches_hint

METHODS = ("gradcam", "saliency", "occlusion")
GRADCAM_STRIDE = 32
GRADCAM_MIN_SIDE = 4  # a 2x2 map cannot say where in the image the evidence is
OCCLUSION_GREY = 127.5


@dataclass
class Explanation:
    """One image's map for one method, with the class it explains."""

    file: str
    method: str
    image: np.ndarray  # float pixels 0-255 at the model's size
    heat: np.ndarray  # [H, W] in [0, 1]
    class_name: str
    probability: float
    note: str
    subject: str = "the image"  # what the class belongs to: the image, or "pixel (r, c)"
    box: tuple[float, float, float, float] | None = None  # the predicted box, rel_xyxy
    pixel: tuple[int, int] | None = None  # the explained pixel at the model's size


def class_scores(outputs: Any, pixel: tuple[int, int] | None = None) -> Any:
    """Per-image class probabilities ``[B, C]`` from a model's outputs (a tensor or a dict).

    With ``pixel`` (row, column at the model's size) a segmentation model's scores are that
    pixel's probabilities, the background included.
    """
    from keras import ops

    if not isinstance(outputs, dict):
        return outputs
    if "probabilities" in outputs:
        return outputs["probabilities"]
    if "masks" in outputs and pixel is not None:
        return outputs["masks"][:, pixel[0], pixel[1], :]
    if "masks" in outputs:  # the image's class: mean pixel probability, background dropped
        return ops.mean(outputs["masks"], axis=(1, 2))[:, 1:]
    raise CvkitError(f"the model's outputs ({', '.join(outputs)}) have no class scores to explain; explain a classification, localization or segmentation run")


def score_note(model: Any, pixel: bool = False) -> str:
    if getattr(model, "task", None) != "segmentation":
        return "class output"
    return "the pixel's class log-probability" if pixel else "mean pixel probability over the image"


def class_names(model: Any, pixel: bool = False) -> list[str]:
    """The names of the explained scores: a pixel's include the background."""
    from cvkit.serve.predict import mask_class_names

    return mask_class_names(model) if pixel else list(getattr(model, "class_names", []) or [])


def explained_class(model: Any, class_name: str | None, pixel: bool = False) -> int | None:
    """The index of ``class_name`` (None: each image's predicted class)."""
    if class_name is None:
        return None
    names = class_names(model, pixel)
    if class_name not in names:
        raise CvkitError(f"the model has no class {class_name!r}{close_matches_hint(class_name, names)}; "
                         f"its classes are {', '.join(names)}")
    return names.index(class_name)


def gradcam_map(model: Any) -> tuple[Any, int]:
    """The stride-32 feature map (or the deepest below it that is at least 4x4), and its stride."""
    maps = getattr(model, "feature_maps", None) or {}
    usable = {s: m for s, m in maps.items() if s <= GRADCAM_STRIDE and min(m.shape[1:3]) >= GRADCAM_MIN_SIDE}
    if not usable:
        deepest = max(maps) if maps else None
        reason = (f"its deepest feature map (stride {deepest}) is {maps[deepest].shape[1]}x{maps[deepest].shape[2]} and none is {GRADCAM_MIN_SIDE}x{GRADCAM_MIN_SIDE} at the "
                  f"{model.input_shape[1]}x{model.input_shape[2]} input" if maps else "it exposes no feature maps")
        raise CvkitError(f"Grad-CAM needs a spatial feature map, and {model.name} has none: {reason}; "
                         f"use --method saliency or occlusion")
    stride = max(usable)
    return usable[stride], stride


def _normalise(heat: np.ndarray) -> np.ndarray:
    heat = np.maximum(heat, 0.0)
    top = heat.max(axis=(1, 2), keepdims=True)
    return np.where(top > 0, heat / np.where(top > 0, top, 1.0), 0.0)


def _chosen(scores: np.ndarray, target: int | None) -> np.ndarray:
    return np.argmax(scores, axis=-1) if target is None else np.full(len(scores), target)


def _logit_probe(model: Any, feature_map: Any, pixel: tuple[int, int] | None) -> tuple[Any, Any]:
    """A model to (feature map, class scores) and a function from its outputs to ``[B, C]`` scores.

    With a Dense ``predictions`` layer the scores are its logits (Grad-CAM's pre-softmax score);
    otherwise the log of the class probabilities.
    """
    import keras
    from keras import ops

    try:
        dense = model.get_layer("predictions")
    except ValueError:
        dense = None
    if isinstance(dense, keras.layers.Dense) and pixel is None:
        probe = keras.Model(model.inputs, [feature_map, dense.input])
        return probe, lambda pooled: ops.matmul(pooled, dense.kernel) + dense.bias
    probe = keras.Model(model.inputs, [feature_map, model.output])
    return probe, lambda outputs: ops.log(class_scores(outputs, pixel) + 1e-12)


def _tensorflow_gradients(method: str) -> None:
    from cvkit.backend import require_tensorflow_backend

    require_tensorflow_backend(f"{method} (gradients through TensorFlow's tape)",
                               "run cvkit explain with --backend tensorflow (a run trained on JAX loads there), "
                               "or use --method occlusion")


def gradcam(model: Any, images: np.ndarray, target: int | None,
            pixel: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Grad-CAM heat ``[B, H, W]``, the class index per image and a note naming the map used."""
    _tensorflow_gradients("Grad-CAM")
    import tensorflow as tf

    feature_map, stride = gradcam_map(model)
    probe, to_scores = _logit_probe(model, feature_map, pixel)
    inputs = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        features, outputs = probe(inputs, training=False)
        scores = to_scores(outputs)
        chosen = _chosen(scores.numpy(), target)
        objective = tf.reduce_sum(tf.gather(scores, chosen, axis=1, batch_dims=1))
    grads = tape.gradient(objective, features)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.reduce_sum(weights * features, axis=-1)[..., None]
    cam = tf.image.resize(cam, images.shape[1:3], method="bilinear")[..., 0].numpy()
    return _normalise(cam), chosen, f"stride-{stride} map"


def saliency(model: Any, images: np.ndarray, target: int | None,
             pixel: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """|d log p(class) / d pixel|, the largest over the channels."""
    _tensorflow_gradients("saliency")
    import tensorflow as tf

    inputs = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        scores = class_scores(model(inputs, training=False), pixel)
        chosen = _chosen(scores.numpy(), target)
        objective = tf.reduce_sum(tf.math.log(tf.gather(scores, chosen, axis=1, batch_dims=1) + 1e-12))
    grads = tape.gradient(objective, inputs).numpy()
    return _normalise(np.abs(grads).max(axis=-1)), chosen, "gradient of the class score"


def occlusion(model: Any, images: np.ndarray, target: int | None,
              pixel: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """The drop in the class probability when a grey patch covers each place."""
    height, width = images.shape[1:3]
    patch = max(2, min(height, width) // 4)
    step = max(1, patch // 2)
    base = np.asarray(class_scores(model(images, training=False), pixel))
    chosen = _chosen(base, target)
    heat = np.zeros(images.shape[:3], dtype="float64")
    cover = np.zeros((height, width), dtype="float64")
    spots = [(y, x) for y in range(0, height - patch + 1, step) for x in range(0, width - patch + 1, step)]
    for index, image in enumerate(images):
        batch = np.repeat(image[None], len(spots), axis=0)
        for k, (y, x) in enumerate(spots):
            batch[k, y:y + patch, x:x + patch] = OCCLUSION_GREY
        dropped = base[index, chosen[index]] - np.asarray(class_scores(model(batch, training=False), pixel))[:, chosen[index]]
        for k, (y, x) in enumerate(spots):
            heat[index, y:y + patch, x:x + patch] += dropped[k]
            if index == 0:
                cover[y:y + patch, x:x + patch] += 1
    return _normalise(heat / np.maximum(cover, 1)), chosen, f"{patch}px grey patch"


def parse_pixel(text: str) -> tuple[int, int]:
    """``ROW,COL`` as two integers."""
    try:
        row, column = (int(part) for part in text.split(","))
    except ValueError:
        raise CvkitError(f"--pixel takes ROW,COL, two whole numbers such as 12,30; got {text!r}") from None
    return row, column


def check_pixel_task(model: Any, pixel: tuple[int, int] | None) -> None:
    task = getattr(model, "task", None) or "classification"
    if pixel is not None and task != "segmentation":
        raise CvkitError(f"--pixel fits a segmentation run, and this is a {task} run; drop --pixel to explain the image's class")


def model_pixels(pixel: tuple[int, int], paths: list[str], originals: list[np.ndarray], size: tuple[int, int]) -> list[tuple[int, int]]:
    """``pixel`` (in each image file's own rows and columns) at the model's input size."""
    row, column = pixel
    spots = []
    for path, original in zip(paths, originals):
        height, width = original.shape[:2]
        if not (0 <= row < height and 0 <= column < width):
            raise CvkitError(f"--pixel {row},{column} is outside {Path(path).name} ({height}x{width} pixels); "
                             f"choose a row in 0-{height - 1} and a column in 0-{width - 1}")
        spots.append((row * size[0] // height, column * size[1] // width))
    return spots


def _subject(model: Any, pixel: tuple[int, int] | None) -> str:
    if pixel is not None:
        return f"pixel ({pixel[0]}, {pixel[1]})"
    if getattr(model, "task", None) == "localization":
        return "the image's object (its predicted box drawn)"
    return "the image"


def _explanations(model: Any, paths: list[str], images: np.ndarray, method: str, found: tuple,
                  pixel: tuple[int, int] | None, subject: str) -> list[Explanation]:
    heat, chosen, detail = found
    outputs = model(images, training=False)
    probabilities = np.asarray(class_scores(outputs, pixel))
    boxes = np.asarray(outputs["boxes"]) if isinstance(outputs, dict) and "boxes" in outputs else None
    names = class_names(model, pixel is not None)
    note = f"{detail}; {score_note(model, pixel is not None)}"
    return [
        Explanation(str(path), method, images[i], heat[i], names[c] if names else str(c), float(probabilities[i, c]),
                    note, subject, None if boxes is None else tuple(float(v) for v in boxes[i]), pixel)
        for i, (path, c) in enumerate(zip(paths, chosen))
    ]


def explain(model: Any, paths: list[str], method: str, class_name: str | None = None,
            pixel: tuple[int, int] | None = None) -> list[Explanation]:
    """One :class:`Explanation` per image for ``method``; ``pixel`` (segmentation runs) picks
    the pixel whose class is explained, in each image file's own rows and columns."""
    from cvkit.serve.predict import load_images

    if method not in METHODS:
        raise CvkitError(f"unknown method {method!r}{close_matches_hint(method, METHODS)}; choose one of {', '.join(METHODS)}")
    check_pixel_task(model, pixel)
    target = explained_class(model, class_name, pixel is not None)
    height, width, channels = model.input_shape[1:]
    images, originals = load_images(paths, (height, width), channels)
    run = {"gradcam": gradcam, "saliency": saliency, "occlusion": occlusion}[method]
    if pixel is None:
        return _explanations(model, paths, images, method, run(model, images, target), None, _subject(model, None))
    spots = model_pixels(pixel, paths, originals, (height, width))
    return [item for i, spot in enumerate(spots)  # one image at a time: each has its own pixel at the model's size
            for item in _explanations(model, paths[i:i + 1], images[i:i + 1], method, run(model, images[i:i + 1], target, spot),
                                      spot, _subject(model, pixel))]


def _draw_box(axis: Any, box: tuple[float, float, float, float], shape: tuple[int, ...]) -> None:
    from matplotlib.patches import Rectangle

    height, width = shape[:2]
    x1, y1, x2, y2 = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    axis.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor="lime", linewidth=1.5))


def write_explanations(explanations: list[Explanation], out_dir: str | Path) -> list[Path]:
    """A PNG per explanation (image, map, overlay); all drawn before any file is moved in place."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cvkit.insight.plots import save_figures

    figures = {}
    for item in explanations:
        picture = item.image.astype("uint8")
        grey = picture[..., 0] if picture.shape[-1] == 1 else None
        shown, cmap = (grey, "gray") if grey is not None else (picture, None)
        figure, axes = plt.subplots(1, 3, figsize=(9, 3.3))
        axes[0].imshow(shown, cmap=cmap)
        axes[1].imshow(item.heat, cmap="jet", vmin=0, vmax=1)
        axes[2].imshow(shown, cmap=cmap)
        axes[2].imshow(item.heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        for axis, title in zip(axes, ("image", item.method, "overlay")):
            axis.set_title(title)
            axis.axis("off")
        if item.box is not None:
            for axis in (axes[0], axes[2]):
                _draw_box(axis, item.box, picture.shape)
        if item.pixel is not None:  # mark the explained pixel
            row, column = item.pixel
            for axis in (axes[0], axes[2]):
                axis.plot([column], [row], marker="+", color="white", markersize=10, markeredgewidth=2)
        figure.suptitle(f"{Path(item.file).name}: {item.subject}: {item.class_name} p={item.probability:.2f} ({item.note})", fontsize=9)
        figure.tight_layout()
        figures[f"{Path(item.file).stem}_{item.method}.png"] = figure
    return save_figures(plt, figures, Path(out_dir))
