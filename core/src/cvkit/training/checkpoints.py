"""A finished run's epoch checkpoints: which exist, which to use, and loading them safely."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError
from cvkit.training.files import CHECKPOINT_DIR, KEEP_FILE

_EPOCH_FILE = re.compile(r"^epoch-(\d+)\.keras$")


@dataclass(frozen=True)
class Checkpoint:
    """One epoch's saved model (with its optimizer state)."""

    epoch: int
    path: Path


def list_checkpoints(run_dir: str | Path) -> list[Checkpoint]:
    """The epoch checkpoints present in a run directory, oldest first (pruned ones are gone)."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    found = []
    for path in folder.glob("epoch-*.keras") if folder.is_dir() else []:
        match = _EPOCH_FILE.match(path.name)
        if match:
            found.append(Checkpoint(int(match.group(1)), path))
    return sorted(found, key=lambda c: c.epoch)


def check_count(k: int, available: list[Checkpoint], run_dir: str | Path, flag: str) -> None:
    """One line when ``k`` checkpoints cannot be taken from those present."""
    if k < 1:
        raise CvkitError(f"{flag} must be at least 1, got {k}")
    if k > len(available):
        kept = ", ".join(c.path.name for c in available) or "none"
        raise CvkitError(f"{flag} {k} asks for more checkpoints than {Path(run_dir) / CHECKPOINT_DIR} keeps "
                         f"({len(available)}: {kept}); pass {flag} {max(1, len(available))} or fewer")


def select_last(run_dir: str | Path, k: int, flag: str = "--last") -> list[Checkpoint]:
    available = list_checkpoints(run_dir)
    check_count(k, available, run_dir, flag)
    return available[-k:]


def main_metric(task: str, columns: list[str]) -> str:
    """The validation column that ranks epochs: val_mean_iou for segmentation, else an accuracy."""
    wanted = "mean_iou" if task == "segmentation" else "accuracy"
    if f"val_{wanted}" in columns:
        return f"val_{wanted}"
    candidates = [c for c in columns if c.startswith("val_") and c.endswith(wanted)]
    candidates.sort(key=lambda c: ("localization" not in c, len(c)))
    if not candidates:
        raise CvkitError(f"metrics.csv has no validation {wanted} column to rank the epochs by; use --last instead of --best")
    return candidates[0]


def epoch_scores(run_dir: str | Path, task: str) -> tuple[str, dict[int, float]]:
    """The main validation metric of every epoch in metrics.csv (1-based epochs; a redone epoch's last row wins)."""
    path = Path(run_dir) / "metrics.csv"
    if not path.is_file():
        raise CvkitError(f"{path} is missing, so epochs cannot be ranked; use --last instead of --best")
    with open(path) as f:
        rows = list(csv.DictReader(f))
    metric = main_metric(task, list(rows[0].keys()) if rows else [])
    return metric, {int(row["epoch"]) + 1: float(row[metric]) for row in rows if row.get(metric)}


def select_best(run_dir: str | Path, k: int, task: str) -> tuple[list[Checkpoint], str]:
    """The ``k`` present checkpoints with the highest main validation metric (ties: the later epoch)."""
    available = list_checkpoints(run_dir)
    check_count(k, available, run_dir, "--best")
    metric, scores = epoch_scores(run_dir, task)
    ranked = [c for c in available if c.epoch in scores]
    if len(ranked) < k:
        raise CvkitError(f"metrics.csv scores only {len(ranked)} of the checkpoints present; pass --best {max(1, len(ranked))} or fewer")
    ranked.sort(key=lambda c: (scores[c.epoch], c.epoch), reverse=True)
    return sorted(ranked[:k], key=lambda c: c.epoch), metric


def mark_kept(run_dir: str | Path, checkpoints: list[Checkpoint]) -> Path:
    """Add the checkpoints to checkpoints/keep.json, which pruning honours; returns the file."""
    from cvkit.fileio import write_text_atomic

    path = Path(run_dir) / CHECKPOINT_DIR / KEEP_FILE
    kept = set(json.loads(path.read_text()).get("keep", [])) if path.is_file() else set()
    kept.update(c.path.name for c in checkpoints)
    write_text_atomic(path, json.dumps({"keep": sorted(kept)}, indent=2) + "\n")
    return path


def load_members(checkpoints: list[Checkpoint], reference: Any, training_overrides: dict[str, Any]) -> list[Any]:
    """The checkpoints as inference models, each checked to be the reference model's architecture."""
    from cvkit.models.assembly import load_model
    from cvkit.training.run import inference_model

    expected = [tuple(w.shape) for w in reference.weights]
    members = []
    for checkpoint in checkpoints:
        try:
            model = inference_model(load_model(checkpoint.path), training_overrides)
        except (ValueError, TypeError, KeyError) as exc:
            raise CvkitError(f"{checkpoint.path} does not load as this run's model ({str(exc).splitlines()[0][:120]}); move it out of the folder") from None
        arch = getattr(model, "arch", None)
        if arch != reference.arch or [tuple(w.shape) for w in model.weights] != expected:
            raise CvkitError(f"{checkpoint.path} is a {arch or 'different'} model whose weights do not match the run's "
                             f"{reference.arch} model; move it out of {checkpoint.path.parent}")
        members.append(model)
    return members
