"""``cvkit average`` and the report ``cvkit evaluate --ensemble`` prints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from cvkit_cli import render
from cvkit_cli.backends import BackendOption, use_backend


def print_comparison(result: Any, label: str) -> None:
    """Each metric of the newest checkpoint alone next to the combined model's, and the gain."""
    render.line(f"checkpoints: {', '.join(result.checkpoints)}" + (f" (best by {result.ranked_by})" if result.ranked_by else ""))
    render.line(f"{'metric':<24}{'last checkpoint':>16}{label:>16}{'gain':>10}")
    gain = result.gain()
    for key in sorted(result.combined, key=lambda k: ("loss" in k, k)):
        last = result.last.get(key, float("nan"))
        render.line(f"{key:<24}{last:>16.4f}{result.combined[key]:>16.4f}{gain.get(key, float('nan')):>+10.4f}")
    for path in result.written:
        render.line(f"wrote {path}")


def average(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    last: Annotated[Optional[int], typer.Option("--last", help="Average the last K epoch checkpoints.")] = None,
    best: Annotated[Optional[int], typer.Option("--best", help="Average the K checkpoints with the best validation metric in metrics.csv (accuracy; mean IoU for segmentation; see docs/ensembles.md).")] = None,
    keep_best: Annotated[bool, typer.Option("--keep-best", help="With --best: list those checkpoints in checkpoints/keep.json so pruning never deletes them.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write the averaged model (default: RUN_DIR/averaged.keras).")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Also make it the run's model.keras and metrics.json (the old model stays as model.before-average.keras), so evaluate, predict and export use it.")] = False,
    batches: Annotated[Optional[int], typer.Option("--batches", min=1, help="Training batches for the BatchNorm recalibration (default: the run's).")] = None,
    backend: BackendOption = None,
) -> None:
    """Average the weights of K epoch checkpoints into one model and compare it with the last checkpoint.

    The weights (and BatchNorm moving statistics) are averaged, then the BatchNorm statistics
    are recalibrated on training batches, and the model is evaluated on the validation split.
    """
    use_backend(backend)
    from cvkit.training.ensemble import average_run

    result = average_run(run_dir, last=last, best=best, keep_best=keep_best, out=out, replace=replace, batches=batches)
    print_comparison(result, "averaged")
