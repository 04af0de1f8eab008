"""Weight converters' common step: each cvkit layer takes the arrays of its renamed twin layer.

A family's converter (see :class:`cvkit.models.pretrained.WeightConverter`) only says how its
layer names translate; :func:`load_renamed` checks both sides cover each other, sets every
backbone layer and the 1000-class top when the model has it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cvkit.models.pretrained import TOP_LAYER, assign, mismatch_error

if TYPE_CHECKING:
    import numpy as np

SOURCE = "the ImageNet weight file"


def load_renamed(
    source: Mapping[str, list[np.ndarray]],
    model: Any,
    rename: Callable[[str], str | None],
    *,
    twin_top: str = TOP_LAYER,
    convert: Mapping[str, Callable[[list[np.ndarray]], list[np.ndarray]]] | None = None,
) -> None:
    """Set ``model``'s weights from ``source`` (the twin's arrays by twin layer name).

    ``rename(cvkit_name)`` gives the twin layer a cvkit layer takes its weights from, or None
    for a layer the twin lacks (a task head). ``convert`` maps a twin layer name to a function
    of its arrays (a change of layout). Every twin layer but the top must find its cvkit layer
    and the other way round, else the one-line error names the first that do not.
    """
    pairs = {layer.name: rename(layer.name) for layer in model.layers
             if layer.weights and layer.name != TOP_LAYER}
    pairs = {name: twin for name, twin in pairs.items() if twin is not None}
    taken = set(pairs.values())
    unmatched = [twin for twin in pairs.values() if twin not in source]
    unmatched += [twin for twin in source if twin not in taken and twin != twin_top]
    if unmatched or not pairs:
        raise mismatch_error(SOURCE, unmatched or list(source))
    convert = convert or {}
    for name, twin in pairs.items():
        arrays = convert[twin](source[twin]) if twin in convert else source[twin]
        assign(model.get_layer(name), arrays, twin)
    load_top(source, model, twin_top)


def load_top(source: Mapping[str, list[np.ndarray]], model: Any, twin_top: str = TOP_LAYER) -> bool:
    """Give the model's classifier the twin's when both have the same shape (1000 classes).

    A 1x1-conv classifier (MobileNet's) is the same computation as a Dense layer: its kernel
    is reshaped. Returns whether the top was set; with another class count it stays fresh.
    """
    names = {layer.name for layer in model.layers}
    if TOP_LAYER not in names or twin_top not in source:
        return False
    layer = model.get_layer(TOP_LAYER)
    kernel, bias = source[twin_top]
    kernel = kernel.reshape(-1, kernel.shape[-1])
    if [tuple(w.shape) for w in layer.weights] != [kernel.shape, bias.shape]:
        return False
    assign(layer, [kernel, bias], twin_top)
    return True
