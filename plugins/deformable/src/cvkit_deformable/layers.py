"""The deformable convolution layer (Dai et al., 2017), in keras.ops only.

A regular convolution predicts, at every output position, a 2D offset for each of the k x k
kernel taps (``2 * k * k`` channels, ``(dy, dx)`` per tap, taps in row-major order). The input is
sampled at the shifted taps by bilinear interpolation (zero outside the image) and the samples
are convolved with the kernel. The offset conv starts at zero, so a fresh layer is exactly a
plain convolution.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from cvkit import CvkitError

PADDINGS = ("same", "valid")


def _pair(value: int | tuple[int, int] | list[int], what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, int) or v < 1 for v in pair):
        raise CvkitError(f"DeformableConv2D {what} must be a positive int or a pair of them, got {value!r}")
    return pair


def _out_size(size: int | None, kernel: int, stride: int, dilation: int, padding: str) -> int | None:
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    return (size - (kernel - 1) * dilation - 1) // stride + 1


@keras.saving.register_keras_serializable(package="cvkit_deformable")
class DeformableConv2D(keras.layers.Layer):
    """2D deformable convolution (DCN v1), channels-last.

    Weights: ``kernel`` (kh, kw, C / groups, filters), optional ``bias``, and the offset conv's
    ``offset_kernel`` (kh, kw, C, 2 kh kw) and ``offset_bias``, both initialised to zero.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int] = 3,
        strides: int | tuple[int, int] = 1,
        padding: str = "same",
        dilation_rate: int | tuple[int, int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        kernel_initializer: Any = "he_normal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise CvkitError(f"DeformableConv2D filters must be a positive int, got {filters!r}")
        padding = str(padding).lower()
        if padding not in PADDINGS:
            raise CvkitError(f"DeformableConv2D padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
        self.filters = filters
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise CvkitError("DeformableConv2D cannot combine strides > 1 with dilation_rate > 1; pick one")
        self.padding = padding
        self.groups = groups
        if not isinstance(groups, int) or groups < 1 or filters % groups:
            raise CvkitError(f"DeformableConv2D groups must be a positive divisor of filters={filters}, got {groups!r}")
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    @property
    def taps(self) -> int:
        return self.kernel_size[0] * self.kernel_size[1]

    def build(self, input_shape: tuple) -> None:
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise CvkitError(
                f"DeformableConv2D groups={self.groups} must divide the input channels ({channels})"
            )
        kh, kw = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel", shape=(kh, kw, channels // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        self.offset_kernel = self.add_weight(
            name="offset_kernel", shape=(kh, kw, channels, 2 * self.taps), initializer="zeros",
        )
        self.offset_bias = self.add_weight(name="offset_bias", shape=(2 * self.taps,), initializer="zeros")
        self.input_spec = keras.layers.InputSpec(ndim=4, axes={-1: channels})

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        batch, height, width, _ = input_shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        return (
            batch,
            _out_size(height, kh, sh, dh, self.padding),
            _out_size(width, kw, sw, dw, self.padding),
            self.filters,
        )

    def offsets(self, inputs: Any) -> Any:
        """The predicted offsets, (batch, out_h, out_w, 2 k k) as (dy, dx) per tap."""
        offsets = ops.conv(
            inputs, ops.cast(self.offset_kernel, inputs.dtype), strides=self.strides,
            padding=self.padding, data_format="channels_last", dilation_rate=self.dilation_rate,
        )
        return offsets + ops.cast(self.offset_bias, inputs.dtype)

    def call(self, inputs: Any) -> Any:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        channels = inputs.shape[-1]
        offsets = ops.cast(self.offsets(inputs), "float32")
        shape, out_shape = ops.shape(inputs), ops.shape(offsets)
        height, width = shape[1], shape[2]
        out_h, out_w = out_shape[1], out_shape[2]
        if self.padding == "same":  # as Keras/TF: the odd pixel of padding goes to the bottom/right
            pad_top = ops.maximum((out_h - 1) * sh + (kh - 1) * dh + 1 - height, 0) // 2
            pad_left = ops.maximum((out_w - 1) * sw + (kw - 1) * dw + 1 - width, 0) // 2
        else:
            pad_top = pad_left = 0

        # Tap positions of the regular grid: (out_h, 1, taps) rows and (1, out_w, taps) columns.
        tap_y = np.repeat(np.arange(kh) * dh, kw).astype("float32")
        tap_x = np.tile(np.arange(kw) * dw, kh).astype("float32")
        rows = ops.cast(ops.arange(out_h) * sh - pad_top, "float32")
        cols = ops.cast(ops.arange(out_w) * sw - pad_left, "float32")
        grid_y = ops.reshape(rows, (-1, 1, 1)) + ops.reshape(tap_y, (1, 1, -1))
        grid_x = ops.reshape(cols, (1, -1, 1)) + ops.reshape(tap_x, (1, 1, -1))

        offsets = ops.reshape(offsets, (-1, out_h, out_w, self.taps, 2))
        sampled = _bilinear_sample(inputs, grid_y + offsets[..., 0], grid_x + offsets[..., 1])

        kernel = ops.cast(self.kernel, inputs.dtype)
        if self.groups == 1:
            patches = ops.reshape(sampled, (-1, out_h, out_w, self.taps * channels))
            outputs = ops.matmul(patches, ops.reshape(kernel, (self.taps * channels, self.filters)))
        else:
            group_in, group_out = channels // self.groups, self.filters // self.groups
            patches = ops.reshape(sampled, (-1, out_h, out_w, self.taps, self.groups, group_in))
            kernel = ops.reshape(kernel, (self.taps, group_in, self.groups, group_out))
            outputs = ops.einsum("bhwkgc,kcgf->bhwgf", patches, kernel)
            outputs = ops.reshape(outputs, (-1, out_h, out_w, self.filters))
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, outputs.dtype)
        return outputs

    def macs(self, input_shape: tuple, output_shape: tuple) -> int:
        """Multiply-accumulates per image: the main conv plus the offset conv."""
        channels = input_shape[-1]
        positions = int(output_shape[1]) * int(output_shape[2])
        main = self.filters * self.taps * channels // self.groups
        offset = 2 * self.taps * self.taps * channels
        return positions * (main + offset)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
        })
        return config


