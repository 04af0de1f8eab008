"""Regenerate the ``--help`` blocks of docs/cli.md from the CLI itself.

Run ``uv run python scripts/gen_cli_reference.py``. Prose between the blocks is kept; a command
without a section gets one, in the order ``cvkit --help`` lists the commands.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
SECTION = re.compile(r"^## `cvkit (\S+)`\n\n```text\n.*?```\n", re.M | re.S)


def help_text(command: str) -> str:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-m", "cvkit_cli.main", command, "--help"],
                            capture_output=True, text=True, env=env, check=True)
    return "\n".join(line.rstrip() for line in result.stdout.strip("\n").splitlines())


def block(command: str) -> str:
    return f"## `cvkit {command}`\n\n```text\n{help_text(command)}\n```\n"


def main() -> None:
    from cvkit_cli.main import app

    commands = [c.name or c.callback.__name__.rstrip("_") for c in app.registered_commands]
    text = DOC.read_text()
    text = SECTION.sub(lambda m: block(m.group(1)), text)
    for i, command in enumerate(commands):
        if f"## `cvkit {command}`" in text:
            continue
        later = [c for c in commands[i + 1:] if f"## `cvkit {c}`" in text]
        anchor = f"## `cvkit {later[0]}`" if later else None
        text = text.replace(anchor, block(command) + "\n" + anchor) if anchor else text.rstrip() + "\n\n" + block(command)
    DOC.write_text(text)


if __name__ == "__main__":
    main()
