"""Fine-tuning settings without TensorFlow: checks, backbone stages, and the overfit check's verdict.

A backbone's stages are read from its feature maps, the same for every family: stage k ends at
the stride-2^(k+1) map (stage 1 at stride 4), so freezing N stages freezes every layer the
stride-2^(N+1) map depends on in the functional graph, the stem included. The Keras parts
(the callback that freezes and unfreezes, the scaled schedule) are in
:mod:`cvkit.training.phases`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cvkit.errors import CvkitError

if TYPE_CHECKING:
    from cvkit.training.config import RunConfig

# The overfit check passes when the final training loss is below either bound.
NEAR_ZERO_LOSS = 0.05
NEAR_ZERO_FRACTION = 0.05  # of the first epoch's loss


def validate_finetune_settings(config: RunConfig) -> None:
    """One-line errors for --freeze-stages, --unfreeze-at, --finetune-lr-factor and --overfit-batches."""
    def whole(name: str, value: Any, minimum: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise CvkitError(f"{name} must be a whole number >= {minimum}, got {value!r}")

    whole("--freeze-stages", config.freeze_stages, 0)
    if config.overfit_batches is not None:
        whole("--overfit-batches", config.overfit_batches, 1)
    factor = config.finetune_lr_factor
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor <= 1:
        raise CvkitError(f"--finetune-lr-factor must be in (0, 1], got {factor!r}; 0.1 is usual")
    if config.unfreeze_at is None:
        return
    if not config.freeze_stages:
        raise CvkitError("--unfreeze-at needs --freeze-stages N (nothing is frozen to unfreeze); add it or drop --unfreeze-at")
    whole("--unfreeze-at", config.unfreeze_at, 2)
    if config.unfreeze_at > config.epochs:
        raise CvkitError(f"--unfreeze-at {config.unfreeze_at} is beyond --epochs {config.epochs}; "
                         f"pass an epoch from 2 to {config.epochs}, or more --epochs")


def overfit_settings(config: RunConfig) -> RunConfig:
    """With --overfit-batches: the config with augmentation, weight decay, label smoothing and
    early stopping off (dropout goes off in the model), so only fitting is tested."""
    if not config.overfit_batches:
        return config
    return replace(config, augmentations=[], weight_decay=0.0, label_smoothing=0.0, early_stopping_patience=None)


def stage_maps(model: Any) -> list[Any]:
    """The feature map that ends each backbone stage, stage 1 (stride 4) first."""
    maps = model.feature_maps
    return [maps[stride] for stride in sorted(maps) if stride >= 4]


def ancestor_layers(tensor: Any) -> list[Any]:
    """Every layer ``tensor`` depends on in its functional graph, in no particular order."""
    import keras

    found: dict[int, Any] = {}
    seen_nodes: set[int] = set()
    stack = [tensor]
    while stack:
        history = getattr(stack.pop(), "_keras_history", None)
        if history is None:
            continue
        operation, node_index, _ = history
        node = operation._inbound_nodes[node_index]
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(operation, keras.layers.Layer) and not isinstance(operation, keras.layers.InputLayer):
            found[id(operation)] = operation
        stack.extend(node.input_tensors)
    return list(found.values())


def stage_layers(model: Any, stages: int) -> list[Any]:
    """The layers of the stem and the first ``stages`` stages; a one-line error past the last stage."""
    ends = stage_maps(model)
    if stages > len(ends):
        raise CvkitError(f"--freeze-stages {stages} is more than the {len(ends)} stage{'s' * (len(ends) != 1)} of {model.arch}'s backbone; "
                         f"pass --freeze-stages {len(ends)} or fewer")
    return ancestor_layers(ends[stages - 1])


@dataclass(frozen=True)
class OverfitCheck:
    """The overfit check's outcome: the training loss of the first and last epoch on the fixed batches."""

    batches: int
    epochs: int
    initial_loss: float
    final_loss: float

    @property
    def passed(self) -> bool:
        return self.final_loss < NEAR_ZERO_LOSS or self.final_loss < NEAR_ZERO_FRACTION * self.initial_loss

    def __str__(self) -> str:
        verdict = ("near zero: the model and its targets can fit" if self.passed else
                   "NOT near zero: check the labels, the head and the learning rate, or train more epochs")
        return (f"overfit check on {self.batches} fixed batches (no augmentation, dropout, weight decay or label "
                f"smoothing): training loss {self.initial_loss:.4g} -> {self.final_loss:.4g} in {self.epochs} "
                f"epochs, {verdict} (passes below {NEAR_ZERO_LOSS} or {NEAR_ZERO_FRACTION:.0%} of the first)")


def overfit_check(metrics_csv: Path, config: RunConfig) -> OverfitCheck | None:
    """The verdict of an --overfit-batches run from its metrics.csv (None for other runs)."""
    if not config.overfit_batches or not metrics_csv.is_file():
        return None
    with open(metrics_csv) as f:
        losses = [float(row["loss"]) for row in csv.DictReader(f) if row.get("loss")]
    if not losses:
        return None
    return OverfitCheck(config.overfit_batches, len(losses), losses[0], losses[-1])
