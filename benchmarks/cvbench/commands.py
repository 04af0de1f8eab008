"""Sections 4, 6, 7 and 8: the commands a user runs, timed as processes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import fields
from pathlib import Path

from .common import ROOT, Row, Settings, Tracked, installed_command, last_step_seconds, median, ratio, \
    run_tracked, steady_cpu_share

TINY_DENSENET = ["--set", "blocks=[1,1,1,1]", "--set", "growth_rate=4", "--set", "stem_filters=8"]


def section_startup(settings: Settings) -> list[Row]:
    """4. Wall time of ``cvkit --help`` and ``cvkit list``, installed and through ``uv run``,
    against ``python -c "import tensorflow"`` (target: <= 0.5 s, no noise line)."""
    import sys

    cvkit, uv = installed_command("cvkit"), shutil.which("uv")
    commands = {"cvkit --help": [cvkit, "--help"], "cvkit list": [cvkit, "list"]}
    if uv:
        commands.update({"uv run cvkit --help": [uv, "run", "cvkit", "--help"],
                         "uv run cvkit list": [uv, "run", "cvkit", "list"]})
    baseline = "python -c 'import tensorflow'"
    commands[baseline] = [sys.executable, "-c", "import tensorflow"]
    times: dict[str, list[float]] = {name: [] for name in commands}
    noise: dict[str, set[str]] = {name: set() for name in commands}
    for _ in range(settings.command_repeats):  # interleaved, so load spikes hit every command
        for name, cmd in commands.items():
            tracked = run_tracked(cmd, cwd=ROOT, timeout=120)
            times[name].append(tracked.wall)
            noise[name].update(line for line in tracked.stderr.splitlines() if line.strip())
    tf_time = median(times[baseline])
    rows = []
    for name in [n for n in commands if n != baseline]:
        took = median(times[name])
        quiet = not noise[name]
        rows.append(Row(4, f"`{name}` wall time", round(took, 2), round(tf_time, 2), "s", baseline,
                        ratio(took, tf_time), "<= 0.5 s, no noise line", took <= 0.5 and quiet,
                        f"median of {settings.command_repeats}" + ("" if quiet else f"; printed: {sorted(noise[name])[0][:80]}")))
    if not uv:
        rows.append(Row(4, "`uv run cvkit --help` wall time", "not measured", note="uv is not on PATH"))
    return rows


def train_args(settings: Settings, dataset: str) -> list[str]:
    args = ["train", "--arch", "densenet", "--dataset", dataset]
    if settings.train_epochs:
        args += ["--epochs", str(settings.train_epochs)]
    if settings.train_limit:
        args += ["--limit", str(settings.train_limit)]
    return args + (TINY_DENSENET if settings.tiny else [])


def run_training(settings: Settings, key: str, args: list[str]) -> tuple[Tracked, dict[str, float]]:
    """``cvkit ARGS --out TMP`` in a child process; cached by ``key``. Returns it and its metrics.json."""
    if key in settings.cache:
        return settings.cache[key]
    with tempfile.TemporaryDirectory(prefix="cvbench-") as tmp:
        out = Path(tmp) / "run"
        tracked = run_tracked([installed_command("cvkit"), *args, "--out", str(out)], cwd=Path(tmp))
        if tracked.returncode != 0:
            raise RuntimeError(f"cvkit {' '.join(args)} failed: {tracked.stderr.strip()[-500:]}")
        metrics = json.loads((out / "metrics.json").read_text())["validation"]
    settings.cache[key] = (tracked, metrics)
    return tracked, metrics


def accuracy(metrics: dict[str, float]) -> float:
    return next(v for k, v in metrics.items() if k.endswith("accuracy") and "top" not in k)


def section_quickstart(settings: Settings) -> list[Row]:
    """6. The quickstart on shapes (>= 0.98, README: 0.985 in about 3.5 min) and digits (>= 0.97 in <= 2 min)."""
    reduced = "" if settings.train_epochs is None else f" ({settings.train_epochs} epochs on {settings.train_limit} images: a smoke run, not the target)"
    rows = []
    runs = (("shapes", 0.98, None),) if settings.tiny else (("shapes", 0.98, None), ("digits", 0.97, 120.0))
    for dataset, acc_target, time_target in runs:
        tracked, metrics = run_training(settings, f"train:{dataset}", train_args(settings, dataset))
        acc = accuracy(metrics)
        name = f"`cvkit {' '.join(train_args(settings, dataset)[:5])}`"
        full = settings.train_epochs is None
        rows.append(Row(6, f"{name} validation accuracy", round(acc, 4), target=f">= {acc_target}",
                        met=acc >= acc_target if full else None, note=reduced.strip()))
        rows.append(Row(6, f"{name} wall time", round(tracked.wall, 1), unit="s",
                        target=f"<= {time_target:.0f} s" if time_target else "README: about 3.5 min",
                        met=tracked.wall <= time_target if full and time_target else None,
                        note=f"{tracked.cpu / tracked.wall:.2f} cores busy over the whole process"))
    return rows


def section_cpu(settings: Settings) -> list[Row]:
    """7. Share of the machine's cores busy while the quickstart trains (target: > 1.5 of 2)."""
    tracked, _ = run_training(settings, "train:shapes", train_args(settings, "shapes"))
    cores = os.cpu_count() or 1
    steady = steady_cpu_share(tracked)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [Row(7, "quickstart CPU use while training (epoch 2 to the end)",
                None if steady is None else round(steady, 2), unit=f"cores of {cores}",
                target="> 1.5 cores (75% of 2)", met=None if steady is None else steady > 1.5,
                note=f"whole process {tracked.cpu / tracked.wall:.2f} cores; load average now {load} "
                     "(other jobs on the machine take cores this one could use)")]


