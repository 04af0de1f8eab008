"""Checkpoint ensembles (mean of K checkpoints' predictions) and weight averaging (one model
whose weights are the mean of K checkpoints', BatchNorm statistics recalibrated)."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from cvkit.errors import CvkitError
from cvkit.training.checkpoints import Checkpoint, list_checkpoints, load_members, mark_kept, select_best, select_last
from cvkit.training.plan import plan_for_model
from cvkit.training.files import MODEL_FILE, RESULT_FILE
from cvkit.training.run import Prepared, load_run, read_splits, trained_model_datasets, validation_scores

AVERAGED_FILE = "averaged.keras"
BEFORE_AVERAGE_FILE = "model.before-average.keras"


class MeanOfModels(keras.Model):
    """Predicts the element-wise mean of its members' outputs (probabilities, boxes, masks)."""

    def __init__(self, members: list[Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.members = members

    @property
    def output(self) -> Any:  # the members' output names, for compiling with the task's objectives
        return self.members[0].output

    def call(self, inputs: Any, training: bool = False) -> Any:
        outputs = [member(inputs, training=False) for member in self.members]
        if isinstance(outputs[0], dict):
            return {key: keras.ops.mean(keras.ops.stack([o[key] for o in outputs]), axis=0) for key in outputs[0]}
        return keras.ops.mean(keras.ops.stack(outputs), axis=0)


@dataclass(frozen=True)
class Comparison:
    """Validation metrics of the newest checkpoint alone and of the combined model."""

    checkpoints: list[str]
    last: dict[str, float]
    combined: dict[str, float]
    ranked_by: str | None = None
    written: list[str] = field(default_factory=list)

    def gain(self) -> dict[str, float]:
        return {k: v - self.last[k] for k, v in self.combined.items() if k in self.last}


def _run_context(run_dir: str | Path) -> tuple[Any, Any, list[Checkpoint]]:
    """The run's final model, its plan and the checkpoints present."""
    config, _, model = load_run(run_dir)
    return model, plan_for_model(config, model), list_checkpoints(run_dir)


def _run_task(run_dir: str | Path) -> str:
    """The task a run trained for, read from config.json (fails on a directory that is not a run)."""
    from cvkit.training.config import read_run_config

    if not Path(run_dir).is_dir():
        raise CvkitError(f"run directory {run_dir} does not exist; pass the --out directory of a cvkit train run")
    return str(read_run_config(run_dir)[1].get("task", "classification"))


def _datasets(plan: Any, model: Any) -> tuple[Any, Any]:
    return trained_model_datasets(Prepared(plan, read_splits(plan), model.task_spec, model))


def ensemble_run(run_dir: str | Path, k: int) -> Comparison:
    """Validation metrics of the mean prediction of the last ``k`` checkpoints, and of the last alone."""
    from cvkit.training.run import compile_model

    _run_task(run_dir)
    chosen = select_last(run_dir, k, "--ensemble")
    model, plan, _ = _run_context(run_dir)
    members = load_members(chosen, model, plan.backbone.training_overrides)
    _, val_ds = _datasets(plan, members[-1])
    last = validation_scores(members[-1], val_ds)
    ensemble = MeanOfModels(members)
    compile_model(ensemble, plan, model.task_spec, "adam")
    return Comparison([c.path.name for c in chosen], last, validation_scores(ensemble, val_ds))


def average_weights(models: list[Any]) -> list[np.ndarray]:
    """The element-wise mean of the models' weights (trainable and BN moving statistics);
    integer state (such as a seed) is taken from the last model."""
    averaged = []
    for values in zip(*(m.get_weights() for m in models)):
        if np.issubdtype(values[-1].dtype, np.floating):
            averaged.append(np.mean(np.stack(values).astype("float64"), axis=0).astype(values[-1].dtype))
        else:
            averaged.append(values[-1])
    return averaged


def choose(run_dir: str | Path, task: str, last: int | None, best: int | None) -> tuple[list[Checkpoint], str | None]:
    """The checkpoints ``--last K`` or ``--best K`` names (exactly one of them)."""
    if last is not None and best is not None:
        raise CvkitError("--last and --best both choose the checkpoints; pass only one of them")
    if best is not None:
        return select_best(run_dir, best, task)
    if last is None:
        raise CvkitError("say which checkpoints to average: --last K or --best K")
    return select_last(run_dir, last), None


def averaged_model(run_dir: str | Path, last: int | None = None, best: int | None = None) -> tuple[Any, list[Checkpoint], str | None]:
    """The run's model with the mean weights of the chosen checkpoints, before any recalibration."""
    chosen, metric = choose(run_dir, _run_task(run_dir), last, best)
    model, plan, _ = _run_context(run_dir)
    members = load_members(chosen, model, plan.backbone.training_overrides)
    model.set_weights(average_weights(members))
    return model, chosen, metric


def average_run(run_dir: str | Path, last: int | None = None, best: int | None = None, *, keep_best: bool = False,
                out: str | Path | None = None, replace: bool = False, batches: int | None = None) -> Comparison:
    """Average K checkpoints' weights, recalibrate BatchNorm, evaluate and save; see docs/ensembles.md."""
    from cvkit.fileio import write_atomic, write_text_atomic
    from cvkit.training.run import compile_model
    from cvkit.models.batchnorm import DEFAULT_RECALIBRATION_BATCHES, recalibrate_batch_norm

    if keep_best and best is None:
        raise CvkitError("--keep-best keeps the checkpoints --best chose; pass --best K with it")
    if replace and out is not None:
        raise CvkitError("--replace rewrites the run's model.keras; drop --out or --replace")
    run_dir = Path(run_dir)
    chosen, metric = choose(run_dir, _run_task(run_dir), last, best)
    model, plan, present = _run_context(run_dir)
    newest = load_members([*chosen, present[-1]], model, plan.backbone.training_overrides)
    train_ds, val_ds = _datasets(plan, model)
    compile_model(newest[-1], plan, model.task_spec, "adam")
    last_scores = validation_scores(newest[-1], val_ds)
    model.set_weights(average_weights(newest[:-1]))
    recalibrate_batch_norm(model, (images for images, _ in train_ds),
                           batches or plan.config.bn_recalibration_batches or DEFAULT_RECALIBRATION_BATCHES)
    scores = validation_scores(model, val_ds)
    target = Path(out) if out is not None else run_dir / AVERAGED_FILE
    write_atomic(target, lambda tmp: model.save(tmp))
    written = [str(target)]
    if replace:
        if not (run_dir / BEFORE_AVERAGE_FILE).exists():  # a second --replace keeps the original
            write_atomic(run_dir / BEFORE_AVERAGE_FILE, lambda tmp: shutil.copyfile(run_dir / MODEL_FILE, tmp))
        write_atomic(run_dir / MODEL_FILE, lambda tmp: shutil.copyfile(target, tmp))
        write_text_atomic(run_dir / RESULT_FILE, json.dumps({"validation": scores}, indent=2) + "\n")
        written += [str(run_dir / MODEL_FILE), str(run_dir / BEFORE_AVERAGE_FILE)]
    if keep_best:
        written.append(str(mark_kept(run_dir, chosen)))
    return Comparison([c.path.name for c in chosen], last_scores, scores, metric, written)


def evaluate_tta(run_dir: Any, tta: str) -> tuple[dict[str, float], dict[str, float]]:
    """A run's validation metrics without and with test-time augmentation over ``tta``'s views."""
    from cvkit.models.tta import test_time_augmented
    from cvkit.models.tta_views import parse_tta
    from cvkit.training.run import compile_model

    config, _, model = load_run(run_dir)
    views = parse_tta(tta, model.task or "classification")  # before any data loads
    plan = plan_for_model(config, model)
    _, val_ds = _datasets(plan, model)
    plain = validation_scores(model, val_ds)
    augmented = test_time_augmented(model, views)
    compile_model(augmented, plan, model.task_spec, "adam")
    return plain, validation_scores(augmented, val_ds)
