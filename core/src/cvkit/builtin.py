"""cvkit's own plugin: the generic ``folder:`` and ``tfds:`` loaders and the core blocks."""

from __future__ import annotations

from cvkit.hookimpl import hookimpl


@hookimpl
def register_datasets(register):
    register(
        "folder", load="cvkit.loaders:load_folder", tasks={"classification"}, takes_argument=True,
        description="folder:PATH, one sub-folder of images per class",
    )
    register(
        "tfds", load="cvkit.loaders:load_tfds", tasks={"classification"}, takes_argument=True,
        description="tfds:NAME, a TensorFlow Datasets set prepared offline under --data-dir",
    )


@hookimpl
def register_blocks(register):
    register("conv_bn_act", "cvkit.blocks:conv_bn_act", description="conv -> batch norm -> activation")
    register("squeeze_excite", "cvkit.blocks:squeeze_excite", description="SE channel attention: GAP -> FC C/r -> ReLU -> FC C -> sigmoid -> rescale")
