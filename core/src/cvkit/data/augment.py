"""Turning augmentation names into one tf.data map function over batch dicts."""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from cvkit.contract.guard import plugin_call, runtime_scope
from cvkit.contract.params import check_params
from cvkit.contract.plugins import get_registries
from cvkit.contract.registry import AugmentationSpec
from cvkit.data.statistics import DatasetStatistics
from cvkit.errors import CvkitError

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


def check_tasks(names: list[str], task: str) -> None:
    """Refuse an augmentation on a task it does not support (mixing on localization), in one line."""
    registry = get_registries().augmentations
    for name in names:
        spec = registry.get(name)
        if not spec.supports(task):
            raise CvkitError(f"augmentation {spec.name!r} has no meaning for {task} yet; it supports "
                             f"{', '.join(sorted(spec.tasks))}; drop it from --aug for this task")


def build_augmentation(
    augmentations: list[str] | list[dict], *, image_size: tuple[int, int], channels: int, seed: int | None,
    statistics: DatasetStatistics | None = None,
) -> Callable[[dict, Any], dict] | None:
    """One function ``apply(batch, batch_seed)`` running every augmentation in order (None when empty).

    ``statistics`` goes to the builders that declare a ``statistics`` parameter. ``batch_seed`` is a shape-(2,) integer tensor, a different one for every batch of every epoch
    (see :func:`cvkit.training.engine.make_pipeline`). Every random draw of the augmentations is derived
    from it with stateless ops, so parallel map calls give the same batches in every run.
    """
    registry = get_registries().augmentations
    layers: list[tuple[Any, AugmentationSpec]] = []
    for i, item in enumerate(augmentations):
        if isinstance(item, dict):
            name, params = item["name"], {k: v for k, v in item.items() if k != "name"}
        else:
            name, params = parse_augmentation(item)
        spec = registry.get(name)
        params = check_params(f"augmentation {spec.name}", spec.defaults, params)
        builder = spec.load()
        if _takes(builder, "statistics"):
            params["statistics"] = statistics
        with plugin_call("augmentation", spec):
            built = builder(image_size=tuple(image_size), channels=channels,
                            seed=None if seed is None else seed + i, **params)
        layers.extend((layer, spec) for layer in (built if isinstance(built, list | tuple) else [built]))
    if not layers:
        return None
    takes_seed = [_takes_seed(layer) for layer, _ in layers]
    for layer, _ in layers:
        _pin_to_tensorflow(layer)

    def apply(batch: dict, batch_seed: Any) -> dict:
        import tensorflow as tf

        draws = StatelessDraws(batch_seed)
        for (layer, spec), seeded in zip(layers, takes_seed):
            # The scope names the plugin in run-time errors too (see cvkit.contract.guard).
            with plugin_call("augmentation", spec), tf.name_scope(runtime_scope("augmentation", spec)):
                if seeded:
                    moved = layer(batch, training=True, seed=draws.next())
                else:
                    with draws.feeding(layer):
                        moved = layer(batch, training=True)
            if spec.effect == "geometric" and "bounding_boxes" in batch:
                moved = {**moved, "bounding_boxes": boxes_in_image(moved["bounding_boxes"], batch["bounding_boxes"])}
            batch = moved
        return batch

    apply.layers = [layer for layer, _ in layers]  # the built layers in order, for inspection
    return apply


def boxes_in_image(moved: dict, before: dict) -> dict:
    """Moved rel_xyxy boxes clipped to the image; one left with no area, or padding, becomes label -1 and box 0.

    Keras layers move padding rows and return float labels; this restores the padded form and dtypes.
    """
    import tensorflow as tf

    boxes = tf.clip_by_value(tf.cast(moved["boxes"], tf.float32), 0.0, 1.0)
    labels = tf.cast(tf.round(tf.cast(moved["labels"], tf.float32)), before["labels"].dtype)
    keep = (boxes[..., 2] > boxes[..., 0]) & (boxes[..., 3] > boxes[..., 1]) & (labels >= 0) & (before["labels"] >= 0)
    return {**moved, "boxes": tf.where(keep[..., None], boxes, tf.zeros_like(boxes)),
            "labels": tf.where(keep, labels, tf.cast(-1, labels.dtype))}


class StatelessDraws:
    """Seeds for the random draws of one batch: its seed folded with the number of the draw.

    Keras layers keep their random state in a ``SeedGenerator`` variable that parallel map calls
    advance in whatever order the threads run; :meth:`feeding` points a layer's generators here
    instead while the map function is traced, so each draw depends on the batch seed alone.
    """

    def __init__(self, batch_seed: Any):
        self.batch_seed, self.count = batch_seed, 0

    def next(self, ordered: bool = True) -> Any:
        import tensorflow as tf

        self.count += 1
        return tf.random.experimental.stateless_fold_in(self.batch_seed, self.count)

    @contextlib.contextmanager
    def feeding(self, layer: Any) -> Iterator[None]:
        generators = _seed_generators(layer)
        for generator in generators:
            generator.next = self.next  # an instance attribute shadows SeedGenerator.next
        try:
            yield
        finally:
            for generator in generators:
                del generator.next


class _TensorFlowBackend:
    """A Keras preprocessing layer's ``backend`` that stays TensorFlow.

    Keras switches such a layer to TensorFlow inside tf.data, but its box transforms switch again
    and ``reset()`` to the global backend midway (RandomFlip, RandomZoom...), so on JAX the rest
    of the call got JAX ops on graph tensors. Augmentations only ever run in tf.data.
    """

    name = _backend = "tensorflow"

    def set_backend(self, backend: str) -> None:
        pass

    def reset(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        import importlib

        return getattr(importlib.import_module("keras.src.backend.tensorflow"), name)


def _pin_to_tensorflow(root: Any) -> None:
    """Every Keras layer in ``root`` with a switchable ``backend`` keeps TensorFlow's (see above)."""
    import keras
    from keras.src.utils.backend_utils import DynamicBackend

    if keras.backend.backend() == "tensorflow":
        return
    for layer in _reachable(root, keras.Layer):
        if isinstance(vars(layer).get("backend"), DynamicBackend):
            layer.backend = _TensorFlowBackend()


def _seed_generators(root: Any) -> list[Any]:
    """Every keras ``SeedGenerator`` a layer or its sub-layers hold (in attributes, lists, dicts)."""
    import keras

    return _reachable(root, keras.random.SeedGenerator)


def _reachable(root: Any, kind: type) -> list[Any]:
    """Every ``kind`` object in ``root`` or the Keras layers it holds (in attributes, lists, dicts)."""
    import keras

    found, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, kind):
            found.append(obj)
        if isinstance(obj, keras.Layer):
            stack.extend(vars(obj).values())
        elif isinstance(obj, list | tuple):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
    return found


def _takes_seed(augmentation: Any) -> bool:
    """Whether a plain callable (not a Keras layer) takes the batch's seed as ``seed=``."""
    import keras

    return not isinstance(augmentation, keras.Layer) and _takes(augmentation, "seed")


def _takes(fn: Any, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
