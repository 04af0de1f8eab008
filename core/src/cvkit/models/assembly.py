"""Assembling backbone x head into one serialisable Keras model, and loading it back."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from cvkit.runtime import import_keras

keras = import_keras()

from cvkit.contract.params import check_params
from cvkit.models.backbone import check_input_size
from cvkit.models.batchnorm import DEFAULT_BN_MOMENTUM, set_batch_norm_momentum
from cvkit.errors import CvkitError
from cvkit.models.head import TaskSpec
from cvkit.contract.plugins import get_registries
from cvkit.contract.registry import resolve_callable
from cvkit.models.preprocessing import preprocessing_layer


def _check_counts(num_classes: int, bn_momentum: float | None) -> None:
    if num_classes < 1:
        raise CvkitError(f"num_classes must be at least 1, got {num_classes}")
    if bn_momentum is not None and not 0 <= bn_momentum < 1:
        raise CvkitError(f"bn_momentum must be in [0, 1), got {bn_momentum}; 0.9 suits short runs, 0.99 long ones")


@keras.saving.register_keras_serializable(package="cvkit")
class CvkitModel(keras.Model):
    """A backbone with an optional task head, built from registry names.

    The model takes float images with pixel values in [0, 255]; scaling (to [-1, 1], or as
    ``preprocessing`` says for ImageNet weights) happens inside, so training, prediction and
    export share one preprocessing. ``get_config`` returns
    only the constructor arguments: loading rebuilds the graph through the registries, so the
    plugins that built a model must be installed to load it.
    """

    def __init__(
        self,
        arch: str,
        head: str | None = "classification",
        num_classes: int = 1000,
        input_shape: tuple[int | None, int | None, int] | None = None,
        include_top: bool = True,
        backbone_params: dict[str, Any] | None = None,
        head_params: dict[str, Any] | None = None,
        task: str | None = None,
        class_names: list[str] | None = None,
        bn_momentum: float | None = DEFAULT_BN_MOMENTUM,
        preprocessing: str = "tf",
        **kwargs: Any,
    ):
        registries = get_registries()
        spec = registries.backbones.get(arch)
        arch = spec.name
        params = check_params(arch, spec.defaults, backbone_params or {})
        input_shape = tuple(input_shape or spec.input_shape)
        check_input_size(arch, input_shape, spec.min_input_size)
        _check_counts(num_classes, bn_momentum)

        inputs = keras.Input(shape=input_shape, name="images")
        x = preprocessing_layer(preprocessing)(inputs)
        features = spec.load()(x, include_top=include_top and head is not None, **params)
        features.inputs = x
        ends = [features.last, features.pooled, *(aux for aux, _ in features.aux.values())]

        head_spec = None
        if include_top and head is not None:
            head_spec = registries.heads.get(head)
            task = task or sorted(head_spec.tasks)[0]
            task_spec = TaskSpec(task=task, num_classes=num_classes, class_names=tuple(class_names or ()))
            head_params = check_params(f"head {head_spec.name}", head_spec.defaults, head_params or {})
            outputs = resolve_callable(head_spec.build)(features, task_spec, **head_params)
        else:
            outputs = features.last
        super().__init__(inputs=inputs, outputs=outputs, name=kwargs.pop("name", arch), **kwargs)
        if bn_momentum is not None:
            set_batch_norm_momentum(self, bn_momentum)

        self.feature_maps = features.maps
        self.arch = arch
        self.head = head_spec.name if head_spec else None
        # the distributions to name if a saved copy is loaded where they are not installed
        self.distributions = {"arch": spec.plugin, **({"head": head_spec.plugin} if head_spec else {})}
        self.num_classes = num_classes
        self.image_shape = input_shape
        self.include_top = include_top
        self.backbone_params = dict(backbone_params or {})
        self.head_params = dict(head_params or {}) if head_spec else {}
        self.task = task if head_spec else None
        self.class_names = list(class_names or [])
        self.bn_momentum = bn_momentum
        self.preprocessing = preprocessing
        # the layers whose outputs end the backbone: transfer learning tells backbone from head
        self.backbone_ends = [t._keras_history.operation.name for t in ends if t is not None]

    @property
    def task_spec(self) -> TaskSpec:
        return TaskSpec(task=self.task or "classification", num_classes=self.num_classes,
                        class_names=tuple(self.class_names))

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "arch": self.arch,
            "head": self.head,
            "num_classes": self.num_classes,
            "input_shape": list(self.image_shape),
            "include_top": self.include_top,
            "backbone_params": self.backbone_params,
            "head_params": self.head_params,
            "task": self.task,
            "class_names": self.class_names,
            "bn_momentum": self.bn_momentum,
            "preprocessing": self.preprocessing,
            "distributions": self.distributions,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CvkitModel:
        config = dict(config)
        config["input_shape"] = tuple(config["input_shape"])
        config.setdefault("bn_momentum", None)  # saved before cvkit set it: keep the layers' own
        config.pop("distributions", None)  # recomputed from the installed plugins
        return cls(**config)


def create_model(
    arch: str,
    head: str | None = "classification",
    num_classes: int = 1000,
    input_shape: tuple[int | None, int | None, int] | None = None,
    include_top: bool = True,
    head_params: dict[str, Any] | None = None,
    task: str | None = None,
    class_names: list[str] | None = None,
    bn_momentum: float | None = DEFAULT_BN_MOMENTUM,
    preprocessing: str = "tf",
    **overrides: Any,
) -> CvkitModel:
    """Build ``arch`` (a variant or family name) with ``head`` on top.

    ``overrides`` change the variant's parameters (``growth_rate=12``); a name the family does
    not have is an error listing the valid ones. ``include_top=False`` returns the bare
    backbone, whose output is the deepest feature map; ``model.feature_maps`` maps strides to
    tensors for dense heads. ``bn_momentum`` is given to every BatchNormalization layer (None
    keeps what the backbone chose); see :mod:`cvkit.models.batchnorm`. ``preprocessing`` is how
    the model scales its [0, 255] input: ``"tf"`` to [-1, 1], or the ``"caffe"``/``"torch"``/
    ``"none"`` mode of ImageNet weights (:mod:`cvkit.models.pretrained`).
    """
    return CvkitModel(
        arch=arch, head=head, num_classes=num_classes, input_shape=input_shape,
        include_top=include_top, backbone_params=overrides, head_params=head_params, task=task,
        class_names=class_names, bn_momentum=bn_momentum, preprocessing=preprocessing,
    )


def _registered_names(config: Any) -> set[str]:
    """Every ``registered_name`` in a saved Keras config tree."""
    found: set[str] = set()
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("registered_name"), str):
                found.add(node["registered_name"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def read_saved_config(path: str | Path) -> dict[str, Any]:
    """The top-level config stored in a ``.keras`` file, without building anything."""
    path = Path(path)
    if not path.is_file():
        raise CvkitError(f"model file {path} does not exist; train a model first (cvkit train)")
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise CvkitError(f"{path} is not a Keras model file ({exc}); point at a model.keras written by cvkit") from None


def load_model(path: str | Path) -> keras.Model:
    """Load a ``.keras`` file written by cvkit, checking first that its plugins are installed."""
    config = read_saved_config(path)
    registries = get_registries()
    inner = config.get("config", {})
    for kind, registry, key in (("arch", registries.backbones, "arch"), ("head", registries.heads, "head")):
        name = inner.get(key)
        if name and name not in registry:
            distribution = (inner.get("distributions") or {}).get(key)
            fix = f"install {distribution}" if distribution else "install the plugin that registers it"
            raise CvkitError(
                f"{path} was built with {kind} {name!r}, which no installed plugin provides; "
                f"{fix} (`cvkit list` shows what is installed)"
            )
    for registered in _registered_names(config):
        package, sep, _ = registered.partition(">")
        if sep and package not in ("keras", "cvkit") and keras.saving.get_registered_object(registered) is None:
            _import_plugin_package(package)
            if keras.saving.get_registered_object(registered) is None:
                raise CvkitError(
                    f"{path} uses the layer {registered!r}, which no installed plugin provides; "
                    f"install the plugin package {package!r}"
                )
    return keras.saving.load_model(path, compile=False, safe_mode=True)  # no arbitrary code from the file


def _import_plugin_package(package: str) -> None:
    """Custom layers register when their module imports; try the package's ``layers`` module."""
    import importlib

    for module in (f"{package}.layers", package):
        try:
            importlib.import_module(module)
        except ImportError:
            continue


def count_params(model: keras.Model) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    import numpy as np

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    total = sum(int(np.prod(w.shape)) for w in model.weights)
    return trainable, total
