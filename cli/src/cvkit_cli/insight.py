"""Insight commands: ``cvkit explain``, ``plot`` and ``attack``, pictures of what a model learned."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from cvkit.errors import CvkitError
from cvkit_cli import render
from cvkit_cli.backends import BackendOption, use_backend


def explain(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    images: Annotated[list[Path], typer.Argument(help="Image files.")],
    method: Annotated[str, typer.Option("--method", help="gradcam, saliency or occlusion; several comma-separated.")] = "gradcam",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write the PNGs (default: RUN_DIR/explain).")] = None,
    class_name: Annotated[Optional[str], typer.Option("--class", help="Explain this class instead of the predicted one.")] = None,
    pixel: Annotated[Optional[str], typer.Option("--pixel", metavar="ROW,COL", help="Segmentation runs: explain this pixel's class (rows and columns of the image file).")] = None,
    backend: BackendOption = None,
) -> None:
    """Show which pixels a trained run's prediction rests on: one PNG per image and method.

    Each PNG holds the image, the map and the overlay, titled with the explained class and its
    probability. Grad-CAM uses the last feature map at stride 32 (a shallower one when that is a
    single pixel); saliency is the gradient of the class score with respect to the image;
    occlusion slides a grey patch and maps the drop in the class probability. Segmentation runs
    are explained through the class with the largest mean pixel probability over the image, or
    with --pixel through that pixel's class (its log-probability; the background is a class).
    Localization runs explain the image's class and draw its predicted box.
    """
    use_backend(backend)
    from cvkit.insight.explain import METHODS, check_pixel_task, explain as explain_images, parse_pixel, write_explanations
    from cvkit.serve.predict import load_images
    from cvkit.training.run import load_run

    methods = [m.strip() for m in method.split(",") if m.strip()]
    for name in methods:
        if name not in METHODS:
            from cvkit.errors import close_matches_hint

            raise CvkitError(f"unknown method {name!r}{close_matches_hint(name, METHODS)}; choose one of {', '.join(METHODS)}")
    spot = parse_pixel(pixel) if pixel is not None else None
    _, _, model = load_run(run_dir)
    check_pixel_task(model, spot)
    load_images([str(p) for p in images], (8, 8), model.input_shape[-1])  # every file an image before any work
    results = [item for name in methods for item in explain_images(model, [str(p) for p in images], name, class_name, spot)]
    for path in write_explanations(results, out or Path(run_dir) / "explain"):
        render.line(f"wrote {path}")
    for item in results:
        render.line(f"{item.file}: {item.method} explains {item.class_name} {item.probability:.3f} for {item.subject} ({item.note})")


def plot(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    backend: BackendOption = None,
) -> None:
    """Write pictures of what a run learned into its directory.

    confusion.png (the validation split, with class names), filters.png (the first-layer
    filters as a grid) and tsne.png (a t-SNE map of the penultimate features, coloured by class,
    with a few thumbnails), next to the curves.png that training wrote.
    """
    use_backend(backend)
    from cvkit.insight.plots import plot_run

    for path in plot_run(run_dir):
        render.line(f"wrote {path}")


def attack(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    fgsm_eps: Annotated[str, typer.Option("--fgsm-eps", help="Comma-separated epsilons in [0, 1], fractions of the pixel range.")] = "0.01,0.03",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write the example PNGs (default: RUN_DIR/attack).")] = None,
    backend: BackendOption = None,
) -> None:
    """Accuracy under FGSM adversarial examples next to the clean accuracy, on the validation split.

    Each pixel moves by epsilon x 255 along the sign of the loss gradient. A few examples are
    saved with their perturbation, magnified to the full range.
    """
    use_backend(backend)
    from cvkit.insight.attack import attack_run, parse_epsilons

    result = attack_run(run_dir, parse_epsilons(fgsm_eps), out)
    render.line(f"validation images: {result.images}")
    render.line(f"clean accuracy: {result.clean_accuracy:.4f}")
    for epsilon, accuracy in result.accuracy.items():
        render.line(f"FGSM eps {epsilon:g}: accuracy {accuracy:.4f} ({accuracy - result.clean_accuracy:+.4f})")
    render.line(f"examples written to {result.written[0].parent}" if result.written else "no examples written")


def register(app: typer.Typer) -> None:
    app.command("explain")(explain)
    app.command("plot")(plot)
    app.command("attack")(attack)