def section_memory(settings: Settings) -> list[Row]:
    """8. Peak training memory of densenet121 with and without --memory-efficient
    (target: >= 40% less memory for <= 25% slower steps)."""
    from cvkit.training.config import RunConfig

    if "memory_efficient" not in {f.name for f in fields(RunConfig)}:
        return [Row(8, "densenet121 peak training memory, --memory-efficient", "not available",
                    target=">= 40% less, <= 25% slower", note="this cvkit has no --memory-efficient mode yet")]
    if settings.tiny:
        return tiny_memory(settings)
    from memory import measure_memory  # benchmarks/memory.py: one fresh process per measurement

    size, batch = (64, 16) if settings.quick else (224, 32)
    plain, efficient = measure_memory("densenet121", size, batch, False), measure_memory("densenet121", size, batch, True)
    return memory_rows(plain[0] / 2**20, efficient[0] / 2**20, plain[1], efficient[1],
                       f"{size} px, batch {batch}, SGD steps on one random batch in a fresh process each "
                       "(benchmarks/memory.py); memory is the peak RSS the training steps add to the built model")


def tiny_memory(settings: Settings) -> list[Row]:
    """The smoke run: the tiny quickstart of section 6 again with and without the flag, whole-process peaks."""
    args = train_args(settings, "shapes")
    plain, _ = run_training(settings, "train:shapes", args)
    efficient, _ = run_training(settings, "memory:efficient", [*args, "--memory-efficient"])
    return memory_rows(plain.max_rss_mb, efficient.max_rss_mb, last_step_seconds(plain), last_step_seconds(efficient),
                       "tiny smoke run: whole-process peak RSS of cvkit train")


def memory_rows(plain_mb: float, efficient_mb: float, plain_step: float | None, efficient_step: float | None,
                note: str) -> list[Row]:
    if plain_mb <= 0:  # the process peaked while building, so the steps added nothing measurable
        return [Row(8, "densenet121 peak training memory (--memory-efficient vs plain)", None,
                    target=">= 40% less", note=f"{note}; the plain run's training steps added no peak over the build")]
    saved = 1 - efficient_mb / plain_mb
    slower = ratio(efficient_step, plain_step)
    met = saved >= 0.4 and slower is not None and slower <= 1.25
    return [
        Row(8, "densenet121 peak training memory (--memory-efficient vs plain)", round(efficient_mb),
            round(plain_mb), "MB", "plain densenet121", ratio(efficient_mb, plain_mb), ">= 40% less", met,
            f"{note}; {saved:.0%} less"),
        Row(8, "densenet121 step time (--memory-efficient vs plain)", efficient_step, plain_step, "s/step",
            "plain densenet121", slower, "<= 1.25x", slower is not None and slower <= 1.25),
    ]
