"""Re-estimating a finished run's BatchNorm statistics (``cvkit recalibrate``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cvkit.errors import CvkitError
from cvkit.models.batchnorm import DEFAULT_RECALIBRATION_BATCHES, recalibrate_batch_norm
from cvkit.training.files import MODEL_FILE, RESULT_FILE
from cvkit.training.plan import plan_for_model
from cvkit.training.run import Prepared, load_run, read_splits, trained_model_datasets, validation_scores


@dataclass(frozen=True)
class Recalibration:
    """What ``recalibrate_run`` did: the batches used and the validation metrics before and after."""

    batches: int
    before: dict[str, float]
    after: dict[str, float]


def recalibrate_run(run_dir: str | Path, batches: int = DEFAULT_RECALIBRATION_BATCHES) -> Recalibration:
    """Re-estimate a finished run's BatchNorm statistics on its training split and save the model.

    Runs from before cvkit recalibrated (or with stale statistics for any reason) get the
    moving statistics of their final weights; model.keras and metrics.json are rewritten
    atomically. A model without BatchNorm is left alone (0 batches). When the training data
    can no longer be loaded, a one-line error says so and nothing is written.
    """
    from cvkit.models.batchnorm import batch_norm_layers
    from cvkit.fileio import write_atomic, write_text_atomic

    config, _, model = load_run(run_dir)
    if not batch_norm_layers(model):
        return Recalibration(0, {}, {})
    plan = plan_for_model(config, model)
    try:
        splits = read_splits(plan)
    except CvkitError as exc:
        raise CvkitError(f"cannot recalibrate the BatchNorm statistics of {run_dir}: {exc}") from None
    train_ds, val_ds = trained_model_datasets(Prepared(plan, splits, model.task_spec, model))
    before = validation_scores(model, val_ds)
    used = recalibrate_batch_norm(model, (images for images, _ in train_ds), batches)
    after = validation_scores(model, val_ds)
    run_dir = Path(run_dir)
    write_atomic(run_dir / MODEL_FILE, lambda tmp: model.save(tmp))
    write_text_atomic(run_dir / RESULT_FILE, json.dumps({"validation": after}, indent=2) + "\n")
    return Recalibration(used, before, after)
