"""A run resolved once: every name, parameter and size a RunConfig implies, checked and frozen.

``resolve_plan`` needs no TensorFlow, so ``cvkit train`` fails fast on a bad config before
anything heavy loads; the engine then reads the plan and never resolves a name again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from cvkit.contract.params import check_params
from cvkit.contract.plugins import get_registries
from cvkit.contract.registry import BackboneSpec, DatasetSpec, HeadSpec
from cvkit.data.augment import check_tasks, parse_augmentation
from cvkit.errors import CvkitError
from cvkit.models.backbone import check_input_size, default_image_size
from cvkit.training.config import RunConfig

Params = Mapping[str, Any]


@dataclass(frozen=True)
class RunPlan:
    """What a run trains: the specs behind each name, the task, and parameters with defaults applied.

    ``config`` is a copy of the user's config with ``image_size`` filled in; the user's own
    config is never changed.
    """

    config: RunConfig
    backbone: BackboneSpec
    head: HeadSpec
    dataset: DatasetSpec
    dataset_argument: str  # "/data" of "folder:/data"; "" when the dataset takes none
    task: str
    backbone_params: Params  # the variant's defaults merged with config.backbone_params
    head_params: Params  # the head's defaults merged with config.head_params
    augmentations: tuple[tuple[str, Params], ...]  # (registered name, parameters with defaults)
    image_size: int

    def augmentation_items(self) -> list[dict[str, Any]]:
        """The augmentations in the form ``build_augmentation`` takes."""
        return [{"name": name, **params} for name, params in self.augmentations]

    def mixes_labels(self) -> bool:
        """Whether a mixing augmentation (MixUp, CutMix) turns the labels into distributions."""
        registry = get_registries().augmentations
        return any(registry.get(name).effect == "mixing" for name, _ in self.augmentations)


def resolve_dataset(name: str) -> tuple[DatasetSpec, str]:
    """``"folder:/data"`` -> (the folder spec, ``"/data"``)."""
    base, sep, argument = name.partition(":")
    spec = get_registries().datasets.get(base)
    if sep and not spec.takes_argument:
        raise CvkitError(f"dataset {base!r} takes no argument; use --dataset {base}")
    return spec, argument


def task_mismatch(head: HeadSpec, dataset_tasks: frozenset[str], dataset: str) -> CvkitError:
    fitting = sorted(spec.name for spec in get_registries().heads if spec.tasks & dataset_tasks)
    return CvkitError(
        f"head {head.name!r} trains on {', '.join(sorted(head.tasks))}, but dataset {dataset!r} "
        f"only provides {', '.join(sorted(dataset_tasks))}; pick a head for that data "
        f"(--head {' / '.join(fitting) or 'none installed'}) or a dataset with {'/'.join(sorted(head.tasks))} labels"
    )


def pick_task(head: HeadSpec, dataset_tasks: frozenset[str], dataset: str) -> str:
    """The task a head trains on with this data set, or a clear error when none fits."""
    shared = sorted(head.tasks & dataset_tasks)
    if not shared:
        raise task_mismatch(head, dataset_tasks, dataset)
    return shared[0]


def parse_augmentations(items: list[Any]) -> tuple[tuple[str, Params], ...]:
    """``["flip", "crop(scale=0.8)"]`` (or dicts with a ``name``) -> registered names with checked parameters."""
    registry = get_registries().augmentations
    parsed = []
    for item in items:
        if isinstance(item, dict):
            name, params = item["name"], {k: v for k, v in item.items() if k != "name"}
        else:
            name, params = parse_augmentation(item)
        spec = registry.get(name)
        parsed.append((spec.name, _frozen(check_params(f"augmentation {spec.name}", spec.defaults, params))))
    return tuple(parsed)


def check_run_tta(run_dir: Any, tta: str | None) -> tuple[str, ...]:
    """``--tta`` checked against the task in a run directory's config.json, before TensorFlow loads."""
    from pathlib import Path

    from cvkit.models.tta_views import parse_tta
    from cvkit.training.config import read_run_config

    if not tta or not (Path(run_dir) / "config.json").is_file():
        return ()
    return parse_tta(tta, str(read_run_config(run_dir)[1].get("task") or "classification"))


