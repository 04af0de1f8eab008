"""Prediction on image files with a trained run's model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvkit.data import read_image


def load_images(paths: list[str], size: tuple[int, int], channels: int) -> np.ndarray:
    """Read and resize image files to the model's input (float pixels 0-255)."""
    import tensorflow as tf

    batch = []
    for path in paths:
        image = read_image(str(path), channels=channels)
        resized = tf.image.resize(tf.cast(image, tf.float32), size, antialias=True) if image.shape[:2] != tuple(size) else image.astype("float32")
        batch.append(np.asarray(resized, dtype="float32"))
    return np.stack(batch)


def predict(model: Any, paths: list[str], top_k: int = 1) -> list[dict[str, Any]]:
    """One result dict per image: file, label, score and the raw named outputs."""
    height, width, channels = model.input_shape[1:]
    images = load_images(paths, (height, width), channels)
    outputs = model.predict(images, verbose=0)
    if not isinstance(outputs, dict):
        outputs = {"probabilities": outputs}
    names = list(getattr(model, "class_names", []) or [])
    results = []
    for i, path in enumerate(paths):
        row: dict[str, Any] = {"file": str(Path(path))}
        probabilities = outputs.get("probabilities")
        if probabilities is not None:
            order = np.argsort(probabilities[i])[::-1][:top_k]
            row["label"] = names[order[0]] if names else int(order[0])
            row["score"] = float(probabilities[i][order[0]])
            row["top"] = [(names[j] if names else int(j), float(probabilities[i][j])) for j in order]
        for key, value in outputs.items():
            if key != "probabilities" and not key.startswith("aux"):
                row[key] = value[i]
        results.append(row)
    return results
