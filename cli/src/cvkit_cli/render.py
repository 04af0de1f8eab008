"""Plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

import typer


def line(text: str) -> None:
    typer.echo(text)


def section(title: str, rows: Sequence[Sequence[str]], headers: Sequence[str]) -> None:
    """A titled table with columns sized to their content."""
    typer.secho(f"{title} ({len(rows)})", bold=True)
    if not rows:
        typer.echo("  (none)")
        return
    columns = [i for i, h in enumerate(headers) if h or any(r[i] for r in rows)]
    widths = {i: max(len(str(headers[i])), *(len(str(r[i])) for r in rows)) for i in columns}
    last = columns[-1]
    fmt = lambda cells: "  " + "  ".join(str(cells[i]) if i == last else str(cells[i]).ljust(widths[i]) for i in columns)  # noqa: E731
    typer.echo(fmt(headers).rstrip())
    for row in rows:
        typer.echo(fmt(row).rstrip())
