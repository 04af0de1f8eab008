"""Why a model predicts a class: Grad-CAM, saliency and occlusion maps of image files.

Each map is a float array at the model's input size, scaled to [0, 1]. Gradients come from
TensorFlow's GradientTape (Keras 3 has no backend-neutral gradient API); the rest is numpy.
Segmentation models are explained through the mean of a class's pixel probabilities over the
whole image, classification and localization models through their class output.
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


def class_scores(outputs: Any) -> Any:
    """Per-image class probabilities ``[B, C]`` from a model's outputs (a tensor or a dict)."""
    from keras import ops

    if not isinstance(outputs, dict):
        return outputs
    if "probabilities" in outputs:
        return outputs["probabilities"]
    if "masks" in outputs:  # the image's class: mean pixel probability, background dropped
        return ops.mean(outputs["masks"], axis=(1, 2))[:, 1:]
    raise CvkitError(f"the model's outputs ({', '.join(outputs)}) have no class scores to explain; explain a classification, localization or segmentation run")


def score_note(model: Any) -> str:
    return "mean pixel probability over the image" if getattr(model, "task", None) == "segmentation" else "class output"


def explained_class(model: Any, class_name: str | None) -> int | None:
    """The index of ``class_name`` (None: each image's predicted class)."""
    if class_name is None:
        return None
    names = list(getattr(model, "class_names", []) or [])
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


def _logit_probe(model: Any, feature_map: Any) -> tuple[Any, Any]:
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
    if isinstance(dense, keras.layers.Dense):
        probe = keras.Model(model.inputs, [feature_map, dense.input])
        return probe, lambda pooled: ops.matmul(pooled, dense.kernel) + dense.bias
    probe = keras.Model(model.inputs, [feature_map, model.output])
    return probe, lambda outputs: ops.log(class_scores(outputs) + 1e-12)


def gradcam(model: Any, images: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Grad-CAM heat ``[B, H, W]``, the class index per image and a note naming the map used."""
    import tensorflow as tf

    feature_map, stride = gradcam_map(model)
    probe, to_scores = _logit_probe(model, feature_map)
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


def saliency(model: Any, images: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """|d log p(class) / d pixel|, the largest over the channels."""
    import tensorflow as tf

    inputs = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        scores = class_scores(model(inputs, training=False))
        chosen = _chosen(scores.numpy(), target)
        objective = tf.reduce_sum(tf.math.log(tf.gather(scores, chosen, axis=1, batch_dims=1) + 1e-12))
    grads = tape.gradient(objective, inputs).numpy()
    return _normalise(np.abs(grads).max(axis=-1)), chosen, "gradient of the class score"


def occlusion(model: Any, images: np.ndarray, target: int | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The drop in the class probability when a grey patch covers each place."""
    height, width = images.shape[1:3]
    patch = max(2, min(height, width) // 4)
    step = max(1, patch // 2)
    base = np.asarray(class_scores(model(images, training=False)))
    chosen = _chosen(base, target)
    heat = np.zeros(images.shape[:3], dtype="float64")
    cover = np.zeros((height, width), dtype="float64")
    spots = [(y, x) for y in range(0, height - patch + 1, step) for x in range(0, width - patch + 1, step)]
    for index, image in enumerate(images):
        batch = np.repeat(image[None], len(spots), axis=0)
        for k, (y, x) in enumerate(spots):
            batch[k, y:y + patch, x:x + patch] = OCCLUSION_GREY
        dropped = base[index, chosen[index]] - np.asarray(class_scores(model(batch, training=False)))[:, chosen[index]]
        for k, (y, x) in enumerate(spots):
            heat[index, y:y + patch, x:x + patch] += dropped[k]
            if index == 0:
                cover[y:y + patch, x:x + patch] += 1
    return _normalise(heat / np.maximum(cover, 1)), chosen, f"{patch}px grey patch"


def explain(model: Any, paths: list[str], method: str, class_name: str | None = None) -> list[Explanation]:
    """One :class:`Explanation` per image for ``method``."""
    from cvkit.serve.predict import load_images

    if method not in METHODS:
        raise CvkitError(f"unknown method {method!r}{close_matches_hint(method, METHODS)}; choose one of {', '.join(METHODS)}")
    target = explained_class(model, class_name)
    height, width, channels = model.input_shape[1:]
    images, _ = load_images(paths, (height, width), channels)
    heat, chosen, detail = {"gradcam": gradcam, "saliency": saliency, "occlusion": occlusion}[method](model, images, target)
    probabilities = np.asarray(class_scores(model(images, training=False)))
    names = list(getattr(model, "class_names", []) or [])
    return [
        Explanation(str(path), method, images[i], heat[i], names[c] if names else str(c),
                    float(probabilities[i, c]), f"{detail}; {score_note(model)}")
        for i, (path, c) in enumerate(zip(paths, chosen))
    ]


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
        figure.suptitle(f"{Path(item.file).name}: {item.class_name} {item.probability:.2f} ({item.note})", fontsize=9)
        figure.tight_layout()
        figures[f"{Path(item.file).stem}_{item.method}.png"] = figure
    return save_figures(plt, figures, Path(out_dir))
