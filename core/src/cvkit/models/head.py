"""The task-head interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TaskSpec:
    """What a head needs to know about the task it is trained on."""

    task: str
    num_classes: int
    class_names: tuple[str, ...] = ()
    box_format: str = "rel_xyxy"
    # Training batches carry ``"label_distribution"`` (mixing augmentations): the head trains on
    # those soft targets and on one-hot targets for validation, with a loss that takes both.
    soft_labels: bool = False


@dataclass
class Objectives:
    """Losses, loss weights and metrics, keyed by output name."""

    losses: dict[str, Any]
    metrics: dict[str, list[Any]] = field(default_factory=dict)
    loss_weights: dict[str, float] = field(default_factory=dict)
