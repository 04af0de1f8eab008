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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Callable

hookspec = pluggy.HookspecMarker("cvkit")


@hookspec
def register_blocks(register: Callable[..., None]) -> None:
    """Register reusable building blocks so other plugins can use them without importing you.

    Call ``register(name, fn, *, description="")`` once per block. ``fn`` (a callable or a
    ``"module:function"`` string) has the signature ``fn(x, *, name: str, **params) ->
    KerasTensor``: it applies Keras layers to ``x``, naming every layer from ``name`` (for
    example ``f"{name}_1_conv"``). Other plugins fetch a block with :func:`cvkit.get_block`.
    Called once, when the registries are first needed.
    """


@hookspec
def register_backbones(register: Callable[..., None]) -> None:
    """Register backbone architectures, one call per named variant.

    Call ``register(name, *, build, family, defaults=None, input_shape=(224, 224, 3),
    paper="", description="", default=False, min_input_size=32, training_overrides=None,
    tiny=None)``.

    ``build`` (a callable or ``"module:function"``) has the signature ``build(inputs, *,
    include_top: bool, **params) -> cvkit.Features``. ``inputs`` are preprocessed images
    (float, roughly in [-1, 1]); ``params`` are ``defaults`` updated with the user's
    overrides. The builder returns the feature maps by stride and, when ``include_top`` is
    true, the pooled pre-logits vector a classifier attaches to. ``default=True`` makes the
    family name (``"densenet"``) resolve to this variant. ``training_overrides`` are params used
    only while training (GoogLeNet's auxiliary classifiers); the saved model is rebuilt without
    them. ``tiny`` are overrides that shrink the variant (depth, width) so contract tests can
    build and train it in seconds at 32x32. Called once, when the registries are first needed.
    ``Features.maps`` follows :func:`cvkit.required_feature_strides`: a map at every power of two
    from 4 up to the total stride.
    """


@hookspec
def register_heads(register: Callable[..., None]) -> None:
    """Register task heads that attach to any backbone.

    Call ``register(name, *, build, objectives, targets, tasks, defaults=None,
    description="")``. ``build(features, task, **params) -> dict[str, KerasTensor]`` returns
    the named outputs (``probabilities``, ``boxes``, ``masks``). ``objectives(task, outputs,
    **params) -> cvkit.Objectives`` gives losses, loss weights and metrics per output name.
    ``targets(batch, outputs, task) -> dict`` maps a data batch to the targets of each output.
    ``tasks`` are the dataset tasks the head trains on (``{"classification"}``). Called once,
    when the registries are first needed.
    """


@hookspec
def register_augmentations(register: Callable[..., None]) -> None:
    """Register data augmentations that run in the tf.data input pipeline, never in the model.

    Call ``register(name, *, build, family, defaults=None, description="", geometric=False)``.
    ``build(*, image_size: tuple[int, int], channels: int, seed: int | None, **params)`` returns
    a callable, or a list of callables applied in order (typically Keras preprocessing layers),
    that maps a batch dict with ``"images"`` (float, 0 to 255) and
    optionally ``"labels"``, ``"bounding_boxes"`` (``{"boxes", "labels"}``, format
    ``rel_xyxy``) and ``"segmentation_masks"`` to a dict of the same keys, called as
    ``layer(batch, training=True)``. It gets whole batches, so it must draw per sample (a crop,
    flip or colour for each image, not one for the batch). Its randomness comes from a seed per
    batch, new every epoch, so a run repeats under the same ``--seed`` on parallel threads: while
    cvkit calls a Keras layer, every ``keras.random.SeedGenerator`` the layer holds hands out
    stateless seeds derived from it; a callable that is not a Keras layer and takes a ``seed``
    argument is called as ``fn(batch, training=True, seed=seed)``, ``seed`` being a shape-(2,)
    int tensor for ``tf.random.stateless_*`` ops. Geometric augmentations must move boxes and
    masks with the image. Called once, when the registries are first needed.
    """


@hookspec
def register_datasets(register: Callable[..., None]) -> None:
    """Register data sets.

    Call ``register(name, *, load, tasks, description="", takes_argument=False)``.
    ``load(*, argument, task, image_size, seed, data_dir, validation_fraction, limit,
    skip_invalid, **others) -> cvkit.DatasetSplits`` returns train and validation
    ``tf.data.Dataset`` splits of example dicts plus a :class:`cvkit.DatasetInfo`. A bad example
    is a :class:`cvkit.CvkitError` naming it, unless ``skip_invalid`` is true: then it is skipped
    and the count is reported. Accept ``**others`` so new keywords do not break the loader. ``takes_argument=True`` names a prefix
    (``folder:PATH``): the text after the colon arrives as ``argument``. Loading is lazy and
    offline; a missing or empty data set raises :class:`cvkit.CvkitError`. Called once, when
    the registries are first needed.
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add commands to the ``cvkit`` command line.

    ``app`` is the ``typer.Typer`` application; decorate functions with ``@app.command()``.
    Called when the CLI starts, after the built-in commands are defined.
    """
