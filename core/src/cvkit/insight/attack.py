"""FGSM adversarial examples: accuracy under attack and pictures of the perturbation.

Epsilon is a fraction of the pixel range, so 0.01 moves each 0-255 pixel by 2.55 at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cvkit.errors import CvkitError

MAX_IMAGES = 512
EXAMPLES = 4


@dataclass
class AttackResult:
    clean_accuracy: float
    accuracy: dict[float, float]  # epsilon -> accuracy on the adversarial images
    images: int
    written: list[Path] = field(default_factory=list)


def parse_epsilons(text: str) -> list[float]:
    """``0.01,0.03`` -> [0.01, 0.03]; each must be a number in [0, 1]."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        try:
            value = float(part)
        except ValueError:
            raise CvkitError(f"--fgsm-eps takes comma-separated numbers such as 0.01,0.03, got {part!r}") from None
        if not 0 <= value <= 1:
            raise CvkitError(f"--fgsm-eps {value} is outside [0, 1]; it is a fraction of the pixel range, such as 0.01")
        values.append(value)
    return values


def fgsm(model: Any, images: np.ndarray, labels: np.ndarray, epsilon: float) -> np.ndarray:
    """Each pixel moved by ``epsilon`` x 255 along the sign of the loss gradient, kept in 0-255."""
    from cvkit.backend import require_tensorflow_backend

    require_tensorflow_backend("FGSM (gradients through TensorFlow's tape)",
                               "run cvkit attack with --backend tensorflow (a run trained on JAX loads there)")
    import tensorflow as tf

    from cvkit.insight.explain import class_scores

    inputs = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        scores = class_scores(model(inputs, training=False))
        loss = -tf.reduce_sum(tf.math.log(tf.gather(scores, labels, axis=1, batch_dims=1) + 1e-12))
    step = tf.sign(tape.gradient(loss, inputs)) * epsilon * 255.0
    return tf.clip_by_value(inputs + step, 0.0, 255.0).numpy()


def _predict(model: Any, images: np.ndarray) -> np.ndarray:
    from cvkit.insight.explain import class_scores

    return np.concatenate([np.asarray(class_scores(model(images[i:i + 64], training=False))).argmax(-1)
                           for i in range(0, len(images), 64)])


def _adversarial(model: Any, images: np.ndarray, labels: np.ndarray, epsilon: float) -> np.ndarray:
    return np.concatenate([fgsm(model, images[i:i + 64], labels[i:i + 64], epsilon) for i in range(0, len(images), 64)])


def draw_example(plt: Any, image: np.ndarray, adversarial: np.ndarray, names: list[str], classes: tuple[int, int, int], epsilon: float) -> Any:
    """The image, the perturbation magnified to the full range, and the adversarial image.

    ``classes``: the true class, the prediction on the clean image and on the adversarial one.
    """
    truth, before, after = classes
    perturbation = adversarial - image
    magnified = 0.5 + perturbation / (2 * max(float(np.abs(perturbation).max()), 1e-12))
    grey = image.shape[-1] == 1
    figure, axes = plt.subplots(1, 3, figsize=(7.5, 2.9))
    panels = (image / 255.0, magnified, adversarial / 255.0)
    titles = (f"{names[truth]}, predicted {names[before]}", f"perturbation x{0.5 / max(epsilon, 1e-12):.0f}", f"eps {epsilon:g}: predicted {names[after]}")
    for axis, panel, title in zip(axes, panels, titles):
        axis.imshow(np.clip(panel[..., 0] if grey else panel, 0, 1), cmap="gray" if grey else None, vmin=0, vmax=1)
        axis.set_title(title, fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    return figure


def attack_run(run_dir: str | Path, epsilons: list[float], out_dir: str | Path | None = None) -> AttackResult:
    """Accuracy on the validation split, clean and under FGSM at each epsilon; a few examples drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cvkit.insight.plots import save_figures, validation_arrays

    if not epsilons:
        raise CvkitError("--fgsm-eps needs at least one epsilon, such as 0.01,0.03")
    run_dir = Path(run_dir)
    model, images, labels = validation_arrays(run_dir)
    images, labels = images[:MAX_IMAGES].astype("float32"), labels[:MAX_IMAGES]
    names = list(model.class_names or [str(i) for i in range(model.num_classes)])
    clean = _predict(model, images)
    result = AttackResult(float((clean == labels).mean()), {}, len(images))
    figures = {}
    for epsilon in epsilons:
        adversarial = _adversarial(model, images, labels, epsilon)
        predicted = _predict(model, adversarial)
        result.accuracy[epsilon] = float((predicted == labels).mean())
        for k in range(min(EXAMPLES, len(images))):
            figures[f"fgsm_{epsilon:g}_{k}.png"] = draw_example(plt, images[k], adversarial[k], names, (labels[k], clean[k], predicted[k]), epsilon)
    result.written = save_figures(plt, figures, Path(out_dir) if out_dir is not None else run_dir / "attack")
    return result
