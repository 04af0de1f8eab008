"""Pooling and pre-logits: global pool + dropout, adaptive average pooling, the FC trunk."""

from __future__ import annotations

from typing import Any

import keras

from cvkit.errors import CvkitError

CLASSIFIER_POOLING = ("adaptive", "flatten")


def global_pool(x: Any, name: str, dropout: float = 0.0, dropout_name: str = "top_dropout") -> Any:
    """Global average pooling (``name``), then dropout (``dropout_name``) when asked: the
    pre-logits of most modern families."""
    x = keras.layers.GlobalAveragePooling2D(name=name)(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=dropout_name)(x)
    return x


def adaptive_pool(x: Any, *, name: str, size: int | tuple[int, int]) -> Any:
    """Average-pool a map to ``size`` (torchvision's ``AdaptiveAvgPool2d``), stretching smaller maps.

    Keras 3.15's TensorFlow ``AdaptiveAveragePooling2D`` needs static sizes when it is called
    and fails in graph mode on a side of one pixel. So the map's build-time shape is pinned
    with a ``Reshape`` (a model called on a tensor of unknown size, as in a SavedModel
    endpoint, still pools), and a one-pixel side is repeated to two pixels, which leaves the
    result unchanged. Layers: ``{name}_static``, ``{name}_repeat`` (one-pixel sides), ``{name}``.
    """
    height, width, channels = x.shape[1:]
    if height is None or width is None:
        raise CvkitError(f"adaptive pooling needs a fixed input size, got a {height}x{width} map; give the model an input size")
    x = keras.layers.Reshape((height, width, channels), name=f"{name}_static")(x)
    if height == 1 or width == 1:
        x = keras.layers.UpSampling2D((2 if height == 1 else 1, 2 if width == 1 else 1), name=f"{name}_repeat")(x)
    return keras.layers.AdaptiveAveragePooling2D(size, name=name)(x)


def _check_trunk(x: Any, *, units: int, dropout: float, pooling: str, pooled_size: int, arch: str, input_size: int) -> None:
    if pooling not in CLASSIFIER_POOLING:
        raise CvkitError(f"{arch} classifier_pooling must be 'adaptive' or 'flatten', got {pooling!r}")
    if not 0 <= dropout < 1:
        raise CvkitError(f"{arch} dropout must be in [0, 1), got {dropout}")
    if units < 1:
        raise CvkitError(f"{arch} fc_units must be at least 1, got {units}")
    if pooling == "adaptive" and None in x.shape[1:3]:
        raise CvkitError(
            f"{arch} with include_top needs a fixed input size (its FC layers take "
            f"{pooled_size}x{pooled_size}x{x.shape[-1]}); give an input size, or use include_top=False"
        )
    if pooling == "flatten" and tuple(x.shape[1:3]) != (pooled_size, pooled_size):
        raise CvkitError(
            f"{arch} with include_top and classifier_pooling='flatten' needs {input_size}x{input_size} "
            f"input (its FC layers take {pooled_size}x{pooled_size}x{x.shape[-1]}); use --image-size "
            f"{input_size}, classifier_pooling='adaptive', or include_top=False"
        )


def fc_trunk(
    x: Any,
    *,
    name: str = "fc",
    units: int = 4096,
    layers: int = 2,
    dropout: float = 0.5,
    pooling: str = "adaptive",
    pooled_size: int = 7,
    arch: str = "this model",
    input_size: int = 224,
) -> Any:
    """The pre-logits of AlexNet and VGG: flatten the last map -> [FC -> ReLU -> dropout] x layers.

    The first FC layer takes a ``pooled_size`` x ``pooled_size`` map, as in the papers.
    ``pooling="adaptive"`` average-pools (or stretches) any other map to that size first, like
    torchvision's ``AdaptiveAvgPool2d``: the identity at the paper's input size, and the same
    parameters at every other size. ``pooling="flatten"`` is the strict paper: another size is an
    error naming ``arch`` and its ``input_size``. Layers: ``{name}_pool``, ``{name}_flatten``,
    ``{name}1``, ``{name}1_dropout``, ``{name}2``...
    """
    _check_trunk(x, units=units, dropout=dropout, pooling=pooling, pooled_size=pooled_size, arch=arch,
                 input_size=input_size)
    if pooling == "adaptive":
        x = adaptive_pool(x, name=f"{name}_pool", size=pooled_size)
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    for i in range(1, layers + 1):
        x = keras.layers.Dense(units, activation="relu", name=f"{name}{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}{i}_dropout")(x)
    return x
