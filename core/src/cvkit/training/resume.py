"""Continue an interrupted run (or train a finished one longer) from its last epoch checkpoint."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError
from cvkit.training.config import RunConfig, read_run_config
from cvkit.training.files import CHECKPOINT_DIR, MODEL_FILE, STATE_FILE
from cvkit.training.run import TrainResult, preflight

# Settings a resumed run may change: how long it trains. Everything else comes from config.json.
RESUMABLE_SETTINGS = ("epochs",)
# Where this process is in a multi-host run: each host's own, and the coordinator may move.
PROCESS_SETTINGS = ("coordinator", "process_id", "coordinator_timeout")


@dataclass(frozen=True)
class ResumePoint:
    """Where a run continues: its directory, the epochs it finished and their last checkpoint."""

    run_dir: Path
    epoch: int
    checkpoint: Path
    callbacks: dict[str, dict[str, float]] = field(default_factory=dict)  # EarlyStopping's, ReduceLROnPlateau's

    def restore(self, model: Any) -> None:
        """The checkpoint's weights and optimizer state (its iteration count sets the schedule)."""
        model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(self.checkpoint)
        except Exception as exc:  # Keras raises several types for a damaged or foreign file
            raise CvkitError(f"cannot load checkpoint {self.checkpoint}: {' '.join(str(exc).split())[:200]}; "
                             f"delete it and resume from the one before") from None

    def trim_metrics(self, metrics_csv: Path) -> None:
        """Drop the rows of epochs after the checkpoint (a crash can leave one), so each epoch appears once."""
        if not metrics_csv.is_file():
            return
        rows = list(csv.reader(io.StringIO(metrics_csv.read_text())))
        if not rows:
            return
        kept = [rows[0]] + [row for row in rows[1:] if row and int(row[0]) < self.epoch]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(kept)
        from cvkit.fileio import write_text_atomic

        write_text_atomic(metrics_csv, out.getvalue())


def resume_point(run_dir: str | Path, given: dict[str, Any]) -> tuple[RunConfig, ResumePoint]:
    """The stored config (with ``given``'s epochs) and the point to continue from; refuses
    a directory that is no run, a finished run without more epochs, and contradicting settings."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CvkitError(f"--resume {run_dir}: no such directory; pass the directory of a cvkit train run")
    config, _ = read_run_config(run_dir)
    from cvkit.training.multihost import check_resume_processes

    check_resume_processes(run_dir, config, given)
    config = replace(config, **{key: given.get(key) for key in PROCESS_SETTINGS if key in given})
    _refuse_contradictions(run_dir, config, given)
    epochs = given.get("epochs", config.epochs)
    if epochs is None:
        epochs = config.epochs
    state = _read_state(run_dir)
    done = int(state["epoch"])
    if _finished(run_dir) and epochs <= config.epochs:
        raise CvkitError(f"run {run_dir} already finished its {config.epochs} epochs; to train it longer pass "
                         f"--resume {run_dir} --epochs N with N larger than {config.epochs}")
    if done > epochs:  # done == epochs: a crash while saving the final model; resuming only saves it
        raise CvkitError(f"run {run_dir} has already trained {done} epochs; pass --epochs of at least {done}")
    checkpoint = run_dir / CHECKPOINT_DIR / str(state["checkpoint"])
    if not checkpoint.is_file():
        raise CvkitError(f"run {run_dir} has lost its checkpoint {checkpoint.name}; start a new run with --out")
    return replace(config, epochs=epochs, out=str(run_dir)), ResumePoint(run_dir, done, checkpoint, state.get("callbacks", {}))


def _finished(run_dir: Path) -> bool:
    """A model.keras written after the last checkpoint (training longer writes newer checkpoints)."""
    model, state = run_dir / MODEL_FILE, run_dir / CHECKPOINT_DIR / STATE_FILE
    return model.is_file() and (not state.is_file() or model.stat().st_mtime >= state.stat().st_mtime)


def _refuse_contradictions(run_dir: Path, config: RunConfig, given: dict[str, Any]) -> None:
    stored = config.to_dict()
    for key, value in given.items():
        if key in RESUMABLE_SETTINGS or value == stored.get(key):
            continue
        raise CvkitError(f"{key}={value!r} contradicts run {run_dir}, which trained with {key}={stored.get(key)!r}; "
                         f"--resume changes only --epochs, so drop that setting or start a new run with --out")


def _read_state(run_dir: Path) -> dict[str, Any]:
    path = run_dir / CHECKPOINT_DIR / STATE_FILE
    if not path.is_file():
        raise CvkitError(f"run {run_dir} has no finished epoch to resume from (no {CHECKPOINT_DIR}/{STATE_FILE}); "
                         f"delete it and start again with --out")
    try:
        state = json.loads(path.read_text())
        int(state["epoch"]), str(state["checkpoint"])
    except (ValueError, KeyError, TypeError):
        raise CvkitError(f"{path} is damaged; delete the run and start again with --out") from None
    return state


def resume(run_dir: str | Path, given: dict[str, Any] | None = None, verbose: int | None = None) -> TrainResult:
    """Continue the run in ``run_dir`` from its last complete epoch, to ``given['epochs']`` or its own.

    Every check runs before anything in the directory changes; the run then ends with
    model.keras and metrics.json, and metrics.csv and TensorBoard continue where they were.
    """
    config, point = resume_point(run_dir, dict(given or {}))
    plan = preflight(config)
    from cvkit.runtime import precision_policy
    from cvkit.training.run import _train_in_policy

    with precision_policy(plan.config.mixed_precision):
        return _train_in_policy(plan, verbose, point)
