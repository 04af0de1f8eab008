"""cvkit: a plugin-based computer-vision toolkit on Keras 3.

This module is the public API. Plugins import only names from here. Importing ``cvkit`` is
cheap; names that need Keras (``create_model``, ``load_model``, ``CvkitModel``...) import it
on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from cvkit.backend import BACKENDS, set_backend
from cvkit.contract.params import check_params
from cvkit.models.backbone import (
    FEATURE_STRIDES,
    Features,
    check_input_size,
    default_image_size,
    register_variants,
    required_feature_strides,
)
from cvkit.data.splits import BOX_FORMAT, DatasetInfo, DatasetSplits, read_image, split_indices
from cvkit.data.statistics import DatasetStatistics, RgbPca
from cvkit.data.detection import largest_box_labels, pad_detection_boxes
from cvkit.data.coco_map import DetectionResult, DetectionTruth, coco_average_precision
from cvkit.data.augment import build_augmentation
from cvkit.errors import CvkitError, DuplicateNameError, PluginError, UnknownNameError
from cvkit.models.head import DETECTION_DEFAULTS, DetectionThresholds, Objectives, TaskSpec
from cvkit.contract.hookimpl import hookimpl
from cvkit.contract.hookspecs import (  # the contract's types, for annotating plugins
    Augmentation,
    AugmentationBuilder,
    BackboneBuilder,
    BlockFn,
    DatasetLoader,
    HeadBuilder,
    HeadObjectives,
    HeadPostprocess,
    HeadTargets,
    NativeTop,
    RegisterAugmentation,
    RegisterBackbone,
    RegisterBlock,
    RegisterDataset,
    RegisterHead,
)
from cvkit.contract.plugins import PluginInfo, get_plugin_manager, get_registries, reset_plugin_manager
from cvkit.contract.registry import (
    TASKS,
    AugmentationSpec,
    BackboneSpec,
    BlockSpec,
    DatasetSpec,
    HeadSpec,
    resolve_callable,
)
from cvkit.models.pretrained import ImagenetWeights

__version__ = "0.1.0"

# Public names whose modules import Keras or TensorFlow: loaded on first access.
_LAZY = {
    "CvkitModel": "cvkit.models.assembly",
    "create_model": "cvkit.models.assembly",
    "load_model": "cvkit.models.assembly",
    "count_params": "cvkit.models.assembly",
    "count_macs": "cvkit.insight.info",
    "model_summary": "cvkit.insight.info",
    "splits_from_arrays": "cvkit.data.splits",
    "to_example": "cvkit.data.splits",
    "global_pool": "cvkit.layers",
    "RunConfig": "cvkit.training.config",
    "train": "cvkit.training.run",
    "TrainResult": "cvkit.training.run",
    "evaluate": "cvkit.training.evaluation",
    "predict": "cvkit.serve.predict",
    "export_savedmodel": "cvkit.serve.export",
    "detection_scores": "cvkit.models.detection",
}

if TYPE_CHECKING:
    from cvkit.layers import global_pool
    from cvkit.training.config import RunConfig
    from cvkit.data.splits import splits_from_arrays, to_example
    from cvkit.serve.export import export_savedmodel
    from cvkit.insight.info import count_macs, model_summary
    from cvkit.models.detection import detection_scores
    from cvkit.models.assembly import CvkitModel, count_params, create_model, load_model
    from cvkit.serve.predict import predict
    from cvkit.training.evaluation import evaluate
    from cvkit.training.run import TrainResult, train


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cvkit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def get_block(name: str):
    """The block function registered under ``name``: a swap point plugins may replace.

    Generic layers are not registered; import them from :mod:`cvkit.layers`.
    """
    return get_registries().blocks.get(name).load()


def get_backbone(name: str) -> BackboneSpec:
    """The spec of an arch, by variant or family name."""
    return get_registries().backbones.get(name)


def list_backbones() -> list[str]:
    """Names of every registered backbone variant."""
    return get_registries().backbones.names()


def list_heads() -> list[str]:
    return get_registries().heads.names()


def list_augmentations() -> list[str]:
    return get_registries().augmentations.names()


def list_datasets() -> list[str]:
    return get_registries().datasets.names()


def list_blocks() -> list[str]:
    return get_registries().blocks.names()


def list_plugins() -> list[PluginInfo]:
    """Every plugin found, loaded or failed (a failed one carries its error)."""
    return list(get_plugin_manager().infos.values())


def register_plugin(plugin: Any, name: str) -> None:
    """Register a plugin module or object in this process, as if it had an entry point."""
    get_plugin_manager().register(plugin, name=name)


def unregister_plugin(name: str) -> None:
    get_plugin_manager().unregister(name)


__all__ = [
    "Augmentation", "AugmentationBuilder", "BackboneBuilder", "BlockFn", "DatasetLoader", "HeadBuilder",
    "HeadObjectives", "HeadTargets", "NativeTop", "RegisterAugmentation", "RegisterBackbone", "RegisterBlock",
    "RegisterDataset", "RegisterHead",
    "BOX_FORMAT", "FEATURE_STRIDES", "TASKS", "AugmentationSpec", "BackboneSpec", "BlockSpec",
    "CvkitError", "CvkitModel", "DatasetInfo", "DetectionResult", "DetectionTruth", "coco_average_precision", "detection_scores", "DatasetSpec", "DatasetSplits", "DuplicateNameError",
    "DatasetStatistics", "RgbPca", "Features", "HeadSpec", "ImagenetWeights", "Objectives", "PluginError", "PluginInfo",
    "RunConfig", "TaskSpec", "TrainResult",
    "UnknownNameError", "build_augmentation", "check_input_size", "check_params", "count_macs", "count_params",
    "create_model", "default_image_size", "evaluate", "export_savedmodel", "get_backbone", "get_block",
    "get_plugin_manager", "get_registries", "global_pool", "hookimpl", "largest_box_labels", "list_augmentations",
    "list_backbones", "list_blocks", "list_datasets", "list_heads", "list_plugins", "load_model",
    "model_summary", "pad_detection_boxes", "predict", "read_image", "register_plugin", "register_variants", "required_feature_strides",
    "reset_plugin_manager",
    "resolve_callable", "split_indices", "splits_from_arrays", "to_example", "train",
    "unregister_plugin",
    "DETECTION_DEFAULTS", "DetectionThresholds", "HeadPostprocess",
    "BACKENDS", "set_backend",
]
