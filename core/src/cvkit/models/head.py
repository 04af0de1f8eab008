"""The task-head interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cvkit.errors import CvkitError


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
    # Metrics a Keras metric cannot compute batch by batch (COCO AP needs every image at once):
    # each is called with the validation split (unbatched example dicts, no augmentation) and
    # returns a keras Callback that adds ``val_<name>`` to the epoch's logs in ``on_epoch_end``.
    validation_callbacks: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class DetectionThresholds:
    """What a detection head's ``postprocess`` keeps: boxes scoring at least ``score_threshold``,
    overlapping a better box of their class by at most ``iou_threshold``, ``max_detections`` per image."""

    score_threshold: float = 0.25
    iou_threshold: float = 0.5
    max_detections: int = 100

    def checked(self) -> DetectionThresholds:
        """These thresholds, or a one-line CvkitError naming the one outside its range."""
        for name in ("score_threshold", "iou_threshold"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise CvkitError(f"{name} must be in [0, 1], got {value}; it is a fraction "
                                 f"(default {getattr(DETECTION_DEFAULTS, name)})")
        if self.max_detections < 1:
            raise CvkitError(f"max_detections must be at least 1, got {self.max_detections}")
        return self

    def as_kwargs(self) -> dict[str, Any]:
        return {"score_threshold": float(self.score_threshold), "iou_threshold": float(self.iou_threshold),
                "max_detections": int(self.max_detections)}


DETECTION_DEFAULTS = DetectionThresholds()
