"""The command line as a user meets it: fast answers, one-line errors, the full train-to-export path."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from helpers import assert_user_error, run_cli, run_python


def test_help_and_list_do_not_import_tensorflow_or_numpy():
    # numpy alone is a sixth of `cvkit --help`'s start-up
    code = (
        "import sys\n"
        "from cvkit_cli.main import main\n"
        "for argv in (['--help'], ['list'], ['plugins'], ['list', 'archs']):\n"
        "    code = main(argv)\n"
        "    assert code == 0, (argv, code)\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-3000:]


def test_list_names_each_package():
    result = run_cli("list")
    assert result.returncode == 0, result.stderr
    for fragment in ("densenet121", "cvkit-densenet", "classification", "cvkit-head-classification",
                     "flip", "jitter", "shapes", "digits", "folder:ARG", "tfds:ARG", "densenet -> densenet121"):
        assert fragment in result.stdout, fragment


def test_info_json_reports_params_and_macs():
    result = run_cli("info", "densenet_bc_100_12", "--num-classes", "10", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["trainable_params"] == 769_162
    assert info["total_params"] > info["trainable_params"] and info["macs"] > 0


@pytest.mark.parametrize("args,fragments", [
    (["train", "--arch", "densnet"], ["unknown arch 'densnet'", "did you mean 'densenet'"]),
    (["train", "--head", "clasification"], ["unknown head", "did you mean 'classification'"]),
    (["train", "--aug", "flip,crap"], ["unknown augmentation 'crap'", "did you mean 'crop'"]),
    (["train", "--dataset", "shapez"], ["unknown dataset 'shapez'", "did you mean 'shapes'"]),
    (["train", "--epochs", "0"], ["epochs must be a positive"]),
    (["train", "--batch-size", "-1"], ["batch size must be a positive"]),
    (["train", "--lr", "0"], ["learning rate must be a positive"]),
    (["train", "--set", "cardinality=4"], ["has no parameter 'cardinality'", "growth_rate"]),
    (["train", "--image-size", "8"], ["needs inputs of at least 32x32"]),
    (["train", "--arch", "resnet18", "--memory-efficient"], ["'resnet18' has no memory-efficient mode", "densenet121"]),
    (["info", "resnet9000"], ["unknown arch 'resnet9000'"]),
    (["list", "gizmos"], ["cannot list 'gizmos'"]),
    (["train", "--strategy", "mirorred"], ["unknown strategy 'mirorred'", "did you mean 'mirrored'", "none, mirrored"]),
    (["train", "--ema", "1.5"], ["EMA decay must be between 0 and 1"]),
])
def test_bad_input_gets_one_line_and_exit_2_and_writes_nothing(tmp_path, args, fragments):
    out = tmp_path / "run"
    extra = ["--out", str(out)] if args[0] == "train" else []
    assert_user_error(run_cli(*args, *extra, cwd=tmp_path), *fragments)
    assert not out.exists()
    assert not (tmp_path / "runs").exists()


def test_run_dir_without_a_model(tmp_path):
    assert_user_error(run_cli("evaluate", str(tmp_path)), "not a cvkit run directory")
    (tmp_path / "config.json").write_text("{}")
    assert_user_error(run_cli("predict", str(tmp_path), "x.png"), "has no model.keras")
    assert_user_error(run_cli("export", str(tmp_path), "--out", str(tmp_path / "sm")), "has no model.keras")


def test_a_head_that_does_not_fit_the_datasets_task(tmp_path):
    result = run_cli("train", "--head", "unet", "--dataset", "digits", "--out", str(tmp_path / "r"))
    assert_user_error(result, "head 'unet' trains on segmentation", "'digits' only provides classification")
    assert not (tmp_path / "r").exists()


def test_grayscale_digits_train_on_densenet(tmp_path):
    result = run_cli("train", "--dataset", "digits", "--epochs", "1", "--out", str(tmp_path / "r"),
                     "--arch", "densenet", "--set", "blocks=[1,1,1,1]", "--set", "growth_rate=4", "--limit", "8")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "r" / "model.keras").is_file()


@pytest.mark.slow
def test_train_evaluate_predict_export_end_to_end(tmp_path):
    run = tmp_path / "run"
    result = run_cli(
        "train", "--arch", "densenet", "--set", "blocks=[1,1,1,1]", "--set", "growth_rate=8",
        "--dataset", "shapes:96", "--epochs", "1", "--batch-size", "16", "--aug", "flip,crop,jitter",
        "--out", str(run),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "validation accuracy:" in result.stdout
    for name in ("config.json", "metrics.csv", "metrics.json", "model.keras", "curves.png",
                 "checkpoints/epoch-001.keras", "checkpoints/state.json"):
        assert (run / name).is_file(), name
    assert any((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert not list(run.rglob(".*.keras")), "a temporary file was left behind"
    config = json.loads((run / "config.json").read_text())
    assert config["resolved_arch"] == "densenet121" and config["augmentations"] == ["flip", "crop", "jitter"]

    evaluated = run_cli("evaluate", str(run), "--json")
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    # The saved model, reloaded on its own, scores exactly what training reported for it (the loss
    # is a fingerprint of the weights: a model that lost them or its preprocessing scores otherwise).
    scores = json.loads(evaluated.stdout)
    assert scores == pytest.approx(json.loads((run / "metrics.json").read_text())["validation"], abs=1e-5)
    assert f"validation accuracy: {scores['accuracy']:.4f}" in result.stdout
    assert f"validation loss: {scores['loss']:.4f}" in result.stdout

    images = []
    for i, colour in enumerate(((255, 0, 0), (0, 255, 0))):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(np.full((40, 50, 3), colour, dtype=np.uint8)).save(path)
        images.append(str(path))
    predicted = run_cli("predict", str(run), *images, "--json")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    rows = json.loads(predicted.stdout)
    assert [r["file"] for r in rows] == images
    assert all(r["label"] in config["class_names"] for r in rows)

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"garbage")
    assert_user_error(run_cli("predict", str(run), str(bad)), "cannot read image", "bad.png")

    exported = run_cli("export", str(run), "--format", "savedmodel", "--out", str(tmp_path / "sm"))
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert (tmp_path / "sm" / "saved_model.pb").is_file()
    assert_user_error(run_cli("train", "--out", str(run)), "already exists")


def test_mixed_precision_and_xla_reach_the_compiled_model(tmp_path, monkeypatch):
    """In process, so the model fit sees can be inspected: its layers' policies and its XLA flag."""
    import keras
    import tensorflow as tf

    from cvkit_cli.main import main

    seen, fit = [], keras.Model.fit

    def recording_fit(model, *args, **kwargs):
        convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
        seen.append(({layer.dtype_policy.name for layer in convs}, model.jit_compile))
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    run = tmp_path / "run"
    code = main(["train", "--set", "blocks=[1,1,1,1]", "--set", "growth_rate=4", "--dataset", "shapes:32",
                 "--epochs", "1", "--mixed-precision", "--xla", "--out", str(run)])
    assert code == 0
    mixed = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
    assert seen == [({mixed}, True)]
    config = json.loads((run / "config.json").read_text())
    assert config["mixed_precision"] is True and config["jit_compile"] is True
    assert (run / "model.keras").is_file()


