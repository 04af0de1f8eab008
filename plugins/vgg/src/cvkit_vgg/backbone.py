"""The VGG backbone builder."""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features
from cvkit.layers import TORCH_BN_EPSILON, conv_bn_act, fc_trunk


def build_vgg(
    inputs: Any,
    *,
    include_top: bool,
    depths: list[int],
    widths: list[int],
    batch_norm: bool,
    fc_units: int,
    dropout: float,
    classifier_pooling: str,
) -> Features:
    """Blocks of 3x3 same-padded convs, each closed by a 2x2 max-pool, then FC 4096 x 2.

    The feature maps are the pool outputs (strides 2 to 32), where FCN attaches its skips. The
    pre-logits come from the FC trunk (``cvkit.layers.fc_trunk``, as AlexNet's): at 224x224 the last
    map is 7x7x512, as in the paper; ``classifier_pooling`` decides what other sizes do.
    """
    arch = f"vgg{sum(depths) + 3}{'_bn' if batch_norm else ''}"
    if len(depths) != len(widths) or not depths or min(depths) < 1 or min(widths) < 1:
        raise CvkitError(f"{arch} needs one positive depth and width per block, got depths={depths}, widths={widths}")
    maps: dict[int, Any] = {}
    x = inputs
    for b, (depth, width) in enumerate(zip(depths, widths), start=1):
        for c in range(1, depth + 1):
            x = conv_bn_act(x, name=f"block{b}_conv{c}", filters=width, kernel_size=3, use_bias=True,
                            batch_norm=batch_norm, bn_epsilon=TORCH_BN_EPSILON)
        x = keras.layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool")(x)
        if 2 ** b <= 32:
            maps[2 ** b] = x
    pooled = None
    if include_top:
        pooled = fc_trunk(x, name="fc", units=fc_units, dropout=dropout, pooling=classifier_pooling,
                          pooled_size=7, arch=arch, input_size=32 * 7)
    return Features(maps=maps, pooled=pooled)
