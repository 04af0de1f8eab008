"""``--backend`` and ``cvkit.set_backend``: the choice is made before Keras loads, or refused in one line."""

from __future__ import annotations

import pytest

from helpers import assert_user_error, run_cli


def test_an_unknown_backend_is_one_line(capsys):
    from cvkit_cli.main import main

    assert main(["train", "--backend", "torch", "--epochs", "1"]) == 2
    assert capsys.readouterr().err.strip() == ("cvkit: error: unknown backend 'torch' from --backend; "
                                               "choose one of tensorflow, jax")


@pytest.mark.parametrize("command", [["train", "--epochs", "1"], ["evaluate", "RUN"], ["predict", "RUN", "x.png"],
                                     ["export", "RUN", "--out", "OUT"], ["info", "lenet"]])
def test_switching_a_loaded_keras_is_refused(command, capsys):
    """This test process has loaded Keras on TensorFlow: asking for JAX names the way out."""
    import keras

    from cvkit_cli.main import main

    assert keras.backend.backend() == "tensorflow"
    assert main([*command, "--backend", "jax"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("cvkit: error: Keras is already loaded with the tensorflow backend"), error
    assert "KERAS_BACKEND=jax" in error and "before the first import of Keras" in error and "\n" not in error


def test_set_backend_accepts_the_loaded_one_and_refuses_others():
    import keras

    import cvkit

    keras.backend.backend()
    assert cvkit.set_backend("tensorflow") == "tensorflow"
    with pytest.raises(cvkit.CvkitError, match="already loaded with the tensorflow backend"):
        cvkit.set_backend("jax")
    with pytest.raises(cvkit.CvkitError, match="unknown backend 'jaxx'.*did you mean 'jax'"):
        cvkit.set_backend("jaxx")


def test_a_bad_keras_backend_variable_is_one_line(tmp_path):
    result = run_cli("info", "lenet", env={"KERAS_BACKEND": "jaxx"})
    assert_user_error(result, "unknown backend 'jaxx' from $KERAS_BACKEND", "did you mean 'jax'")


def test_onnx_export_on_jax_names_the_alternative(capsys, monkeypatch):
    from cvkit.serve.onnx_export import require_onnx

    monkeypatch.setattr("cvkit.backend.loaded_backend", lambda: "jax")
    with pytest.raises(Exception, match="ONNX export .*needs the TensorFlow backend, not jax; .*--backend tensorflow"):
        require_onnx()
