"""The cvkit plugin contract.

Every hook a plugin may implement is declared here, with its arguments and what it must do. A
plugin is a module named by an entry point in the ``cvkit`` group; it marks its functions with
:data:`cvkit.hookimpl` and takes only the arguments it needs. cvkit calls every hook with
keyword arguments.

All ``register_*`` hooks take one callback, ``register``, and call it once per name they
provide. Registration must be cheap: pass builders as ``"module:function"`` strings (or
functions from modules that do not import TensorFlow at import time), so that ``cvkit --help``,
``cvkit list`` and ``cvkit plugins`` never import TensorFlow. cvkit records which plugin
registered which name; two plugins registering one name is an error that names both.

Each callback and each function a plugin hands over has a :class:`typing.Protocol` below
(exported from ``cvkit``), so a plugin can annotate its hook implementations and builders.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import typer

    from cvkit.models.pretrained import ImagenetWeights
    from cvkit.data.splits import DatasetSplits
    from cvkit.data.statistics import DatasetStatistics
    from cvkit.models.backbone import Features
    from cvkit.models.head import Objectives, TaskSpec

hookspec = pluggy.HookspecMarker("cvkit")


# What a plugin hands over: builders, loaders and the functions they return.


class BlockFn(Protocol):
    def __call__(self, x: Any, *, name: str, **params: Any) -> Any: ...


class BackboneBuilder(Protocol):
    def __call__(self, inputs: Any, *, include_top: bool, **params: Any) -> Features: ...


class NativeTop(Protocol):
    def __call__(self, x: Any, *, num_classes: int) -> Any: ...


class HeadBuilder(Protocol):
    def __call__(self, features: Features, task: TaskSpec, **params: Any) -> dict[str, Any]: ...


class HeadObjectives(Protocol):
    def __call__(self, task: TaskSpec, outputs: list[str], **params: Any) -> Objectives: ...


class HeadTargets(Protocol):
    def __call__(self, batch: dict[str, Any], outputs: list[str], task: TaskSpec, **params: Any) -> dict[str, Any]: ...


class HeadPostprocess(Protocol):
    def __call__(self, outputs: dict[str, Any], *, score_threshold: float, iou_threshold: float,
                 max_detections: int, **params: Any) -> dict[str, Any]: ...


class Augmentation(Protocol):
    def __call__(self, batch: dict[str, Any], *, training: bool = True) -> dict[str, Any]: ...


class AugmentationBuilder(Protocol):
    def __call__(self, *, image_size: tuple[int, int], channels: int, seed: int | None,
                 statistics: DatasetStatistics | None = None, **params: Any) -> Augmentation | list[Augmentation]: ...


class DatasetLoader(Protocol):
    def __call__(self, *, argument: str, task: str, image_size: tuple[int, int] | None, seed: int,
                 data_dir: str | None, validation_fraction: float, limit: int | None,
                 skip_invalid: bool, **others: Any) -> DatasetSplits: ...


# The ``register`` callbacks cvkit passes to the hooks.


class RegisterBlock(Protocol):
    def __call__(self, name: str, fn: BlockFn | str, *, description: str = "") -> None: ...


class RegisterBackbone(Protocol):
    def __call__(self, name: str, *, build: BackboneBuilder | str, family: str,
                 defaults: Mapping[str, Any] | None = None,
                 input_shape: tuple[int, int, int] = (224, 224, 3), paper: str = "",
                 description: str = "", default: bool = False, min_input_size: int = 32,
                 training_overrides: Mapping[str, Any] | None = None,
                 tiny: Mapping[str, Any] | None = None,
                 imagenet: ImagenetWeights | None = None) -> None: ...


class RegisterHead(Protocol):
    def __call__(self, name: str, *, build: HeadBuilder | str, objectives: HeadObjectives | str,
                 targets: HeadTargets | str, tasks: Collection[str],
                 defaults: Mapping[str, Any] | None = None, description: str = "",
                 postprocess: HeadPostprocess | str | None = None) -> None: ...


class RegisterAugmentation(Protocol):
    def __call__(self, name: str, *, build: AugmentationBuilder | str, family: str,
                 defaults: Mapping[str, Any] | None = None, description: str = "",
                 geometric: bool = False, effect: str = "", tasks: Collection[str] | None = None,
                 magnitude: Mapping[str, tuple[float, float]] | None = None) -> None: ...


class RegisterDataset(Protocol):
    def __call__(self, name: str, *, load: DatasetLoader | str, tasks: Collection[str],
                 description: str = "", takes_argument: bool = False) -> None: ...


PROTOCOLS: tuple[type, ...] = (
    RegisterBlock, BlockFn, RegisterBackbone, BackboneBuilder, NativeTop, RegisterHead, HeadBuilder,
    HeadObjectives, HeadTargets, HeadPostprocess, RegisterAugmentation, AugmentationBuilder, Augmentation,
    RegisterDataset, DatasetLoader,
)


def call_signature(protocol: type) -> str:
    """``protocol.__call__``'s signature as written here (docs/hooks.md shows it; a test compares)."""
    import inspect

    class Written(str):
        def __repr__(self) -> str:
            return str(self)

    signature = inspect.signature(protocol.__call__)
    parameters = [p.replace(annotation=Written(p.annotation)) if isinstance(p.annotation, str) else p
                  for p in signature.parameters.values()]
    returns = signature.return_annotation
    return str(signature.replace(parameters=parameters,
                                 return_annotation=Written(returns) if isinstance(returns, str) else returns))