EVERY_TRAIN_OPTION = {  # RunConfig field -> (command-line arguments, the value the field gets)
    "arch": (["--arch", "resnet18"], "resnet18"),
    "head": (["--head", "localization"], "localization"),
    "dataset": (["-d", "shapes:64"], "shapes:64"),
    "data_dir": (["--data-dir", "/data/tfds"], "/data/tfds"),
    "augmentations": (["--aug", "flip,crop(scale=0.8)"], ["flip", "crop(scale=0.8)"]),
    "epochs": (["--epochs", "3"], 3),
    "batch_size": (["--batch-size", "8"], 8),
    "learning_rate": (["--lr", "0.05"], 0.05),
    "optimizer": (["--optimizer", "sgd"], "sgd"),
    "schedule": (["--schedule", "step"], "step"),
    "weight_decay": (["--weight-decay", "0.001"], 0.001),
    "image_size": (["--image-size", "64"], 64),
    "limit": (["--limit", "16"], 16),
    "seed": (["--seed", "7"], 7),
    "skip_invalid": (["--skip-invalid"], True),
    # --set and --se-ratio extend the config file's backbone_params
    "backbone_params": (["--set", "growth_rate=12", "--set", "blocks=[1,2]", "--se-ratio", "4"],
                        {"stem": "cifar", "growth_rate": 12, "blocks": [1, 2], "se_ratio": 4}),
    "head_params": (["--head-param", "dropout=0.3"], {"dropout": 0.3}),
    "mixed_precision": (["--mixed-precision"], True),
    "jit_compile": (["--xla"], True),
    "bn_momentum": (["--bn-momentum", "0.99"], 0.99),
    "bn_recalibration_batches": (["--bn-recalibration-batches", "4"], 4),
    "label_smoothing": (["--label-smoothing", "0.1"], 0.1),
    "keep_checkpoints": (["--keep-checkpoints", "5"], 5),
    "out": (["-o", "/runs/x"], "/runs/x"),
    "weights": (["--weights", "imagenet"], "imagenet"),
    "memory_efficient": (["--memory-efficient"], True),
    "freeze_stages": (["--freeze-stages", "2"], 2),
    "unfreeze_at": (["--unfreeze-at", "3"], 3),
    "finetune_lr_factor": (["--finetune-lr-factor", "0.2"], 0.2),
    "overfit_batches": (["--overfit-batches", "2"], 2),
    "ema": (["--ema", "0.999"], 0.999),
    "strategy": (["--strategy", "mirrored"], "mirrored"),
    "deterministic": (["--deterministic"], True),
    "lr_scale": (["--lr-scale", "linear"], "linear"),
    "coordinator": (["--coordinator", "node0:12355"], "node0:12355"),
    "num_processes": (["--num-processes", "2"], 2),
    "process_id": (["--process-id", "0"], 0),
    "coordinator_timeout": (["--coordinator-timeout", "30"], 30.0),
}


