"""The GoogLeNet builder."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features
from cvkit.layers import conv_bn_act, global_pool, local_response_norm
from cvkit_googlenet.blocks import aux_classifier, inception_module

AUX_LOSS_WEIGHT = 0.3  # the paper's weight of each auxiliary loss
BRANCHES = ("filters_1x1", "filters_3x3_reduce", "filters_3x3", "filters_5x5_reduce", "filters_5x5", "filters_pool_proj")


def _scale(filters: int, multiplier: float) -> int:
    return max(1, int(round(filters * multiplier)))


def _check(stem_filters: list, inception_modules: dict, width_multiplier: float, aux_after: list,
           dropout: float, aux_dropout: float) -> None:
    if len(stem_filters) != 3 or min(stem_filters) < 1:
        raise CvkitError(f"googlenet stem_filters needs 3 positive widths (conv1, conv2 reduce, conv2), got {stem_filters}")
    for name, widths in inception_modules.items():
        if len(widths) != 6 or min(widths) < 1:
            raise CvkitError(f"googlenet module {name!r} needs 6 positive widths ({', '.join(BRANCHES)}), got {widths}")
        if not name[:1].isdigit():
            raise CvkitError(f"googlenet module names start with their stage number ('3a', '4e'...), got {name!r}")
    if width_multiplier <= 0:
        raise CvkitError(f"googlenet width_multiplier must be positive, got {width_multiplier}")
    unknown = sorted(set(aux_after) - set(inception_modules))
    if unknown:
        raise CvkitError(f"googlenet aux_after names unknown modules {unknown}; choose from {', '.join(inception_modules)}")
    for key, rate in (("dropout", dropout), ("aux_dropout", aux_dropout)):
        if not 0 <= rate < 1:
            raise CvkitError(f"googlenet {key} must be in [0, 1), got {rate}")


def _pool(x: Any, name: str) -> Any:
    return keras.layers.MaxPooling2D(3, strides=2, padding="same", name=name)(x)


def _stem(inputs: Any, filters: list[int], lrn: bool) -> tuple[Any, dict[int, Any]]:
    """7x7/2 conv, pool, LRN, 1x1 + 3x3 conv, LRN: the maps at strides 2 and 4, then the last pool."""
    plain = {"use_bias": True, "batch_norm": False}  # the paper's convs: bias and ReLU, no BN
    x = conv_bn_act(inputs, name="conv1", filters=filters[0], kernel_size=7, strides=2, **plain)
    maps = {2: x}
    x = _pool(x, "pool1")
    if lrn:
        x = local_response_norm(x, name="pool1_norm")
    x = conv_bn_act(x, name="conv2_reduce", filters=filters[1], kernel_size=1, **plain)
    x = conv_bn_act(x, name="conv2", filters=filters[2], kernel_size=3, **plain)
    if lrn:
        x = local_response_norm(x, name="conv2_norm")
    maps[4] = x
    return _pool(x, "pool2"), maps


def build_googlenet(
    inputs: Any,
    *,
    include_top: bool,
    stem_filters: list[int],
    inception_modules: dict[str, list[int]],
    width_multiplier: float,
    lrn: bool,
    dropout: float,
    aux_classifiers: bool,
    aux_after: list[str],
    aux_filters: int,
    aux_units: int,
    aux_dropout: float,
) -> Features:
    """Stem (7x7/2 conv, pool, LRN, 1x1 + 3x3 conv, LRN, pool), nine inception modules in three
    stages separated by 3x3/2 max-pools, then global average pooling and dropout.

    Feature maps are the deepest map at each stride: conv1 (2), conv2 (4), 3b (8), 4e (16), 5b
    (32). With ``aux_classifiers`` (training only) the auxiliary pre-logits after ``aux_after``
    are returned in ``Features.aux``, weighted 0.3; every other layer has the same name with and
    without them, so trained weights copy over by name.
    """
    _check(stem_filters, inception_modules, width_multiplier, aux_after, dropout, aux_dropout)
    x, maps = _stem(inputs, [_scale(f, width_multiplier) for f in stem_filters], lrn)

    stride, stage = 8, None
    aux: dict[str, tuple[Any, float]] = {}
    for name, widths in inception_modules.items():
        if stage is not None and name[0] != stage:
            maps[stride] = x
            x = _pool(x, f"pool{stage}")
            stride *= 2
        stage = name[0]
        x = inception_module(x, name=f"inception{name}",
                             **{key: _scale(w, width_multiplier) for key, w in zip(BRANCHES, widths)})
        if include_top and aux_classifiers and name in aux_after:
            aux_name = f"aux{len(aux) + 1}"
            aux[aux_name] = (aux_classifier(x, name=aux_name, filters=_scale(aux_filters, width_multiplier),
                                            units=_scale(aux_units, width_multiplier), dropout=aux_dropout),
                             AUX_LOSS_WEIGHT)
    maps[stride] = x

    pooled = global_pool(x, "avg_pool", dropout=dropout, dropout_name="dropout") if include_top else None
    return Features(maps={s: m for s, m in maps.items() if s <= 32}, pooled=pooled, aux=aux)
