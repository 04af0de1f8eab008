"""The training engine: a RunConfig in, a run directory out."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cvkit.contract.guard import guarded, plugin_runtime_errors
from cvkit.data.augment import build_augmentation
from cvkit.models.batchnorm import recalibrate_batch_norm
from cvkit.training.config import CONFIG_FILE, RunConfig, read_run_config
from cvkit.data.splits import DatasetSplits
from cvkit.data.statistics import DatasetStatistics
from cvkit.errors import CvkitError, NonFiniteLossError
from cvkit.models.head import TaskSpec
from cvkit.contract.registry import DatasetSpec, resolve_callable
from cvkit.training.finetune import OverfitCheck, overfit_check, overfit_settings
from cvkit.training.files import CHECKPOINT_DIR, CURVES_PNG, METRICS_CSV, MODEL_FILE, RESULT_FILE
from cvkit.training.plan import RunPlan, plan_for_model, resolve_dataset, resolve_plan, task_mismatch
from cvkit.training.rundir import check_new_run_dir, discard_run_dir, open_run_dir
from cvkit.training.weights import check_weights_option

EPOCH_RECALIBRATION_BATCHES = 8  # before each validation; the final save uses bn_recalibration_batches


@dataclass(frozen=True)
class TrainResult:
    """What ``train`` returns: the run directory and the final model's validation metrics."""

    run_dir: Path
    validation: dict[str, float]
    overfit: OverfitCheck | None = None  # the --overfit-batches verdict


@dataclass(frozen=True)
class Prepared:
    """A plan with its data loaded and its model built, before a single file is written."""

    plan: RunPlan
    splits: DatasetSplits
    task: TaskSpec
    model: Any
    statistics: DatasetStatistics | None = None  # what augmentation builders may ask of the training data


def load_splits(config: RunConfig, task: str, image_size: int | None) -> DatasetSplits:
    """The splits of ``config.dataset`` for ``task`` (a config that need not make a whole plan)."""
    spec, argument = resolve_dataset(config.dataset)
    return _call_loader(spec, argument, config, task, image_size)


def read_splits(plan: RunPlan) -> DatasetSplits:
    """The splits a plan trains or evaluates on."""
    return _call_loader(plan.dataset, plan.dataset_argument, plan.config, plan.task, plan.image_size)


def _call_loader(spec: DatasetSpec, argument: str, config: RunConfig, task: str, image_size: int | None) -> DatasetSplits:
    load = guarded("dataset", spec, resolve_callable(spec.load))
    size = None if image_size is None else (image_size, image_size)  # loaders take (height, width)
    return load(argument=argument, task=task, image_size=size, seed=config.seed,
                data_dir=config.data_dir, validation_fraction=config.validation_fraction,
                limit=config.limit, skip_invalid=config.skip_invalid)


def preflight(config: RunConfig) -> RunPlan:
    """Every check that needs no TensorFlow (values, names, parameters, head-dataset fit): the plan."""
    return resolve_plan(overfit_settings(config))


