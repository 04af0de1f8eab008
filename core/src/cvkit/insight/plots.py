"""Pictures of a trained run: confusion matrix, first-layer filters and a t-SNE of its features."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.errors import CvkitError

CONFUSION_PNG = "confusion.png"
FILTERS_PNG = "filters.png"
TSNE_PNG = "tsne.png"
TSNE_SAMPLES = 300
THUMBNAILS = 10


def validation_arrays(run_dir: Path) -> tuple[Any, np.ndarray, np.ndarray]:
    """The run's model, its validation images (float 0-255) and their class ids."""
    from cvkit.training.run import Prepared, load_run, plan_for_model, read_splits, trained_model_datasets

    config, _, model = load_run(run_dir)
    if model.task == "segmentation":
        raise CvkitError(f"{run_dir} is a segmentation run; cvkit plot draws class outputs (classification or localization runs)")
    plan = plan_for_model(config, model)
    _, val_ds = trained_model_datasets(Prepared(plan, read_splits(plan), model.task_spec, model))
    images, labels = [], []
    for x, y in val_ds:
        y = y["probabilities"] if isinstance(y, dict) else y
        y = np.asarray(y)
        images.append(np.asarray(x))
        labels.append(y.argmax(-1) if y.ndim == 2 else y.reshape(-1))
    return model, np.concatenate(images), np.concatenate(labels).astype("int64")


def _probabilities_and_features(model: Any, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import keras

    outputs = model.output["probabilities"] if isinstance(model.output, dict) else model.output
    try:
        features = model.get_layer("predictions").input
    except ValueError:  # a native top: pool the deepest map
        features = keras.layers.GlobalAveragePooling2D()(model.feature_maps[max(model.feature_maps)])
    probe = keras.Model(model.inputs, [outputs, features])
    probabilities, pooled = probe.predict(images, verbose=0, batch_size=64)
    return np.asarray(probabilities), np.asarray(pooled).reshape(len(images), -1)


def draw_confusion(plt: Any, truth: np.ndarray, predicted: np.ndarray, names: list[str]) -> Any:
    count = len(names)
    matrix = np.zeros((count, count), dtype="int64")
    np.add.at(matrix, (truth, predicted), 1)
    figure, axis = plt.subplots(figsize=(1.2 + 0.6 * count, 1.0 + 0.6 * count))
    axis.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        axis.text(j, i, str(value), ha="center", va="center", color="white" if value > matrix.max() / 2 else "black", fontsize=8)
    axis.set_xticks(range(count), names, rotation=45, ha="right")
    axis.set_yticks(range(count), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    axis.set_title(f"validation accuracy {np.trace(matrix) / max(matrix.sum(), 1):.3f}")
    figure.tight_layout()
    return figure


def first_conv_kernel(model: Any) -> np.ndarray:
    import keras

    from cvkit.insight.info import _flat_layers

    for layer in _flat_layers(model):
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.DepthwiseConv2D):
            return np.asarray(layer.kernel)
    raise CvkitError(f"{model.name} has no convolution layer whose filters could be drawn")


def draw_filters(plt: Any, kernel: np.ndarray) -> Any:
    """Each first-layer filter scaled to its own range: colour for RGB input, grey otherwise."""
    count = kernel.shape[-1]
    columns = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 0.8, rows * 0.8 + 0.4), squeeze=False)
    for index, axis in enumerate(axes.ravel()):
        axis.axis("off")
        if index >= count:
            continue
        weights = kernel[..., index]
        weights = (weights - weights.min()) / max(float(np.ptp(weights)), 1e-12)
        if weights.shape[-1] == 3:
            axis.imshow(weights, interpolation="nearest")
        else:
            axis.imshow(weights.mean(axis=-1), cmap="gray", interpolation="nearest")
    figure.suptitle(f"first-layer filters ({kernel.shape[0]}x{kernel.shape[1]}, {count})", fontsize=9)
    return figure


def draw_tsne(plt: Any, features: np.ndarray, labels: np.ndarray, images: np.ndarray, names: list[str], seed: int = 0) -> Any:
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    from sklearn.manifold import TSNE

    points = TSNE(n_components=2, perplexity=min(30.0, (len(features) - 1) / 3), random_state=seed,
                  init="pca").fit_transform(features)
    figure, axis = plt.subplots(figsize=(7, 6))
    for index, name in enumerate(names):
        chosen = labels == index
        axis.scatter(points[chosen, 0], points[chosen, 1], s=10, label=name)
    rng = np.random.default_rng(seed)
    for index in rng.choice(len(points), size=min(THUMBNAILS, len(points)), replace=False):
        picture = images[index].astype("uint8")
        box = OffsetImage(picture[..., 0] if picture.shape[-1] == 1 else picture, zoom=28 / picture.shape[0],
                          cmap="gray" if picture.shape[-1] == 1 else None)
        axis.add_artist(AnnotationBbox(box, points[index], frameon=True, pad=0.1))
    axis.legend(fontsize=8, markerscale=2)
    axis.set_title("t-SNE of the penultimate features (validation)")
    axis.set_xticks([])
    axis.set_yticks([])
    figure.tight_layout()
    return figure


def save_figures(plt: Any, figures: dict[str, Any], out_dir: Path) -> list[Path]:
    """Save each figure under its name in ``out_dir``: all into a scratch directory first, then
    moved in place, so a failure leaves no half set of pictures."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".pictures-") as scratch:
        for name, figure in figures.items():
            figure.savefig(Path(scratch) / name, dpi=100)
            plt.close(figure)
        for name in figures:
            os.replace(Path(scratch) / name, out_dir / name)
    return [out_dir / name for name in figures]


def plot_run(run_dir: str | Path) -> list[Path]:
    """Write the confusion matrix, the first-layer filters and the t-SNE map into ``run_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir = Path(run_dir)
    model, images, labels = validation_arrays(run_dir)
    probabilities, features = _probabilities_and_features(model, images)
    names = list(model.class_names or [str(i) for i in range(model.num_classes)])
    sample = np.random.default_rng(0).permutation(len(images))[:TSNE_SAMPLES]
    figures = {
        CONFUSION_PNG: draw_confusion(plt, labels, probabilities.argmax(-1), names),
        FILTERS_PNG: draw_filters(plt, first_conv_kernel(model)),
        TSNE_PNG: draw_tsne(plt, features[sample], labels[sample], images[sample], names),
    }
    return save_figures(plt, figures, run_dir)
