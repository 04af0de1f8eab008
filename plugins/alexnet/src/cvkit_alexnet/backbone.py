"""The AlexNet / ZFNet backbone builder."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features
from cvkit.layers import conv_bn_act, fc_trunk, local_response_norm
from cvkit_alexnet.variants import INPUT_SIZE

LRN_PLACES = ("before_pool", "after_pool", "none")
POOL_AFTER = (0, 1, 4)  # max-pools follow conv1, conv2 and conv5


def build_alexnet(inputs: Any, *, include_top: bool, **params: Any) -> Features:
    return _build(inputs, include_top=include_top, arch="alexnet", **params)


def build_zfnet(inputs: Any, *, include_top: bool, **params: Any) -> Features:
    return _build(inputs, include_top=include_top, arch="zfnet", **params)


def _check(arch: str, widths: list, kernel_sizes: list, strides: list, paddings: list, groups: list,
           pool_padding: list, lrn: str) -> None:
    lists = {"widths": widths, "kernel_sizes": kernel_sizes, "strides": strides, "paddings": paddings, "groups": groups}
    for key, value in lists.items():
        if len(value) != 5:
            raise CvkitError(f"{arch} {key} needs one value per convolution (5), got {value}")
    if len(pool_padding) != 3 or set(pool_padding) - {"valid", "same"}:
        raise CvkitError(f"{arch} pool_padding needs 3 values, each 'valid' or 'same', got {pool_padding}")
    if lrn not in LRN_PLACES:
        raise CvkitError(f"{arch} lrn must be one of {', '.join(map(repr, LRN_PLACES))}, got {lrn!r}")
    channels = [None, *widths[:-1]]
    for i, (width, group) in enumerate(zip(widths, groups)):
        if width < 1 or group < 1 or width % group or (channels[i] and channels[i] % group):
            raise CvkitError(
                f"{arch} conv{i + 1} cannot split {channels[i] or 'its input'} -> {width} channels into "
                f"{group} groups; a grouped conv's input and output widths must be multiples of its groups"
            )


def _build(
    inputs: Any,
    *,
    include_top: bool,
    arch: str,
    widths: list[int],
    kernel_sizes: list[int],
    strides: list[int],
    paddings: list[int],
    groups: list[int],
    pool_padding: list[str],
    lrn: str,
    fc_units: int,
    dropout: float,
    classifier_pooling: str,
) -> Features:
    """Five ReLU convolutions with max-pools after conv1, conv2 and conv5, then FC-4096 x 2.

    Feature maps are taken where the resolution drops (the conv or pool output at each new
    stride, after its normalisation), as for VGG.
    """
    _check(arch, widths, kernel_sizes, strides, paddings, groups, pool_padding, lrn)
    maps: dict[int, Any] = {}
    x, stride = inputs, 1
    for i in range(5):
        name = f"conv{i + 1}"
        kernel, pad = kernel_sizes[i], paddings[i]
        if strides[i] == 1 and 2 * pad == kernel - 1:
            padding = "same"
        else:
            padding = "valid"
            if pad:
                x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
        x = conv_bn_act(x, name=name, filters=widths[i], kernel_size=kernel, strides=strides[i], padding=padding,
                        groups=groups[i], use_bias=True, batch_norm=False)
        stride *= strides[i]
        if i < 2 and lrn == "before_pool":  # the paper normalises conv1 and conv2
            x = local_response_norm(x, name=f"{name}_norm")
        if strides[i] > 1:
            maps[stride] = x
        if i in POOL_AFTER:
            p = POOL_AFTER.index(i)
            x = keras.layers.MaxPooling2D(3, strides=2, padding=pool_padding[p], name=f"pool{p + 1}")(x)
            if lrn == "after_pool" and p < 2:  # ZFNet normalises after pool1 and pool2
                x = local_response_norm(x, name=f"pool{p + 1}_norm")
            stride *= 2
            maps[stride] = x
    maps = {s: m for s, m in maps.items() if s in (2, 4, 8, 16, 32)}
    pooled = None
    if include_top:
        pooled = fc_trunk(x, name="fc", units=fc_units, dropout=dropout, pooling=classifier_pooling,
                          pooled_size=6, arch=arch, input_size=INPUT_SIZE[arch])
    return Features(maps=maps, pooled=pooled)