def prepare(plan: RunPlan, run_dir: Path | None = None, start_weights: bool = True) -> Prepared:
    """Load the plan's data and build its model: ``run_dir`` gives a resumed run's stored statistics,
    and ``--weights`` loads unless ``start_weights`` is false (a resumed run restores its own)."""
    config = plan.config
    splits = read_splits(plan)
    info = splits.info
    if plan.task not in info.tasks:
        raise task_mismatch(plan.head, info.tasks, config.dataset)
    if info.num_train == 0 or info.num_validation == 0:
        raise CvkitError(f"dataset {config.dataset!r} has an empty train or validation split; add images")
    statistics = DatasetStatistics(num_classes=info.num_classes, task=plan.task, channels=info.image_shape[-1],
                                   train=splits.train, stored=run_dir, seed=config.seed)
    build_augmentation(plan.augmentation_items(), image_size=(plan.image_size, plan.image_size),
                       channels=info.image_shape[-1], seed=config.seed, statistics=statistics)

    from cvkit.models.assembly import create_model
    from cvkit.training.weights import build_options, load_start_weights

    model = create_model(
        plan.backbone.name, head=plan.head.name, num_classes=info.num_classes,
        input_shape=(plan.image_size, plan.image_size, info.image_shape[-1]),
        head_params=dict(plan.head_params), task=plan.task, class_names=list(info.class_names),
        bn_momentum=config.bn_momentum,
        **{**build_options(config, plan.backbone), **config.backbone_params, **plan.backbone.training_overrides,
           **({"memory_efficient": True} if config.memory_efficient else {})},
    )
    if start_weights and (note := load_start_weights(model, config)):
        print(note)
    task = TaskSpec(task=plan.task, num_classes=info.num_classes, class_names=info.class_names,
                    soft_labels=plan.mixes_labels())
    return Prepared(plan, splits, task, model, statistics)


def compile_model(model: Any, plan: RunPlan, task: TaskSpec, optimizer: Any, jit_compile: bool | None = None) -> list[str]:
    outputs = list(model.output.keys()) if isinstance(model.output, dict) else ["output"]
    objectives = resolve_callable(plan.head.objectives)(task, outputs, **plan.head_params)
    model.compile(optimizer=optimizer, loss=objectives.losses, loss_weights=objectives.loss_weights or None,
                  metrics=objectives.metrics, jit_compile="auto" if jit_compile is None else jit_compile)
    return outputs


def make_datasets(prepared: Prepared, outputs: list[str], augment: bool = True, epochs: range | None = None,
                  steps_per_epoch: int | None = None, distributed: bool = False) -> tuple[Any, Any]:
    """The training and validation pipelines; with ``epochs`` the training one holds those epochs,
    each shuffled and augmented by (seed, epoch) (see :func:`cvkit.training.engine.make_pipeline`).
    ``distributed``: batches for a data-parallel fit or evaluate (whole, this process's slice)."""
    from cvkit.training.distribute import batch_layout, check_validation_batches
    from cvkit.training.engine import make_pipeline

    plan, task = prepared.plan, prepared.task
    config = plan.config
    targets = guarded("head", plan.head, resolve_callable(plan.head.targets))
    params = plan.head_params

    def to_xy(batch: dict) -> tuple:
        return batch["images"], targets(batch, outputs, task, **params)

    info = prepared.splits.info
    full, shard = batch_layout(config) if distributed else (False, None)
    if full:
        check_validation_batches(info.num_validation, config.batch_size)
    augmenter = None
    if augment:
        augmenter = build_augmentation(plan.augmentation_items(), image_size=(plan.image_size, plan.image_size),
                                       channels=info.image_shape[-1], seed=config.seed,
                                       statistics=prepared.statistics)
    train = make_pipeline(prepared.splits.train, batch_size=config.batch_size, to_xy=to_xy, augment=augmenter,
                          shuffle=True, seed=config.seed, num_examples=info.num_train,
                          epochs=epochs if info.num_train else None, steps_per_epoch=steps_per_epoch,
                          full_batches=full, shard=shard)
    validation = make_pipeline(prepared.splits.validation, batch_size=config.batch_size, to_xy=to_xy,
                               num_examples=info.num_validation, full_batches=full, shard=shard)
    return train, validation


def inference_model(model: Any, training_overrides: dict[str, Any]) -> Any:
    """The model without training-only parts (auxiliary classifiers), weights copied by name."""
    if not training_overrides:
        return model
    from cvkit.models.assembly import CvkitModel

    config = model.get_config()
    params = {k: v for k, v in config["backbone_params"].items() if k not in training_overrides}
    clean = CvkitModel.from_config({**config, "backbone_params": params})
    for layer in clean.layers:
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
            layer.trainable = model.get_layer(layer.name).trainable  # frozen stages keep their BN statistics
    return clean


