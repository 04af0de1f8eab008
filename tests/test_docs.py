"""The docs cover the whole contract and every command (as datasette's tests do)."""

from __future__ import annotations

import inspect
import re

import pytest

from cvkit import hookspecs
from helpers import ROOT

DOCS = ROOT / "docs"
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")]


def test_hookspecs_are_found():
    assert {"register_blocks", "register_backbones", "register_heads", "register_augmentations",
            "register_datasets", "register_commands"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_signature(hook):
    text = (DOCS / "hooks.md").read_text()
    signature = str(inspect.signature(getattr(hookspecs, hook))).replace("'", "")
    assert f"def {hook}{signature}" in text, f"docs/hooks.md lacks `def {hook}{signature}`"
    doc = getattr(hookspecs, hook).__doc__
    assert doc, f"{hook} has no docstring"
    assert inspect.cleandoc(doc) in text, f"docs/hooks.md describes {hook} differently from hookspecs.py"


def test_every_cli_command_is_in_the_cli_reference():
    from cvkit_cli.main import app

    text = (DOCS / "cli.md").read_text()
    for command in app.registered_commands:
        name = command.name or command.callback.__name__
        assert re.search(rf"^## `cvkit {name}", text, re.M), f"docs/cli.md lacks `cvkit {name}`"


def test_readme_quickstart_is_exactly_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart\s+```(?:console|bash|sh)?\n(.*?)```", readme, re.S).group(1)
    commands = [line.lstrip("$ ").strip() for line in block.splitlines() if line.strip()]
    assert commands == ["uv run cvkit train --arch densenet", "uv run pytest"]
