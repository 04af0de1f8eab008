"""Name -> spec registries, each entry remembering the plugin that registered it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cvkit.errors import DuplicateNameError, PluginError, UnknownNameError

if TYPE_CHECKING:
    from cvkit.contract.hookspecs import (
        AugmentationBuilder,
        BackboneBuilder,
        BlockFn,
        DatasetLoader,
        HeadBuilder,
        HeadObjectives,
        HeadPostprocess,
        HeadTargets,
        RegisterAugmentation,
        RegisterBackbone,
        RegisterBlock,
        RegisterDataset,
        RegisterHead,
    )
    from cvkit.models.pretrained import ImagenetWeights

TASKS = ("classification", "localization", "segmentation", "detection")
# What an augmentation does to boxes and masks: moves them with the pixels, leaves them (colour
# only), or leaves them while filling patches of pixels (random erasing, cutout); a mixing one
# blends pairs of samples and their labels (MixUp, CutMix).
AUGMENTATION_EFFECTS = ("geometric", "photometric", "erasing", "mixing")


def resolve_callable(ref: Callable | str) -> Callable:
    """Turn a ``"module:function"`` reference into the function (callables pass through)."""
    if callable(ref):
        return ref
    module_name, _, attr = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"cannot load {ref!r}: {exc}; reinstall the plugin that provides it") from exc
    return obj


def _frozen(mapping: Mapping | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Spec:
    """Common fields of every registered thing."""

    name: str
    plugin: str
    description: str = ""


@dataclass(frozen=True)
class BlockSpec(Spec):
    fn: BlockFn | str = ""

    def load(self) -> BlockFn:
        return resolve_callable(self.fn)


@dataclass(frozen=True)
class BackboneSpec(Spec):
    build: BackboneBuilder | str = ""
    family: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    input_shape: tuple[int, int, int] = (224, 224, 3)
    paper: str = ""
    default: bool = False
    min_input_size: int = 32
    training_overrides: Mapping[str, Any] = field(default_factory=dict)
    tiny: Mapping[str, Any] = field(default_factory=dict)
    imagenet: ImagenetWeights | None = None  # how the variant takes its keras.applications twin's weights

    def load(self) -> BackboneBuilder:
        return resolve_callable(self.build)


@dataclass(frozen=True)
class HeadSpec(Spec):
    build: HeadBuilder | str = ""
    objectives: HeadObjectives | str = ""
    targets: HeadTargets | str = ""
    tasks: frozenset[str] = frozenset()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    postprocess: HeadPostprocess | str | None = None  # raw outputs -> final detections (detection heads)

    def load_postprocess(self) -> HeadPostprocess | None:
        return resolve_callable(self.postprocess) if self.postprocess else None


@dataclass(frozen=True)
class AugmentationSpec(Spec):
    build: AugmentationBuilder | str = ""
    family: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    geometric: bool = False
    effect: str = ""  # one of AUGMENTATION_EFFECTS; empty: derived from ``geometric``
    tasks: frozenset[str] = frozenset()  # the tasks it supports; empty: every task
    # parameter -> (value at magnitude 0, value at magnitude 10): how RandAugment scales it
    magnitude: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        effect = self.effect or ("geometric" if self.geometric else "photometric")
        if effect not in AUGMENTATION_EFFECTS:
            raise PluginError(f"augmentation {self.name!r} from {self.plugin!r} has effect {effect!r}; "
                              f"use one of {list(AUGMENTATION_EFFECTS)}")
        unknown = sorted(set(self.tasks) - set(TASKS)) + sorted(set(self.magnitude) - set(self.defaults))
        if unknown:
            raise PluginError(f"augmentation {self.name!r} from {self.plugin!r} names unknown tasks or "
                              f"parameters {unknown}; tasks are {list(TASKS)}, parameters its defaults' keys")
        object.__setattr__(self, "effect", effect)
        object.__setattr__(self, "geometric", effect == "geometric")

    def load(self) -> AugmentationBuilder:
        return resolve_callable(self.build)

    def supports(self, task: str) -> bool:
        return not self.tasks or task in self.tasks

    def at_magnitude(self, magnitude: float) -> dict[str, Any]:
        """Its parameters at a RandAugment magnitude, 0 (none) to 10 (the strongest it is scaled to)."""
        if not 0 <= magnitude <= 10:
            raise PluginError(f"magnitude must be in [0, 10], got {magnitude}")
        share = magnitude / 10.0
        scaled = {key: low + share * (high - low) for key, (low, high) in self.magnitude.items()}
        return {**self.defaults, **scaled}


@dataclass(frozen=True)
class DatasetSpec(Spec):
    load: DatasetLoader | str = ""
    tasks: frozenset[str] = frozenset()
    takes_argument: bool = False


S = TypeVar("S", bound=Spec)


class Registry(Generic[S]):
    """Names of one kind (``"arch"``, ``"head"``...) mapped to their specs."""

    def __init__(self, kind: str):
        self.kind = kind
        self._specs: dict[str, S] = {}
        self._aliases: dict[str, str] = {}

    def add(self, spec: S) -> None:
        taken = self._specs.get(spec.name)
        if taken is not None:
            raise DuplicateNameError(
                f"{self.kind} {spec.name!r} is registered by two plugins, {taken.plugin!r} and "
                f"{spec.plugin!r}; uninstall one of them or disable it with CVKIT_LOAD_PLUGINS"
            )
        self._specs[spec.name] = spec

    def alias(self, alias: str, target: str) -> None:
        if alias not in self._specs:
            self._aliases[alias] = target

    def get(self, name: str) -> S:
        name = self._aliases.get(name, name)
        if name not in self._specs:
            raise UnknownNameError(self.kind, name, [*self._specs, *self._aliases])
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs or name in self._aliases

    def __iter__(self) -> Iterator[S]:
        return iter(sorted(self._specs.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)


class Registries:
    """All registries, filled by the plugins' ``register_*`` hooks."""

    def __init__(self) -> None:
        self.blocks: Registry[BlockSpec] = Registry("block")
        self.backbones: Registry[BackboneSpec] = Registry("arch")
        self.heads: Registry[HeadSpec] = Registry("head")
        self.augmentations: Registry[AugmentationSpec] = Registry("augmentation")
        self.datasets: Registry[DatasetSpec] = Registry("dataset")

    # One callback per hook; ``plugin`` is bound by the plugin manager.

    def block_callback(self, plugin: str) -> RegisterBlock:
        def register(name: str, fn: BlockFn | str, *, description: str = "") -> None:
            self.blocks.add(BlockSpec(name=name, plugin=plugin, fn=fn, description=description))

        return register

    def backbone_callback(self, plugin: str) -> RegisterBackbone:
        def register(
            name: str,
            *,
            build: BackboneBuilder | str,
            family: str,
            defaults: Mapping[str, Any] | None = None,
            input_shape: tuple[int, int, int] = (224, 224, 3),
            paper: str = "",
            description: str = "",
            default: bool = False,
            min_input_size: int = 32,
            training_overrides: Mapping[str, Any] | None = None,
            tiny: Mapping[str, Any] | None = None,
            imagenet: ImagenetWeights | None = None,
        ) -> None:
            spec = BackboneSpec(
                name=name, plugin=plugin, description=description, build=build, family=family,
                defaults=_frozen(defaults), input_shape=tuple(input_shape), paper=paper,
                default=default, min_input_size=min_input_size,
                training_overrides=_frozen(training_overrides), tiny=_frozen(tiny), imagenet=imagenet,
            )
            self.backbones.add(spec)
            if default:
                self.backbones.alias(family, name)

        return register

    def head_callback(self, plugin: str) -> RegisterHead:
        def register(
            name: str,
            *,
            build: HeadBuilder | str,
            objectives: HeadObjectives | str,
            targets: HeadTargets | str,
            tasks: Collection[str],
            defaults: Mapping[str, Any] | None = None,
            description: str = "",
            postprocess: HeadPostprocess | str | None = None,
        ) -> None:
            unknown = set(tasks) - set(TASKS)
            if unknown:
                raise PluginError(f"head {name!r} from {plugin!r} names unknown tasks {sorted(unknown)}; use {list(TASKS)}")
            self.heads.add(HeadSpec(
                name=name, plugin=plugin, description=description, build=build,
                objectives=objectives, targets=targets, tasks=frozenset(tasks),
                defaults=_frozen(defaults), postprocess=postprocess,
            ))

        return register

    def augmentation_callback(self, plugin: str) -> RegisterAugmentation:
        def register(
            name: str,
            *,
            build: AugmentationBuilder | str,
            family: str,
            defaults: Mapping[str, Any] | None = None,
            description: str = "",
            geometric: bool = False,
            effect: str = "",
            tasks: Collection[str] | None = None,
            magnitude: Mapping[str, tuple[float, float]] | None = None,
        ) -> None:
            self.augmentations.add(AugmentationSpec(
                name=name, plugin=plugin, description=description, build=build, family=family,
                defaults=_frozen(defaults), geometric=geometric, effect=effect,
                tasks=frozenset(tasks or ()), magnitude=_frozen(magnitude),
            ))

        return register

    def dataset_callback(self, plugin: str) -> RegisterDataset:
        def register(
            name: str,
            *,
            load: DatasetLoader | str,
            tasks: Collection[str],
            description: str = "",
            takes_argument: bool = False,
        ) -> None:
            self.datasets.add(DatasetSpec(
                name=name, plugin=plugin, description=description, load=load,
                tasks=frozenset(tasks), takes_argument=takes_argument,
            ))

        return register