def train(config: RunConfig, verbose: int | None = None, facts: dict[str, Any] | None = None) -> TrainResult:
    """Train a model as ``config`` says and write its run directory. ``config`` is left unchanged.
    ``facts`` (a run's config.json's, see ``split_run_facts``) must match what the data gives."""
    plan = preflight(config)  # fail fast, before TensorFlow loads
    check_weights_option(config, plan.backbone)  # not on resume: the run keeps its own weights
    if config.out:
        check_new_run_dir(Path(config.out))
    from cvkit.runtime import precision_policy

    with precision_policy(plan.config.mixed_precision):  # restored after the run, even on error
        return _train_in_policy(plan, verbose, facts=facts)


def _train_in_policy(plan: RunPlan, verbose: int | None, start: Any = None, facts: dict | None = None) -> TrainResult:
    """Train ``plan``; ``start`` (a :class:`cvkit.training.resume.ResumePoint`) continues a run."""
    from cvkit.runtime import import_keras
    from cvkit.training.multihost import start_processes

    start_processes(plan.config)  # before JAX computes anything
    import_keras()
    from cvkit.training.distribute import keras_distribution
    from cvkit.training.reproduce import op_determinism

    with op_determinism(plan.config.deterministic), keras_distribution(plan.config):  # before the first op runs
        return _train_with_ops_set(plan, verbose, start, facts or {})


