"""The run configuration: the one serialisable input of the training engine."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError, close_matches_hint

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")
CONFIG_FILE = "config.json"
LR_SCALES = ("none", "linear")
REFERENCE_BATCH = 256  # --lr-scale linear: the learning rate is the one for this global batch
# Facts a run writes beside its settings in config.json (see cvkit.training.reproduce.run_facts).
RUN_FACTS = ("resolved_arch", "task", "class_names", "num_train", "num_validation", "input_shape")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run. Written to ``RUN_DIR/config.json``.

    Frozen: a run resolves it into a :class:`cvkit.training.plan.RunPlan` and never changes
    it; derive a changed copy with ``dataclasses.replace``.
    """

    arch: str = "densenet"
    head: str = "classification"
    dataset: str = "shapes"
    data_dir: str | None = None
    augmentations: list[Any] = field(default_factory=list)
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup_epochs: int = 0
    step_epochs: int = 30
    decay_rate: float = 0.1
    clipnorm: float | None = None
    early_stopping_patience: int | None = None
    image_size: int | None = None  # None: 32, or the arch's smallest input rounded up to 32s
    validation_fraction: float = 0.2
    limit: int | None = None
    skip_invalid: bool = False  # skip (and count) bad images, masks and boxes instead of failing
    seed: int = 0
    mixed_precision: bool = False
    jit_compile: bool | None = None  # None: Keras' "auto", XLA on a GPU and off on a CPU
    bn_momentum: float | None = 0.9  # every BatchNorm layer's; None keeps the backbone's own
    bn_recalibration_batches: int = 32  # batches that re-estimate BN statistics before the save; 0: off
    backbone_params: dict[str, Any] = field(default_factory=dict)
    head_params: dict[str, Any] = field(default_factory=dict)
    label_smoothing: float = 0.0  # classification heads: the target mass spread over the other classes
    keep_checkpoints: int = 3  # the last epoch checkpoints kept in RUN_DIR/checkpoints
    out: str | None = None
    freeze_stages: int = 0  # the stem and this many backbone stages stay frozen, BatchNorm in inference mode
    unfreeze_at: int | None = None  # from this epoch (1-based) everything trains, at finetune_lr_factor x the rate
    finetune_lr_factor: float = 0.1
    overfit_batches: int | None = None  # sanity mode: train on these few fixed batches, regularisation off
    ema: float | None = None  # decay of the weights' moving average (e.g. 0.999), saved instead of the weights
    strategy: str = "none"  # "mirrored": every visible device of the host (tf.distribute)
    deterministic: bool = False  # seeded, deterministic TensorFlow ops: reruns give bit-identical weights
    lr_scale: str = "none"  # "linear": learning_rate * batch_size / REFERENCE_BATCH
    weights: str | None = None  # start from: a .keras/.weights.h5 file of another cvkit run, or "imagenet"
    memory_efficient: bool = False  # recompute cheap wide tensors in the backward pass (archs that declare it)
    coordinator: str | None = None  # multi-host (JAX): process 0's HOST:PORT, the same for every process
    num_processes: int | None = None  # multi-host: one process per host
    process_id: int | None = None  # multi-host: this process's index in [0, num_processes)
    coordinator_timeout: float = 60.0  # seconds a process waits for the others to join the coordinator

    def scaled_learning_rate(self) -> float:
        """The learning rate the optimizer uses: ``learning_rate``, scaled with the global batch by ``lr_scale``."""
        scale = self.batch_size / REFERENCE_BATCH if self.lr_scale == "linear" else 1.0
        return float(self.learning_rate) * scale

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """The config of ``data``'s keys; a run's own config.json is taken too (its RUN_FACTS ignored)."""
        if "resolved_arch" in data:  # a run's own config.json: its facts are no settings
            data = {k: v for k, v in data.items() if k not in RUN_FACTS}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            hint = close_matches_hint(unknown[0], known)
            raise CvkitError(f"unknown config key {unknown[0]!r}{hint}; valid keys: {', '.join(sorted(known))}")
        return cls(**data)

    def validate(self) -> None:
        """Refuse impossible hyperparameters before anything is built or written."""
        def positive_int(name: str, value: Any) -> None:
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise CvkitError(f"{name} must be a positive whole number, got {value!r}")

        positive_int("epochs", self.epochs)
        positive_int("batch size", self.batch_size)
        if self.image_size is not None:
            positive_int("image size", self.image_size)
        if self.limit is not None:
            positive_int("limit", self.limit)
        if self.bn_momentum is not None and (not isinstance(self.bn_momentum, int | float) or not 0 <= self.bn_momentum < 1):
            raise CvkitError(f"BN momentum must be in [0, 1), got {self.bn_momentum!r}; 0.9 suits short runs, 0.99 long ones")
        if not isinstance(self.bn_recalibration_batches, int) or self.bn_recalibration_batches < 0:
            raise CvkitError(f"BN recalibration batches must be a whole number >= 0, got {self.bn_recalibration_batches!r}")
        if not isinstance(self.learning_rate, int | float) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise CvkitError(f"learning rate must be a positive number, got {self.learning_rate!r}")
        if self.optimizer not in OPTIMIZERS:
            raise CvkitError(f"unknown optimizer {self.optimizer!r}{close_matches_hint(self.optimizer, OPTIMIZERS)}; choose one of {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise CvkitError(f"unknown schedule {self.schedule!r}{close_matches_hint(self.schedule, SCHEDULES)}; choose one of {', '.join(SCHEDULES)}")
        if not 0 < self.validation_fraction < 1:
            raise CvkitError(f"validation fraction must be between 0 and 1, got {self.validation_fraction}")
        if self.weight_decay < 0 or not 0 <= self.momentum < 1:
            raise CvkitError("weight decay must be >= 0 and momentum in [0, 1)")
        if self.warmup_epochs < 0 or self.warmup_epochs >= self.epochs and self.warmup_epochs:
            raise CvkitError(f"warm-up epochs ({self.warmup_epochs}) must be fewer than epochs ({self.epochs})")
        if isinstance(self.label_smoothing, bool) or not isinstance(self.label_smoothing, int | float) \
                or not 0 <= self.label_smoothing < 1:
            raise CvkitError(f"label smoothing must be in [0, 1), got {self.label_smoothing!r}; 0.1 is usual")
        positive_int("keep checkpoints", self.keep_checkpoints)
        if self.clipnorm is not None and self.clipnorm <= 0:
            raise CvkitError(f"gradient clip norm must be positive, got {self.clipnorm}")
        from cvkit.training.finetune import validate_finetune_settings

        validate_finetune_settings(self)
        if self.ema is not None and (isinstance(self.ema, bool) or not isinstance(self.ema, int | float) or not 0 < self.ema < 1):
            raise CvkitError(f"EMA decay must be between 0 and 1, got {self.ema!r}; 0.999 is usual (0.9999 for long runs)")
        from cvkit.training.distribute import check_strategy

        check_strategy(self.strategy)
        from cvkit.training.multihost import check_multi_host_settings

        check_multi_host_settings(self)
        if self.lr_scale not in LR_SCALES:
            raise CvkitError(f"unknown --lr-scale {self.lr_scale!r}; choose one of {', '.join(LR_SCALES)}")

    def write(self, run_dir: Path, extra: dict[str, Any] | None = None) -> None:
        from cvkit.fileio import write_text_atomic

        write_text_atomic(run_dir / CONFIG_FILE, json.dumps({**self.to_dict(), **(extra or {})}, indent=2) + "\n")


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A TOML, YAML or JSON file of RunConfig keys."""
    path = Path(path)
    if not path.is_file():
        raise CvkitError(f"config file {path} does not exist; check the path")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        elif path.suffix == ".json":
            data = json.loads(text)
        else:
            raise CvkitError(f"config file {path} must end in .toml, .yaml, .yml or .json")
    except CvkitError:
        raise
    except Exception as exc:  # each parser has its own error type
        raise CvkitError(f"cannot parse config file {path}: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise CvkitError(f"config file {path} must hold a table of keys, like arch = \"resnet18\"")
    return data


def split_run_facts(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A config file's settings and, when it is a run's own config.json, the facts it recorded.

    The facts (RUN_FACTS) are checked against the data when the run is reproduced; the stored
    ``out`` is the old run's directory and is dropped, so a rerun never writes into it.
    """
    if "resolved_arch" not in data:
        return dict(data), {}
    settings = {k: v for k, v in data.items() if k not in RUN_FACTS and k != "out"}
    return settings, {k: data[k] for k in RUN_FACTS if k in data}


def read_run_config(run_dir: str | Path) -> tuple[RunConfig, dict[str, Any]]:
    """The RunConfig of a run directory, plus the extra facts stored beside it."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise CvkitError(f"{run_dir} is not a cvkit run directory (no {CONFIG_FILE}); pass a directory written by cvkit train")
    data = json.loads(path.read_text())
    known = {f.name for f in fields(RunConfig)}
    return RunConfig(**{k: v for k, v in data.items() if k in known}), {k: v for k, v in data.items() if k not in known}
