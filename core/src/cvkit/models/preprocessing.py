"""The input preprocessing built into every cvkit model: [0, 255] pixels in, network scale out.

cvkit models scale to [-1, 1] (the ``"tf"`` mode). A model carrying ImageNet weights uses the
preprocessing its keras.applications twin was trained with, so predicting, evaluating and the
exported SavedModel all take plain pixels: ``"caffe"`` (RGB to BGR, minus the ImageNet mean),
``"torch"`` ([0, 1], minus the mean, over the standard deviation), ``"tf_rgb"`` (``"tf"`` for
ImageNet weights) or ``"none"`` (pixels as they are). These four take a grayscale image as
R = G = B, so ImageNet weights also train on grayscale data sets (digits).
"""

from __future__ import annotations

from typing import Any

import keras

PREPROCESS_LAYER = "preprocess"
MODES = ("tf", "caffe", "torch", "none", "tf_rgb")
IMAGENET_MODES = ("caffe", "torch", "none", "tf_rgb")
RGB = 3
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="cvkit")
class ImagenetPreprocessing(keras.layers.Layer):
    """keras.applications' ``preprocess_input`` for ImageNet weights: ``"caffe"``, ``"torch"``,
    ``"tf_rgb"`` (its ``"tf"``) and ``"none"``.

    A one-channel (grayscale) image stands for R = G = B: it is repeated to the three channels
    the weights take, so ImageNet weights train on grayscale data sets too.
    """

    def __init__(self, mode: str, **kwargs: Any):
        super().__init__(**kwargs)
        if mode not in IMAGENET_MODES:
            raise ValueError(f"ImagenetPreprocessing mode must be one of {', '.join(IMAGENET_MODES)}, got {mode!r}")
        self.mode = mode

    def build(self, input_shape: Any) -> None:
        if input_shape[-1] not in (1, RGB):
            from cvkit.errors import CvkitError

            raise CvkitError(f"ImageNet weights take RGB or grayscale images, but these have {input_shape[-1]} "
                             f"channels; convert the data set to RGB, or train without --weights imagenet")
        super().build(input_shape)

    def call(self, images: Any) -> Any:
        images = keras.ops.cast(images, self.compute_dtype)
        if images.shape[-1] == 1:
            images = keras.ops.repeat(images, RGB, axis=-1)
        if self.mode == "tf_rgb":
            return images / 127.5 - 1.0
        if self.mode == "caffe":
            return keras.ops.flip(images, axis=-1) - keras.ops.convert_to_tensor(CAFFE_MEAN_BGR, self.compute_dtype)
        if self.mode == "torch":
            mean = keras.ops.convert_to_tensor(TORCH_MEAN, self.compute_dtype)
            std = keras.ops.convert_to_tensor(TORCH_STD, self.compute_dtype)
            return (images / 255.0 - mean) / std
        return images

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape[:-1], RGB)  # grayscale becomes R = G = B

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


def preprocessing_layer(mode: str) -> keras.layers.Layer:
    """The layer (named ``preprocess``) that scales [0, 255] pixels for ``mode``."""
    if mode == "tf":
        return keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name=PREPROCESS_LAYER)
    if mode not in MODES:
        from cvkit.errors import CvkitError

        raise CvkitError(f"preprocessing must be one of {', '.join(MODES)}, got {mode!r}")
    return ImagenetPreprocessing(mode, name=PREPROCESS_LAYER)
