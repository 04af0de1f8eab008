"""ResNet-DCN: the resnet plugin's body with deformable 3x3 convs, fetched through the registry."""

from __future__ import annotations

from typing import Any

import cvkit
from cvkit import Features


def build_resnet_dcn(inputs: Any, *, include_top: bool, **params: Any) -> Features:
    """ResNet whose 3x3 convs in ``conv3x3_stages`` are ``conv3x3_block`` (deformable)."""
    return cvkit.get_block("resnet_body")(inputs, name="", include_top=include_top, **params)
