"""The old registered name of local response normalisation, kept so old files load.

The layer now lives in :mod:`cvkit.layers` and saves as ``cvkit>LocalResponseNormalization``.
Keras files written before that name it ``cvkit_alexnet>LocalResponseNormalization``;
``cvkit.load_model`` imports this module for them, and the alias maps that name to cvkit's layer.
"""

from __future__ import annotations

import keras

from cvkit.layers import LocalResponseNormalization

OLD_NAME = "cvkit_alexnet>LocalResponseNormalization"

keras.saving.get_custom_objects()[OLD_NAME] = LocalResponseNormalization