def _train_with_ops_set(plan: RunPlan, verbose: int | None, start: Any, facts: dict) -> TrainResult:
    import keras
    from cvkit.training.distribute import distribution_scope
    from cvkit.training.engine import make_optimizer
    from cvkit.training.phases import StageFreezer, fixed_batches
    from cvkit.training.reproduce import check_run_facts, run_facts, write_manifest

    config = plan.config
    first_epoch = start.epoch if start else 0
    keras.utils.set_random_seed(config.seed)  # the epochs reseed themselves (EpochSeeds)
    with distribution_scope(config.strategy):  # the model, its optimizer and restored state on every device
        prepared = prepare(plan, start.run_dir if start else None, start_weights=not start)
        check_run_facts(facts, prepared)
        model, known = prepared.model, prepared.splits.info.num_train
        steps = max(1, -(-(known or config.batch_size) // config.batch_size))
        steps = min(steps, config.overfit_batches or steps)
        outputs = compile_model(model, plan, prepared.task, make_optimizer(config, steps, model), config.jit_compile)
        # Eagerly now: left to the first traced step (Keras without a strategy), each slot variable takes the
        # lifted-initializer path, and densenet121's 1,456 Adam slots cost 20 s of its first step.
        model.optimizer.build(model.trainable_variables)
        extra_callbacks = [StageFreezer(model, config, steps, first_epoch)] if config.freeze_stages else []
        if start:
            start.restore(model)
    train_ds, val_ds = make_datasets(prepared, outputs, epochs=range(first_epoch, config.epochs), distributed=True)
    if config.overfit_batches:  # the same K batches each epoch: one pass of them per epoch
        train_ds, known = fixed_batches(model, train_ds, config.overfit_batches), None

    run_dir, created = open_run_dir(config, start)
    try:
        # config.json: the resolved config (image size, run directory) and facts about the data
        replace(config, out=str(run_dir)).write(run_dir, extra=run_facts(prepared))
        if prepared.statistics is not None:  # what augmentations computed from the data (PCA)
            prepared.statistics.write(run_dir)
        write_manifest(run_dir, config, first_epoch)
        if start:
            start.trim_metrics(run_dir / METRICS_CSV)
        with plugin_runtime_errors():  # a plugin failing inside tf.data: one line naming it
            _fit(prepared, outputs, (train_ds, steps if known else None), val_ds, run_dir, verbose, start,
                 extra_callbacks)
            results = _finish(prepared, outputs, run_dir)
    except NonFiniteLossError:
        raise  # keep the run directory and its last good checkpoint
    except CvkitError:
        if not start:  # a resumed run keeps everything it had
            discard_run_dir(run_dir, created)
        raise
    except BaseException:
        # A crash or Ctrl-C keeps the finished checkpoints but no half-written files.
        for tmp in run_dir.rglob(".*.keras"):
            tmp.unlink(missing_ok=True)
        if any((run_dir / CHECKPOINT_DIR).glob("epoch-*.keras")):
            print(f"training stopped; continue it with cvkit train --resume {run_dir}", file=sys.stderr)
        raise
    return TrainResult(run_dir=run_dir, validation=results, overfit=overfit_check(run_dir / METRICS_CSV, config))


def _fit(prepared: Prepared, outputs: list[str], train: tuple[Any, int | None], val_ds: Any, run_dir: Path,
         verbose: int | None, start: Any = None, extra_callbacks: list[Any] = ()) -> None:
    """``model.fit`` with the run's callbacks; a NaN loss stops it with a clear error.

    ``train`` is the training stream and its steps per epoch (None: one pass per epoch).
    """
    import keras

    from cvkit.training.distribute import strategy_callbacks
    from cvkit.training.ema import ema_callback
    from cvkit.training.engine import AtomicCheckpoint, RecalibrateBeforeValidation, epoch_checkpoints, head_callbacks
    from cvkit.training.reproduce import EpochSeeds, RestoreCallbackStates, callback_states

    config = prepared.plan.config
    first_epoch = start.epoch if start else 0
    plain_train_ds = make_datasets(prepared, outputs, augment=False)[0].map(lambda images, _: images) if config.ema else None
    ema = ema_callback(config, run_dir, val_ds, plain_train_ds, first_epoch)
    callbacks = [
        EpochSeeds(config.seed), *strategy_callbacks(config.strategy),
        *([ema] if ema else []),  # before the logger: it adds the val_ema_ metrics to the epoch's logs
        *head_callbacks(prepared, outputs),  # the head's whole-split metrics (val_ap50), also before it
        keras.callbacks.CSVLogger(str(run_dir / METRICS_CSV), append=first_epoch > 0),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "tensorboard"), write_graph=False),
    ]
    if config.bn_recalibration_batches:
        batches = min(EPOCH_RECALIBRATION_BATCHES, config.bn_recalibration_batches)
        plain = make_datasets(prepared, outputs, augment=False, epochs=range(first_epoch, config.epochs),
                              steps_per_epoch=batches)[0].map(lambda images, _: images)
        callbacks.insert(0, RecalibrateBeforeValidation(plain, batches, stream=bool(train[1])))
    if config.schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(factor=0.1, patience=max(1, (config.early_stopping_patience or 10) // 2)))
    if config.early_stopping_patience:
        callbacks.append(keras.callbacks.EarlyStopping(patience=config.early_stopping_patience, restore_best_weights=True))
    callbacks.extend(extra_callbacks)
    stateful = list(callbacks)
    if start:
        callbacks.append(RestoreCallbackStates(stateful, start.callbacks, run_dir / CHECKPOINT_DIR))
    checkpoint = AtomicCheckpoint(run_dir, keep=config.keep_checkpoints, states=lambda: callback_states(stateful))
    callbacks.append(checkpoint)  # last: it saves the state the others leave after the epoch
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    prepared.model.fit(train[0], steps_per_epoch=train[1], validation_data=val_ds, epochs=config.epochs,
                       initial_epoch=first_epoch, callbacks=callbacks, verbose=verbose, shuffle=False)  # the pipeline shuffles
    if checkpoint.nan_epoch is not None:
        kept = epoch_checkpoints(run_dir / CHECKPOINT_DIR)
        raise NonFiniteLossError(
            f"the loss became NaN in epoch {max(checkpoint.nan_epoch, first_epoch + 1)}; training stopped"
            + (f" and the last good checkpoint is {kept[-1]} (continue from it with cvkit train --resume {run_dir})"
               if kept else "")
            + "; lower --lr or add gradient clipping (clipnorm) in a new run"
        )
    if ema:  # the saved model is the average; _finish recalibrates its BN statistics
        ema.apply(prepared.model, recalibrate=False)


def _finish(prepared: Prepared, outputs: list[str], run_dir: Path) -> dict[str, float]:
    """The inference model, its BN statistics recalibrated, evaluated and saved with the curves."""
    from cvkit.training.engine import plot_curves
    from cvkit.fileio import write_atomic, write_text_atomic

    config = prepared.plan.config
    final = inference_model(prepared.model, prepared.plan.backbone.training_overrides)
    if final is not prepared.model:  # fewer outputs, so fewer targets
        outputs = compile_model(final, prepared.plan, prepared.task, "adam")
    plain_train_ds, val_ds = make_datasets(prepared, outputs, augment=False)[0], \
        make_datasets(prepared, outputs, augment=False, distributed=True)[1]
    recalibrate_batch_norm(final, (images for images, _ in plain_train_ds), config.bn_recalibration_batches)
    from cvkit.models.detection import detection_scores

    # Detection: COCO AP of the saved model's post-NMS boxes, as cvkit evaluate reports it
    results = {**validation_scores(final, val_ds), **detection_scores(final, prepared.splits.validation)}
    write_atomic(run_dir / MODEL_FILE, lambda tmp: final.save(tmp))
    write_text_atomic(run_dir / RESULT_FILE, json.dumps({"validation": results}, indent=2) + "\n")
    plot_curves(run_dir / METRICS_CSV, run_dir / CURVES_PNG)
    return results


def check_same_classes(model: Any, class_names: tuple[str, ...], dataset: str) -> None:
    """Refuse a data set whose classes are not the model's (scores would compare other labels)."""
    trained = list(model.class_names)
    given = list(class_names)
    if trained and given and trained == given:
        return
    if not trained and len(given) == model.num_classes:
        return  # a model saved without names: only the count can be checked
    missing = [name for name in given if name not in trained]
    extra = [name for name in trained if name not in given]
    detail = "; ".join(part for part in (
        f"the dataset has {', '.join(missing[:5])} the model does not" if missing else "",
        f"the model has {', '.join(extra[:5])} the dataset does not" if extra else "",
    ) if part) or "the same classes in another order"
    raise CvkitError(
        f"dataset {dataset!r} has classes that do not match the model's ({detail}); "
        f"evaluate on a dataset with the classes {', '.join(trained[:10]) or model.num_classes}"
    )


def load_run(run_dir: str | Path) -> tuple[RunConfig, dict[str, Any], Any]:
    """The config, extra facts and model of a finished run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CvkitError(f"run directory {run_dir} does not exist; pass the --out directory of a cvkit train run")
    config, extra = read_run_config(run_dir)
    if not (run_dir / MODEL_FILE).is_file():
        raise CvkitError(f"{run_dir} has no {MODEL_FILE} (the run did not finish); finish it with cvkit train --resume {run_dir}")
    from cvkit.models.assembly import load_model

    return config, extra, load_model(run_dir / MODEL_FILE)


def trained_model_datasets(prepared: Prepared) -> tuple[Any, Any]:
    """A trained model compiled for its task, and its run's data without augmentation."""
    outputs = compile_model(prepared.model, prepared.plan, prepared.task, "adam")
    return make_datasets(prepared, outputs, augment=False)


def validation_scores(model: Any, dataset: Any) -> dict[str, float]:
    """``model.evaluate`` on ``dataset`` as plain floats, by metric name."""
    return {k: float(v) for k, v in model.evaluate(dataset, verbose=0, return_dict=True).items()}