@hookspec
def register_blocks(register: RegisterBlock) -> None:
    """Register reusable building blocks so other plugins can use them without importing you.

    Call ``register(name, fn, *, description="")`` once per block. ``fn`` (a
    :class:`cvkit.BlockFn` or a ``"module:function"`` string) has the signature ``fn(x, *,
    name: str, **params) -> KerasTensor``: it applies Keras layers to ``x``, naming every layer
    from ``name`` (for example ``f"{name}_1_conv"``). Other plugins fetch a block with
    :func:`cvkit.get_block`. Called once, when the registries are first needed.
    """


@hookspec
def register_backbones(register: RegisterBackbone) -> None:
    """Register backbone architectures, one call per named variant.

    Call ``register(name, *, build, family, defaults=None, input_shape=(224, 224, 3),
    paper="", description="", default=False, min_input_size=32, training_overrides=None,
    tiny=None, imagenet=None)``.

    ``build`` (a :class:`cvkit.BackboneBuilder` or ``"module:function"``) has the signature
    ``build(inputs, *, include_top: bool, **params) -> cvkit.Features``. ``inputs`` are
    preprocessed images (float, roughly in [-1, 1]); ``params`` are ``defaults`` updated with
    the user's overrides. The builder returns the feature maps by stride and, when
    ``include_top`` is true, the pooled pre-logits vector a classifier attaches to. A network
    whose paper ends in its own classifier (a 1x1 convolution to the classes, then pooling)
    sets ``Features.top`` to a :class:`cvkit.NativeTop`, ``top(x, *, num_classes) ->
    KerasTensor``: it gets the deepest feature map and the class count and returns the class
    scores, shape ``(batch, num_classes)``, before the softmax; the classification head then
    uses it instead of its Dense layer (and ignores its own ``dropout``). ``default=True``
    makes the family name (``"densenet"``) resolve to this variant. ``training_overrides``
    are params used only while training (GoogLeNet's auxiliary classifiers); the saved model is
    rebuilt without them. ``tiny`` are overrides that shrink the variant (depth, width) so
    contract tests can build and train it in seconds at 32x32. ``imagenet`` (a
    :class:`cvkit.models.pretrained.ImagenetWeights`) lets ``--weights imagenet`` load the
    variant's keras.applications twin's weights. A builder with a
    ``memory_efficient`` parameter (in ``defaults``, false there) supports ``cvkit train
    --memory-efficient``, which sets it true: the backward pass then recomputes wide
    intermediate tensors instead of storing them, with the same outputs and gradients (DenseNet).
    Called once, when the registries are first needed.
    ``Features.maps`` follows :func:`cvkit.required_feature_strides`: a map at every power of two
    from 4 up to the total stride.
    """


