"""``cvkit.evaluate``: a finished run's task metrics on its validation split (COCO AP for detection)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cvkit.errors import CvkitError
from cvkit.models.detection import detection_scores
from cvkit.training.plan import plan_for_model
from cvkit.training.run import Prepared, check_same_classes, load_run, read_splits, trained_model_datasets, validation_scores


def evaluate(run_dir: str | Path, dataset: str | None = None, data_dir: str | None = None) -> dict[str, float]:
    """The task's metrics of a run's final model on the validation split: what ``model.evaluate``
    reports, and for detection COCO ``AP``, ``AP50`` and ``AP75`` of the postprocessed boxes."""
    config, _, model = load_run(run_dir)
    config = replace(config, dataset=dataset or config.dataset, data_dir=data_dir or config.data_dir)
    plan = plan_for_model(config, model)
    splits = read_splits(plan)
    if dataset:
        check_same_classes(model, splits.info.class_names, config.dataset)
        channels = splits.info.image_shape[-1]
        if channels != model.input_shape[-1]:
            raise CvkitError(f"dataset {config.dataset!r} has {channels}-channel images but the model takes "
                             f"{model.input_shape[-1]}; evaluate on a dataset with {model.input_shape[-1]}-channel images")
    _, val_ds = trained_model_datasets(Prepared(plan, splits, model.task_spec, model))
    return {**validation_scores(model, val_ds), **detection_scores(model, splits.validation)}
