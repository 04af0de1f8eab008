"""The results as JSON and as a markdown table."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from .common import Row, Settings

TITLES = {
    1: "Training images per second against keras.applications",
    2: "Achieved training FLOP/s (resnet50)",
    3: "Input pipeline with the full augmentation stack",
    4: "Command start-up",
    5: "Time to the first training step",
    6: "Quickstart and digits",
    7: "CPU utilisation while training",
    8: "Memory-efficient DenseNet",
    9: "The JAX backend against TensorFlow",
}


def machine() -> dict[str, Any]:
    import keras
    import tensorflow as tf

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    return {"cpu": cpu, "cores": os.cpu_count(), "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
            "tensorflow": tf.__version__, "keras": keras.__version__, "python": platform.python_version(),
            "load_average_at_end": [round(x, 1) for x in os.getloadavg()]}


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def markdown(rows: list[Row], info: dict[str, Any], settings: Settings, notes: list[str]) -> str:
    lines = [f"# cvkit benchmark ({settings.mode}, {settings.device})", "",
             f"{info['started']} UTC, {info['seconds']:.0f} s. {info['cpu']}, {info['cores']} cores, "
             f"GPUs: {', '.join(info['gpus']) or 'none'}; TensorFlow {info['tensorflow']}, Keras {info['keras']}, "
             f"Python {info['python']}. Load average at the end: {info['load_average_at_end']}.", ""]
    lines += [f"- {note}" for note in notes] + ([""] if notes else [])
    for section in sorted({row.section for row in rows}):
        lines += [f"## {section}. {TITLES[section]}", "",
                  "| measure | cvkit | peer | unit | ratio | target | met | note |", "|---|---|---|---|---|---|---|---|"]
        for row in (r for r in rows if r.section == section):
            peer = f"{cell(row.peer)} ({row.peer_name})" if row.peer_name else cell(row.peer)
            met = {True: "yes", False: "**no**", None: ""}[row.met]
            lines.append(f"| {row.name} | {cell(row.cvkit)} | {peer} | {row.unit} | {cell(row.ratio)} | "
                         f"{row.target} | {met} | {row.note} |")
        lines.append("")
    return "\n".join(lines)


def write(rows: list[Row], settings: Settings, started: float, notes: list[str]) -> tuple[Path, Path]:
    info = {**machine(), "started": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)),
            "seconds": time.time() - started}
    settings.out.mkdir(parents=True, exist_ok=True)
    stem = f"{settings.mode}-{settings.device}"
    json_path, md_path = settings.out / f"{stem}.json", settings.out / f"{stem}.md"
    json_path.write_text(json.dumps({"mode": settings.mode, "device": settings.device, "machine": info,
                                     "notes": notes, "rows": [r.to_dict() for r in rows]}, indent=2) + "\n")
    md_path.write_text(markdown(rows, info, settings, notes) + "\n")
    return json_path, md_path


def print_row(row: Row) -> None:
    ratio = f"  ratio {row.ratio:.2f}" if row.ratio is not None else ""
    peer = f"  vs {cell(row.peer)} ({row.peer_name})" if row.peer_name else ""
    met = {True: "  [met]", False: "  [NOT met]", None: ""}[row.met]
    print(f"  {row.section}. {row.name}: {cell(row.cvkit)} {row.unit}{peer}{ratio}{met}", flush=True)
