"""``--weights``: start a run from another cvkit run's weights, or from ImageNet's.

A file of another run (``RUN/model.keras``, a checkpoint, a ``.weights.h5``) loads by layer
name after the model is built: the backbone must fit (else one line names the first layers
that do not), the head loads when it fits and otherwise starts fresh, and the run says so in
one line. ``imagenet`` builds the variant as its keras.applications twin was trained (stride
layout, input preprocessing) and loads the twin's weights (:mod:`cvkit.models.pretrained`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cvkit.contract.registry import BackboneSpec
from cvkit.errors import CvkitError
from cvkit.training.config import RunConfig

IMAGENET = "imagenet"
FILE_SUFFIXES = (".keras", ".weights.h5")


def check_weights_option(config: RunConfig, backbone: BackboneSpec) -> None:
    """Refuse a ``--weights`` value that cannot work, before anything is built (no TensorFlow)."""
    if config.weights is None:
        return
    if config.weights == IMAGENET:
        from cvkit.models.pretrained import imagenet_weights_of

        needed = imagenet_weights_of(backbone.name).backbone_overrides
        for key, value in config.backbone_params.items():
            if key in needed and value != needed[key]:
                raise CvkitError(f"--weights imagenet needs {key}={needed[key]!r} for {backbone.name} "
                                 f"(the layout the weights were trained with); drop --set {key}={value}")
        return
    path = Path(config.weights)
    if not path.name.endswith(FILE_SUFFIXES):
        raise CvkitError(f"--weights {path}: pass a .keras or .weights.h5 file of another cvkit run "
                         f"(such as RUN/model.keras), or imagenet")
    if not path.is_file():
        raise CvkitError(f"--weights {path}: no such file; pass the model.keras of a finished cvkit run, "
                         f"or a checkpoint from its checkpoints directory")


def build_options(config: RunConfig, backbone: BackboneSpec) -> dict[str, Any]:
    """Extra ``create_model`` arguments the weights need: their preprocessing and layout.

    A ``.keras`` file of the same arch also gives its backbone parameters (a run fine-tuned
    from ImageNet weights keeps their stride layout), under the user's own ``--set``.
    """
    if config.weights is None:
        return {}
    if config.weights == IMAGENET:
        imagenet = backbone.imagenet
        return {"preprocessing": imagenet.model_preprocessing, **imagenet.backbone_overrides}
    if not config.weights.endswith(".keras"):
        return {}
    from cvkit.models.assembly import read_saved_config

    saved = read_saved_config(config.weights).get("config", {})
    same_arch = saved.get("arch") == backbone.name
    return {"preprocessing": saved.get("preprocessing", "tf"), **(saved.get("backbone_params") or {} if same_arch else {})}


def load_start_weights(model: Any, config: RunConfig) -> str | None:
    """Load ``config.weights`` into the freshly built ``model``; returns the line the run prints."""
    if config.weights is None:
        return None
    if config.weights == IMAGENET:
        from cvkit.models.pretrained import IMAGENET_CLASSES, load_imagenet_weights

        load_imagenet_weights(model)
        if model.task == "classification" and model.num_classes == IMAGENET_CLASSES:
            return f"--weights imagenet: loaded {model.arch}'s ImageNet weights, the 1000-class top included"
        return (f"--weights imagenet: loaded {model.arch}'s ImageNet backbone; the {model.head} head "
                f"({model.num_classes} classes) starts fresh")
    fresh, source = _load_run_file(model, Path(config.weights))
    if not fresh:
        return f"--weights {config.weights}: loaded every layer, the head included"
    return (f"--weights {config.weights}: loaded the backbone; the head starts fresh ({', '.join(fresh[:3])} "
            f"{'does' if len(fresh) == 1 else 'do'} not fit: {source})")


def _load_run_file(model: Any, path: Path) -> tuple[list[str], str]:
    """Load a cvkit run's file by layer name; (fresh head layers, how the file's head differs)."""
    from cvkit.models.transfer import backbone_layer_names, load_by_name, read_keras3_weights

    what = f"--weights {path}"
    if path.name.endswith(".weights.h5"):
        source, rename = read_keras3_weights(path, model)
        return load_by_name(model, source, what=what, rename=rename), "its shapes differ from this run's"
    from cvkit.models.assembly import CvkitModel, load_model

    saved = load_model(path)
    if not isinstance(saved, CvkitModel):
        raise CvkitError(f"{what} is not a model written by cvkit; pass RUN/model.keras or a checkpoint of a cvkit run")
    source = {layer.name: layer.get_weights() for layer in saved.layers if layer.weights}
    head = set(source) - backbone_layer_names(saved)
    named = saved.class_names and model.class_names
    same_classes = not named or list(saved.class_names) == list(model.class_names)
    if not same_classes:  # a head for other classes must not load, even when the count agrees
        source = {name: arrays for name, arrays in source.items() if name not in head}
    fresh = load_by_name(model, source, what=f"{what} ({saved.arch})", source_head=head)
    if same_classes or saved.num_classes != model.num_classes:
        return fresh, (f"the file has the {saved.head} head with {saved.num_classes} classes, "
                       f"this run {model.head} with {model.num_classes}")
    return fresh, (f"the file's classes {', '.join(saved.class_names[:5])} are not this run's "
                   f"{', '.join(model.class_names[:5])}")
