"""Weights from another model, by layer name: the backbone must fit, the head loads when it does.

Used by ``--weights FILE`` (a model or weights file of another cvkit run) and by the ImageNet
converters (:mod:`cvkit.models.pretrained`), which rename the twin's layers to cvkit's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError
from cvkit.models.pretrained import fold_bias_into_batchnorm, match_batchnorm_epsilon, mismatch_error

Arrays = list[Any]


def backbone_layer_names(model: Any) -> set[str]:
    """The layers of a CvkitModel's backbone (everything that feeds the head)."""
    import keras

    ends = [model.get_layer(name).output for name in model.backbone_ends]
    return {layer.name for layer in keras.Model(model.inputs, ends).layers}


def _conv_and_bn(model: Any, layer: Any) -> tuple[str, Any] | None:
    """For a BN layer ``X_bn`` after a bias-free conv ``X_conv``: (``X_conv``, that conv)."""
    if not layer.name.endswith("_bn"):
        return None
    conv_name = layer.name[: -len("_bn")] + "_conv"
    try:
        conv = model.get_layer(conv_name)
    except ValueError:
        return None
    return (conv_name, conv) if len(conv.weights) == 1 else None


def _source_arrays(model: Any, layer: Any, source: Mapping[str, Arrays], rename: Callable[[str], str],
                   source_bn_epsilon: float | None) -> Arrays | None:
    """The arrays for ``layer`` from ``source``, converting a conv bias + BN into a BN."""
    import keras

    arrays = source.get(rename(layer.name))
    if arrays is None:
        return None
    if isinstance(layer, keras.layers.BatchNormalization):
        conv = _conv_and_bn(model, layer)
        conv_arrays = source.get(rename(conv[0])) if conv else None
        if conv_arrays is not None and len(conv_arrays) == 2:
            arrays = fold_bias_into_batchnorm(conv_arrays[1], arrays)
        if source_bn_epsilon is not None:
            arrays = match_batchnorm_epsilon(arrays, source_bn_epsilon, layer.epsilon)
    elif len(arrays) == len(layer.weights) + 1 and len(layer.weights) == 1:
        # a biased source conv before a BN: the kernel here, the bias folded into the BN
        try:
            model.get_layer(layer.name[: -len("_conv")] + "_bn")
        except ValueError:
            return None
        arrays = arrays[:1]
    return arrays


def _fits(layer: Any, arrays: Arrays | None) -> bool:
    return arrays is not None and [tuple(w.shape) for w in layer.weights] == [tuple(a.shape) for a in arrays]


def load_by_name(model: Any, source: Mapping[str, Arrays], *, what: str,
                 rename: Callable[[str], str] | None = None, source_head: Collection[str] = (),
                 source_bn_epsilon: float | None = None) -> list[str]:
    """Set ``model``'s weights from ``source`` (``{layer name: arrays}``); returns the head
    layers left as they were because the source has none that fits (the head starts fresh).

    ``rename`` maps a layer name of ``model`` to the source's; a source conv with a bias
    before a BN (``X_conv``, ``X_bn``) loads into a bias-free conv, the bias folded into the BN;
    ``source_bn_epsilon`` converts BN statistics to each layer's own epsilon. Every backbone
    layer must load and every source layer outside ``source_head`` must be used, or a one-line
    error names the first layers that do not match (the file is for another architecture).
    """
    rename = rename or (lambda name: name)
    backbone = backbone_layer_names(model)
    used: set[str] = set()
    mismatched, fresh, loads = [], [], []
    for layer in model.layers:
        if not layer.weights:
            continue
        arrays = _source_arrays(model, layer, source, rename, source_bn_epsilon)
        if _fits(layer, arrays):
            loads.append((layer, arrays))
            used.add(rename(layer.name))
        elif layer.name in backbone:
            mismatched.append(layer.name)
        else:
            fresh.append(layer.name)
    unused = [name for name in source if name not in used and name not in source_head]
    if mismatched or unused:
        raise mismatch_error(what, mismatched + unused)
    for layer, arrays in loads:  # only once everything fits: a failed load changes nothing
        layer.set_weights(arrays)
    return fresh


def _keras3_keys(model: Any) -> dict[str, str]:
    """Layer name -> its group in a Keras 3 ``.weights.h5`` file (``layers/conv2d_3``).

    Keras names the groups by class, counting in ``model.layers`` order; the same counting
    here finds each layer's group in a file saved from a model of the same architecture.
    """
    counts: dict[str, int] = {}
    keys = {}
    for layer in model.layers:
        base = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", type(layer).__name__)  # Keras' snake case: Conv2D -> conv2d
        base = re.sub("([a-z])([A-Z])", r"\1_\2", base).lower()
        counts[base] = counts.get(base, -1) + 1
        keys[layer.name] = base if counts[base] == 0 else f"{base}_{counts[base]}"
    return keys


def read_keras3_weights(path: Path, model: Any) -> tuple[dict[str, Arrays], Callable[[str], str]]:
    """A Keras 3 ``.weights.h5`` file as ``{group: arrays}``, and ``model``'s names -> groups."""
    import h5py
    import numpy as np

    keys = _keras3_keys(model)
    source: dict[str, Arrays] = {}
    try:
        with h5py.File(path, "r") as file:
            for key, group in file.get("layers", {}).items():
                found: list[tuple[str, Any]] = []
                group.visititems(lambda name, item: found.append((name, np.asarray(item)))
                                 if isinstance(item, h5py.Dataset) else None)
                if found:  # vars/0, vars/1, ..., vars/10 in number order
                    found.sort(key=lambda item: [(0, int(p), "") if p.isdigit() else (1, 0, p)
                                                 for p in item[0].split("/")])
                    source[key] = [array for _, array in found]
    except OSError as exc:
        raise CvkitError(f"cannot read the weights file {path} ({exc}); pass a .keras or .weights.h5 file") from None
    return source, lambda name: keys.get(name, name)
