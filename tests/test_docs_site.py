"""The mkdocs site: a generated page per arch family, head and augmentation; it builds with --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cvkit

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"


def test_every_family_head_and_augmentation_has_a_generated_page():
    registries = cvkit.get_registries()
    families = {spec.family or spec.name for spec in registries.backbones}
    for family in families:
        page = (REFERENCE / "archs" / f"{family}.md").read_text()
        default = next((s for s in registries.backbones if (s.family or s.name) == family), None)
        assert f"`{default.name}`" in page and "MACs" in page and "stride" in page, family
    for spec in registries.heads:
        assert (REFERENCE / "heads" / f"{spec.name}.md").is_file(), spec.name
    for spec in registries.augmentations:
        assert (REFERENCE / "augmentations" / f"{spec.name}.md").is_file(), spec.name


def test_site_builds_strict(tmp_path):
    pytest.importorskip("material", reason="the docs dependency group is not installed (uv sync --group docs)")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "gallery" / "index.html").is_file()