@hookspec
def register_heads(register: RegisterHead) -> None:
    """Register task heads that attach to any backbone.

    Call ``register(name, *, build, objectives, targets, tasks, defaults=None,
    description="", postprocess=None)``. ``build(features, task, **params) -> dict[str, KerasTensor]``
    (:class:`cvkit.HeadBuilder`) returns the named outputs (``probabilities``, ``boxes``,
    ``masks``). ``objectives(task, outputs, **params) -> cvkit.Objectives``
    (:class:`cvkit.HeadObjectives`) gives losses, loss weights and metrics per output name,
    and ``validation_callbacks`` for metrics of a whole split (COCO AP): each is called with the
    validation split (unbatched examples, no augmentation) and returns a Keras callback whose
    ``on_epoch_end`` adds ``val_<name>`` to the logs (metrics.csv and the history record it).
    ``targets(batch, outputs, task, **params) -> dict`` (:class:`cvkit.HeadTargets`) maps a
    batch dict (the keys an augmentation sees, after augmentation) to the target of each
    output; it runs inside the tf.data pipeline, so it uses TensorFlow ops. When a mixing
    augmentation (MixUp, CutMix) is on, ``task.soft_labels`` is true and training batches also
    hold ``"label_distribution"`` (float32 ``(batch, num_classes)``): train on it as soft
    targets, with one-hot targets for validation batches. ``params`` are the
    head's ``defaults`` updated with the user's ``--head-param`` values. ``tasks`` are the
    dataset tasks the head trains on (``{"classification"}``). ``postprocess`` (a
    :class:`cvkit.HeadPostprocess` or ``"module:function"``; detection heads) turns the model's
    raw outputs into final detections: ``postprocess(outputs, *, score_threshold,
    iou_threshold, max_detections, **params) -> dict`` takes the dict of output tensors of a
    batch and returns ``boxes`` float32 ``(batch, max_detections, 4)`` rel_xyxy, ``scores``
    float32 ``(batch, max_detections)``, ``classes`` int32 ``(batch, max_detections)`` and
    ``num_detections`` int32 ``(batch,)``, rows past ``num_detections`` zero (classes -1). It
    uses ``keras.ops`` only, so it runs on a batch, inside a ``tf.function`` (the SavedModel
    traces it) and on JAX; the defaults are :data:`cvkit.DETECTION_DEFAULTS`. Called once, when
    the registries are first needed.
    """


@hookspec
def register_augmentations(register: RegisterAugmentation) -> None:
    """Register data augmentations that run in the tf.data input pipeline, never in the model.

    Call ``register(name, *, build, family, defaults=None, description="", geometric=False,
    effect="", tasks=None, magnitude=None)``. ``family`` groups augmentations in ``cvkit list augmentations``
    (``"geometric"``, ``"color"``, your own); it changes no behaviour. ``effect`` declares
    what the augmentation does to boxes and masks: ``"geometric"`` moves pixels (flip, crop,
    rotate), so it must move ``bounding_boxes`` and ``segmentation_masks`` with the image;
    ``"photometric"`` changes pixel values only and leaves boxes and masks as they are;
    ``"erasing"`` (cutout) leaves boxes and masks and sets patches to one fill value per image;
    ``"mixing"`` (MixUp, CutMix) blends pairs of samples and adds ``"label_distribution"``:
    float32 ``(batch, num_classes)``, the mixed labels, which heads train on as soft targets.
    Without ``effect``, ``geometric=True`` means ``"geometric"`` and the default is
    ``"photometric"``. ``tasks`` are the tasks it supports (default: all); another task is a
    one-line error before data loads. ``magnitude`` maps parameters to their values at
    RandAugment magnitudes 0 and 10 (``{"degrees": (0.0, 30.0)}``); an augmentation with one
    joins RandAugment's pool. ``build(*, image_size: tuple[int, int], channels: int,
    seed: int | None, **params)`` (:class:`cvkit.AugmentationBuilder`) gets the training size
    as ``(height, width)`` and the channel count; a builder that declares a ``statistics``
    parameter also gets a :class:`cvkit.DatasetStatistics` of the run's training data
    (``num_classes``, ``task``, and ``rgb_pca()``, the training RGB pixels' principal
    components, computed once per run and stored in the run directory). It returns an
    :class:`cvkit.Augmentation`, or a list of them applied in order (typically Keras
    preprocessing layers). cvkit calls each as ``layer(batch, training=True)`` on a batch dict
    and expects a dict with the same keys, shapes and dtypes back: ``"images"``: float32
    ``(batch, height, width, channels)``, values 0 to 255, already resized to ``image_size``;
    ``"labels"``: int32 ``(batch,)``; with localization data ``"bounding_boxes"``:
    ``{"boxes": float32 (batch, 1, 4), "labels": int32 (batch, 1)}``, boxes as ``rel_xyxy``
    (x1, y1, x2, y2 as fractions 0 to 1 of the width and height); with detection data the same
    padded to ``(batch, max_boxes, 4)`` and ``(batch, max_boxes)`` (padding: box 0, label -1),
    and a geometric augmentation gives a box that leaves the image label -1 and box 0; with segmentation data
    ``"segmentation_masks"``: int32 ``(batch, height, width, 1)`` class ids, 0 the
    background. It gets whole batches, so it must draw per sample (a crop, flip or colour for
    each image, not one for the batch). Its randomness comes from a seed per batch, new every
    epoch, so a run repeats under the same ``--seed`` on parallel threads: while cvkit calls a
    Keras layer, every ``keras.random.SeedGenerator`` the layer holds hands out stateless seeds
    derived from it; a callable that is not a Keras layer and takes a ``seed`` argument is
    called as ``fn(batch, training=True, seed=seed)``, ``seed`` being a shape-(2,) int tensor
    for ``tf.random.stateless_*`` ops. An exception raised by ``build`` or by the callable
    reaches the user as one line naming the augmentation and its distribution. Called once,
    when the registries are first needed.
    """


