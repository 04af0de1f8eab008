"""Block checks: a registered block builds on a small input and runs."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_block(name: str, input_shape: tuple[int, int, int] = (16, 16, 8), **kwargs: Any) -> None:
    """``get_block(name)(x, name=..., **kwargs)`` builds on a ``input_shape`` map and gives finite values.

    Blocks take a tensor and keyword arguments (``kwargs``: the ones it needs, small). Its
    output may be a tensor, or :class:`cvkit.Features` for whole bodies.
    """
    import keras

    from cvkit import Features, get_block

    inputs = keras.Input(input_shape)
    output = get_block(name)(inputs, name=f"check_{name}", **kwargs)
    if isinstance(output, Features):
        output = output.pooled if output.pooled is not None else output.last
    assert hasattr(output, "shape") and output.shape[0] is None, f"block {name} returned {type(output).__name__}, not a batched tensor"
    values = keras.Model(inputs, output)(np.random.default_rng(0).normal(size=(2, *input_shape)).astype("float32"))
    values = keras.ops.convert_to_numpy(values)
    assert values.shape[0] == 2 and np.isfinite(values).all(), f"block {name} gave non-finite values or lost the batch"
