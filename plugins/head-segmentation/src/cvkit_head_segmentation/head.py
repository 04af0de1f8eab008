"""Semantic segmentation heads: FCN-32s/16s/8s and a U-Net style decoder.

Both attach to any backbone through its feature maps by stride and end in a per-pixel softmax
over ``num_classes + 1`` classes: class 0 is the background, class ``k + 1`` is the data set's
class ``k`` (the mask convention of cvkit's data sets).
"""

from __future__ import annotations

from typing import Any

import keras

from cvkit import CvkitError, Features, Objectives, TaskSpec
from cvkit.layers import conv_bn_act
from cvkit_head_segmentation.layers import BilinearUpsampling, MatchSize

OUTPUT = "masks"


def mask_classes(task: TaskSpec) -> int:
    """Output channels: the background plus every class of the data set."""
    return task.num_classes + 1


def total_stride(features: Features) -> int:
    return max(features.maps)


def check_input(features: Features, head: str) -> None:
    """Refuse a static input size that the backbone's total stride does not divide."""
    stride = total_stride(features)
    height, width = features.inputs.shape[1], features.inputs.shape[2]
    bad = [side for side in (height, width) if side is not None and side % stride]
    if bad:
        fit = -(-max(bad) // stride) * stride
        raise CvkitError(
            f"head {head} needs an input size that is a multiple of the backbone's total stride "
            f"{stride}, got {height}x{width}; pass --image-size {fit} (or another multiple of {stride})"
        )


def _upsample(x: Any, filters: int, factor: int, name: str, bilinear: bool) -> Any:
    """Learnable upsampling by ``factor``: a transposed conv (kernel 2 x factor, FCN's choice)."""
    return keras.layers.Conv2DTranspose(
        filters, 2 * factor, strides=factor, padding="same", use_bias=not bilinear,
        kernel_initializer=BilinearUpsampling() if bilinear else "he_normal", name=name,
    )(x)


def _softmax(x: Any) -> Any:
    # float32 keeps the per-pixel softmax stable under mixed precision.
    return keras.layers.Activation("softmax", dtype="float32", name="mask_probabilities")(x)


def build_fcn32s(features: Features, task: TaskSpec, **params: Any) -> dict[str, Any]:
    return build_fcn(features, task, skips=0, name="fcn32s", **params)


def build_fcn16s(features: Features, task: TaskSpec, **params: Any) -> dict[str, Any]:
    return build_fcn(features, task, skips=1, name="fcn16s", **params)


def build_fcn8s(features: Features, task: TaskSpec, **params: Any) -> dict[str, Any]:
    return build_fcn(features, task, skips=2, name="fcn8s", **params)


def build_fcn(features: Features, task: TaskSpec, *, skips: int, name: str, filters: int = 0,
              dropout: float = 0.0, **_: Any) -> dict[str, Any]:
    """FCN (Long, Shelhamer and Darrell): score the deepest map with a 1x1 conv, then upsample.

    ``fcn32s`` upsamples the stride-32 scores straight to the input; ``fcn16s`` first adds
    scores from the stride-16 map; ``fcn8s`` also from stride 8. Every upsampling is a
    transposed conv initialised to bilinear interpolation and trained. On a backbone whose
    deepest map has another stride D, the skips come from D/2 and D/4 where those maps exist.
    ``filters`` > 0 adds a 3x3 conv-BN-ReLU before scoring (FCN's converted fc layers).
    """
    check_input(features, name)
    classes = mask_classes(task)
    stride = total_stride(features)
    x = features.maps[stride]
    if filters:
        x = conv_bn_act(x, name="fcn_conv", filters=filters, kernel_size=3)
    if dropout:
        x = keras.layers.Dropout(dropout, name="fcn_dropout")(x)
    score = keras.layers.Conv2D(classes, 1, name=f"score_{stride}")(x)
    for skip in [stride // 2 ** i for i in range(1, skips + 1)]:  # fixed before stride moves
        if skip not in features.maps:
            continue
        up = _upsample(score, classes, stride // skip, f"upsample_{stride}_to_{skip}", bilinear=True)
        up = MatchSize(name=f"match_{skip}")(up, features.maps[skip])
        # FCN initialises the skip scores at zero, so training starts from the coarser net.
        skip_score = keras.layers.Conv2D(classes, 1, kernel_initializer="zeros", name=f"score_{skip}")(features.maps[skip])
        score = keras.layers.Add(name=f"fuse_{skip}")([up, skip_score])
        stride = skip
    logits = _upsample(score, classes, stride, f"upsample_{stride}_to_1", bilinear=True)
    logits = MatchSize(name="match_input")(logits, features.inputs)
    return {OUTPUT: _softmax(logits)}


def build_unet(features: Features, task: TaskSpec, *, filters: int = 16, max_filters: int = 256,
               **_: Any) -> dict[str, Any]:
    """A U-Net style decoder: from the deepest map, repeatedly upsample by a transposed conv,
    concatenate the backbone's map of that stride (the skip) and apply two 3x3 conv-BN-ReLU.

    The decoder at stride s has ``min(filters * s / 2, max_filters)`` channels; a last step
    returns to the input resolution before the 1x1 class scores.
    """
    check_input(features, "unet")
    if filters < 1 or max_filters < 1:
        raise CvkitError(f"unet filters and max_filters must be positive, got {filters} and {max_filters}")
    strides = sorted(features.maps, reverse=True)
    x = features.maps[strides[0]]
    current = strides[0]

    def width(stride: int) -> int:
        return max(1, min(filters * max(stride // 2, 1), max_filters))

    for skip in [*strides[1:], 1]:
        reference = features.maps[skip] if skip in features.maps else features.inputs
        x = _upsample(x, width(skip), current // skip, f"decoder_{skip}_up", bilinear=False)
        x = MatchSize(name=f"decoder_{skip}_match")(x, reference)
        if skip in features.maps:
            x = keras.layers.Concatenate(name=f"decoder_{skip}_concat")([x, reference])
        for i in (1, 2):
            x = conv_bn_act(x, name=f"decoder_{skip}_conv{i}", filters=width(skip), kernel_size=3)
        current = skip
    logits = keras.layers.Conv2D(mask_classes(task), 1, name="score")(x)
    return {OUTPUT: _softmax(logits)}


def foreground_mean_iou(task: TaskSpec) -> Any:
    """Mean IoU over the object classes 1..N only: the background, usually most of the pixels,
    is easy and lifts Keras' ``MeanIoU``; this one is 0 for a model that predicts background."""
    classes = mask_classes(task)
    return keras.metrics.IoU(num_classes=classes, target_class_ids=list(range(1, classes)),
                             sparse_y_pred=False, name="foreground_mean_iou")


def segmentation_objectives(task: TaskSpec, outputs: list[str], **_: Any) -> Objectives:
    """Per-pixel cross-entropy; pixel accuracy, mean IoU over all classes (background too) and
    over the object classes only."""
    return Objectives(
        losses={OUTPUT: keras.losses.SparseCategoricalCrossentropy()},
        metrics={OUTPUT: [
            keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy"),
            keras.metrics.MeanIoU(num_classes=mask_classes(task), sparse_y_pred=False, name="mean_iou"),
            foreground_mean_iou(task),
        ]},
    )


def segmentation_targets(batch: dict, outputs: list[str], task: TaskSpec, **_: Any) -> dict:
    """The class-id masks (augmentations may have made them float; they hold whole numbers)."""
    import tensorflow as tf

    if "segmentation_masks" not in batch:
        raise CvkitError(
            "this data set gives no segmentation masks; a segmentation head needs a data set with "
            "masks (shapes, folder:PATH with images/ and masks/, tfds:oxford_iiit_pet)"
        )
    return {OUTPUT: tf.cast(tf.round(tf.cast(batch["segmentation_masks"], tf.float32)), tf.int32)}
