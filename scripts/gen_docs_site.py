"""Generate the registry pages of the docs site: one per architecture family, head and augmentation.

Run ``uv run python scripts/gen_docs_site.py`` after adding or changing a plugin. Each family
page lists its variants with parameters and multiply-accumulates at the default input size
(every variant is built once, so this takes a few minutes), the paper, and the stages of the
default variant (feature maps by stride). ``--no-models`` skips the builds and keeps only the
names (for a quick check of the nav).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def _variant_row(spec, build: bool) -> tuple[str, str]:
    import cvkit

    if not build:
        return f"| `{spec.name}` | {'x'.join(map(str, spec.input_shape))} | | |", ""
    import keras

    model = cvkit.create_model(spec.name, num_classes=1000, input_shape=spec.input_shape)
    summary = cvkit.model_summary(model)
    stages = "\n".join(f"| {stride} | {'x'.join(str(d) for d in tensor.shape[1:])} |"
                       for stride, tensor in sorted(model.feature_maps.items()))
    keras.backend.clear_session()
    row = (f"| `{spec.name}` | {'x'.join(map(str, spec.input_shape))} | {summary['total_params']:,} | "
           f"{summary['macs'] / 1e6:,.1f} M |")
    return row, stages


def family_page(family: str, specs: list, build: bool) -> str:
    default = next((s for s in specs if s.default), specs[0])
    rows, stages = [], ""
    for spec in specs:
        row, spec_stages = _variant_row(spec, build)
        rows.append(row)
        if spec is default:
            stages = spec_stages
    papers = sorted({s.paper for s in specs if s.paper})
    lines = [f"# {family}", "", f"From the `{default.plugin}` distribution. {default.description}", ""]
    lines += [f"Paper: {p}" for p in papers] + ([""] if papers else [])
    lines += ["| variant | default input | parameters (1000 classes) | MACs |", "|---|---|---|---|", *rows, ""]
    if stages:
        lines += [f"Stages of `{default.name}` at its default input (feature maps by stride):", "",
                  "| stride | output (HxWxC) |", "|---|---|", stages, ""]
    return "\n".join(lines)


def simple_page(kind: str, spec) -> str:
    defaults = "\n".join(f"| `{k}` | `{v!r}` |" for k, v in sorted(spec.defaults.items())) or "| (none) | |"
    extra = f"Tasks: {', '.join(sorted(spec.tasks))}." if kind == "head" else f"Family: {spec.family}."
    return (f"# {kind} `{spec.name}`\n\nFrom the `{spec.plugin}` distribution. {spec.description}\n\n{extra}\n\n"
            f"| parameter | default |\n|---|---|\n{defaults}\n")


def generate(build: bool = True) -> dict[str, list[str]]:
    """Write the pages; return the nav entries by section."""
    import cvkit

    registries = cvkit.get_registries()
    nav: dict[str, list[str]] = {"archs": [], "heads": [], "augmentations": []}
    families: dict[str, list] = {}
    for spec in registries.backbones:
        families.setdefault(spec.family or spec.name, []).append(spec)
    pages = {f"archs/{family}.md": family_page(family, specs, build) for family, specs in sorted(families.items())}
    pages.update({f"heads/{s.name}.md": simple_page("head", s) for s in registries.heads})
    pages.update({f"augmentations/{s.name}.md": simple_page("augmentation", s) for s in registries.augmentations})
    for relative, text in pages.items():
        path = REFERENCE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        nav[relative.split("/")[0]].append(relative)
    index = ["# Reference", "", "Generated from the installed plugins' registries by `scripts/gen_docs_site.py`.", ""]
    for section, entries in nav.items():
        index += [f"## {section}", ""] + [f"- [{Path(e).stem}]({e})" for e in entries] + [""]
    (REFERENCE / "index.md").write_text("\n".join(index))
    return nav


if __name__ == "__main__":
    for section, entries in generate(build="--no-models" not in sys.argv).items():
        print(f"{section}: {len(entries)} pages")
