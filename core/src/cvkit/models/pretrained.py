"""ImageNet weights from keras.applications twins, mapped onto cvkit variants.

A variant whose architecture keras.applications also has registers an :class:`ImagenetWeights`
(``register(name, ..., imagenet=ImagenetWeights(...))``). ``--weights imagenet`` then builds
the variant with the twin's layout (``backbone_overrides``) and preprocessing, finds the twin's
weight file where Keras keeps it, reads it (the legacy Keras HDF5 layout of the published
files) and lets the variant's ``convert`` function set the weights. Where the file comes from
is never written here: it is read at run time from the keras.applications module's constants.

Importing this module is cheap: Keras, NumPy and h5py load inside the functions that use them.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cvkit.errors import CvkitError

if TYPE_CHECKING:
    import numpy as np

PREPROCESSING_MODES = ("caffe", "tf", "torch", "none")
TOP_LAYER = "predictions"  # the twin's and cvkit's classification layer
IMAGENET_CLASSES = 1000
SHOWN_MISMATCHES = 3  # layers named in a mismatch error


class WeightConverter(Protocol):
    def __call__(self, source: Mapping[str, list[np.ndarray]], model: Any) -> None: ...


@dataclass(frozen=True)
class WeightsFile:
    """A published weight file: its name in the Keras cache, where Keras fetches it, its hash."""

    name: str
    origin: str
    file_hash: str | None = None


@dataclass(frozen=True)
class ImagenetWeights:
    """How a cvkit variant takes the weights of its keras.applications twin.

    ``application`` is the keras.applications attribute (``"ResNet50"``); ``preprocessing`` the
    twin's ``preprocess_input`` mode, built into the cvkit model; ``convert`` (a
    :class:`WeightConverter` or ``"module:function"``) sets the weights; ``backbone_overrides``
    are builder parameters the weights need (``{"stride_on": "1x1"}``). ``weights_file`` (a
    callable returning a :class:`WeightsFile`, or ``"module:function"``) names the file when
    :func:`default_weights_file` cannot work it out from the application's module.
    """

    application: str
    preprocessing: str
    convert: WeightConverter | str
    backbone_overrides: Mapping[str, Any] = field(default_factory=dict)
    weights_file: Callable[[], WeightsFile] | str | None = None

    def __post_init__(self) -> None:
        if self.preprocessing not in PREPROCESSING_MODES:
            raise ValueError(f"preprocessing must be one of {PREPROCESSING_MODES}, got {self.preprocessing!r}")

    @property
    def model_preprocessing(self) -> str:
        """The cvkit model's preprocessing mode: the twin's, taking grayscale images as RGB."""
        return "tf_rgb" if self.preprocessing == "tf" else self.preprocessing

    def load_converter(self) -> WeightConverter:
        from cvkit.contract.registry import resolve_callable

        return resolve_callable(self.convert)

    def file(self) -> WeightsFile:
        if self.weights_file is None:
            return default_weights_file(self.application)
        from cvkit.contract.registry import resolve_callable

        return resolve_callable(self.weights_file)()


def application_module(application: str) -> Any:
    """The module defining keras.applications' ``application`` (where its constants live)."""
    import keras

    builder = getattr(keras.applications, application, None)
    if builder is None:
        raise CvkitError(f"keras.applications has no {application!r}; this Keras version cannot give its weights")
    return importlib.import_module(builder.__module__)


def default_weights_file(application: str) -> WeightsFile:
    """The file with top of ``application``, from its module's constants.

    Knows the three layouts keras.applications uses: one path constant per model
    (``DENSENET121_WEIGHT_PATH``), one per module (``WEIGHTS_PATH``), or a base path plus
    ``<model>_weights_tf_dim_ordering_tf_kernels.h5`` with ``WEIGHTS_HASHES`` (ResNet).
    """
    module = application_module(application)
    key = application.lower()
    for constant in (f"{application.upper()}_WEIGHT_PATH", "WEIGHTS_PATH"):
        origin = getattr(module, constant, None)
        if isinstance(origin, str):
            return WeightsFile(name=origin.rsplit("/", 1)[-1], origin=origin)
    base, hashes = getattr(module, "BASE_WEIGHTS_PATH", None), getattr(module, "WEIGHTS_HASHES", {})
    if isinstance(base, str) and key in hashes:
        name = f"{key}_weights_tf_dim_ordering_tf_kernels.h5"
        return WeightsFile(name=name, origin=base + name, file_hash=hashes[key][0])
    raise CvkitError(f"cannot tell the weight file of keras.applications.{application}; "
                     f"the plugin must give ImagenetWeights(weights_file=...)")


def keras_models_dir() -> Path:
    """Where Keras keeps downloaded weights: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "models"


def find_weights_file(weights: ImagenetWeights) -> Path:
    """The twin's weight file: from the Keras cache, else fetched by Keras, else a one-line error."""
    import keras

    wanted = weights.file()
    for directory in dict.fromkeys((keras_models_dir(), Path.home() / ".keras" / "models")):
        if (directory / wanted.name).is_file():
            return directory / wanted.name
    try:
        return Path(keras.utils.get_file(wanted.name, wanted.origin, file_hash=wanted.file_hash,
                                         cache_subdir="models"))
    except Exception:  # no network, a proxy, a bad hash: all end in the same advice
        raise CvkitError(
            f"the ImageNet weights of {weights.application} ({wanted.name}) are not on this machine and "
            f"could not be downloaded; put {wanted.name} in {keras_models_dir()} (or set KERAS_HOME)"
        ) from None


