"""Deformable convolution: equal to a plain conv when fresh, equal to numpy bilinear sampling plus
convolution when offset, dynamic sizes, serialisation, and ResNet-50-DCN."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

import cvkit
from cvkit.testing import create_tiny_model
from cvkit_deformable.layers import DeformableConv2D


def _reference(x, kernel, bias, offset_kernel, offset_bias, stride, padding, groups):
    """Deformable conv by the definition, in loops: offset conv, bilinear taps, convolution."""
    batch, height, width, channels = x.shape
    kh, kw, group_in, filters = kernel.shape
    group_out = filters // groups

    def out_and_pad(size, k):
        if padding == "valid":
            return (size - k) // stride + 1, 0
        out = math.ceil(size / stride)
        return out, max((out - 1) * stride + k - size, 0) // 2

    (out_h, top), (out_w, left) = out_and_pad(height, kh), out_and_pad(width, kw)

    def pixel(b, y, x_):
        return x[b, y, x_] if 0 <= y < height and 0 <= x_ < width else np.zeros(channels)

    def bilinear(b, y, x_):
        y0, x0 = math.floor(y), math.floor(x_)
        dy, dx = y - y0, x_ - x0
        return ((1 - dy) * (1 - dx) * pixel(b, y0, x0) + (1 - dy) * dx * pixel(b, y0, x0 + 1)
                + dy * (1 - dx) * pixel(b, y0 + 1, x0) + dy * dx * pixel(b, y0 + 1, x0 + 1))

    out = np.zeros((batch, out_h, out_w, filters))
    for b in range(batch):
        for i in range(out_h):
            for j in range(out_w):
                y, x_ = i * stride - top, j * stride - left
                offsets = offset_bias.copy()
                for a in range(kh):
                    for c in range(kw):
                        offsets += pixel(b, y + a, x_ + c) @ offset_kernel[a, c]
                for a in range(kh):
                    for c in range(kw):
                        tap = a * kw + c
                        sample = bilinear(b, y + a + offsets[2 * tap], x_ + c + offsets[2 * tap + 1])
                        for g in range(groups):
                            chunk = sample[g * group_in:(g + 1) * group_in]
                            out[b, i, j, g * group_out:(g + 1) * group_out] += chunk @ kernel[a, c, :, g * group_out:(g + 1) * group_out]
                out[b, i, j] += bias
    return out


CASES = [
    pytest.param(1, "same", 1, id="stride1-same"),
    pytest.param(2, "same", 2, id="stride2-same-groups2"),
    pytest.param(1, "valid", 1, id="stride1-valid"),
]


@pytest.mark.parametrize(("stride", "padding", "groups"), CASES)
def test_fresh_layer_equals_a_plain_conv(stride, padding, groups):
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 4)).astype("float32")
    layer = DeformableConv2D(6, 3, strides=stride, padding=padding, groups=groups, use_bias=True,
                             bias_initializer="random_normal")
    conv = keras.layers.Conv2D(6, 3, strides=stride, padding=padding, groups=groups)
    deformed = keras.ops.convert_to_numpy(layer(x))
    conv.build(x.shape)
    conv.set_weights([keras.ops.convert_to_numpy(layer.kernel), keras.ops.convert_to_numpy(layer.bias)])
    assert not np.any(keras.ops.convert_to_numpy(layer.offset_kernel))
    assert not np.any(keras.ops.convert_to_numpy(layer.offset_bias))
    np.testing.assert_allclose(deformed, keras.ops.convert_to_numpy(conv(x)), atol=1e-5)


@pytest.mark.parametrize(("stride", "padding", "groups"), CASES)
def test_offset_layer_equals_numpy_bilinear_sampling_then_convolution(stride, padding, groups):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 7, 4)).astype("float32")
    layer = DeformableConv2D(4, 3, strides=stride, padding=padding, groups=groups)
    layer.build(x.shape)
    kernel = rng.normal(size=layer.kernel.shape).astype("float32")
    bias = rng.normal(size=(4,)).astype("float32")
    offset_kernel = (0.2 * rng.normal(size=layer.offset_kernel.shape)).astype("float32")
    offset_bias = rng.uniform(-1.7, 1.7, size=(18,)).astype("float32")  # fractional, some taps leave the image
    layer.set_weights([kernel, bias, offset_kernel, offset_bias])
    expected = _reference(x.astype("float64"), kernel, bias, offset_kernel, offset_bias, stride, padding, groups)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, atol=1e-4)


def test_works_at_dynamic_input_sizes():
    inputs = keras.Input((None, None, 3))
    layer = DeformableConv2D(5, 3, strides=2, name="dcn")
    model = keras.Model(inputs, layer(inputs))
    assert tuple(model.output.shape) == (None, None, None, 5)
    rng = np.random.default_rng(2)
    layer.set_weights([w + rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    for height, width in ((7, 9), (12, 10)):
        x = rng.normal(size=(1, height, width, 3)).astype("float32")
        expected = _reference(x.astype("float64"), *layer.get_weights(), 2, "same", 1)
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-4)


def test_offsets_learn():
    layer = DeformableConv2D(4, 3)
    x = keras.ops.convert_to_tensor(np.random.default_rng(3).normal(size=(2, 6, 6, 3)).astype("float32"))
    import tensorflow as tf  # only to take a gradient in this test

    with tf.GradientTape() as tape:
        loss = keras.ops.sum(keras.ops.square(layer(x)))
    grads = tape.gradient(loss, [layer.offset_kernel.value, layer.offset_bias.value])
    assert all(g is not None and np.any(keras.ops.convert_to_numpy(g)) for g in grads)


def test_get_config_is_complete():
    layer = DeformableConv2D(8, (3, 5), strides=2, padding="valid", groups=2, use_bias=False,
                             kernel_regularizer="l2", name="d")
    clone = DeformableConv2D.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.kernel_size, clone.strides, clone.groups, clone.use_bias) == ((3, 5), (2, 2), 2, False)


def test_keras_round_trip_with_cvkit_load_model(tmp_path):
    inputs = keras.Input((None, None, 3))
    outputs = DeformableConv2D(4, 3, name="dcn")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(outputs))
    rng = np.random.default_rng(4)
    model.set_weights([w + rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    path = tmp_path / "dcn.keras"
    model.save(path)
    loaded = cvkit.load_model(path)
    x = rng.normal(size=(2, 11, 13, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)


def test_resnet50_dcn_round_trips_with_learned_offsets(tmp_path):
    model = create_tiny_model("resnet50_dcn")
    rng = np.random.default_rng(5)
    for layer in model.layers:
        if isinstance(layer, DeformableConv2D):
            layer.offset_bias.assign(rng.uniform(-1, 1, layer.offset_bias.shape))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = cvkit.load_model(path)
    images = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(images, verbose=0)["probabilities"],
                               model.predict(images, verbose=0)["probabilities"], atol=1e-5)


def _offset_params(widths, blocks):
    """Offset conv parameters: a 3x3 conv to 18 channels (with bias) per deformable 3x3 conv."""
    return sum(n * (3 * 3 * w * 18 + 18) for w, n in zip(widths, blocks))


def test_resnet50_dcn_makes_stages_3_to_5_deformable():
    model = create_tiny_model("resnet50_dcn", include_top=False)
    deformable = sorted(layer.name for layer in model.layers if isinstance(layer, DeformableConv2D))
    assert deformable == ["conv3_block1_2_conv", "conv4_block1_2_conv", "conv5_block1_2_conv"]
    plain = create_tiny_model("resnet50", include_top=False)
    # tiny stage widths 16, 32, 64 at stages 3-5, one block each
    assert cvkit.count_params(model)[0] - cvkit.count_params(plain)[0] == _offset_params([16, 32, 64], [1, 1, 1]) == 18_198


@pytest.mark.slow
def test_resnet50_dcn_params_are_resnet50_plus_the_offset_convs():
    offsets = _offset_params([128, 256, 512], [4, 6, 3])
    assert offsets == 580_842
    assert cvkit.count_params(cvkit.create_model("resnet50_dcn"))[0] == 25_557_032 + offsets == 26_137_874


def test_macs_count_the_main_and_the_offset_conv():
    inputs = keras.Input((10, 10, 8))
    model = keras.Model(inputs, DeformableConv2D(16, 3, strides=2, groups=2)(inputs))
    assert cvkit.count_macs(model) == 5 * 5 * (16 * 9 * 8 // 2 + 18 * 9 * 8)


def test_block_and_family_are_registered():
    assert "deformable_conv" in cvkit.list_blocks()
    assert cvkit.get_backbone("deformable").name == "resnet50_dcn"
    inputs = keras.Input((8, 8, 4))
    out = cvkit.get_block("deformable_conv")(inputs, name="blk", filters=6, strides=2)
    assert tuple(out.shape) == (None, 4, 4, 6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"filters": 0}, "filters must be a positive int"),
        ({"filters": 4, "padding": "causal"}, "padding must be one of same, valid"),
        ({"filters": 6, "groups": 4}, "groups must be a positive divisor of filters=6"),
        ({"filters": 4, "strides": 2, "dilation_rate": 2}, "cannot combine strides > 1 with dilation_rate > 1"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(cvkit.CvkitError, match=message):
        DeformableConv2D(**kwargs)


def test_groups_must_divide_the_input_channels():
    with pytest.raises(cvkit.CvkitError, match="groups=2 must divide the input channels"):
        DeformableConv2D(4, groups=2)(keras.Input((8, 8, 3)))
