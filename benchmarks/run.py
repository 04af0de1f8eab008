"""cvkit against its peers, in one run: ``uv run python benchmarks/run.py [--quick]``.

Sections (``--section 1,5``): 1 training images/s vs keras.applications, 2 achieved FLOP/s,
3 input pipeline, 4 command start-up, 5 time to the first step, 6 quickstart and digits,
7 CPU utilisation, 8 memory-efficient DenseNet, 9 (jax) the JAX backend against TensorFlow. Writes benchmarks/results/MODE-DEVICE.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from cvbench.common import ARCHS, Row, Settings  # noqa: E402

SECTIONS = {
    1: ("throughput", "cvbench.models", "section_throughput"),
    2: ("flops", "cvbench.models", "section_flops"),
    3: ("pipeline", "cvbench.pipeline", "section_pipeline"),
    4: ("startup", "cvbench.commands", "section_startup"),
    5: ("first-step", "cvbench.first_step", "section_first_step"),
    6: ("quickstart", "cvbench.commands", "section_quickstart"),
    7: ("cpu", "cvbench.commands", "section_cpu"),
    8: ("memory", "cvbench.commands", "section_memory"),
    9: ("jax", "cvbench.backends", "section_backends"),
}
SHARED_NOTE = ("Ratios come from A B A B alternation in one process on one machine, so they hold under load; "
               "absolute figures move with whatever else the machine runs.")


class UsageError(Exception):
    """A bad option: printed as one line, exit code 2."""


def pick_sections(text: str | None) -> list[int]:
    if not text:
        return list(SECTIONS)
    by_name = {name: number for number, (name, _, _) in SECTIONS.items()}
    picked = []
    for item in (part.strip() for part in text.split(",") if part.strip()):
        number = int(item) if item.isdigit() else by_name.get(item)
        if number not in SECTIONS:
            valid = ", ".join(f"{n} ({name})" for n, (name, _, _) in SECTIONS.items())
            raise UsageError(f"unknown section {item!r}; valid sections: {valid}")
        picked.append(number)
    return picked


def pick_archs(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    archs = tuple(part.strip() for part in text.split(",") if part.strip())
    for arch in archs:
        if arch not in ARCHS:
            raise UsageError(f"unknown arch {arch!r}; valid archs: {', '.join(ARCHS)}")
    return archs


def pick_device(requested: str) -> str:
    from cvkit.runtime import import_keras

    import_keras()
    import tensorflow as tf

    has_gpu = bool(tf.config.list_physical_devices("GPU"))
    if requested == "gpu" and not has_gpu:
        raise UsageError("--device gpu: TensorFlow sees no GPU here; use --device cpu")
    return requested if requested != "auto" else ("gpu" if has_gpu else "cpu")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a reduced run, under 5 minutes")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test's smoke run
    parser.add_argument("--section", help="comma-separated section numbers or names (default: all)")
    parser.add_argument("--arch", help=f"comma-separated archs for sections 1, 3 and 5: {', '.join(ARCHS)}")
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                        help="gpu: mixed precision, XLA by Keras' auto rule, 224 px (default: gpu when present)")
    parser.add_argument("--out", type=Path, help="results directory (default benchmarks/results)")
    parser.add_argument("--note", action="append", default=[], help="a note for the table, e.g. about the machine")
    return parser.parse_args(argv)


def run_sections(sections: list[int], settings: Settings, started: float, notes: list[str]) -> tuple[list[Row], bool]:
    """Each section in turn; the results files are rewritten after each, so a stopped run keeps its figures."""
    import importlib

    from cvbench.report import print_row, write

    rows, ok = [], True
    for number in sections:
        name, module, function = SECTIONS[number]
        print(f"[{time.strftime('%H:%M:%S')}] section {number}: {name}", flush=True)
        try:
            new = getattr(importlib.import_module(module), function)(settings)
        except Exception as exc:  # one broken section still leaves the others' figures
            traceback.print_exc()
            new, ok = [Row(number, f"{name} failed", f"{type(exc).__name__}: {str(exc)[:200]}")], False
        for row in new:
            print_row(row)
        rows += new
        write(rows, settings, started, notes)
    return rows, ok


def main(argv: list[str] | None = None) -> int:
    started = time.time()
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        sections, archs = pick_sections(args.section), pick_archs(args.arch)
        settings = Settings.make(args.quick, args.tiny, pick_device(args.device), archs)
    except UsageError as exc:
        print(f"run.py: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        settings.out = args.out
    print(f"cvkit benchmark: {settings.mode}, {settings.device}, sections {', '.join(map(str, sections))}", flush=True)
    rows, ok = run_sections(sections, settings, started, [SHARED_NOTE, *args.note])
    stem = settings.out / f"{settings.mode}-{settings.device}"
    print(f"wrote {stem}.json and {stem}.md in {time.time() - started:.0f} s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
