"""SE-ResNet / SE-ResNeXt: the resnet plugin's body with SE blocks, fetched through the registry."""

from __future__ import annotations

from typing import Any

import cvkit
from cvkit import CvkitError, Features


def build_senet(inputs: Any, *, include_top: bool, **params: Any) -> Features:
    """A ResNet (or ResNeXt) whose every residual is squeeze-excited with reduction ``se_ratio``."""
    if not params["se_ratio"]:
        raise CvkitError("SE-Net needs se_ratio >= 1 (16 in the paper); for no SE use the resnet variants")
    return cvkit.get_block("resnet_body")(inputs, name="", include_top=include_top, **params)
