"""Prediction on image files with a trained run's model: labels, boxes or masks out.

Boxes come back as ``rel_xyxy`` and in the image's own pixels; masks come back at the image's
own size (the per-pixel probabilities resized back, then the most probable class), with the
share of pixels of each class. ``out_dir`` writes a PNG per image with the
box drawn or the mask overlaid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvkit.data.splits import read_image
from cvkit.models.detection import detect
from cvkit.serve.detection import detection_limits, detection_rows, draw_detections

OVERLAY_ALPHA = 0.5


def load_images(paths: list[str], size: tuple[int, int], channels: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The images resized to the model's input (float pixels 0-255), and the originals."""
    import tensorflow as tf

    batch, originals = [], []
    for path in paths:
        image = read_image(str(path), channels=channels)
        originals.append(image)
        resized = tf.image.resize(tf.cast(image, tf.float32), size, antialias=True) if image.shape[:2] != tuple(size) else image.astype("float32")
        batch.append(np.asarray(resized, dtype="float32"))
    return np.stack(batch), originals


def mask_ids(probabilities: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Class ids ``[H, W]`` at the image's ``size`` from per-pixel probabilities at the model's
    size: the probabilities are resized (as the SavedModel does), then the most probable class."""
    from cvkit.serve.export import resize_probabilities

    if probabilities.shape[:2] != tuple(size):
        probabilities = resize_probabilities(probabilities[None], size).numpy()[0]
    return np.argmax(probabilities, axis=-1).astype("int32")


def mask_class_names(model: Any) -> list[str]:
    """Names of the mask ids: the background, then the model's classes."""
    names = list(getattr(model, "class_names", []) or [])
    return ["background", *(names or [f"class_{i}" for i in range(1, getattr(model, "num_classes", 0) + 1)])]


def predict(model: Any, paths: list[str], top_k: int = 1, out_dir: str | Path | None = None,
            tta: str | None = None, score_threshold: float | None = None,
            iou_threshold: float | None = None) -> list[dict[str, Any]]:
    """One result dict per image.

    Always ``file``; with a class output ``label``, ``score`` and ``top`` (the ``top_k``
    classes); with a box output ``box`` (rel_xyxy) and ``box_pixels`` (x1, y1, x2, y2 in the
    image's pixels); with a mask output ``mask`` (class ids at the image's size) and
    ``pixel_shares`` (class -> fraction of the pixels, largest first). With ``out_dir``, also
    ``output``: the PNG written there. ``tta`` (``"flip,crop"``) averages over those views
    (:mod:`cvkit.models.tta`). A detection model gives ``detections``: the boxes left after NMS,
    best first (:func:`cvkit.serve.detection.detection_rows`), kept by ``score_threshold`` and
    ``iou_threshold`` (default: ``cvkit.DETECTION_DEFAULTS``).
    """
    from cvkit.models.tta import test_time_augmented
    from cvkit.models.tta_views import parse_tta

    views = parse_tta(tta, getattr(model, "task", None) or "classification")  # before any image is read
    limits = detection_limits(model, score_threshold, iou_threshold)
    height, width, channels = model.input_shape[1:]
    images, originals = load_images(paths, (height, width), channels)
    if limits is not None:
        outputs = {}
        detected = detect(model, images, limits)
    else:
        outputs = test_time_augmented(model, views).predict(images, verbose=0)
    if not isinstance(outputs, dict):
        outputs = {"probabilities": outputs}
    names = list(getattr(model, "class_names", []) or [])
    results = []
    for i, path in enumerate(paths):
        row: dict[str, Any] = {"file": str(Path(path))}
        image_height, image_width = originals[i].shape[:2]
        if limits is not None:
            row["detections"] = detection_rows(detected, i, names, (image_height, image_width))
        probabilities = outputs.get("probabilities")
        if probabilities is not None:
            order = np.argsort(probabilities[i])[::-1][:top_k]
            row["label"] = names[order[0]] if names else int(order[0])
            row["score"] = float(probabilities[i][order[0]])
            row["top"] = [(names[j] if names else int(j), float(probabilities[i][j])) for j in order]
        if "boxes" in outputs:
            box = np.asarray(outputs["boxes"][i], dtype="float64")
            row["box"] = [float(v) for v in box]
            row["box_pixels"] = [float(v) for v in box * [image_width, image_height, image_width, image_height]]
        if "masks" in outputs:
            ids = mask_ids(outputs["masks"][i], (image_height, image_width))
            row["mask"] = ids
            counts = np.bincount(ids.ravel(), minlength=len(mask_class_names(model)))
            shares = {name: float(c) / ids.size for name, c in zip(mask_class_names(model), counts) if c}
            row["pixel_shares"] = dict(sorted(shares.items(), key=lambda kv: -kv[1]))
        results.append(row)
    if out_dir is not None:
        write_pictures(results, originals, out_dir, len(mask_class_names(model)))
    return results


def palette(count: int) -> np.ndarray:
    """``count`` distinct RGB colours (id 0, the background, is never painted)."""
    import colorsys

    return np.array([[int(255 * c) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.85, 1.0)] for i in range(count)], dtype=np.uint8)


def write_pictures(results: list[dict[str, Any]], originals: list[np.ndarray], out_dir: str | Path, mask_classes: int) -> None:
    """A PNG per image: the box drawn with its label, or the mask overlaid in colour."""
    from PIL import Image, ImageDraw

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    colours = palette(max(mask_classes, 2))
    used: set[str] = set()
    for row, original in zip(results, originals):
        rgb = np.repeat(original, 3, axis=-1) if original.shape[-1] == 1 else original[..., :3]
        if "mask" in row:
            mask = row["mask"]
            painted = rgb.astype("float32")
            objects = mask > 0
            painted[objects] = (1 - OVERLAY_ALPHA) * painted[objects] + OVERLAY_ALPHA * colours[mask[objects] % len(colours)]
            rgb = painted.round().astype(np.uint8)
        picture = Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")
        draw = ImageDraw.Draw(picture)
        corner = (2, 1)
        draw_detections(draw, row.get("detections", []), colours, max(1, round(min(picture.size) / 100)))
        if "box_pixels" in row:
            x1, y1, x2, y2 = row["box_pixels"]
            draw.rectangle([x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)], outline=(255, 32, 32), width=max(1, round(min(picture.size) / 100)))
            corner = (x1 + 2, y1 + 1)
        if "label" in row:
            draw.text(corner, f"{row['label']} {row['score']:.2f}", fill=(255, 32, 32))
        stem = Path(row["file"]).stem
        name, n = f"{stem}.png", 1
        while name in used:
            n += 1
            name = f"{stem}-{n}.png"
        used.add(name)
        picture.save(out / name)
        row["output"] = str(out / name)
