"""Model insight: parameter counts, multiply-accumulates and a layer table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cvkit.runtime import import_keras

keras = import_keras()


def _flat_layers(model: keras.Model) -> list[keras.layers.Layer]:
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers.extend(_flat_layers(layer))
        else:
            layers.append(layer)
    return layers


def _spatial(shape: tuple) -> int:
    return int(np.prod([d for d in shape[1:-1]])) if len(shape) > 2 else 1


def layer_macs(layer: keras.layers.Layer) -> int:
    """Multiply-accumulates of one image through ``layer``: convolutions and dense layers only.

    A custom layer can report its own count with a ``macs(input_shape, output_shape)`` method
    (the deformable convolution does).
    """
    try:
        in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
    except (AttributeError, ValueError):
        return 0
    if any(d is None for d in out_shape[1:]) or any(d is None for d in in_shape[1:]):
        return 0
    custom = getattr(layer, "macs", None)
    if callable(custom):
        return int(custom(in_shape, out_shape))
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        return _spatial(out_shape) * out_shape[-1] * kh * kw
    if isinstance(layer, keras.layers.Conv2DTranspose):
        kh, kw = layer.kernel_size
        return _spatial(in_shape) * in_shape[-1] * kh * kw * out_shape[-1]
    if isinstance(layer, keras.layers.SeparableConv2D):
        kh, kw = layer.kernel_size
        return _spatial(out_shape) * in_shape[-1] * (kh * kw + out_shape[-1])
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        groups = getattr(layer, "groups", 1) or 1
        return _spatial(out_shape) * out_shape[-1] * kh * kw * in_shape[-1] // groups
    if isinstance(layer, keras.layers.Dense):
        return _spatial(in_shape) * in_shape[-1] * out_shape[-1]
    return 0


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates for one image at the model's input size (convs and dense layers)."""
    return sum(layer_macs(layer) for layer in _flat_layers(model))


def model_summary(model: keras.Model) -> dict[str, Any]:
    """A JSON-ready description: arch, input shape, layer table, parameters and MACs."""
    from cvkit.models.assembly import count_params

    trainable, total = count_params(model)
    rows = []
    for layer in _flat_layers(model):
        try:
            shape = list(layer.output.shape)
        except (AttributeError, ValueError):
            shape = None
        rows.append({
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": shape,
            "params": int(sum(np.prod(w.shape) for w in layer.weights)),
            "macs": layer_macs(layer),
        })
    return {
        "arch": getattr(model, "arch", model.name),
        "head": getattr(model, "head", None),
        "input_shape": list(model.input_shape[1:]),
        "trainable_params": trainable,
        "total_params": total,
        "non_trainable_params": total - trainable,
        "macs": count_macs(model),
        "layers": rows,
    }


TABLE_COLUMNS = ("layer", "type", "output_shape", "params", "macs")


def layer_table(summary: dict[str, Any]) -> list[tuple[str, str, str, int, int]]:
    """One row per layer of a :func:`model_summary`: name, type, output shape, params, MACs."""
    return [
        (r["name"], r["type"], "x".join("?" if d is None else str(d) for d in (r["output_shape"] or [])[1:]),
         r["params"], r["macs"])
        for r in summary["layers"]
    ]


def write_layer_csv(summary: dict[str, Any], path: str | Path) -> Path:
    """The layer table as CSV, written to a temporary file first so no half file is left."""
    import csv
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TABLE_COLUMNS)
        writer.writerows(layer_table(summary))
    os.replace(partial, path)
    return path
