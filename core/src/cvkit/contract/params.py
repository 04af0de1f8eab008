"""Generic parameter checks every registry kind shares (backbones, heads, augmentations)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cvkit.errors import CvkitError, close_matches_hint


def check_params(arch: str, defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Merge overrides into an arch's defaults, refusing names the family does not have."""
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        valid = ", ".join(sorted(defaults)) or "none"
        raise CvkitError(
            f"{arch} has no parameter {', '.join(repr(u) for u in unknown)}"
            f"{close_matches_hint(unknown[0], defaults)}; valid parameters: {valid}"
        )
    return {**defaults, **overrides}