def resolve_plan(config: RunConfig) -> RunPlan:
    """Check ``config`` and resolve every name in it, without TensorFlow; errors are one line."""
    config.validate()
    registries = get_registries()
    backbone = registries.backbones.get(config.arch)
    head = registries.heads.get(config.head)
    augmentations = parse_augmentations(config.augmentations)
    plan = _plan(config, backbone, head, augmentations=augmentations, task=None)
    check_tasks([name for name, _ in augmentations], plan.task)
    return plan


def plan_for_model(config: RunConfig, model: Any) -> RunPlan:
    """The plan of a trained model's run (``evaluate``, ``recalibrate``): its arch, head and task.

    Augmentations are left out: nothing trains, and a run stays readable when an augmentation
    plugin it used is gone.
    """
    registries = get_registries()
    backbone = registries.backbones.get(model.arch)
    head = registries.heads.get(model.head)
    return _plan(config, backbone, head, augmentations=(), task=model.task)


def _plan(config: RunConfig, backbone: BackboneSpec, head: HeadSpec, *,
          augmentations: tuple[tuple[str, Params], ...], task: str | None) -> RunPlan:
    backbone_params = check_params(backbone.name, backbone.defaults, config.backbone_params)
    check_memory_efficient(config, backbone)
    head_params = check_params(f"head {head.name}", head.defaults, _with_label_smoothing(config, head))
    dataset, argument = resolve_dataset(config.dataset)
    task = task or pick_task(head, dataset.tasks, config.dataset)
    image_size = config.image_size or default_image_size(backbone.min_input_size)
    check_input_size(backbone.name, (image_size, image_size), backbone.min_input_size)
    # a copy, so the plan does not change when the caller's config (or its dicts) does
    frozen_config = replace(config, image_size=image_size, augmentations=list(config.augmentations),
                            backbone_params=dict(config.backbone_params), head_params=dict(config.head_params))
    return RunPlan(
        config=frozen_config, backbone=backbone, head=head, dataset=dataset, dataset_argument=argument,
        task=task, backbone_params=_frozen(backbone_params), head_params=_frozen(head_params),
        augmentations=augmentations, image_size=image_size,
    )


def memory_efficient_archs() -> list[str]:
    """The archs whose builder takes ``memory_efficient`` (their defaults declare it)."""
    return [spec.name for spec in get_registries().backbones if "memory_efficient" in spec.defaults]


def check_memory_efficient(config: RunConfig, backbone: BackboneSpec) -> None:
    """Refuse ``--memory-efficient`` for an arch whose builder has no such mode."""
    if not isinstance(config.memory_efficient, bool):
        raise CvkitError(f"memory_efficient must be true or false, got {config.memory_efficient!r}")
    if config.memory_efficient and "memory_efficient" not in backbone.defaults:
        supported = ", ".join(memory_efficient_archs()) or "none installed"
        raise CvkitError(f"arch {backbone.name!r} has no memory-efficient mode; drop --memory-efficient "
                         f"or train one of: {supported}")


def _with_label_smoothing(config: RunConfig, head: HeadSpec) -> dict[str, Any]:
    """The head parameters with ``config.label_smoothing`` in them, for heads that take it."""
    if not config.label_smoothing:
        return dict(config.head_params)
    if "label_smoothing" not in head.defaults:
        raise CvkitError(f"head {head.name!r} does not take label smoothing; drop --label-smoothing "
                         f"or train a classification head")
    return {**config.head_params, "label_smoothing": config.label_smoothing}


def _frozen(params: dict[str, Any]) -> Params:
    return MappingProxyType(dict(params))
