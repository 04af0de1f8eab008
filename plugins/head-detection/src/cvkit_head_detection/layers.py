"""Layers and the loss of the detection head, registered under ``cvkit_head_detection``.

``cvkit.load_model`` imports a plugin's ``layers`` module: importing this one registers the
``YoloActivation`` layer and the ``YoloLoss`` a trained model's compile settings name.
"""

from cvkit_head_detection.yolo import YoloActivation, YoloLoss

__all__ = ["YoloActivation", "YoloLoss"]