@hookspec
def register_datasets(register: RegisterDataset) -> None:
    """Register data sets.

    Call ``register(name, *, load, tasks, description="", takes_argument=False)``.
    ``load(*, argument, task, image_size, seed, data_dir, validation_fraction, limit,
    skip_invalid, **others) -> cvkit.DatasetSplits`` (:class:`cvkit.DatasetLoader`) returns
    ``train`` and ``validation`` ``tf.data.Dataset`` splits of single (unbatched) example dicts
    plus a :class:`cvkit.DatasetInfo`. ``task`` is the task being trained (one of ``tasks``);
    ``image_size`` is the training size as ``(height, width)``, or ``None`` for the data's own
    size; ``seed`` and ``validation_fraction`` make the split (:func:`cvkit.split_indices`);
    ``limit`` keeps the first ``limit`` training examples; ``data_dir`` is ``--data-dir``.
    Each example holds ``"images"``: uint8 ``(height, width, channels)`` already resized to
    ``image_size``; ``"labels"``: int32 scalar class id; for localization
    ``"bounding_boxes"``: ``{"boxes": float32 (1, 4) rel_xyxy, "labels": int32 (1,)}``; for
    detection the same padded to ``(max_boxes, 4)`` and ``(max_boxes,)`` with box 0 and label -1,
    real boxes first (``"labels"`` is then the class of the largest object, 0 without one); for
    segmentation ``"segmentation_masks"``: int32 ``(height, width, 1)`` class ids (0 the
    background, ``label + 1`` for class ``label``). :class:`cvkit.DatasetInfo` gives ``name``,
    ``class_names``, ``image_shape`` (of the returned images), ``tasks``, ``num_train``,
    ``num_validation``, for segmentation ``mask_classes`` and for detection ``max_boxes``.
    :func:`cvkit.splits_from_arrays` builds all of this from NumPy arrays. A bad example is a
    :class:`cvkit.CvkitError` naming it, unless ``skip_invalid`` is true: then it is skipped and
    the count is reported. Accept ``**others`` so new keywords do not break the loader.
    ``takes_argument=True`` names a prefix (``folder:PATH``): the text after the colon arrives
    as ``argument``. Loading is lazy and offline; a missing or empty data set raises
    :class:`cvkit.CvkitError`; any other exception reaches the user as one line naming the data
    set and its distribution. Called once, when the registries are first needed.
    """


@hookspec
def register_commands(app: typer.Typer) -> None:
    """Add commands to the ``cvkit`` command line.

    ``app`` is the ``typer.Typer`` application; decorate functions with ``@app.command()``.
    Called when the CLI starts, after the built-in commands are defined.
    """


REGISTER_PROTOCOLS: Mapping[str, type] = {
    "register_blocks": RegisterBlock,
    "register_backbones": RegisterBackbone,
    "register_heads": RegisterHead,
    "register_augmentations": RegisterAugmentation,
    "register_datasets": RegisterDataset,
}