def read_h5_weights(path: str | Path) -> dict[str, list[np.ndarray]]:
    """A legacy Keras HDF5 weight file as ``{layer name: arrays in the file's order}``.

    Reads the layout of Keras' published files (attributes ``layer_names`` and
    ``weight_names``), also inside a whole-model file's ``model_weights`` group. Keras 2 layer
    names with ``/`` (``conv1/conv``) read as Keras 3 spells them (``conv1_conv``).
    """
    import h5py
    import numpy as np

    try:
        with h5py.File(path, "r") as file:
            group = file["model_weights"] if "model_weights" in file and not _h5_names(file, "layer_names") else file
            layers = _h5_names(group, "layer_names")
            if not layers:
                raise CvkitError(f"{path} is not a Keras HDF5 weight file (no layer_names); "
                                 f"use the file keras.applications publishes")
            weights = {}
            for layer in layers:
                names = _h5_names(group[layer], "weight_names")
                if names:
                    weights[layer.replace("/", "_")] = [np.asarray(group[layer][n]) for n in names]
            return weights
    except OSError as exc:
        raise CvkitError(f"cannot read the weight file {path} ({exc}); delete it so it is fetched again") from None


def _h5_names(group: Any, attribute: str) -> list[str]:
    """A list attribute, also when Keras split a long one into ``name0``, ``name1``..."""
    if attribute in group.attrs:
        chunks = [group.attrs[attribute]]
    else:
        chunks, index = [], 0
        while f"{attribute}{index}" in group.attrs:
            chunks.append(group.attrs[f"{attribute}{index}"])
            index += 1
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for chunk in chunks for n in chunk]


def assign(layer: Any, arrays: list[np.ndarray], source: str = "") -> None:
    """``layer.set_weights(arrays)`` after checking the count and every shape (one-line error)."""
    expected = [tuple(w.shape) for w in layer.weights]
    given = [tuple(a.shape) for a in arrays]
    if expected != given:
        raise CvkitError(f"weights of {source or layer.name!r} have shapes {given}, but layer {layer.name!r} "
                         f"takes {expected}; the file is for another architecture or variant")
    layer.set_weights(arrays)


def fold_bias_into_batchnorm(conv_bias: np.ndarray, bn_arrays: list[np.ndarray]) -> list[np.ndarray]:
    """BN(conv + bias) as a BN after a bias-free conv: the bias moves into the moving mean.

    ``bn_arrays`` are (gamma, beta, moving_mean, moving_variance) or without gamma/beta when
    the layer does not scale/centre; the moving mean is the second to last.
    """
    folded = [a.copy() for a in bn_arrays]
    folded[-2] = folded[-2] - conv_bias
    return folded


def match_batchnorm_epsilon(bn_arrays: list[np.ndarray], source_epsilon: float, epsilon: float) -> list[np.ndarray]:
    """Arrays for a BN with ``epsilon`` that normalise as the source's did with ``source_epsilon``."""
    adjusted = [a.copy() for a in bn_arrays]
    adjusted[-1] = adjusted[-1] + (source_epsilon - epsilon)
    return adjusted


def mismatch_error(what: str, names: list[str]) -> CvkitError:
    shown = ", ".join(names[:SHOWN_MISMATCHES]) + (f" and {len(names) - SHOWN_MISMATCHES} more"
                                                   if len(names) > SHOWN_MISMATCHES else "")
    return CvkitError(f"{what} does not fit this model: the first layers that do not match are {shown}; "
                      f"use a file written for the same --arch")


def imagenet_variants() -> list[str]:
    """Every registered variant that can take ImageNet weights."""
    from cvkit.contract.plugins import get_registries

    return [spec.name for spec in get_registries().backbones if getattr(spec, "imagenet", None)]


def imagenet_weights_of(arch: str) -> ImagenetWeights:
    """The ImageNet spec of ``arch``, or a one-line error listing the variants that have one."""
    from cvkit.contract.plugins import get_registries

    spec = get_registries().backbones.get(arch)
    if spec.imagenet is None:
        raise CvkitError(f"--weights imagenet: {spec.name} has no keras.applications twin to take weights from; "
                         f"variants with ImageNet weights: {', '.join(imagenet_variants()) or 'none installed'}")
    return spec.imagenet


def load_twin_weights(source: Mapping[str, list[np.ndarray]], model: Any, *,
                      rename: Callable[[str], str] | None = None, source_bn_epsilon: float | None = None) -> None:
    """The usual converter: every twin layer by (renamed) name, the 1000-class top when it fits
    (:func:`cvkit.models.transfer.load_by_name` says how biases and BN epsilons convert)."""
    from cvkit.models.transfer import load_by_name

    load_by_name(model, source, what=f"the ImageNet weights file of {model.arch}", rename=rename,
                 source_head={TOP_LAYER}, source_bn_epsilon=source_bn_epsilon)


def load_imagenet_weights(model: Any, path: str | Path | None = None) -> None:
    """Set a CvkitModel's weights from its twin's file (``path``, or the one Keras keeps).

    The model must be built with the twin's ``backbone_overrides`` and ``model_preprocessing``
    (``--weights imagenet`` does so). The 1000-class top loads when the model has one.
    """
    weights = imagenet_weights_of(model.arch)
    source = read_h5_weights(Path(path) if path else find_weights_file(weights))
    weights.load_converter()(source, model)
