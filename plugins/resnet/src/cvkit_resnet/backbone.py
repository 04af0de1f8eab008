"""The ResNet backbone builder."""

from __future__ import annotations

from typing import Any

from cvkit import Features
from cvkit_resnet.blocks import resnet_body


def build_resnet(inputs: Any, *, include_top: bool, **params: Any) -> Features:
    """ResNet-18/34/50/101/152, and with other params ResNeXt, SE-ResNet and ResNet-DCN.

    ``params`` are a row of ``cvkit_resnet.variants.VARIANTS`` with the user's overrides.
    """
    return resnet_body(inputs, include_top=include_top, **params)
