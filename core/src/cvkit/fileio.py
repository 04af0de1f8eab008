"""Atomic writes: a file is either complete or absent, never half-written."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, write: Callable[[Path], None], suffix: str = "") -> None:
    """Call ``write(tmp_path)``, then move the result onto ``path`` in one step.

    The file and then its directory are synced before and after the rename, so a power cut
    leaves either the old file or the whole new one, never an empty or partial one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        _sync(tmp_path)
        os.replace(tmp_path, path)
        _sync(path.parent)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text))


def _sync(path: Path) -> None:
    """fsync a file or a directory (the directory entry of a rename lives in the directory)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # some platforms cannot open a directory; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # file systems without fsync on directories
    finally:
        os.close(fd)
