"""Calls into plugin code that turn a plugin's bug into one line naming the plugin.

A :class:`~cvkit.errors.CvkitError` a plugin raises is meant for the user and passes through;
any other exception becomes a :class:`~cvkit.errors.PluginError` naming what failed (``augmentation
'flip'``) and the distribution that registered it, so the CLI prints one line and exits 2.
Errors raised while tf.data runs a traced function surface later, inside ``model.fit``; the
ops a plugin adds are put under a name scope that :func:`plugin_in_runtime_error` finds again.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from cvkit.contract.registry import Spec
from cvkit.errors import CvkitError, PluginError

F = TypeVar("F", bound=Callable[..., Any])
_SCOPE_PREFIX = "cvkit_plugin"
_REGISTRY_OF = {"augmentation": "augmentations", "head": "heads", "dataset": "datasets"}
_SCOPE = re.compile(rf"{_SCOPE_PREFIX}__([a-z]+)__([A-Za-z0-9_.\-]+?)__")


def describe_failure(kind: str, spec: Spec, exc: BaseException) -> str:
    """``augmentation 'x' (from plugin distribution 'y') failed: ValueError: boom; ...``."""
    text = " ".join(_first_line(str(getattr(exc, "message", None) or exc)).split())
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return (f"{kind} {spec.name!r} (from plugin distribution {spec.plugin!r}) failed: {reason}; "
            f"this is a bug in that plugin: report it to its authors, or stop using {spec.name!r}")


def _first_line(message: str) -> str:
    """The line that says what went wrong (TensorFlow wraps the plugin's own error in node traces)."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[A-Za-z_.]*(Error|Exception): ", line)]
    return raised[0] if raised else (lines[0] if lines else "")


@contextlib.contextmanager
def plugin_call(kind: str, spec: Spec) -> Iterator[None]:
    """Run plugin code; a non-cvkit exception becomes a one-line :class:`PluginError`."""
    try:
        yield
    except CvkitError:
        raise
    except Exception as exc:
        error = PluginError(describe_failure(kind, spec, exc))
        error.ag_pass_through = True  # autograph would rewrite the message into a traceback
        raise error from exc


def guarded(kind: str, spec: Spec, fn: F) -> F:
    """``fn`` wrapped in :func:`plugin_call`."""

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        with plugin_call(kind, spec), _runtime_name_scope(kind, spec):
            return fn(*args, **kwargs)

    return call  # type: ignore[return-value]


def _runtime_name_scope(kind: str, spec: Spec) -> contextlib.AbstractContextManager:
    if "tensorflow" not in sys.modules:  # nothing to name; do not import it for a loader
        return contextlib.nullcontext()
    import tensorflow as tf

    return tf.name_scope(runtime_scope(kind, spec))


@contextlib.contextmanager
def plugin_runtime_errors() -> Iterator[None]:
    """Around code that runs tf.data pipelines: a plugin's run-time error becomes one line."""
    try:
        yield
    except CvkitError:
        raise
    except Exception as exc:
        mapped = plugin_in_runtime_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


def runtime_scope(kind: str, spec: Spec) -> str:
    """A TensorFlow name scope for the ops a plugin adds inside a tf.data function."""
    name = re.sub(r"[^A-Za-z0-9_.\-]", "_", spec.name)
    return f"{_SCOPE_PREFIX}__{kind}__{name}__"


def plugin_in_runtime_error(exc: BaseException) -> PluginError | None:
    """The one-line error for a TensorFlow run-time error raised by a plugin's ops, if it was one."""
    from cvkit.contract.plugins import get_registries

    match = _SCOPE.search(str(exc))
    if match is None:
        return None
    kind, name = match.group(1), match.group(2)
    registry = getattr(get_registries(), _REGISTRY_OF.get(kind, ""), None)
    if registry is None or name not in registry:
        return None
    return PluginError(describe_failure(kind, registry.get(name), exc))
