"""SE-ResNet / SE-ResNeXt: the resnet plugin's builder, refusing to build without SE."""

from __future__ import annotations

from typing import Any

from cvkit import CvkitError, Features
from cvkit_resnet.backbone import build_resnet


def build_senet(inputs: Any, *, include_top: bool, **params: Any) -> Features:
    """A ResNet (or ResNeXt) whose every residual is squeeze-excited with reduction ``se_ratio``."""
    if not params["se_ratio"]:
        raise CvkitError("SE-Net needs se_ratio >= 1 (16 in the paper); for no SE use the resnet variants")
    return build_resnet(inputs, include_top=include_top, **params)
