"""Blocks of the classic plain CNNs: local response normalisation and the FC classifier trunk.

Both are registered, so VGG and GoogLeNet fetch them with ``cvkit.get_block`` instead of
rewriting them.
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError
from cvkit_alexnet.layers import LocalResponseNormalization

CLASSIFIER_POOLING = ("adaptive", "flatten")


def local_response_norm(x: Any, *, name: str, size: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                        bias: float = 2.0) -> Any:
    """AlexNet's local response normalisation across ``size`` adjacent channels (k=2, n=5,
    alpha=1e-4, beta=0.75 as in the paper); no weights."""
    return LocalResponseNormalization(size=size, alpha=alpha, beta=beta, bias=bias, name=name)(x)


def adaptive_pool(x: Any, *, name: str, size: int | tuple[int, int]) -> Any:
    """Average-pool a map to ``size`` (torchvision's ``AdaptiveAvgPool2d``), stretching smaller maps.

    Keras 3.15's TensorFlow ``AdaptiveAveragePooling2D`` needs static sizes when it is called
    and fails in graph mode on a side of one pixel. So the map's build-time shape is pinned
    with a ``Reshape`` (a model called on a tensor of unknown size, as in a SavedModel
    endpoint, still pools), and a one-pixel side is repeated to two pixels, which leaves the
    result unchanged.
    """
    height, width, channels = x.shape[1:]
    if height is None or width is None:
        raise CvkitError(f"adaptive pooling needs a fixed input size, got a {height}x{width} map; give the model an input size")
    x = keras.layers.Reshape((height, width, channels), name=f"{name}_static")(x)
    if height == 1 or width == 1:
        x = keras.layers.UpSampling2D((2 if height == 1 else 1, 2 if width == 1 else 1), name=f"{name}_repeat")(x)
    return keras.layers.AdaptiveAveragePooling2D(size, name=name)(x)


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
    if pooling not in CLASSIFIER_POOLING:
        raise CvkitError(f"{arch} classifier_pooling must be 'adaptive' or 'flatten', got {pooling!r}")
    if not 0 <= dropout < 1:
        raise CvkitError(f"{arch} dropout must be in [0, 1), got {dropout}")
    if units < 1:
        raise CvkitError(f"{arch} fc_units must be at least 1, got {units}")
    if pooling == "adaptive":
        if None in x.shape[1:3]:
            raise CvkitError(
                f"{arch} with include_top needs a fixed input size (its FC layers take "
                f"{pooled_size}x{pooled_size}x{x.shape[-1]}); give an input size, or use include_top=False"
            )
        x = adaptive_pool(x, name=f"{name}_pool", size=pooled_size)
    elif tuple(x.shape[1:3]) != (pooled_size, pooled_size):
        raise CvkitError(
            f"{arch} with include_top and classifier_pooling='flatten' needs {input_size}x{input_size} "
            f"input (its FC layers take {pooled_size}x{pooled_size}x{x.shape[-1]}); use --image-size "
            f"{input_size}, classifier_pooling='adaptive', or include_top=False"
        )
    x = keras.layers.Flatten(name=f"{name}_flatten")(x)
    for i in range(1, layers + 1):
        x = keras.layers.Dense(units, activation="relu", name=f"{name}{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}{i}_dropout")(x)
    return x