def test_every_train_option_reaches_its_config_field(tmp_path, monkeypatch, capsys):
    """In process, with cvkit.train replaced: the RunConfig each option builds, over a config file."""
    import cvkit
    from cvkit.training.config import RunConfig
    from cvkit_cli.main import main
    from cvkit_cli.train_options import TRAIN_FLAGS

    seen = []
    monkeypatch.setattr(cvkit, "train", lambda config, **_: seen.append(config) or cvkit.TrainResult(tmp_path, {"accuracy": 0.5}))
    settings = tmp_path / "run.toml"
    settings.write_text('epochs = 5\nmomentum = 0.8\n[backbone_params]\nstem = "cifar"\n')
    args = [arg for option, _ in EVERY_TRAIN_OPTION.values() for arg in option]
    assert main(["train", "--config", str(settings), *args]) == 0
    expected = {field: value for field, (_, value) in EVERY_TRAIN_OPTION.items()}
    assert seen == [RunConfig(**{"momentum": 0.8, **expected})]  # options override the file, the rest stays
    assert capsys.readouterr().out.splitlines() == [f"run directory: {tmp_path}", "validation accuracy: 0.5000"]
    assert {flag.field for flag in TRAIN_FLAGS} == set(EVERY_TRAIN_OPTION)


def test_the_train_options_are_the_flag_table_plus_config_and_backend():
    """Each row of TRAIN_FLAGS is one option of ``cvkit train`` named after its field or its alias."""
    import dataclasses

    import typer

    from cvkit.training.config import RunConfig
    from cvkit_cli.main import app
    from cvkit_cli.train_options import TRAIN_FLAGS

    command = next(c for c in typer.main.get_command(app).commands.values() if c.name == "train")
    options = {param.name: tuple(param.opts + param.secondary_opts) for param in command.params}
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    for flag in TRAIN_FLAGS:
        assert flag.field in fields, flag
        declared = tuple(part for name in flag.declarations for part in name.split("/"))
        assert set(options.pop(flag.parameter)) == set(declared), flag
        if not flag.names:
            assert declared == ("--" + flag.field.replace("_", "-"),)
    assert options == {"config": ("--config", "-c"), "resume": ("--resume",), "backend": ("--backend",)}
    aliases = {name: flag.field for flag in TRAIN_FLAGS for name in flag.declarations if flag.names}
    assert aliases["--lr"] == "learning_rate" and aliases["--xla/--no-xla"] == "jit_compile"
    assert aliases["--aug"] == "augmentations" and aliases["--head-param"] == "head_params"
    assert aliases["--set"] == aliases["--se-ratio"] == "backbone_params"
