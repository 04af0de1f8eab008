"""AP50 on the validation split after each epoch, as COCO defines it (``cvkit.detection_scores``).

Average precision ranks every detection of the whole split, so no per-batch Keras metric can
give it. After Keras' own validation pass the callback scores the model on the validation split
through ``cvkit.detection_scores`` (the head's ``postprocess``, then COCO AP), as ``cvkit
evaluate`` does, and adds ``val_ap50`` to the epoch's logs, which metrics.csv and the history record.
"""

from __future__ import annotations

from typing import Any

import keras


class ValidationAveragePrecision(keras.callbacks.Callback):
    """Adds ``val_ap50`` (COCO AP at IoU 0.5 on the validation split) to each epoch's logs;
    an ``Objectives.validation_callbacks`` entry (the engine calls it with the validation split)."""

    def __init__(self, validation: Any):
        super().__init__()
        self.validation = validation

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import cvkit

        if logs is not None:
            logs["val_ap50"] = cvkit.detection_scores(self.model, self.validation)["AP50"]
