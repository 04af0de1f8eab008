"""User-facing errors.

A :class:`CvkitError` is a mistake the user can fix (a bad name, a bad value, a missing file).
The CLI prints its message on one line and exits with code 2; anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CvkitError(Exception):
    """A problem with the user's input, stated with its fix in one line."""

    exit_code = 2


class UnknownNameError(CvkitError, KeyError):
    """A name (arch, head, augmentation, dataset, block) that no installed plugin registers."""

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = f"`cvkit list {kind}s` shows all {len(known)}"
        message = f"unknown {kind} {name!r}: " + (f"{hint} ({listing})" if hint else listing)
        super().__init__(message)
        self.kind, self.name, self.close_matches = kind, name, close

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class DuplicateNameError(CvkitError):
    """Two plugins register the same name; both are named so the user can remove one."""


class NonFiniteLossError(CvkitError):
    """Training stopped on a NaN or infinite loss; the run directory keeps its last good checkpoint."""


class PluginError(CvkitError):
    """A plugin could not be loaded or broke the plugin contract."""


def close_matches_hint(name: str, choices: Iterable[str]) -> str:
    """Return ' (did you mean ...?)' for the closest choices, or '' when none is close."""
    close = difflib.get_close_matches(name, sorted(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
