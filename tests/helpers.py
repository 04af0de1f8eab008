"""Shared test helpers: running the CLI in a fresh process or in this one."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``cvkit ARGS`` in a subprocess, as a user would run it."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cvkit_cli.main", *args], capture_output=True, text=True,
        env=full_env, cwd=cwd, timeout=timeout,
    )


def run_cli_here(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """``cvkit ARGS`` in this process, answered as ``run_cli`` answers: exit code, stdout, stderr.

    Saves a fresh TensorFlow import (seconds) where the test does not need a process of its own;
    the one-line errors still come from ``main``'s own handling.
    """
    from cvkit_cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd or os.getcwd()):
        code = main(list(args))
    return subprocess.CompletedProcess(["cvkit", *args], code, out.getvalue(), err.getvalue())


def run_python(code: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=timeout)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit code 2, one line on stderr naming the problem, no traceback."""
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("cvkit: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def write_dist(site: Path, dist: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A minimal installed distribution (dist-info + modules) in ``site``, found via PYTHONPATH."""
    info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    lines = ["[cvkit]"] + [f"{name} = {target}" for name, target in entry_points.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        path = site / (module.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


PHOTO_REGIONS = (  # (photo index, top, left) of each class's 160x160 region in sklearn's sample photos
    (0, 20, 40), (0, 240, 420), (1, 40, 60), (1, 230, 380), (0, 200, 150),
)


def write_photo_folder(root: Path, per_class: int = 60, seed: int = 0, classes: int = 5) -> Path:
    """A small real-photo classification folder: crops of mixed sizes from sklearn's sample photos.

    Each class is one region of a photo; crops move, scale and flip inside it, so the classes are
    learnable but no two images are the same. ``root/<class>/<n>.jpg``.
    """
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    rng = np.random.default_rng(seed)
    for label, (index, top, left) in enumerate(PHOTO_REGIONS[:classes]):
        folder = root / f"region{label}"
        folder.mkdir(parents=True, exist_ok=True)
        region = photos[index][top:top + 160, left:left + 160]
        for n in range(per_class):
            height, width = (int(v) for v in rng.integers(56, 120, size=2))
            y, x = int(rng.integers(0, 160 - height)), int(rng.integers(0, 160 - width))
            crop = region[y:y + height, x:x + width]
            if rng.random() < 0.5:
                crop = crop[:, ::-1]
            Image.fromarray(np.ascontiguousarray(crop)).save(folder / f"{n:03d}.jpg", quality=90)
    return root
