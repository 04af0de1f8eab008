"""A run's directory: its default name, the check that a new run gets an empty one, and its removal."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from cvkit.errors import CvkitError
from cvkit.training.config import CONFIG_FILE, RunConfig
from cvkit.training.files import MODEL_FILE


def default_run_dir(config: RunConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.arch}-{config.head}-{stamp}"


def check_new_run_dir(run_dir: Path) -> None:
    """A new run needs a new or empty directory; an unfinished run's is continued with --resume."""
    if run_dir.exists() and any(run_dir.iterdir()):
        if (run_dir / CONFIG_FILE).is_file() and not (run_dir / MODEL_FILE).is_file():
            raise CvkitError(f"run directory {run_dir} holds an unfinished run; continue it with "
                             f"cvkit train --resume {run_dir}, or pass another --out")
        raise CvkitError(f"run directory {run_dir} already exists and is not empty; pass another --out")


def open_run_dir(config: RunConfig, start: Any) -> tuple[Path, bool]:
    """The run directory and whether it was created; a new run refuses a non-empty one."""
    from cvkit.training.multihost import is_chief, worker_run_dir

    if not is_chief(config):  # process 0 alone writes the run directory
        return worker_run_dir(start.run_dir if start else None), True
    if start:
        return start.run_dir, False
    run_dir = Path(config.out) if config.out else default_run_dir(config)
    check_new_run_dir(run_dir)
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir, created


def discard_run_dir(run_dir: Path, created: bool) -> None:
    if created:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        for child in run_dir.iterdir():
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
