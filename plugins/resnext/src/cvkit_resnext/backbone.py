"""ResNeXt: the resnet plugin's body with grouped bottlenecks, fetched through the registry."""

from __future__ import annotations

from typing import Any

import cvkit
from cvkit import Features


def build_resnext(inputs: Any, *, include_top: bool, **params: Any) -> Features:
    """ResNeXt: bottlenecks whose 3x3 conv has ``groups`` groups of ``width_per_group`` channels."""
    return cvkit.get_block("resnet_body")(inputs, name="", include_top=include_top, **params)
