"""The ``cvkit`` command line. Heavy imports (TensorFlow, Keras) happen inside the commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

import cvkit
from cvkit.errors import CvkitError
from cvkit_cli import insight, render
from cvkit_cli.backends import BackendOption, use_backend
from cvkit_cli.ensembles import average, print_comparison
from cvkit_cli.train_options import train_command

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ chatter out of the CLI

app = typer.Typer(
    name="cvkit",
    help="Train, inspect and export the classic CNNs. Every architecture, head, augmentation and data set is a plugin.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

KINDS = ("archs", "heads", "augmentations", "datasets", "blocks", "plugins")


@app.command("list")
def list_(
    kind: Annotated[Optional[str], typer.Argument(help=f"One of: {', '.join(KINDS)}. All when omitted.")] = None,
) -> None:
    """List what the installed plugins provide, with the package each comes from."""
    if kind is not None and kind not in KINDS:
        singular = {k.rstrip("s"): k for k in KINDS}
        if kind in singular:
            kind = singular[kind]
        else:
            raise CvkitError(f"cannot list {kind!r}{cvkit.errors.close_matches_hint(kind, KINDS)}; choose one of {', '.join(KINDS)}")
    registries = cvkit.get_registries()
    sections = {
        "archs": [(s.name, s.family, s.description, s.plugin) for s in registries.backbones],
        "heads": [(s.name, ",".join(sorted(s.tasks)), s.description, s.plugin) for s in registries.heads],
        "augmentations": [(s.name, s.family, s.description, s.plugin) for s in registries.augmentations],
        "datasets": [(s.name + (":ARG" if s.takes_argument else ""), ",".join(sorted(s.tasks)), s.description, s.plugin) for s in registries.datasets],
        "blocks": [(s.name, "", s.description, s.plugin) for s in registries.blocks],
    }
    headers = {"archs": "family", "heads": "tasks", "augmentations": "family", "datasets": "tasks", "blocks": ""}
    for section in [kind] if kind else KINDS:
        if section == "plugins":
            plugins()
            continue
        render.section(section, sections[section], ("name", headers[section], "description", "package"))
        if section == "archs":
            aliases = registries.backbones.aliases()
            render.line("family names: " + ", ".join(f"{a} -> {t}" for a, t in sorted(aliases.items())))
        render.line("")


@app.command()
def plugins() -> None:
    """Show every plugin found, its package and version, and why it failed if it did."""
    try:
        cvkit.get_registries()
    except cvkit.DuplicateNameError as exc:  # show the plugins anyway, then the conflict
        conflict = str(exc)
    else:
        conflict = None
    rows = [(p.name, p.distribution, p.version, "ok" if p.ok else f"FAILED: {p.error}") for p in cvkit.list_plugins()]
    render.section("plugins", rows, ("name", "package", "version", "status"))
    if conflict:
        render.line(f"conflict: {conflict}")


@app.command()
def info(
    arch: Annotated[str, typer.Argument(help="An arch variant or family name (cvkit list archs).")],
    image_size: Annotated[Optional[int], typer.Option("--image-size", help="Square input side; default: the arch's own.")] = None,
    num_classes: Annotated[int, typer.Option("--num-classes")] = 1000,
    channels: Annotated[Optional[int], typer.Option("--channels", help="Input channels; default: the arch's own.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override an arch parameter, KEY=VALUE.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    layers: Annotated[bool, typer.Option("--layers/--no-layers", help="Print the layer table.")] = True,
    table: Annotated[bool, typer.Option("--table", help="Print the per-layer table with output shapes, parameters and multiply-accumulates.")] = False,
    csv: Annotated[Optional[Path], typer.Option("--csv", help="Write the per-layer table (output shapes, parameters, MACs) to this CSV file.")] = None,
    backend: BackendOption = None,
) -> None:
    """A layer table, trainable and total parameters, and multiply-accumulates of an arch."""
    use_backend(backend)
    from cvkit.data.augment import parse_assignments

    spec = cvkit.get_backbone(arch)
    overrides = parse_assignments(set_ or [], "--set")
    if csv is not None and csv.is_dir():
        raise CvkitError(f"{csv} is a directory; pass a file name for --csv, such as layers.csv")
    if image_size is not None and image_size < 1:
        raise CvkitError(f"image size must be positive, got {image_size}")
    h, w, c = spec.input_shape
    shape = (image_size or h, image_size or w, channels or c)
    model = cvkit.create_model(spec.name, num_classes=num_classes, input_shape=shape, **overrides)
    summary = cvkit.model_summary(model)
    if csv is not None:
        from cvkit.insight.info import write_layer_csv

        render.line(f"layer table written to {write_layer_csv(summary, csv)}")
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    if table:
        from cvkit.insight.info import layer_table

        rows = [(n, t, o, f"{p:,}", f"{m:,}") for n, t, o, p, m in layer_table(summary)]
        render.section(f"{spec.name} layers", rows, ("layer", "type", "output", "params", "MACs"))
    elif layers:
        render.section(f"{spec.name} layers", [(r["name"], r["type"], str(tuple(r["output_shape"] or ())), f"{r['params']:,}") for r in summary["layers"]], ("layer", "type", "output", "params"))
    render.line(f"arch: {spec.name} (family {spec.family}, from {spec.plugin})")
    render.line(f"input: {'x'.join(str(d) for d in shape)}, classes: {num_classes}")
    render.line(f"trainable params: {summary['trainable_params']:,}")
    render.line(f"total params: {summary['total_params']:,}")
    render.line(f"multiply-accumulates: {summary['macs']:,} ({summary['macs'] / 1e9:.2f} G)")


def _train(settings: dict, resume: Optional[Path] = None, facts: Optional[dict] = None) -> None:
    from cvkit.training.config import RunConfig

    if resume is not None:
        RunConfig.from_dict(settings)  # unknown keys of a --config file: the usual one-line error
        from cvkit.training.resume import resume as resume_run

        result = resume_run(resume, settings)
    else:
        result = cvkit.train(RunConfig.from_dict(settings), facts=facts)
    from cvkit.training.multihost import stop_processes

    stop_processes()
    if settings.get("process_id"):  # a multi-host worker: its files were scratch
        render.line(f"process {settings['process_id']} of {settings.get('num_processes')} finished; "
                    f"process 0 wrote the run directory")
    else:
        render.line(f"run directory: {result.run_dir}")
    for key, value in result.validation.items():
        render.line(f"validation {key}: {value:.4f}")
    if result.overfit is not None:
        render.line(str(result.overfit))


app.command("train")(train_command(_train, "Train a backbone x head on a data set and write a run directory, "
                                            "or continue one with --resume RUN_DIR."))


@app.command()
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    dataset: Annotated[Optional[str], typer.Option("--dataset", help="Evaluate on another data set's validation split.")] = None,
    data_dir: Annotated[Optional[str], typer.Option("--data-dir")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    ensemble: Annotated[Optional[int], typer.Option("--ensemble", help="Also average the predictions of the last K epoch checkpoints and report the gain over the last one.")] = None,
    tta: Annotated[Optional[str], typer.Option("--tta", help="Test-time augmentation: average over these views (flip, crop; e.g. flip,crop) and report the gain over no TTA.")] = None,
    backend: BackendOption = None,
) -> None:
    """Report the task's metrics of a trained run on its validation split.

    Classification: accuracy (top-5 past 5 classes). Localization: class accuracy, mean box IoU
    and aux_localization_accuracy (class right and IoU >= 0.5). Segmentation: pixel accuracy,
    mean IoU over the classes with the background, and foreground_mean_iou without it.
    Detection: COCO AP (IoU 0.5:0.95), AP50 and AP75 of the boxes left after NMS.
    """
    use_backend(backend)
    if ensemble is not None:
        return _evaluate_ensemble(run_dir, ensemble, dataset or data_dir, as_json)
    if tta is not None:
        return _evaluate_tta(run_dir, tta, dataset or data_dir, as_json)
    results = cvkit.evaluate(run_dir, dataset=dataset, data_dir=data_dir)
    if as_json:
        typer.echo(json.dumps(results, indent=2))
        return
    # the task's metrics first, then the losses
    for key, value in sorted(results.items(), key=lambda kv: ("loss" in kv[0], kv[0])):
        render.line(f"{key}: {value:.4f}")


def _evaluate_ensemble(run_dir: Path, k: int, other_data: Optional[str], as_json: bool) -> None:
    from cvkit.training.ensemble import ensemble_run

    if other_data:
        raise CvkitError("--ensemble evaluates on the run's own validation split; drop --dataset and --data-dir")
    result = ensemble_run(run_dir, k)
    if as_json:
        typer.echo(json.dumps({"checkpoints": result.checkpoints, "last": result.last,
                               "ensemble": result.combined, "gain": result.gain()}, indent=2))
        return
    print_comparison(result, f"ensemble of {k}")


def _evaluate_tta(run_dir: Path, tta: str, other_data: Optional[str], as_json: bool) -> None:
    from cvkit.training.plan import check_run_tta

    if other_data:
        raise CvkitError("--tta evaluates on the run's own validation split; drop --dataset and --data-dir")
    check_run_tta(run_dir, tta)  # before TensorFlow and the data load
    from cvkit.training.ensemble import evaluate_tta

    plain, augmented = evaluate_tta(run_dir, tta)
    gain = {k: v - plain[k] for k, v in augmented.items() if k in plain}
    if as_json:
        typer.echo(json.dumps({"plain": plain, "tta": augmented, "gain": gain}, indent=2))
        return
    render.line(f"{'metric':<24}{'no TTA':>12}{'TTA ' + tta:>20}{'gain':>10}")
    for key in sorted(augmented, key=lambda k: ("loss" in k, k)):
        render.line(f"{key:<24}{plain.get(key, float('nan')):>12.4f}{augmented[key]:>20.4f}{gain.get(key, float('nan')):>+10.4f}")


app.command("average")(average)
insight.register(app)

@app.command("augment")
def augment(
    action: Annotated[str, typer.Argument(help="preview: write a grid of original and augmented samples.")],
    aug: Annotated[str, typer.Option("--aug", help="Comma-separated augmentations, e.g. flip,rotate,pca.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The PNG to write.")],
    dataset: Annotated[str, typer.Option("--dataset")] = "shapes",
    head: Annotated[str, typer.Option("--head", help="The head decides the task: classification, localization (boxes) or fcn8s (masks).")] = "classification",
    samples: Annotated[int, typer.Option("--samples", help="Rows: training samples shown.")] = 6,
    image_size: Annotated[int, typer.Option("--image-size")] = 64,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    data_dir: Annotated[Optional[str], typer.Option("--data-dir")] = None,
) -> None:
    """Look at what augmentations do: `cvkit augment preview` writes a grid of training samples,
    originals next to augmented ones, with boxes drawn and masks overlaid."""
    if action != "preview":
        raise CvkitError(f"unknown augment action {action!r}; use cvkit augment preview --aug ... --out grid.png")
    from cvkit_cli.preview import preview_grid
    from cvkit_cli.train_options import split_augmentations

    written = preview_grid(split_augmentations(aug), dataset=dataset, head=head, out=out, samples=samples,
                           image_size=image_size, seed=seed, data_dir=data_dir)
    render.line(f"wrote {written}")


@app.command()
def recalibrate(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    batches: Annotated[int, typer.Option("--batches", min=1, help="Training batches to average.")] = 32,
    backend: BackendOption = None,
) -> None:
    """Re-estimate a run's BatchNorm statistics from its training data and save the model.

    For runs whose saved model scores far below their training accuracy (stale statistics,
    as runs from before cvkit recalibrated at the end of training can have).
    """
    use_backend(backend)
    from cvkit.training.recalibrate import recalibrate_run

    result = recalibrate_run(run_dir, batches=batches)
    if not result.batches:
        render.line(f"{run_dir}: the model has no BatchNorm layers; nothing changed")
        return
    render.line(f"recalibrated on {result.batches} training batches; {run_dir / 'model.keras'} rewritten")
    for key in sorted(result.after, key=lambda k: ("loss" in k, k)):
        render.line(f"validation {key}: {result.before.get(key, float('nan')):.4f} -> {result.after[key]:.4f}")


@app.command()
def predict(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    images: Annotated[list[Path], typer.Argument(help="Image files.")],
    top_k: Annotated[int, typer.Option("--top-k")] = 1,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Where to write PNGs with the boxes drawn or the mask overlaid (default: RUN_DIR/predictions for localization, segmentation and detection).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    tta: Annotated[Optional[str], typer.Option("--tta", help="Test-time augmentation: average over these views (flip, crop), masks and boxes mapped back first.")] = None,
    score_threshold: Annotated[Optional[float], typer.Option("--score-threshold", help=f"Detection: keep boxes scoring at least this (default {cvkit.DETECTION_DEFAULTS.score_threshold}).")] = None,
    iou_threshold: Annotated[Optional[float], typer.Option("--iou-threshold", help=f"Detection: NMS drops a box overlapping a better one of its class by more than this IoU (default {cvkit.DETECTION_DEFAULTS.iou_threshold}).")] = None,
    backend: BackendOption = None,
) -> None:
    """Predict labels, boxes or masks for image files with a trained run's model.

    Prints the top classes, the box in the image's pixels (x1,y1,x2,y2), each class's share
    of the pixels, or for detection every box left after NMS with its class and score, and
    writes a PNG per image with the boxes drawn or the mask overlaid.
    """
    use_backend(backend)
    from cvkit.models.detection import detection_thresholds
    from cvkit.training.plan import check_run_tta
    from cvkit.training.run import load_run

    check_run_tta(run_dir, tta)  # before TensorFlow loads
    detection_thresholds(score_threshold, iou_threshold)  # a value outside [0, 1]: one line, before TensorFlow
    _, _, model = load_run(run_dir)
    if out is None and model.task in ("localization", "segmentation", "detection"):
        out = Path(run_dir) / "predictions"
    results = cvkit.predict(model, [str(p) for p in images], top_k=top_k, out_dir=out, tta=tta,
                            score_threshold=score_threshold, iou_threshold=iou_threshold)
    if as_json:
        keys = ("file", "label", "score", "top", "box", "box_pixels", "pixel_shares", "detections", "output")
        typer.echo(json.dumps([{k: v for k, v in r.items() if k in keys} for r in results], indent=2))
        return
    for row in results:
        parts = [", ".join(f"{label} {score:.3f}" for label, score in row.get("top", []))]
        if "box_pixels" in row:
            parts.append("box " + ",".join(f"{v:.0f}" for v in row["box_pixels"]) + " (x1,y1,x2,y2 px)")
        if "pixel_shares" in row:
            parts.append(", ".join(f"{name} {share:.1%}" for name, share in row["pixel_shares"].items()))
        if "detections" in row:
            count = len(row["detections"])
            parts.append(f"{count} detection{'' if count == 1 else 's'} (x1,y1,x2,y2 px)")
        render.line(f"{row['file']}: " + "; ".join(p for p in parts if p))
        for found in row.get("detections", []):
            render.line(f"  {found['class']} {found['score']:.3f} box " + ",".join(f"{v:.0f}" for v in found["box_pixels"]))
    if out is not None:
        render.line(f"pictures written to {out}")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by cvkit train.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write.")],
    format: Annotated[str, typer.Option("--format", help="savedmodel, keras or onnx (needs the cvkit-core[onnx] extra).")] = "savedmodel",
    native_size: Annotated[bool, typer.Option(
        "--native-size",
        help="Segmentation SavedModel: run at each image's own size (a multiple of the backbone's stride) "
             "instead of resizing to the training size and the masks back, as cvkit predict does.",
    )] = False,
    backend: BackendOption = None,
) -> None:
    """Export a trained model: a TensorFlow SavedModel (serving_default takes uint8 images), a .keras
    file, or an ONNX file (float 0-255 images; checked against the Keras model with ONNX Runtime).

    A detection SavedModel returns the post-NMS boxes, scores, classes and num_detections; its
    detect endpoint also takes score_threshold, iou_threshold and max_detections (not ONNX)."""
    use_backend(backend)
    from cvkit.serve.export import FORMATS
    from cvkit.training.run import load_run

    if format not in FORMATS:
        raise CvkitError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    if format == "onnx":
        from cvkit.serve.onnx_export import DETECTION_UNSUPPORTED, require_onnx
        from cvkit.training.config import read_run_config

        if (Path(run_dir) / "config.json").is_file() and read_run_config(run_dir)[1].get("task") == "detection":
            raise CvkitError(DETECTION_UNSUPPORTED)
        require_onnx()  # before loading the model: the missing extra is the first thing to say
    if native_size and format != "savedmodel":
        raise CvkitError("--native-size shapes the SavedModel's serving function; drop it or use --format savedmodel")
    _, _, model = load_run(run_dir)
    if format == "keras":
        import shutil

        if out.exists():
            raise CvkitError(f"{out} already exists; pass another --out")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(run_dir) / "model.keras", out)
    elif format == "onnx":
        from cvkit.serve.onnx_export import export_onnx

        difference = export_onnx(model, out)
        render.line(f"ONNX Runtime vs Keras on sample images: largest difference {difference:.2e}")
    else:
        cvkit.export_savedmodel(model, out, native_size=native_size)
    render.line(f"exported {format} to {out}")


def _register_plugin_commands() -> None:
    try:
        cvkit.get_plugin_manager().call_register_commands(app)
    except CvkitError:
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print one line and exit 2; bugs keep their traceback."""
    _register_plugin_commands()
    try:
        app(args=argv, prog_name="cvkit")
    except CvkitError as exc:
        typer.echo(f"cvkit: error: {exc}", err=True)
        return exc.exit_code
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