def _bilinear_sample(images: Any, y: Any, x: Any) -> Any:
    """Bilinear samples of ``images`` (B, H, W, C) at float positions ``y``, ``x`` (B, ...).

    Returns (B, ..., C). A corner outside the image contributes zero, so the image is padded
    with zeros in every direction.
    """
    channels = images.shape[-1]
    shape = ops.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    flat = ops.reshape(images, (-1, channels))
    extra_dims = len(y.shape) - 1
    first = ops.reshape(ops.arange(batch) * height * width, (-1,) + (1,) * extra_dims)
    max_y = ops.cast(height - 1, "float32")
    max_x = ops.cast(width - 1, "float32")

    y0, x0 = ops.floor(y), ops.floor(x)
    wy1, wx1 = y - y0, x - x0
    sampled = None
    for corner_y, weight_y in ((y0, 1.0 - wy1), (y0 + 1.0, wy1)):
        for corner_x, weight_x in ((x0, 1.0 - wx1), (x0 + 1.0, wx1)):
            inside = ops.logical_and(
                ops.logical_and(corner_y >= 0.0, corner_y <= max_y),
                ops.logical_and(corner_x >= 0.0, corner_x <= max_x),
            )
            weight = weight_y * weight_x * ops.cast(inside, "float32")
            index = (
                first
                + ops.cast(ops.clip(corner_y, 0.0, max_y), "int32") * width
                + ops.cast(ops.clip(corner_x, 0.0, max_x), "int32")
            )
            term = ops.take(flat, index, axis=0) * ops.expand_dims(ops.cast(weight, images.dtype), -1)
            sampled = term if sampled is None else sampled + term
    return sampled
