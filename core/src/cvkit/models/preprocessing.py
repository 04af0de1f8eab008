"""The input preprocessing built into every cvkit model: [0, 255] pixels in, network scale out.

cvkit models scale to [-1, 1] (the ``"tf"`` mode). A model carrying ImageNet weights uses the
preprocessing its keras.applications twin was trained with, so predicting, evaluating and the
exported SavedModel all take plain pixels: ``"caffe"`` (RGB to BGR, minus the ImageNet mean),
``"torch"`` ([0, 1], minus the mean, over the standard deviation) or ``"none"`` (pixels as they are).
"""

from __future__ import annotations

from typing import Any

import keras

PREPROCESS_LAYER = "preprocess"
MODES = ("tf", "caffe", "torch", "none")
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="cvkit")
class ImagenetPreprocessing(keras.layers.Layer):
    """keras.applications' ``preprocess_input`` for the ``"caffe"``, ``"torch"`` and ``"none"`` modes.

    A one-channel (grayscale) image stands for R = G = B: the per-channel means broadcast it to
    three channels, so ImageNet weights take grayscale data sets too.
    """

    def __init__(self, mode: str, **kwargs: Any):
        super().__init__(**kwargs)
        if mode not in ("caffe", "torch", "none"):
            raise ValueError(f"ImagenetPreprocessing mode must be caffe, torch or none, got {mode!r}")
        self.mode = mode

    def call(self, images: Any) -> Any:
        images = keras.ops.cast(images, self.compute_dtype)
        if self.mode == "caffe":
            return keras.ops.flip(images, axis=-1) - keras.ops.convert_to_tensor(CAFFE_MEAN_BGR, self.compute_dtype)
        if self.mode == "torch":
            mean = keras.ops.convert_to_tensor(TORCH_MEAN, self.compute_dtype)
            std = keras.ops.convert_to_tensor(TORCH_STD, self.compute_dtype)
            return (images / 255.0 - mean) / std
        return images

    def compute_output_shape(self, input_shape: Any) -> Any:
        channels = input_shape[-1] if self.mode == "none" else 3  # grayscale becomes R = G = B
        return (*input_shape[:-1], channels)

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
