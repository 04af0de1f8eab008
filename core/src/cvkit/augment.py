"""Turning augmentation names into one tf.data map function over batch dicts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cvkit.backbone import check_params
from cvkit.errors import CvkitError
from cvkit.plugins import get_registries

_CALL = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*(?:\((.*)\))?\s*$")


def parse_value(text: str) -> Any:
    """A command-line value as JSON-ish Python: numbers, booleans, lists, else a string."""
    import json

    lowered = text.strip()
    if lowered in ("true", "True"):
        return True
    if lowered in ("false", "False"):
        return False
    if lowered in ("none", "None", "null"):
        return None
    try:
        return json.loads(lowered)
    except ValueError:
        return lowered


def parse_assignments(items: list[str] | tuple[str, ...], what: str) -> dict[str, Any]:
    """``["a=1", "b=[2, 3]"]`` -> ``{"a": 1, "b": [2, 3]}``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CvkitError(f"{what} {item!r} is not KEY=VALUE; write it like growth_rate=12")
        out[key.strip()] = parse_value(value)
    return out


def parse_augmentation(text: str) -> tuple[str, dict[str, Any]]:
    """``"crop(scale=0.8)"`` -> ``("crop", {"scale": 0.8})``."""
    match = _CALL.match(text)
    if not match:
        raise CvkitError(f"cannot read augmentation {text!r}; write NAME or NAME(key=value, ...)")
    name, args = match.group(1), match.group(2)
    params = parse_assignments([a for a in (args or "").split(",") if a.strip()], f"augmentation {name} parameter")
    return name, params


def build_augmentation(
    augmentations: list[str] | list[dict], *, image_size: tuple[int, int], channels: int, seed: int | None
) -> Callable[[dict], dict] | None:
    """One function applying every augmentation in order to a batch dict (None when empty)."""
    registry = get_registries().augmentations
    layers: list[Any] = []
    for i, item in enumerate(augmentations):
        if isinstance(item, dict):
            name, params = item["name"], {k: v for k, v in item.items() if k != "name"}
        else:
            name, params = parse_augmentation(item)
        spec = registry.get(name)
        params = check_params(f"augmentation {spec.name}", spec.defaults, params)
        built = spec.load()(image_size=image_size, channels=channels,
                            seed=None if seed is None else seed + i, **params)
        layers.extend(built if isinstance(built, list | tuple) else [built])
    if not layers:
        return None

    def apply(batch: dict) -> dict:
        for layer in layers:
            batch = layer(batch, training=True)
        return batch

    return apply


def validate_augmentations(augmentations: list[str] | list[dict]) -> None:
    """Fail early (before anything is written) on an unknown name or parameter."""
    registry = get_registries().augmentations
    for item in augmentations:
        name, params = (item["name"], {k: v for k, v in item.items() if k != "name"}) if isinstance(item, dict) else parse_augmentation(item)
        spec = registry.get(name)
        check_params(f"augmentation {spec.name}", spec.defaults, params)
