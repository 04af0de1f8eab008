"""The typed contract: Protocols that match the real callbacks, typed hookimpls, a backbone's own top."""

from __future__ import annotations

import inspect
import types

import pytest

import cvkit
from cvkit.contract import hookspecs
from cvkit.contract.registry import Registries

CALLBACKS = {
    "register_blocks": "block_callback",
    "register_backbones": "backbone_callback",
    "register_heads": "head_callback",
    "register_augmentations": "augmentation_callback",
    "register_datasets": "dataset_callback",
}


def call_parameters(protocol: type) -> list[inspect.Parameter]:
    return list(inspect.signature(protocol.__call__).parameters.values())[1:]  # without self


@pytest.mark.parametrize("hook", sorted(CALLBACKS))
def test_each_register_protocol_is_the_real_callback_signature(hook):
    protocol = hookspecs.REGISTER_PROTOCOLS[hook]
    assert str(inspect.signature(getattr(hookspecs, hook)).parameters["register"].annotation) == protocol.__name__
    real = getattr(Registries(), CALLBACKS[hook])("some-plugin")
    assert list(inspect.signature(real).parameters.values()) == call_parameters(protocol)


def test_every_protocol_is_public():
    for protocol in hookspecs.PROTOCOLS:
        assert getattr(cvkit, protocol.__name__) is protocol
        assert protocol.__name__ in cvkit.__all__


@pytest.mark.parametrize("hook", sorted(hookspecs.REGISTER_PROTOCOLS))
def test_every_built_in_hookimpl_is_typed(hook):
    manager = cvkit.get_plugin_manager()
    impls = getattr(manager.pm.hook, hook).get_hookimpls()
    ours = [impl for impl in impls if manager.infos[impl.plugin_name].distribution.startswith("cvkit-")]
    assert ours
    for impl in ours:
        signature = inspect.signature(impl.function)
        annotation = signature.parameters["register"].annotation
        name = getattr(annotation, "__name__", annotation)
        assert name == hookspecs.REGISTER_PROTOCOLS[hook].__name__, impl.plugin_name
        assert signature.return_annotation in (None, "None"), impl.plugin_name


def _conv_top(x, *, num_classes):
    import keras

    scores = keras.layers.Conv2D(num_classes, 1, name="native_classifier")(x)
    return keras.layers.GlobalAveragePooling2D(name="native_pool")(scores)


def _build(inputs, *, include_top, native_top=False, **_):
    import keras

    x = keras.layers.Conv2D(8, 3, strides=32, padding="same", name="stem")(inputs)
    pooled = cvkit.global_pool(x, "avg_pool") if include_top else None
    return cvkit.Features(maps={32: x}, pooled=pooled, top=_conv_top if native_top else None)


@pytest.fixture
def conv_top_plugin():
    plugin = types.SimpleNamespace()

    @cvkit.hookimpl
    def register_backbones(register: cvkit.RegisterBackbone) -> None:
        register("fake-conv-top", build=_build, family="fake-conv-top", defaults={"native_top": True})
        register("fake-dense-top", build=_build, family="fake-dense-top", defaults={"native_top": False})

    plugin.register_backbones = register_backbones
    cvkit.register_plugin(plugin, name="fake-conv-top")
    yield
    cvkit.unregister_plugin("fake-conv-top")


def test_the_classification_head_uses_a_backbones_native_top(conv_top_plugin):
    import numpy as np

    model = cvkit.create_model("fake-conv-top", num_classes=3, input_shape=(32, 32, 3))
    names = {layer.name for layer in model.layers}
    assert "native_classifier" in names
    assert model.get_layer("native_classifier").kernel.shape == (1, 1, 8, 3)
    assert not any(type(layer).__name__ == "Dense" for layer in model.layers)
    probabilities = model.predict(np.zeros((2, 32, 32, 3), "float32"), verbose=0)["probabilities"]
    assert probabilities.shape == (2, 3) and np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_without_a_native_top_the_dense_head_is_used(conv_top_plugin):
    model = cvkit.create_model("fake-dense-top", num_classes=3, input_shape=(32, 32, 3))
    assert "native_classifier" not in {layer.name for layer in model.layers}
    assert type(model.get_layer("predictions")).__name__ == "Dense"


def test_a_dataset_loader_gets_image_size_as_height_width(tmp_path):
    import numpy as np

    from cvkit.training.config import RunConfig
    from cvkit.training.run import load_splits

    received = []

    def load(*, image_size, seed, validation_fraction, limit, **_):
        received.append(image_size)
        info = cvkit.DatasetInfo(name="recorder", class_names=("a", "b"), image_shape=(8, 8, 3))
        images = np.zeros((4, 8, 8, 3), "uint8")
        return cvkit.splits_from_arrays(info, images, np.array([0, 1, 0, 1]), image_size=image_size, seed=seed,
                                        validation_fraction=validation_fraction, limit=limit)

    plugin = types.SimpleNamespace()

    @cvkit.hookimpl
    def register_datasets(register: cvkit.RegisterDataset) -> None:
        register("fake-recorder", load=load, tasks={"classification"})

    plugin.register_datasets = register_datasets
    cvkit.register_plugin(plugin, name="fake-recorder")
    try:
        splits = load_splits(RunConfig(dataset="fake-recorder"), "classification", 40)
    finally:
        cvkit.unregister_plugin("fake-recorder")
    assert received == [(40, 40)]
    assert splits.info.image_shape == (40, 40, 3)
    assert tuple(splits.train.element_spec["images"].shape) == (40, 40, 3)
