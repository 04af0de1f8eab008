"""The plugin manager: entry-point discovery, one plugin at a time, broken ones isolated."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from cvkit.contract import hookspecs
from cvkit.errors import CvkitError, DuplicateNameError
from cvkit.contract.registry import Registries

if TYPE_CHECKING:
    import typer

ENTRY_POINT_GROUP = "cvkit"
LOAD_ENV = "CVKIT_LOAD_PLUGINS"
DISABLE_ENV = "CVKIT_DISABLE_PLUGIN_AUTOLOAD"
BUILTIN = "cvkit"

_HOOK_CALLBACKS = {
    "register_blocks": "block_callback",
    "register_backbones": "backbone_callback",
    "register_heads": "head_callback",
    "register_augmentations": "augmentation_callback",
    "register_datasets": "dataset_callback",
}


@dataclass
class PluginInfo:
    """What ``cvkit plugins`` shows about one plugin."""

    name: str
    distribution: str
    version: str
    module: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class PluginManager:
    """Loads plugins from the ``cvkit`` entry-point group and fills the registries.

    Each entry point is imported on its own; one that fails is recorded with its error and the
    others still load. Registries are built on first use.
    """

    def __init__(self, autoload: bool = True) -> None:
        self.pm = pluggy.PluginManager("cvkit")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._registries: Registries | None = None
        self._lock = threading.Lock()
        from cvkit.contract import builtin

        self.register(builtin, name=BUILTIN, distribution="cvkit-core")
        if autoload:
            self.load_entry_points()

    def register(self, plugin: Any, name: str, distribution: str | None = None) -> None:
        """Register a plugin object or module in-process (tests, notebooks)."""
        info = PluginInfo(
            name=name, distribution=distribution or name, version=_version(distribution),
            module=getattr(plugin, "__name__", type(plugin).__name__),
        )
        try:
            self.pm.register(plugin, name=name)
            self._check_hooks(name)
        except Exception as exc:  # a bad plugin must not take the others down
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            info.error = _one_line(exc)
        self.infos[name] = info
        self._registries = None

    def unregister(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        self.infos.pop(name, None)
        self._registries = None

    def load_entry_points(self) -> None:
        if os.environ.get(DISABLE_ENV, "").strip() not in ("", "0"):
            return
        wanted = _wanted_plugins()
        seen: set[str] = set()
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in seen or (wanted is not None and ep.name not in wanted):
                continue
            seen.add(ep.name)
            dist = ep.dist.name if ep.dist is not None else ep.value.split(":")[0]
            try:
                module = ep.load()
            except Exception as exc:
                self.infos[ep.name] = PluginInfo(
                    name=ep.name, distribution=dist, version=_version(dist),
                    module=ep.value, error=_one_line(exc),
                )
                continue
            self.register(module, name=ep.name, distribution=dist)

    def _check_hooks(self, name: str) -> None:
        plugin = self.pm.get_plugin(name)
        for caller in self.pm.get_hookcallers(plugin) or []:
            if caller.spec is None:
                raise CvkitError(f"implements unknown hook {caller.name!r}")

    @property
    def registries(self) -> Registries:
        with self._lock:
            if self._registries is None:
                self._registries = self._build_registries()
            return self._registries

    def _build_registries(self) -> Registries:
        registries = Registries()
        for hook_name, callback_name in _HOOK_CALLBACKS.items():
            caller = getattr(self.pm.hook, hook_name)
            # Oldest first, so the built-ins are registered before third parties.
            for impl in caller.get_hookimpls():
                register = getattr(registries, callback_name)(self._distribution(impl.plugin_name))
                try:
                    impl.function(register=register)
                except DuplicateNameError:
                    raise
                except Exception as exc:
                    self.infos[impl.plugin_name].error = f"{hook_name} failed: {_one_line(exc)}"
        return registries

    def _distribution(self, plugin_name: str) -> str:
        info = self.infos.get(plugin_name)
        return info.distribution if info else plugin_name

    def call_register_commands(self, app: typer.Typer) -> None:
        for impl in self.pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(app=app)
            except Exception as exc:
                self.infos[impl.plugin_name].error = f"register_commands failed: {_one_line(exc)}"


def _wanted_plugins() -> set[str] | None:
    raw = os.environ.get(LOAD_ENV)
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _version(distribution: str | None) -> str:
    if not distribution:
        return ""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_manager: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, created (and entry points loaded) on first use."""
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def reset_plugin_manager() -> None:
    """Forget all loaded plugins; the next use reloads them (honouring the environment)."""
    global _manager
    _manager = None


def get_registries() -> Registries:
    return get_plugin_manager().registries
