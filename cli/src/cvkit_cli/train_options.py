"""The options of ``cvkit train``: one table from option to RunConfig field.

An option is named after its field (``batch_size`` -> ``--batch-size``) unless the table gives
names; the documented aliases are ``--lr`` (learning_rate), ``--xla`` (jit_compile), ``--aug``
(augmentations), ``--set`` and ``--se-ratio`` (backbone_params) and ``--head-param``
(head_params). Adding a RunConfig field with an option is one row. Options given on the command
line override the ``--config`` file; options that fill a dict field merge into it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from cvkit_cli.backends import BACKEND_HELP, use_backend


def split_augmentations(text: str) -> list[str]:
    """Split on commas outside parentheses: ``flip,crop(scale=0.8)``."""
    items, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    return [i.strip() for i in items if i.strip()]


def assignments(option: str) -> Callable[[list[str]], dict[str, Any]]:
    """``KEY=VALUE`` items of ``option`` as a dict."""
    def parse(items: list[str]) -> dict[str, Any]:
        from cvkit.data.augment import parse_assignments

        return parse_assignments(items, option)

    return parse


@dataclass(frozen=True)
class Flag:
    """One option of ``cvkit train`` and the RunConfig field it sets."""

    field: str
    type: Any
    help: str | None = None
    names: tuple[str, ...] = ()  # default: --field-name
    convert: Callable[[Any], Any] | None = None  # option value -> field value
    merge: bool = False  # the converted value (a dict) merges into the field instead of replacing it

    @property
    def declarations(self) -> tuple[str, ...]:
        return self.names or ("--" + self.field.replace("_", "-"),)

    @property
    def parameter(self) -> str:
        """The Python name of the option: its first long name (``--se-ratio`` -> ``se_ratio``)."""
        return self.declarations[0].split("/")[0].lstrip("-").replace("-", "_")


TRAIN_FLAGS: tuple[Flag, ...] = (
    Flag("arch", str, "Arch variant or family name.", ("--arch", "-a")),
    Flag("head", str, "Task head (cvkit list heads)."),
    Flag("dataset", str, "shapes, digits, folder:PATH, tfds:NAME ...", ("--dataset", "-d")),
    Flag("data_dir", str, "Where TFDS sets are prepared."),
    Flag("augmentations", str, "Comma-separated augmentations, e.g. flip,crop,jitter.", ("--aug",), split_augmentations),
    Flag("epochs", int),
    Flag("batch_size", int),
    Flag("learning_rate", float, "Learning rate.", ("--lr",)),
    Flag("optimizer", str, "sgd, adam, adamw, rmsprop or adagrad."),
    Flag("schedule", str, "constant, step, exponential, cosine or plateau."),
    Flag("weight_decay", float),
    Flag("image_size", int, "Square training input side; default 32, or the arch's smallest input rounded up to 32s."),
    Flag("limit", int, "Train on the first N examples only (the overfit sanity check)."),
    Flag("seed", int),
    Flag("skip_invalid", bool, "Skip bad images, masks and boxes (and report how many) instead of failing."),
    Flag("backbone_params", list[str], "Override an arch parameter, KEY=VALUE.", ("--set",), assignments("--set"), merge=True),
    Flag("backbone_params", int, "Insert squeeze-and-excitation with reduction r (residual archs).", ("--se-ratio",),
         lambda ratio: {"se_ratio": ratio}, merge=True),
    Flag("head_params", list[str], "Set a head parameter, KEY=VALUE.", ("--head-param",), assignments("--head-param"), merge=True),
    Flag("mixed_precision", bool, names=("--mixed-precision/--no-mixed-precision",)),
    Flag("jit_compile", bool, "Compile with XLA (default: Keras' auto rule, XLA on a GPU and not on a CPU).", ("--xla/--no-xla",)),
    Flag("bn_momentum", float, "Every BatchNorm layer's momentum (default 0.9; 0.99 for long runs)."),
    Flag("bn_recalibration_batches", int,
         "Training batches that re-estimate BatchNorm statistics before the save (default 32; 0 turns it off)."),
    Flag("label_smoothing", float, "Classification heads: spread this much target mass over the other classes (e.g. 0.1)."),
    Flag("keep_checkpoints", int, "Epoch checkpoints kept in RUN_DIR/checkpoints (default 3)."),
    Flag("out", str, "Run directory (default runs/ARCH-HEAD-TIME); it must be new or empty.", ("--out", "-o")),
    Flag("freeze_stages", int, "Freeze the stem and the first N backbone stages (BatchNorm in inference mode)."),
    Flag("unfreeze_at", int, "From this epoch on train everything, at --finetune-lr-factor times the learning rate."),
    Flag("finetune_lr_factor", float, "Learning-rate factor once --unfreeze-at unfreezes the stages (default 0.1)."),
    Flag("overfit_batches", int, "Sanity check: train on these K fixed batches, regularisation off; report if the loss nears 0."),
    Flag("ema", float, "Keep a moving average of the weights with this decay (e.g. 0.999, warmed up); "
         "validate it beside them and save it as the model."),
    Flag("strategy", str, "none, mirrored (TensorFlow) or data-parallel (JAX's DataParallel; MirroredStrategy on "
         "TensorFlow): train on every visible device (--batch-size is the global batch)."),
    Flag("deterministic", bool, "Seeded, deterministic ops: a rerun or a resumed run gives bit-identical weights (slower).",
         ("--deterministic/--no-deterministic",)),
    Flag("lr_scale", str, "none, or linear: the learning rate times the global batch size / 256."),
    Flag("weights", str, "Start from weights: a .keras or .weights.h5 file of another cvkit run, or imagenet "
         "(the keras.applications twin's; cvkit list archs)."),
    Flag("memory_efficient", bool, "Recompute concatenations and BatchNorm in the backward pass: "
         "less memory, slower steps (DenseNet)."),
    Flag("coordinator", str, "Multi-host training (JAX): process 0's HOST:PORT, the same on every host."),
    Flag("num_processes", int, "Multi-host training: the number of processes, one per host."),
    Flag("process_id", int, "Multi-host training: this process's id, 0 to --num-processes - 1; process 0 writes the run."),
    Flag("coordinator_timeout", float, "Seconds to wait for every process to join the coordinator (default 60)."),
)
CONFIG_FILE_HELP = ("A TOML or YAML file of settings, or a run's RUN_DIR/config.json to reproduce that run "
                    "(its out is ignored); flags override it.")
RESUME_HELP = ("Continue the interrupted run in this directory from its last complete epoch "
               "(only --epochs may change: a larger value trains a finished run longer).")


def run_settings(file_settings: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The RunConfig keys: the file's, overridden (or, for dict fields, extended) by the options given."""
    settings = dict(file_settings)
    for flag in TRAIN_FLAGS:
        value = given.get(flag.parameter)
        if value is None or value == []:
            continue
        value = flag.convert(value) if flag.convert else value
        settings[flag.field] = {**settings.get(flag.field, {}), **value} if flag.merge else value
    return settings


