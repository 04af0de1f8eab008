"""Classification: pooled features -> (dropout) -> dense softmax, plus auxiliary classifiers."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import Features, Objectives, TaskSpec, global_pool

OUTPUT = "probabilities"


def aux_output_name(aux_name: str) -> str:
    return f"{aux_name}_probabilities"


def build_classifier(features: Features, task: TaskSpec, *, dropout: float = 0.0, **_: Any) -> dict[str, Any]:
    """Attach a softmax classifier to the backbone's pooled features (or pool the last map).

    A backbone with its own classifier (``features.top``, a 1x1 conv classifier) keeps it: its
    class scores get the softmax, and no Dense layer or head dropout is added.
    """
    if features.top is not None:
        scores = features.top(features.last, num_classes=task.num_classes)
        outputs = {OUTPUT: keras.layers.Activation("softmax", dtype="float32", name="predictions")(scores)}
    else:
        pooled = features.pooled if features.pooled is not None else global_pool(features.last, "avg_pool")
        if dropout:
            pooled = keras.layers.Dropout(dropout, name="head_dropout")(pooled)
        outputs = {OUTPUT: _softmax_dense(pooled, task.num_classes, "predictions")}
    for aux_name, (aux_features, _weight) in features.aux.items():
        outputs[aux_output_name(aux_name)] = _softmax_dense(aux_features, task.num_classes, f"{aux_name}_predictions")
    return outputs


def _softmax_dense(x: Any, num_classes: int, name: str) -> Any:
    # float32 output keeps the softmax stable under mixed precision.
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name=name)(x)


def classification_objectives(task: TaskSpec, outputs: list[str], *, label_smoothing: float = 0.0,
                              aux_weight: float = 0.3, **_: Any) -> Objectives:
    """Cross-entropy on every output; top-1 (and top-5 past 5 classes) on the main one."""
    if label_smoothing or task.soft_labels:  # smoothing and mixed labels need one-hot targets
        loss = lambda: keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)  # noqa: E731
        metrics = [keras.metrics.CategoricalAccuracy(name="accuracy"),
                   keras.metrics.TopKCategoricalAccuracy(k=5, name="top5_accuracy")]
    else:
        loss = keras.losses.SparseCategoricalCrossentropy
        metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
                   keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5_accuracy")]
    return Objectives(
        losses={name: loss() for name in outputs},
        metrics={OUTPUT: metrics if task.num_classes > 5 else metrics[:1]},
        loss_weights={name: (1.0 if name == OUTPUT else aux_weight) for name in outputs},
    )


def classification_targets(batch: dict, outputs: list[str], task: TaskSpec, *, label_smoothing: float = 0.0, **_: Any) -> dict:
    """Every output is trained against the class label (one-hot when smoothing or mixing; the
    mixed ``label_distribution`` of a mixing augmentation when the batch has one)."""
    import tensorflow as tf

    labels = batch["labels"]
    if "label_distribution" in batch:
        labels = batch["label_distribution"]
    elif label_smoothing or task.soft_labels:
        labels = tf.one_hot(labels, task.num_classes)
    return {name: labels for name in outputs}
