"""Settings, result rows and process measurement shared by the benchmark sections."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
ARCHS = ("resnet50", "densenet121", "mobilenet_v2", "efficientnet_b0")
FIRST_STEP_ARCHS = ("densenet121", "resnet50")


@dataclass
class Settings:
    """What one benchmark run measures; ``quick`` and ``tiny`` shrink it."""

    quick: bool = False
    tiny: bool = False
    device: str = "cpu"
    archs: tuple[str, ...] = ARCHS
    image_size: int = 64  # sections 1, 3 and 5
    batch_size: int = 32
    steps: int = 10  # timed steps per round
    rounds: int = 3  # A B rounds per model pair
    flops_size: int = 224  # section 2
    flops_batch: int = 16
    flops_steps: int = 4
    pipeline_batches: int = 40
    command_repeats: int = 5
    train_epochs: int | None = None  # section 6: None runs the quickstart as README states it
    train_limit: int | None = None
    out: Path = ROOT / "benchmarks" / "results"
    cache: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, quick: bool, tiny: bool, device: str, archs: tuple[str, ...] | None) -> Settings:
        s = cls(quick=quick or tiny, tiny=tiny, device=device)
        if quick:
            s.archs, s.image_size, s.steps, s.rounds = ("mobilenet_v2", "resnet50"), 32, 4, 2
            s.flops_size, s.flops_batch, s.flops_steps = 32, 32, 4  # reuses section 1's resnet50
            s.pipeline_batches, s.command_repeats, s.train_epochs, s.train_limit = 20, 3, 2, 320
        if tiny:
            s.archs, s.image_size, s.batch_size, s.steps, s.rounds = ("mobilenet_v2",), 32, 8, 2, 1
            s.flops_size, s.flops_batch, s.flops_steps = 32, 8, 2
            s.pipeline_batches, s.command_repeats, s.train_epochs, s.train_limit = 4, 1, 2, 32
        if device == "gpu" and not tiny:
            s.image_size, s.batch_size, s.steps = 224, 64, 20
            s.flops_batch, s.flops_steps = 64, 20
        if archs:
            s.archs = archs
        return s

    @property
    def mode(self) -> str:
        return "tiny" if self.tiny else "quick" if self.quick else "full"


@dataclass
class Row:
    """One line of the results table: cvkit's figure, the peer's, and how they compare."""

    section: int
    name: str
    cvkit: float | str | None
    peer: float | str | None = None
    unit: str = ""
    peer_name: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def alternate(first: Callable[[], float], second: Callable[[], float], rounds: int) -> tuple[list[float], list[float]]:
    """The seconds ``first`` and ``second`` report, run A B A B ..., so machine load hits both alike."""
    a, b = [], []
    for _ in range(rounds):
        a.append(first())
        b.append(second())
    return a, b


def ratio(value: float | None, peer: float | None) -> float | None:
    return None if not value or not peer else value / peer


def bench_env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def installed_command(name: str) -> str:
    """The console script of the environment this benchmark runs in."""
    return str(Path(sys.executable).parent / name)


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a running process, all its threads, from /proc."""
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Tracked:
    """A finished child process: wall and CPU time, peak memory, output lines with (time, cpu) marks."""

    returncode: int
    wall: float
    cpu: float
    max_rss_mb: float
    lines: list[tuple[float, float | None, str]]
    stderr: str

    @property
    def stdout(self) -> str:
        return "\n".join(line for _, _, line in self.lines)


def run_tracked(cmd: list[str], cwd: Path | None = None, timeout: float = 3600) -> Tracked:
    """Run ``cmd``; every stdout line is stamped with the wall time and the child's CPU time then."""
    start = time.perf_counter()
    err_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"cvbench-{os.getpid()}-{time.time_ns()}.err"
    with open(err_path, "w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=cwd, env=bench_env())
        lines: list[tuple[float, float | None, str]] = []

        def read() -> None:
            for line in proc.stdout:
                lines.append((time.perf_counter() - start, process_cpu_seconds(proc.pid), line.rstrip("\n")))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        wall = time.perf_counter() - start
        reader.join(5)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    err_path.unlink(missing_ok=True)
    return Tracked(proc.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines, stderr)


STEP_TIME = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s)/step")


def last_step_seconds(tracked: Tracked) -> float | None:
    """Seconds per step of the last epoch Keras reported (verbose 2 lines end in ``123ms/step``)."""
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    found = [m for _, _, line in tracked.lines for m in STEP_TIME.finditer(line)]
    return float(found[-1].group(1)) * scale[found[-1].group(2)] if found else None


def steady_cpu_share(tracked: Tracked) -> float | None:
    """CPU seconds per wall second from the start of epoch 2 to the end of the last epoch
    (so start-up and the first trace are left out); 1.0 is one busy core."""
    marks = [(t, cpu) for t, cpu, line in tracked.lines if line.startswith("Epoch 2/") and cpu is not None]
    ends = [(t, cpu) for t, cpu, line in tracked.lines if STEP_TIME.search(line) and cpu is not None]
    if not marks or not ends or ends[-1][0] <= marks[0][0]:
        return None
    return (ends[-1][1] - marks[0][1]) / (ends[-1][0] - marks[0][0])