def train_command(run: Callable[[dict[str, Any], Path | None, dict[str, Any]], None], doc: str) -> Callable[..., None]:
    """A typer command taking every option of ``TRAIN_FLAGS`` plus ``--config`` and ``--resume``;
    it calls ``run(settings, resume, facts)`` with the RunConfig keys they give and, when the
    config file is a run's config.json, the facts that run recorded about its data."""
    def command(**given: Any) -> None:
        use_backend(given.pop("backend"))  # before anything imports Keras
        config = given.pop("config")
        resume = given.pop("resume")
        from cvkit.training.config import read_config_file, split_run_facts

        file_settings, facts = split_run_facts(read_config_file(config)) if config else ({}, {})
        run(run_settings(file_settings, given), resume, facts)

    parameters = [
        inspect.Parameter(flag.parameter, inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=Annotated[Optional[flag.type], typer.Option(*flag.declarations, help=flag.help)])
        for flag in TRAIN_FLAGS
    ]
    parameters.append(inspect.Parameter(
        "config", inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[Optional[Path], typer.Option("--config", "-c", help=CONFIG_FILE_HELP)],
    ))
    parameters.append(inspect.Parameter(
        "resume", inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[Optional[Path], typer.Option("--resume", metavar="RUN_DIR", help=RESUME_HELP)],
    ))
    parameters.append(inspect.Parameter(
        "backend", inspect.Parameter.KEYWORD_ONLY, default=None,
        annotation=Annotated[Optional[str], typer.Option("--backend", help=BACKEND_HELP)],
    ))
    command.__signature__ = inspect.Signature(parameters)
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = doc
    command.__name__ = "train"
    return command
